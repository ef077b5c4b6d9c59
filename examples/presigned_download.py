"""A presigned download link: anyone holding the URL may GET the object until it expires.

    python examples/presigned_download.py                   # against a throwaway local service
    python examples/presigned_download.py URL AKID SECRET   # against a running echo service
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta

import httpx

from sigv4kit import Credentials, SigningSettings, presign


def run(endpoint_url: str, access_key_id: str, secret_access_key: str) -> tuple[int, int]:
    """Status of a fresh link, and of a link that expired an hour ago."""
    credentials = Credentials(access_key_id, secret_access_key)
    url = presign(
        "GET", f"{endpoint_url}/bucket/report.csv",
        credentials=credentials, region="us-east-1", service="s3",
        settings=SigningSettings.s3(), expires_in=600,
    )
    fresh = httpx.get(url)  # no credentials needed: the signature is in the URL
    expired_url = presign(
        "GET", f"{endpoint_url}/bucket/report.csv",
        credentials=credentials, region="us-east-1", service="s3",
        settings=SigningSettings.s3(), expires_in=60,
        now=datetime.now(UTC) - timedelta(hours=1),
    )
    expired = httpx.get(expired_url)  # 403 AccessDenied "Request has expired"
    return fresh.status_code, expired.status_code


def main(argv: list[str]) -> None:
    if len(argv) == 3:
        print(run(*argv))
        return
    from examples._local import local_service

    with local_service() as (url, akid, secret):
        fresh, expired = run(url, akid, secret)
        print(f"fresh link: HTTP {fresh}; expired link: HTTP {expired}")


if __name__ == "__main__":
    sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent.parent))
    main(sys.argv[1:])
