"""Replay protection (middleware/_replay.py): memory and Redis guards, the middleware hook."""

from __future__ import annotations

import socket
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from _services import REDIS_URL
from _workers import run_forking
from sigv4kit.middleware import (
    MemoryKeyStore,
    MemoryReplayGuard,
    RedisReplayGuard,
    ReplayGuard,
    ReplayGuardUnavailableError,
    SigV4Middleware,
)
from sigv4kit.middleware.asgi.replay import replay_ttl, request_signature

import sigv4kit
from sigv4kit import Identity, KeyRecord, SigningAlgorithm

AKID = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def identity(*, presigned: bool, at: datetime = NOW) -> Identity:
    return Identity(
        principal="alice",
        access_key_id=AKID,
        temporary=False,
        region="us-east-1",
        service="s3",
        signed_headers=("host",),
        algorithm=SigningAlgorithm.SIGV4,
        presigned=presigned,
        request_time=at,
    )


# -- pure helpers ------------------------------------------------------------------------


def test_request_signature_from_header_and_query() -> None:
    header = (
        b"AWS4-HMAC-SHA256 Credential=AKID/20260301/us-east-1/s3/aws4_request, "
        b"SignedHeaders=host;x-amz-date, Signature=abc123"
    )
    assert request_signature({"headers": [(b"Authorization", header)]}) == "abc123"
    scope = {"headers": [], "query_string": b"X-Amz-Expires=60&X-Amz-Signature=def456"}
    assert request_signature(scope) == "def456"
    assert request_signature({"headers": [], "query_string": b""}) is None


def test_replay_ttl_is_the_validity_window() -> None:
    skew = timedelta(minutes=15)
    # Header auth: until request time + skew (plus one second of margin).
    assert replay_ttl(identity(presigned=False), {}, max_skew=skew, now=NOW) == 901
    later = NOW + timedelta(minutes=10)
    assert replay_ttl(identity(presigned=False), {}, max_skew=skew, now=later) == 301
    # Presigned: until request time + X-Amz-Expires.
    scope = {"query_string": b"X-Amz-Expires=3600"}
    assert replay_ttl(identity(presigned=True), scope, max_skew=skew, now=NOW) == 3601
    # Never below one second.
    assert replay_ttl(identity(presigned=False), {}, max_skew=skew, now=NOW + skew * 2) == 1


async def test_memory_guard_remembers_until_ttl() -> None:
    clock = Clock()
    guard = MemoryReplayGuard(clock=clock)
    assert isinstance(guard, ReplayGuard)
    assert await guard.first_use("sig-a", 10) is True
    assert await guard.first_use("sig-a", 10) is False
    assert await guard.first_use("sig-b", 10) is True
    clock.now += 11
    assert await guard.first_use("sig-a", 10) is True  # the window closed: forgotten
    assert len(guard) == 1  # sig-b expired and was dropped


async def test_memory_guard_is_bounded() -> None:
    guard = MemoryReplayGuard(max_entries=3)
    for i in range(10):
        assert await guard.first_use(f"s{i}", 100)
    assert len(guard) == 3


# -- Redis -----------------------------------------------------------------------------------


@pytest.fixture
async def redis_guard(redis_prefix: str) -> AsyncIterator[RedisReplayGuard]:
    guard = RedisReplayGuard(REDIS_URL, prefix=redis_prefix)
    yield guard
    await guard.aclose()


async def test_redis_guard_set_nx_ex(redis_guard: RedisReplayGuard, redis_prefix: str) -> None:
    import redis.asyncio as aioredis

    assert isinstance(redis_guard, ReplayGuard)
    assert await redis_guard.first_use("sig-a", 30) is True
    assert await redis_guard.first_use("sig-a", 30) is False
    client = aioredis.Redis.from_url(REDIS_URL)
    try:
        ttl = await client.ttl(redis_prefix + "sig-a")
    finally:
        await client.aclose()
    assert 0 < ttl <= 30  # expires with the window


FORK_SCRIPT = """
import asyncio, os, sys, threading
from sigv4kit.middleware import RedisReplayGuard

async def uses(guard, who):
    # Each signature is new once, then a replay; the answers are each process's own.
    answers = []
    for i in range(50):
        answers.append(await guard.first_use(f"{who}{i}", 30))
        answers.append(await guard.first_use(f"{who}{i}", 30))
    assert answers == [True, False] * 50, answers
    assert await guard.first_use("before-fork", 30) is False
    await guard.aclose()

guard = RedisReplayGuard(sys.argv[1], prefix=sys.argv[2], timeout=5)
loop = asyncio.new_event_loop()  # the parent's, as a server's, still running at the fork
threading.Thread(target=loop.run_forever, daemon=True).start()
assert asyncio.run_coroutine_threadsafe(guard.first_use("before-fork", 30), loop).result(10)
pid = os.fork()
if pid == 0:
    try:
        asyncio.run(uses(guard, "child"))
    except BaseException as exc:
        print("child failed:", repr(exc), flush=True)
        os._exit(1)
    os._exit(0)
try:
    asyncio.run_coroutine_threadsafe(uses(guard, "parent"), loop).result(30)
except BaseException as exc:
    print("parent failed:", repr(exc), flush=True)
_, status = os.waitpid(pid, 0)
print("ok" if os.waitstatus_to_exitcode(status) == 0 else "child exit %d" % status, flush=True)
"""


