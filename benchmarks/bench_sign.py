"""Signing speed: sigv4kit vs awscrt vs botocore vs a minimal signer, same request.

The request: a prebuilt httpx GET with 3 query parameters, 2 extra headers
and a session token. Every signer signs the AWS SDKs' ``amz-sdk-invocation-id``
and ``amz-sdk-request`` headers too: sigv4kit's auth adds them itself, a
boto3 client adds them before botocore signs (``handlers.add_retry_headers``),
so the others get them in their prebuilt request. Each signer re-signs it
many times; times are the median of several rounds, all measured in this run.
Prints ratios; asserts nothing.

    .venv/bin/python benchmarks/bench_sign.py
"""

from __future__ import annotations

import gc
import hashlib
import hmac
import importlib.util
import io
import os
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from unittest import mock

import awscrt.auth as crt_auth
import awscrt.http as crt_http
import httpx
from botocore.auth import SigV4Auth as BotoSigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotoCredentials

import sigv4kit
import sigv4kit.client._fastsign
from sigv4kit._build import compiled
from sigv4kit.signing import derive_signing_key

AKID, SECRET = "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
TOKEN = "tok" * 100
URL = "https://service.us-east-1.amazonaws.com/v1/items?limit=10&prefix=reports%2F&sort=desc"
HEADERS = {"Content-Type": "application/json", "X-Request-Tag": "bench"}
# What a boto3 client adds to every request before signing it.
SDK_HEADERS = {
    "amz-sdk-invocation-id": "1b4e28ba-2fa1-41d2-883f-0016d3cca427",
    "amz-sdk-request": "attempt=1; max=3",
}
NOW = datetime(2026, 11, 27, 12, 0, 0, tzinfo=UTC)
N = 20_000
ROUNDS = 5


def per_call_us(fn: Callable[[], object], n: int = N) -> float:
    samples = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        for _ in range(n):
            fn()
        samples.append((time.perf_counter() - start) / n * 1e6)
    return statistics.median(samples)


def pure_fast_signer() -> object:
    """The pure-Python build's FastSigner, loaded from the .py source beside the extension."""
    source = sigv4kit.client._fastsign.__file__ or ""
    if source.endswith(".py"):
        return sigv4kit.client._fastsign.FastSigner()  # this install is the pure build
    source = os.path.join(os.path.dirname(source), "_fastsign.py")
    spec = importlib.util.spec_from_file_location("sigv4kit.client._fastsign_pure", source)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.FastSigner()


def bench_sigv4kit(pure: bool = False) -> float:
    auth = sigv4kit.SigV4Auth(
        sigv4kit.Credentials(AKID, SECRET, TOKEN), region="us-east-1", service="svc",
        clock=lambda: NOW,
    )
    if pure:
        auth._fast = pure_fast_signer()  # type: ignore[assignment]
    samples = []
    for _ in range(ROUNDS):
        # Fresh prebuilt requests: signing, not re-signing, is measured.
        requests = [httpx.Request("GET", URL, headers=HEADERS) for _ in range(N)]
        start = time.perf_counter()
        for request in requests:
            auth.sign(request)
        samples.append((time.perf_counter() - start) / N * 1e6)
    return statistics.median(samples)


def bench_botocore() -> float:
    signer = BotoSigV4Auth(BotoCredentials(AKID, SECRET, TOKEN), "svc", "us-east-1")
    samples = []
    n = N // 4
    naive_now = NOW.replace(tzinfo=None)
    # A plain function, not a MagicMock: a mock's call overhead would be
    # charged to botocore and flatter sigv4kit.
    with mock.patch("botocore.auth.get_current_datetime", lambda: naive_now):  # noqa: PT008
        for _ in range(ROUNDS):
            requests = [
                AWSRequest(method="GET", url=URL, headers={**HEADERS, **SDK_HEADERS})
                for _ in range(n)
            ]
            start = time.perf_counter()
            for request in requests:
                signer.add_auth(request)
            samples.append((time.perf_counter() - start) / n * 1e6)
    return statistics.median(samples)


def bench_awscrt() -> float:
    config = crt_auth.AwsSigningConfig(
        algorithm=crt_auth.AwsSigningAlgorithm.V4,
        signature_type=crt_auth.AwsSignatureType.HTTP_REQUEST_HEADERS,
        credentials_provider=crt_auth.AwsCredentialsProvider.new_static(AKID, SECRET, TOKEN),
        region="us-east-1", service="svc", date=NOW,
    )
    target = URL.split(".com", 1)[1]
    samples = []
    n = N // 4
    for _ in range(ROUNDS):
        requests = [
            crt_http.HttpRequest("GET", target, crt_http.HttpHeaders(
                [("Host", "service.us-east-1.amazonaws.com"), *HEADERS.items(),
                 *SDK_HEADERS.items()]),
                io.BytesIO(b""))
            for _ in range(n)
        ]
        start = time.perf_counter()
        for request in requests:
            crt_auth.aws_sign_request(request, config).result()
        samples.append((time.perf_counter() - start) / n * 1e6)
    return statistics.median(samples)


