"""sigv4kit's client against a replay guard: every attempt has its own signature.

``X-Amz-Date`` has one-second resolution, so two identical requests (or a
request and its retry) within a second would share a signature and a replay
guard would refuse the second. Like the AWS SDKs, the client signs a
per-operation ``amz-sdk-invocation-id`` and ``amz-sdk-request: attempt=N; max=M``.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import httpx
import pytest
from _servers import run_uvicorn
from _services import REDIS_URL
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from sigv4kit.middleware import (
    MemoryKeyStore,
    MemoryReplayGuard,
    RedisReplayGuard,
    ReplayGuard,
    SigV4Middleware,
)

from sigv4kit import Credentials, KeyRecord, RetryPolicy, RetryTransport, SigV4Auth
from sigv4kit.client import (
    INVOCATION_ID_HEADER,
    RETRY_ATTEMPTS_EXTENSION,
    SDK_REQUEST_HEADER,
)

AKID = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
CREDS = Credentials(AKID, SECRET)
UUID4 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


def _ids(*ids: str) -> Any:
    it = iter(ids)
    return lambda: next(it)


def _signed_headers(request: httpx.Request) -> list[str]:
    authorization = request.headers["authorization"]
    return authorization.split("SignedHeaders=")[1].split(",")[0].split(";")


# -- the headers, against botocore -------------------------------------------------------


class _RawBody:
    """The one method botocore reads a canned response body through."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, *_: Any, **__: Any) -> Iterator[bytes]:
        yield self.data


def _botocore_sdk_headers() -> dict[str, str]:
    """The amz-sdk-* headers a real boto3 client sends on its first attempt."""
    seen: dict[str, str] = {}

    def capture(request: Any, **_: Any) -> AWSResponse:
        seen.update(
            {
                k.lower(): v.decode() if isinstance(v, bytes) else v
                for k, v in request.headers.items()
                if k.lower().startswith("amz-sdk-")
            }
        )
        return AWSResponse(request.url, 200, {}, _RawBody(b"{}"))

    session = boto3.session.Session(
        aws_access_key_id=AKID, aws_secret_access_key=SECRET, region_name="us-east-1"
    )
    # Standard mode, whose max_attempts (3; DynamoDB's is 4) RetryPolicy defaults to.
    client = session.client(
        "sqs", endpoint_url="http://127.0.0.1:9", config=Config(retries={"mode": "standard"})
    )
    client.meta.events.register("before-send", capture)
    try:
        client.list_queues()
    finally:
        client.close()
    return seen


def test_sdk_headers_have_botocores_format() -> None:
    boto = _botocore_sdk_headers()
    assert boto[SDK_REQUEST_HEADER] == "attempt=1; max=3"
    assert UUID4.fullmatch(boto[INVOCATION_ID_HEADER])
    auth = SigV4Auth(CREDS, region="us-east-1", service="sqs")
    request = next(auth.sync_auth_flow(httpx.Request("POST", "https://h/", content=b"{}")))
    assert request.headers["amz-sdk-request"] == boto["amz-sdk-request"]
    assert UUID4.fullmatch(request.headers["amz-sdk-invocation-id"])
    assert {"amz-sdk-invocation-id", "amz-sdk-request"} <= set(_signed_headers(request))


def test_each_request_is_a_new_invocation() -> None:
    now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    auth = SigV4Auth(
        CREDS,
        region="us-east-1",
        service="svc",
        clock=lambda: now,
        invocation_id=_ids("id-1", "id-2"),
    )
    a = next(auth.sync_auth_flow(httpx.Request("GET", "https://h/x")))
    b = next(auth.sync_auth_flow(httpx.Request("GET", "https://h/x")))
    assert (a.headers["amz-sdk-invocation-id"], b.headers["amz-sdk-invocation-id"]) == (
        "id-1",
        "id-2",
    )
    assert a.headers["x-amz-date"] == b.headers["x-amz-date"]
    assert a.headers["authorization"] != b.headers["authorization"]


