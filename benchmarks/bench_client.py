"""CPU cost of SigV4Auth + RetryTransport on top of a plain httpx request.

Both clients send the same POST through ``httpx.MockTransport`` (no network),
so the difference is what signing and the retry wrapper add. Rounds are
interleaved and the median per-request CPU time of each is compared.

    .venv/bin/python benchmarks/bench_client.py
"""

from __future__ import annotations

import hashlib
import hmac
import statistics
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx

from sigv4kit import Credentials, RetryTransport, SigV4Auth

URL = "https://dynamodb.us-east-1.amazonaws.com/?Action=Query&Version=2012-08-10"
BODY = b'{"TableName": "orders", "KeyConditionExpression": "pk = :pk"}'
HEADERS = {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "DynamoDB_20120810.Query"}
ROUNDS = 9
PER_ROUND = 400


class _FloorAuth(httpx.Auth):
    """NOT a correct signer: the least work any SigV4 signer does per request.

    One pass over the headers (lower-case, sort), SHA-256 of the body and of
    the canonical request, one HMAC, two headers set. It shows how much of the
    overhead is the protocol itself in this harness.
    """

    def auth_flow(self, request: httpx.Request) -> Iterator[httpx.Request]:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        lines = sorted((k.lower(), v.strip()) for k, v in request.headers.multi_items())
        names = ";".join(k for k, _ in lines)
        path, _, query = request.url.raw_path.decode().partition("?")
        canonical = "\n".join(
            [
                request.method,
                path,
                query,
                "".join(f"{k}:{v}\n" for k, v in lines),
                names,
                hashlib.sha256(request.content).hexdigest(),
            ]
        )
        scope = f"{stamp[:8]}/us-east-1/dynamodb/aws4_request"
        to_sign = (
            f"AWS4-HMAC-SHA256\n{stamp}\n{scope}\n" + hashlib.sha256(canonical.encode()).hexdigest()
        )
        signature = hmac.digest(b"k" * 32, to_sign.encode(), "sha256").hex()
        request.headers["X-Amz-Date"] = stamp
        request.headers["Authorization"] = (
            f"AWS4-HMAC-SHA256 Credential=AKID/{scope}, SignedHeaders={names}, "
            f"Signature={signature}"
        )
        yield request


def _handler(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, content=b'{"Items": []}')


def _per_request(client: httpx.Client) -> float:
    start = time.process_time()
    for _ in range(PER_ROUND):
        client.post(URL, content=BODY, headers=HEADERS)
    return (time.process_time() - start) / PER_ROUND


def main() -> None:
    credentials = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "token")
    auth = SigV4Auth(credentials, region="us-east-1", service="dynamodb")
    clients = {
        "baseline: httpx + MockTransport": httpx.Client(transport=httpx.MockTransport(_handler)),
        "+ RetryTransport only": httpx.Client(
            transport=RetryTransport(httpx.MockTransport(_handler))
        ),
        "(floor: minimal SigV4 work)": httpx.Client(
            auth=_FloorAuth(), transport=httpx.MockTransport(_handler)
        ),
        "+ SigV4Auth only": httpx.Client(auth=auth, transport=httpx.MockTransport(_handler)),
        "+ SigV4Auth + RetryTransport": httpx.Client(
            auth=auth, transport=RetryTransport(httpx.MockTransport(_handler))
        ),
    }
    times: dict[str, list[float]] = {name: [] for name in clients}
    for client in clients.values():  # warm up
        _per_request(client)
    for _ in range(ROUNDS):
        for name, client in clients.items():
            times[name].append(_per_request(client))
    for client in clients.values():
        client.close()
    base = statistics.median(times["baseline: httpx + MockTransport"])
    for name, samples in times.items():
        median = statistics.median(samples)
        print(f"{name:34s} {median * 1e6:8.1f} us CPU/request  ({(median - base) / base:+.1%})")
    total = statistics.median(times["+ SigV4Auth + RetryTransport"])
    print(f"auth + retry add {(total - base) / base:+.1%} CPU to the baseline (target: <= +25%)")


if __name__ == "__main__":
    main()
