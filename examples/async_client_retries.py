"""An async httpx client that signs every request and retries throttling like the AWS SDKs.

    python examples/async_client_retries.py        # against a throwaway, deliberately flaky service

Every retry is signed again (a fresh X-Amz-Date), so a retried request is
never refused as stale.
"""

from __future__ import annotations

import asyncio
import sys

import httpx

from sigv4kit import Credentials, RetryPolicy, RetryTransport, SigV4Auth


async def run(endpoint_url: str, access_key_id: str, secret_access_key: str) -> list[int]:
    """Ten concurrent signed GETs; returns their final status codes."""
    auth = SigV4Auth(
        Credentials(access_key_id, secret_access_key), region="us-east-1", service="execute-api"
    )
    transport = RetryTransport(policy=RetryPolicy(max_attempts=4, base_delay=0.05))
    async with httpx.AsyncClient(auth=auth, transport=transport, base_url=endpoint_url) as client:
        responses = await asyncio.gather(*(client.get(f"/items/{i}") for i in range(10)))
    return [response.status_code for response in responses]


def main(argv: list[str]) -> None:
    if len(argv) == 3:
        print(asyncio.run(run(*argv)))
        return
    from examples._local import local_service

    # Every third request first gets 503 SlowDown: the transport retries it.
    with local_service(flaky=3) as (url, akid, secret):
        print(asyncio.run(run(url, akid, secret)))


if __name__ == "__main__":
    sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent.parent))
    main(sys.argv[1:])
