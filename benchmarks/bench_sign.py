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
from typing import Any
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
N = 10_000
ROUNDS = 7


# Each signer's round: sign fresh prebuilt requests, return CPU microseconds per request.
# CPU time of this process (not wall time): other processes loading the machine
# then slow every signer alike instead of whichever round they happen to hit.
Round = Callable[[], float]


def timed(sign: Callable[[Any], object], requests: list[Any]) -> float:
    start = time.process_time()
    for request in requests:
        sign(request)
    return (time.process_time() - start) / len(requests) * 1e6


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


def sigv4kit_round(pure: bool = False) -> Round:
    auth = sigv4kit.SigV4Auth(
        sigv4kit.Credentials(AKID, SECRET, TOKEN), region="us-east-1", service="svc",
        clock=lambda: NOW,
    )
    if pure:
        auth._fast = pure_fast_signer()  # type: ignore[assignment]
    # Fresh prebuilt requests: signing, not re-signing, is measured.
    return lambda: timed(auth.sign, [httpx.Request("GET", URL, headers=HEADERS)
                                     for _ in range(N)])


def fast_signer_round(pure: bool = False) -> Round:
    """The fast signer alone, adding the two SDK headers as SigV4Auth has it do: what
    SigV4Auth.sign costs minus its own glue (invocation id, the retry state, the result
    extension)."""
    signer: Any = pure_fast_signer() if pure else sigv4kit.client._fastsign.FastSigner()
    credentials = sigv4kit.Credentials(AKID, SECRET, TOKEN)
    settings = sigv4kit.SigningSettings()

    added = tuple((name.encode(), value.encode()) for name, value in SDK_HEADERS.items())

    def sign(request: httpx.Request) -> object:
        return signer.sign(request, credentials=credentials, region="us-east-1",
                           service="svc", settings=settings, now=NOW, payload_hash=None,
                           added=added)

    return lambda: timed(sign, [httpx.Request("GET", URL, headers=HEADERS) for _ in range(N)])


def botocore_round() -> Round:
    signer = BotoSigV4Auth(BotoCredentials(AKID, SECRET, TOKEN), "svc", "us-east-1")
    naive_now = NOW.replace(tzinfo=None)

    def run() -> float:
        requests = [AWSRequest(method="GET", url=URL, headers={**HEADERS, **SDK_HEADERS})
                    for _ in range(N // 4)]
        # A plain function, not a MagicMock: a mock's call overhead would be
        # charged to botocore and flatter sigv4kit.
        with mock.patch("botocore.auth.get_current_datetime", lambda: naive_now):  # noqa: PT008
            return timed(signer.add_auth, requests)

    return run


def awscrt_round() -> Round:
    config = crt_auth.AwsSigningConfig(
        algorithm=crt_auth.AwsSigningAlgorithm.V4,
        signature_type=crt_auth.AwsSignatureType.HTTP_REQUEST_HEADERS,
        credentials_provider=crt_auth.AwsCredentialsProvider.new_static(AKID, SECRET, TOKEN),
        region="us-east-1", service="svc", date=NOW,
    )
    target = URL.split(".com", 1)[1]

    def run() -> float:
        requests = [
            crt_http.HttpRequest("GET", target, crt_http.HttpHeaders(
                [("Host", "service.us-east-1.amazonaws.com"), *HEADERS.items(),
                 *SDK_HEADERS.items()]),
                io.BytesIO(b""))
            for _ in range(N // 4)
        ]
        return timed(lambda request: crt_auth.aws_sign_request(request, config).result(),
                     requests)

    return run


def python_floor_round() -> Round:
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

    return lambda: timed(sign, [httpx.Request("GET", URL, headers={**HEADERS, **SDK_HEADERS})
                                for _ in range(N)])


def crypto_floor_round() -> Round:
    """Only the hashing and HMACs a signature needs (key derivation cached)."""
    key = derive_signing_key(SECRET, "20261127", "us-east-1", "svc")
    creq = b"x" * 600
    sts = b"y" * 130

    def work(_: object) -> None:
        hashlib.sha256(creq).hexdigest()
        hashlib.sha256(b"").hexdigest()
        hmac.digest(key, sts, "sha256").hex()

    return lambda: timed(work, [None] * N)


def main() -> None:
    # As timeit does: no garbage-collector pauses inside the timed loops (the
    # prebuilt requests would otherwise trigger full collections mid-run).
    gc.disable()
    rounds = {
        "ours": sigv4kit_round(), "pure": sigv4kit_round(pure=True), "boto": botocore_round(),
        "crt": awscrt_round(), "floor": crypto_floor_round(), "minimal": python_floor_round(),
        "fast": fast_signer_round(), "fast_pure": fast_signer_round(pure=True),
    }
    samples: dict[str, list[float]] = {name: [] for name in rounds}
    for _ in range(ROUNDS):  # alternating: a busy moment hits every signer alike
        for name, run in rounds.items():
            samples[name].append(run())
            gc.collect()
    ours, pure, boto, crt, floor, minimal, fast, fast_pure = (
        statistics.median(samples[name]) for name in rounds
    )
    print("one prebuilt httpx GET (3 query parameters, 2 headers, session token); "
          f"median of {ROUNDS} alternating rounds, same run; CPU time per request")
    build = "compiled (mypyc)" if compiled() else "pure Python: no compiled build installed"
    print(f"sigv4kit SigV4Auth.sign      {ours:8.2f} us/request  [{build}]")
    print(f"  same, pure-Python build    {pure:8.2f} us/request  "
          f"(speed vs awscrt {crt / pure:4.2f}x, vs botocore {boto / pure:4.2f}x)")
    print(f"  FastSigner alone           {fast:8.2f} us/request  (pure build {fast_pure:.2f}; "
          f"speed vs awscrt {crt / fast:4.2f}x / {crt / fast_pure:4.2f}x)")
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
