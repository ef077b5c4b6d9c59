"""``sigv4kit presign``: the official presigned vector, host inference, a real service."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from _cli_util import AKID, SECRET, key_store, run_cli, run_program
from _servers import run_uvicorn

from examples.echo_service import create_app

VECTOR_SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
CREDS = ("--access-key-id", "AKIDEXAMPLE", "--secret-access-key", VECTOR_SECRET)


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with run_uvicorn(create_app(key_store())) as url:
        yield url


def test_official_vector() -> None:
    # aws-c-auth v4/get-vanilla/query-signed-request.txt, signature e93c787e...
    r = run_cli(
        "presign",
        "GET",
        "https://example.amazonaws.com/",
        *CREDS,
        "--region",
        "us-east-1",
        "--service",
        "service",
        "--time",
        "2015-08-30T12:36:00Z",
        "--expires",
        "3600",
    )
    assert r.code == 0, r.err
    query = parse_qs(urlsplit(r.out.strip()).query)
    assert query["X-Amz-Signature"] == [
        "e93c787ed7f371d5c6b165c1b38ede9550f4dce4144713e844b25b7192d3865d"
    ]
    assert query["X-Amz-Credential"] == ["AKIDEXAMPLE/20150830/us-east-1/service/aws4_request"]


@pytest.mark.parametrize(
    ("url", "scope"),
    [
        ("https://my-bucket.s3.eu-west-1.amazonaws.com/report.csv", "eu-west-1/s3"),
        ("https://my-bucket.s3.amazonaws.com/report.csv", "us-east-1/s3"),
        ("https://abc.execute-api.ap-south-1.amazonaws.com/prod/x", "ap-south-1/execute-api"),
    ],
)
def test_region_and_service_inferred(url: str, scope: str) -> None:
    r = run_cli("presign", "GET", url, *CREDS, "--expires", "600", "--json")
    assert r.code == 0, r.err
    signed = httpx.URL(__import__("json").loads(r.out)["url"])
    credential = signed.params["X-Amz-Credential"]
    assert f"/{scope}/aws4_request" in credential
    assert signed.params["X-Amz-Expires"] == "600"


def test_cannot_infer() -> None:
    r = run_cli("presign", "GET", "http://127.0.0.1:9/x", *CREDS)
    assert r.code == 2
    assert "pass --region and --service" in r.err


def test_bad_expiry_and_url() -> None:
    args = ("--region", "us-east-1", "--service", "s3", *CREDS)
    assert (
        run_cli("presign", "GET", "https://b.s3.amazonaws.com/k", *args, "--expires", "0").code == 1
    )
    assert run_cli("presign", "GET", "not a url", *args).code == 2


def test_presigned_url_works_against_a_real_service(base_url: str) -> None:
    r = run_cli(
        "presign",
        "GET",
        f"{base_url}/files/a.txt",
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
    response = httpx.get(r.out.strip())
    assert response.status_code == 200, response.text
    assert response.json()["principal"] == "alice"
    assert response.json()["body_sha256"] == hashlib.sha256(b"").hexdigest()


def test_sigv4a_presigned_url_works_against_a_real_service(base_url: str) -> None:
    r = run_cli(
        "presign",
        "GET",
        f"{base_url}/x",
        "--access-key-id",
        AKID,
        "--secret-access-key",
        SECRET,
        "--region",
        "*",
        "--service",
        "s3",
        "--sigv4a",
        "--expires",
        "60",
    )
    assert r.code == 0, r.err
    signed = httpx.URL(r.out.strip())
    assert signed.params["X-Amz-Algorithm"] == "AWS4-ECDSA-P256-SHA256"
    assert signed.params["X-Amz-Region-Set"] == "*"
    assert httpx.get(signed).status_code == 200


def test_as_a_subprocess_with_environment_credentials(base_url: str) -> None:
    r = run_program(
        "presign",
        "GET",
        f"{base_url}/x",
        "--region",
        "us-east-1",
        "--service",
        "execute-api",
        env={
            "AWS_ACCESS_KEY_ID": AKID,
            "AWS_SECRET_ACCESS_KEY": SECRET,
            "AWS_CONFIG_FILE": "/nonexistent",
            "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
        },
    )
    assert r.code == 0, r.err
    assert httpx.get(r.out.strip()).status_code == 200


def test_help() -> None:
    r = run_cli("presign", "--help")
    assert "examples:" in r.out
    assert "exit codes:" in r.out
