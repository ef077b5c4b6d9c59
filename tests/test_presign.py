"""Presigned uploads: what ``presign()`` signs, checked against botocore and a real service."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime
from unittest import mock
from urllib.parse import urlsplit

import boto3
import httpx
import pytest
from _cli_util import AKID, SECRET, key_store, run_cli
from _servers import run_uvicorn
from botocore.auth import SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials as BotoCredentials

import sigv4kit
from examples.echo_service import create_app
from sigv4kit import Credentials, SigningSettings

NOW = datetime(2026, 3, 1, 8, 30, 15, tzinfo=UTC)
TOKEN = "FwoGZXIvYXdzEXAMPLEsessiontoken//+/=="
BODY = b"an upload of some length\n" * 100


def _fixed_now(remove_tzinfo: bool = True) -> datetime:
    return NOW.replace(tzinfo=None) if remove_tzinfo else NOW


def _pieces(url: str) -> tuple[str, str, list[str]]:
    """Host, raw path and the raw ``k=v`` query pieces (their order aside).

    botocore writes the X-Amz-* parameters in another order than AWS's own
    test suite (aws-c-auth), which sigv4kit follows; every piece is compared
    byte for byte.
    """
    parts = urlsplit(url)
    return parts.netloc, parts.path, sorted(parts.query.split("&"))


@pytest.mark.parametrize("token", [None, TOKEN])
def test_presigned_put_object_matches_botocore(token: str | None) -> None:
    session = boto3.session.Session(
        aws_access_key_id=AKID,
        aws_secret_access_key=SECRET,
        aws_session_token=token,
        region_name="eu-west-1",
    )
    client = session.client("s3", config=Config(signature_version="s3v4"))
    try:
        # botocore signs S3 with awscrt when it is installed (botocore.crt.auth).
        with (
            mock.patch("botocore.auth.get_current_datetime", _fixed_now),
            mock.patch("botocore.crt.auth.get_current_datetime", _fixed_now),
        ):
            expected = client.generate_presigned_url(
                "put_object",
                Params={"Bucket": "my-bucket", "Key": "in/q1 report+final.csv"},
                ExpiresIn=900,
            )
    finally:
        client.close()
    assert "X-Amz-SignedHeaders=host&" in expected  # the oracle signs only host
    url = sigv4kit.presign(
        "PUT",
        "https://my-bucket.s3.amazonaws.com/in/q1%20report%2Bfinal.csv",
        credentials=Credentials(AKID, SECRET, token),
        region="eu-west-1",
        service="s3",
        settings=SigningSettings.s3(),
        expires_in=900,
        now=NOW,
    )
    assert _pieces(url) == _pieces(expected)


@pytest.mark.parametrize("method", ["PUT", "POST"])
def test_presigned_upload_for_other_services_matches_botocore(method: str) -> None:
    request = AWSRequest(
        method=method, url="https://abc.execute-api.us-east-1.amazonaws.com/prod/in"
    )
    with mock.patch("botocore.auth.get_current_datetime", return_value=NOW.replace(tzinfo=None)):
        SigV4QueryAuth(
            BotoCredentials(AKID, SECRET), "execute-api", "us-east-1", expires=60
        ).add_auth(request)
    url = sigv4kit.presign(
        method,
        "https://abc.execute-api.us-east-1.amazonaws.com/prod/in",
        credentials=Credentials(AKID, SECRET),
        region="us-east-1",
        service="execute-api",
        expires_in=60,
        now=NOW,
    )
    assert _pieces(url) == _pieces(request.url)


def test_explicit_headers_are_signed_and_nothing_else() -> None:
    url = sigv4kit.presign(
        "PUT",
        "https://b.s3.amazonaws.com/k",
        credentials=Credentials(AKID, SECRET),
        region="us-east-1",
        service="s3",
        settings=SigningSettings.s3(),
        now=NOW,
        headers={"Content-Type": "text/csv", "Content-Length": "7"},
    )
    assert httpx.URL(url).params["X-Amz-SignedHeaders"] == "content-length;content-type;host"


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with run_uvicorn(create_app(key_store())) as url:
        yield url


def _upload(method: str, url: str, body: bytes) -> dict[str, object]:
    response = httpx.request(method, url, content=body)
    assert response.status_code == 200, response.text
    data: dict[str, object] = response.json()
    assert data["principal"] == "alice"
    assert data["body_sha256"] == hashlib.sha256(body).hexdigest()
    return data


@pytest.mark.parametrize("method", ["PUT", "POST"])
def test_s3_presigned_upload_accepts_any_body(server: str, method: str) -> None:
    url = sigv4kit.presign(
        method,
        f"{server}/bucket/upload.bin",
        credentials=Credentials(AKID, SECRET),
        region="us-east-1",
        service="s3",
        settings=SigningSettings.s3(),
        expires_in=60,
    )
    assert httpx.URL(url).params["X-Amz-SignedHeaders"] == "host"
    for body in (b"", b"x", BODY):
        _upload(method, url, body)


def test_presigned_upload_with_the_body_hash(server: str) -> None:
    # Services other than S3 check the body against the signed payload hash.
    url = sigv4kit.presign(
        "POST",
        f"{server}/prod/in",
        credentials=Credentials(AKID, SECRET),
        region="us-east-1",
        service="execute-api",
        expires_in=60,
        payload_hash=hashlib.sha256(BODY).hexdigest(),
    )
    _upload("POST", url, BODY)
    assert httpx.post(url, content=BODY + b"!").status_code == 403


def test_cli_presigned_put_accepts_a_body(server: str) -> None:
    r = run_cli(
        "presign",
        "PUT",
        f"{server}/bucket/cli.bin",
        "--access-key-id",
        AKID,
        "--secret-access-key",
        SECRET,
        "--region",
        "us-east-1",
        "--service",
        "s3",
        "--expires",
        "60",
    )
    assert r.code == 0, r.err
    _upload("PUT", r.out.strip(), BODY)


def test_cli_payload_hash(server: str) -> None:
    r = run_cli(
        "presign",
        "PUT",
        f"{server}/prod/in",
        "--access-key-id",
        AKID,
        "--secret-access-key",
        SECRET,
        "--region",
        "us-east-1",
        "--service",
        "execute-api",
        "--expires",
        "60",
        "--payload-hash",
        hashlib.sha256(BODY).hexdigest(),
    )
    assert r.code == 0, r.err
    _upload("PUT", r.out.strip(), BODY)
