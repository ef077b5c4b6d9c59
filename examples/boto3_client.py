"""boto3 calling a sigv4kit-protected service through a custom endpoint_url.

    python examples/boto3_client.py                       # against a throwaway local service
    python examples/boto3_client.py URL AKID SECRET       # against a running echo service

The echo service (examples/echo_service.py) answers every verified request
with a JSON document saying who called and what was sent; boto3's S3 client
reads it as an object body (get_object), presigns a URL for it, and boto3's
DynamoDB client (a JSON-protocol service, signed with the default rules) sends
a call to it too. (S3 calls whose answer botocore parses as XML, such as
put_object, need a service that answers like S3.)
"""

from __future__ import annotations

import json
import sys
from typing import Any

import boto3
import httpx
from botocore.config import Config


def run(endpoint_url: str, access_key_id: str, secret_access_key: str) -> dict[str, Any]:
    """PUT, GET and presign through boto3; returns what the service saw."""
    session = boto3.session.Session(
        aws_access_key_id=access_key_id,
        aws_secret_access_key=secret_access_key,
        region_name="us-east-1",
    )
    config = Config(
        signature_version="s3v4",  # SigV4 for presigned URLs too
        s3={"addressing_style": "path"},  # an IP endpoint has no bucket subdomains
        # Recent boto3 streams uploads aws-chunked by default; the middleware
        # verifies whole bodies, so compute checksums only when required.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    s3 = session.client("s3", endpoint_url=endpoint_url, config=config)
    body = s3.get_object(Bucket="bucket", Key="hello.txt")["Body"]
    with body:
        seen = json.loads(body.read())
    url = s3.generate_presigned_url(
        "get_object", Params={"Bucket": "bucket", "Key": "hello.txt"}, ExpiresIn=600
    )
    presigned = httpx.get(url).json()
    dynamodb = session.client("dynamodb", endpoint_url=endpoint_url)
    status = dynamodb.list_tables()["ResponseMetadata"]["HTTPStatusCode"]
    s3.close()
    dynamodb.close()
    return {"get": seen, "presigned": presigned, "dynamodb_status": status}


def main(argv: list[str]) -> None:
    if len(argv) == 3:
        print(json.dumps(run(*argv), indent=2))
        return
    from examples._local import local_service

    with local_service() as (url, akid, secret):
        print(json.dumps(run(url, akid, secret), indent=2))


if __name__ == "__main__":
    sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent.parent))
    main(sys.argv[1:])