def test_redis_guard_survives_a_fork(redis_prefix: str) -> None:
    # gunicorn --preload: a worker forked after the guard was used must not
    # talk on the parent's connections (redis.asyncio's pool does not check the pid).
    code, out, err = run_forking([sys.executable, "-c", FORK_SCRIPT, REDIS_URL, redis_prefix])
    assert out.strip().splitlines() == ["ok"], out + err
    assert code == 0, err


async def test_redis_guard_unreachable_raises() -> None:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    guard = RedisReplayGuard(f"redis://127.0.0.1:{port}/0", timeout=0.5)
    try:
        with pytest.raises(ReplayGuardUnavailableError, match="cannot reach Redis"):
            await guard.first_use("sig", 10)
    finally:
        await guard.aclose()


# -- the middleware hook --------------------------------------------------------------------


async def ok_app(scope: Any, receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


def store() -> MemoryKeyStore:
    record = KeyRecord(access_key_id=AKID, secret_access_key=SECRET, principal="alice")
    return MemoryKeyStore([record])


def signed(url: str, *, body: bytes = b"") -> httpx.Request:
    request = httpx.Request("PUT" if body else "GET", url, content=body)
    creds = sigv4kit.Credentials(AKID, SECRET)
    auth = sigv4kit.SigV4Auth(creds, region="us-east-1", service="execute-api")
    return next(auth.auth_flow(request))


async def send(app: Any, request: httpx.Request) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as client:
        return await client.send(request)


@pytest.mark.parametrize("replay_cache_size", [0, 1024])
async def test_second_use_refused(replay_cache_size: int) -> None:
    # With the speed-up cache on, the replay takes the fast path: still refused.
    app = SigV4Middleware(
        ok_app,
        store=store(),
        replay_guard=MemoryReplayGuard(),
        verified_request_cache_size=replay_cache_size,
    )
    request = signed("http://svc/bucket/key")
    assert (await send(app, request)).status_code == 200
    again = await send(app, request)
    assert again.status_code == 403
    assert b"<Code>AccessDenied</Code>" in again.content
    assert b"<Message>Request replay detected</Message>" in again.content


async def test_fresh_signatures_accepted() -> None:
    app = SigV4Middleware(ok_app, store=store(), replay_guard=MemoryReplayGuard())
    for i in range(5):
        assert (await send(app, signed(f"http://svc/bucket/key{i}"))).status_code == 200


async def test_off_by_default_replays_accepted() -> None:
    app = SigV4Middleware(ok_app, store=store())
    request = signed("http://svc/bucket/key")
    assert (await send(app, request)).status_code == 200
    assert (await send(app, request)).status_code == 200


async def test_failed_verification_does_not_burn_the_signature() -> None:
    guard = MemoryReplayGuard()
    app = SigV4Middleware(ok_app, store=store(), replay_guard=guard)
    request = signed("http://svc/bucket/key")
    forged = httpx.Request(
        request.method, request.url.copy_with(path="/bucket/other"), headers=request.headers
    )
    refused = await send(app, forged)
    assert refused.status_code == 403
    assert b"<Code>SignatureDoesNotMatch</Code>" in refused.content
    assert len(guard) == 0
    assert (await send(app, request)).status_code == 200


async def test_redis_down_fails_closed() -> None:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    guard = RedisReplayGuard(f"redis://127.0.0.1:{port}/0", timeout=0.5)
    try:
        app = SigV4Middleware(ok_app, store=store(), replay_guard=guard)
        response = await send(app, signed("http://svc/bucket/key"))
        assert response.status_code == 503
        assert b"<Code>ServiceUnavailable</Code>" in response.content
    finally:
        await guard.aclose()


async def test_presigned_url_replay_refused(redis_guard: RedisReplayGuard) -> None:
    app = SigV4Middleware(ok_app, store=store(), replay_guard=redis_guard)
    url = sigv4kit.presign(
        "GET",
        "http://svc/bucket/key",
        credentials=sigv4kit.Credentials(AKID, SECRET),
        region="us-east-1",
        service="execute-api",
        expires_in=300,
    )
    assert (await send(app, httpx.Request("GET", url))).status_code == 200
    again = await send(app, httpx.Request("GET", url))
    assert again.status_code == 403
    assert b"Request replay detected" in again.content
