"""CPU cost of SigV4Auth + RetryTransport on top of a plain httpx request.

Both clients send the same POST through ``httpx.MockTransport`` (no network),
so the difference is what signing and the retry wrapper add. Rounds are
interleaved and the median per-request CPU time of each is compared.

    .venv/bin/python benchmarks/bench_client.py
"""

from __future__ import annotations

import statistics
import time

import httpx

from sigv4kit import Credentials, RetryTransport, SigV4Auth

URL = "https://dynamodb.us-east-1.amazonaws.com/?Action=Query&Version=2012-08-10"
BODY = b'{"TableName": "orders", "KeyConditionExpression": "pk = :pk"}'
HEADERS = {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "DynamoDB_20120810.Query"}
ROUNDS = 15
PER_ROUND = 400


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
    plain = httpx.Client(transport=httpx.MockTransport(_handler))
    signed = httpx.Client(auth=auth, transport=RetryTransport(httpx.MockTransport(_handler)))
    with plain, signed:
        for client in (plain, signed):  # warm up
            _per_request(client)
        base_times, signed_times = [], []
        for _ in range(ROUNDS):
            base_times.append(_per_request(plain))
            signed_times.append(_per_request(signed))
    base = statistics.median(base_times)
    with_auth = statistics.median(signed_times)
    overhead = (with_auth - base) / base
    print(f"httpx request via MockTransport (baseline): {base * 1e6:8.1f} us CPU")
    print(f"  + SigV4Auth + RetryTransport:             {with_auth * 1e6:8.1f} us CPU")
    print(f"added CPU: {overhead:+.1%} of the baseline (target: at most +25%)")


if __name__ == "__main__":
    main()
