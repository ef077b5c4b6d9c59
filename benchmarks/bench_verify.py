"""Verification speed: sigv4kit's Verifier vs re-signing with botocore.

Re-signing with botocore is how moto and LocalStack check a signature: they
rebuild a botocore ``AWSRequest`` from the signed headers, compute the
canonical request, string to sign and signature (deriving the signing key
each time) and compare. sigv4kit parses the Authorization header, rebuilds
the canonical request with the signer's own functions and uses the cached
signing key. Both check the same botocore-signed request; both baselines are
measured in this run. Prints ratios; asserts nothing.

    .venv/bin/python benchmarks/bench_verify.py
"""

from __future__ import annotations

import asyncio
import gc
import hmac
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from unittest import mock

from botocore.auth import SigV4Auth as BotoSigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotoCredentials

import sigv4kit

AKID, SECRET = "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
URL = "https://service.us-east-1.amazonaws.com/v1/items?limit=10&prefix=reports%2F&sort=desc"
HEADERS = {"Content-Type": "application/json", "X-Request-Tag": "bench"}
NOW = datetime(2026, 11, 27, 12, 0, 0, tzinfo=UTC)
N = 10_000
ROUNDS = 5


def per_call_us(fn: Callable[[], object], n: int) -> float:
    samples = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        for _ in range(n):
            fn()
        samples.append((time.perf_counter() - start) / n * 1e6)
    return statistics.median(samples)


def signed_request() -> AWSRequest:
    request = AWSRequest(method="GET", url=URL, headers=dict(HEADERS))
    naive_now = NOW.replace(tzinfo=None)
    with mock.patch("botocore.auth.get_current_datetime", lambda: naive_now):  # noqa: PT008
        BotoSigV4Auth(BotoCredentials(AKID, SECRET), "svc", "us-east-1").add_auth(request)
    return request


def verify_call(request: AWSRequest) -> Callable[[], object]:
    """One ``Verifier.verify_at`` of the signed request, the key already in hand.

    Also the baseline of bench_policy.py.
    """
    prepared = request.prepare()
    path, _, query = prepared.url.split(".com", 1)[1].partition("?")
    headers = [("Host", "service.us-east-1.amazonaws.com"), *prepared.headers.items()]
    wire = sigv4kit.SignedRequest(method="GET", path=path, query=query, headers=tuple(headers))
    verifier = sigv4kit.Verifier()
    key = sigv4kit.KeyRecord(access_key_id=AKID, secret_access_key=SECRET, principal="bench")
    assert verifier.verify_at(wire, key=key, now=NOW).principal == "bench"
    return lambda: verifier.verify_at(wire, key=key, now=NOW)


def bench_sigv4kit(request: AWSRequest) -> float:
    return per_call_us(verify_call(request), N)


def bench_botocore_resign(request: AWSRequest) -> float:
    """moto's check_signature: rebuild the request, re-sign it, compare."""
    headers = dict(request.headers.items())
    authorization = headers["Authorization"]
    provided = authorization.rsplit("Signature=", 1)[1]
    signed_names = authorization.split("SignedHeaders=", 1)[1].split(",", 1)[0].split(";")
    credentials = BotoCredentials(AKID, SECRET)

    def verify() -> None:
        to_sign = {k: v for k, v in headers.items() if k.lower() in signed_names}
        rebuilt = AWSRequest(method="GET", url=URL, headers=to_sign)
        rebuilt.context["timestamp"] = to_sign["X-Amz-Date"]
        signer = BotoSigV4Auth(credentials, "svc", "us-east-1")
        canonical = signer.canonical_request(rebuilt)
        string_to_sign = signer.string_to_sign(rebuilt, canonical)
        signature = signer.signature(string_to_sign, rebuilt)
        assert hmac.compare_digest(signature, provided)

    verify()
    return per_call_us(verify, N // 4)


def bench_middleware_replay(request: AWSRequest) -> float:
    """The whole middleware, in process, on a byte-identical replay (replay cache hit)."""
    from sigv4kit.middleware import MemoryKeyStore, SigV4Middleware

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    store = MemoryKeyStore(
        [sigv4kit.KeyRecord(access_key_id=AKID, secret_access_key=SECRET, principal="bench")]
    )
    middleware = SigV4Middleware(app, store=store, clock=lambda: NOW)
    prepared = request.prepare()
    path, _, query = prepared.url.split(".com", 1)[1].partition("?")
    headers = [(b"host", b"service.us-east-1.amazonaws.com")] + [
        (name.lower().encode(), value.encode()) for name, value in prepared.headers.items()
    ]
    statuses: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    async def run(n: int) -> float:
        start = time.perf_counter()
        for _ in range(n):
            scope = {"type": "http", "method": "GET", "path": path,
                     "raw_path": path.encode(), "query_string": query.encode(),
                     "headers": headers, "http_version": "1.1", "client": ("127.0.0.1", 1)}
            await middleware(scope, receive, send)
        return (time.perf_counter() - start) / n * 1e6

    asyncio.run(run(10))
    samples = [asyncio.run(run(N)) for _ in range(ROUNDS)]
    assert set(statuses) == {200}
    return statistics.median(samples)


def main() -> None:
    gc.disable()
    request = signed_request()
    ours = bench_sigv4kit(request)
    boto = bench_botocore_resign(request)
    replay = bench_middleware_replay(request)
    print(f"sigv4kit Verifier.verify_at (key cached)  {ours:8.2f} us/request")
    print(f"botocore re-sign and compare (moto)      {boto:8.2f} us/request")
    print(f"speed-up vs re-signing with botocore: {boto / ours:5.1f}x  (target >= 10x)")
    print(f"SigV4Middleware in process, byte-identical replay (replay cache hit): "
          f"{replay:6.2f} us/request, {boto / replay:4.1f}x vs botocore re-signing")


if __name__ == "__main__":
    main()