def bench_python_floor() -> float:
    """A deliberately minimal signer for this one request shape (not correct in
    general: no validation, no encoding, no sorting of arbitrary input). It
    bounds what any pure-Python signer over httpx can reach."""
    key = derive_signing_key(SECRET, "20261127", "us-east-1", "svc")
    scope = "20261127/us-east-1/svc/aws4_request"
    empty = hashlib.sha256(b"").hexdigest()

    def sign(request: httpx.Request) -> None:
        date = "20261127T120000Z"
        headers = request.headers
        raw = request.url.raw_path
        path, _, query = raw.partition(b"?")
        lines = sorted([(k.lower(), v) for k, v in headers.raw])
        lines.append((b"x-amz-date", date.encode()))
        lines.append((b"x-amz-security-token", TOKEN.encode()))
        lines.sort()
        names = b";".join(k for k, _ in lines)
        canonical = b"GET\n%s\n%s\n%s\n\n%s\n%s" % (
            path, b"&".join(sorted(query.split(b"&"))),
            b"\n".join(k + b":" + v for k, v in lines), names, empty.encode(),
        )
        sts = f"AWS4-HMAC-SHA256\n{date}\n{scope}\n{hashlib.sha256(canonical).hexdigest()}"
        signature = hmac.digest(key, sts.encode(), "sha256").hex()
        headers["X-Amz-Date"] = date
        headers["X-Amz-Security-Token"] = TOKEN
        headers["Authorization"] = (
            f"AWS4-HMAC-SHA256 Credential={AKID}/{scope}, "
            f"SignedHeaders={names.decode()}, Signature={signature}"
        )

    samples = []
    for _ in range(ROUNDS):
        requests = [
            httpx.Request("GET", URL, headers={**HEADERS, **SDK_HEADERS}) for _ in range(N)
        ]
        start = time.perf_counter()
        for request in requests:
            sign(request)
        samples.append((time.perf_counter() - start) / N * 1e6)
    return statistics.median(samples)


def bench_crypto_floor() -> float:
    """Only the hashing and HMACs a signature needs (key derivation cached)."""
    key = derive_signing_key(SECRET, "20261127", "us-east-1", "svc")
    creq = b"x" * 600
    sts = b"y" * 130

    def work() -> None:
        hashlib.sha256(creq).hexdigest()
        hashlib.sha256(b"").hexdigest()
        hmac.digest(key, sts, "sha256").hex()

    return per_call_us(work)


def main() -> None:
    # As timeit does: no garbage-collector pauses inside the timed loops (the
    # prebuilt requests would otherwise trigger full collections mid-run).
    gc.disable()
    ours = bench_sigv4kit()
    pure = bench_sigv4kit(pure=True)
    boto = bench_botocore()
    crt = bench_awscrt()
    floor = bench_crypto_floor()
    minimal = bench_python_floor()
    print("one prebuilt httpx GET (3 query parameters, 2 headers, session token); "
          f"median of {ROUNDS} rounds, same run")
    build = "compiled (mypyc)" if compiled() else "pure Python: no compiled build installed"
    print(f"sigv4kit SigV4Auth.sign      {ours:8.2f} us/request  [{build}]")
    print(f"  same, pure-Python build    {pure:8.2f} us/request  "
          f"(speed vs awscrt {crt / pure:4.2f}x, vs botocore {boto / pure:4.2f}x)")
    print(f"awscrt aws_sign_request      {crt:8.2f} us/request")
    print(f"botocore SigV4Auth.add_auth  {boto:8.2f} us/request")
    print(f"minimal pure-Python signer   {minimal:8.2f} us/request")
    print(f"hashing + HMAC alone         {floor:8.2f} us/request")
    print(f"sigv4kit speed vs awscrt:    {crt / ours:5.2f}x  (awscrt time / ours; target >= 0.9x)")
    print(f"sigv4kit speed vs botocore:  {boto / ours:5.2f}x  (target >= 4x)")
    print(f"sigv4kit speed vs minimal:   {minimal / ours:5.2f}x  "
          f"(the minimal signer is {boto / minimal:.1f}x botocore, {crt / minimal:.2f}x awscrt)")

if __name__ == "__main__":
    main()