@pytest.mark.parametrize("max_attempts", [3, 5])
def test_retries_count_attempts_of_one_invocation(max_attempts: int) -> None:
    now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    sent: list[tuple[str, str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(
            (
                request.headers["amz-sdk-invocation-id"],
                request.headers["amz-sdk-request"],
                request.headers["authorization"],
            )
        )
        return httpx.Response(503 if len(sent) < 3 else 200)

    auth = SigV4Auth(
        CREDS, region="us-east-1", service="svc", clock=lambda: now, invocation_id=_ids("op-1")
    )
    transport = RetryTransport(
        httpx.MockTransport(handler),
        policy=RetryPolicy(max_attempts=max_attempts),
        random=lambda: 0.0,
        sleep=lambda _: None,
    )
    with httpx.Client(auth=auth, transport=transport) as client:
        assert client.get("https://h/x").status_code == 200
    assert [(i, r) for i, r, _ in sent] == [
        ("op-1", f"attempt={n}; max={max_attempts}") for n in (1, 2, 3)
    ]
    assert len({a for _, _, a in sent}) == 3  # three signatures, one per attempt


# -- a real server with a replay guard -----------------------------------------------------


class FlakyApp:
    """Answers 503 to the first request of each path, then 200 (a transient failure)."""

    def __init__(self, guard: ReplayGuard) -> None:
        self.guard = guard
        self.failed: set[str] = set()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            # The guard's connections belong to the server's event loop.
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await self.guard.aclose()
            await send({"type": "lifespan.shutdown.complete"})
            return
        path = scope["path"]
        status = 200
        if path.startswith("/flaky/") and path not in self.failed:
            self.failed.add(path)
            status = 503
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-length", b"2")],
            }
        )
        await send({"type": "http.response.body", "body": b"ok"})


def _store() -> MemoryKeyStore:
    return MemoryKeyStore(
        [KeyRecord(access_key_id=AKID, secret_access_key=SECRET, principal="alice")]
    )


@pytest.fixture(params=["memory", "redis"])
def guarded(request: pytest.FixtureRequest, redis_prefix: str) -> Iterator[str]:
    guard: ReplayGuard
    if request.param == "memory":
        guard = MemoryReplayGuard()
    else:
        guard = RedisReplayGuard(REDIS_URL, prefix=redis_prefix)
    app = SigV4Middleware(FlakyApp(guard), store=_store(), replay_guard=guard)
    with run_uvicorn(app) as url:
        yield url


def test_identical_requests_within_one_second_are_both_accepted(guarded: str) -> None:
    now = datetime.now(UTC)  # both requests carry the same X-Amz-Date
    auth = SigV4Auth(CREDS, region="us-east-1", service="execute-api", clock=lambda: now)
    with httpx.Client(auth=auth) as client:
        first = client.get(f"{guarded}/items?page=1")
        second = client.get(f"{guarded}/items?page=1")
    assert (first.status_code, second.status_code) == (200, 200), second.text
    # ... while a byte-identical signed request is still accepted only once.
    again = httpx.get(f"{guarded}/items?page=1", headers=second.request.headers)
    assert again.status_code == 403
    assert b"Request replay detected" in again.content


def test_retry_after_503_within_the_same_second_is_accepted(guarded: str) -> None:
    now = datetime.now(UTC)  # the retry carries the failed attempt's X-Amz-Date
    auth = SigV4Auth(CREDS, region="us-east-1", service="execute-api", clock=lambda: now)
    transport = RetryTransport(random=lambda: 0.0, sleep=lambda _: None)
    with httpx.Client(auth=auth, transport=transport) as client:
        response = client.get(f"{guarded}/flaky/fixed-clock")
    assert response.status_code == 200, response.text
    assert response.extensions[RETRY_ATTEMPTS_EXTENSION] == 1


def test_zero_backoff_retries_succeed_every_time(guarded: str) -> None:
    auth = SigV4Auth(CREDS, region="us-east-1", service="execute-api")
    transport = RetryTransport(random=lambda: 0.0, sleep=lambda _: None)
    with httpx.Client(auth=auth, transport=transport) as client:
        statuses = [
            client.put(f"{guarded}/flaky/{run}", content=b"body").status_code for run in range(20)
        ]
    assert statuses == [200] * 20


async def test_async_retry_within_the_same_second_is_accepted(guarded: str) -> None:
    now = datetime.now(UTC)
    auth = SigV4Auth(CREDS, region="us-east-1", service="execute-api", clock=lambda: now)
    transport = RetryTransport(
        policy=RetryPolicy(max_attempts=4), random=lambda: 0.0, async_sleep=_no_sleep
    )
    async with httpx.AsyncClient(auth=auth, transport=transport) as client:
        response = await client.get(f"{guarded}/flaky/async")
    assert response.status_code == 200, response.text
    assert response.request.headers["amz-sdk-request"] == "attempt=2; max=4"


async def _no_sleep(_: float) -> None:
    return None


def test_invocation_ids_are_rfc_9562_version_4() -> None:
    from sigv4kit.client._httpx import _uuid4_text

    # uuid.UUID is the oracle for the text form, the version and the variant.
    for data in (bytes(16), b"\xff" * 16, bytes(range(16)), bytes(range(240, 256))):
        text = _uuid4_text(lambda _n, data=data: data)
        parsed = uuid.UUID(text)
        assert str(parsed) == text
        assert parsed.version == 4
        assert parsed.variant == uuid.RFC_4122
        # The 122 random bits are the input's, in order.
        expected = uuid.UUID(bytes=data, version=4)
        assert parsed == expected
    assert _uuid4_text() != _uuid4_text()
