"""Unmodified real clients against SigV4Middleware: curl --aws-sigv4 and the AWS CLI."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _servers import run_uvicorn
from sigv4kit.middleware import ErrorFormat, MemoryKeyStore, SigV4Middleware

from examples.echo_service import create_app
from sigv4kit import KeyRecord, VerifierConfig

AKID, SECRET = "AKIAREALCLIENTS00001", "real/clients+secret/for+the+tests/00000"
STORE = [KeyRecord(access_key_id=AKID, secret_access_key=SECRET, principal="alice")]


def curl(*args: str) -> subprocess.CompletedProcess[str]:
    path = shutil.which("curl")
    assert path is not None, "curl is part of the machine image; install it (apt-get install curl)"
    return subprocess.run(
        [path, "--silent", "--show-error", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture(scope="module")
def echo_url() -> Iterator[str]:
    with run_uvicorn(create_app(MemoryKeyStore(STORE))) as url:
        yield url


def test_curl_get(echo_url: str) -> None:
    proc = curl(
        "--aws-sigv4",
        "aws:amz:us-east-1:execute-api",
        "--user",
        f"{AKID}:{SECRET}",
        f"{echo_url}/orders/7?expand=items&limit=5",
    )
    assert proc.returncode == 0, proc.stderr
    body = json.loads(proc.stdout)
    assert (body["principal"], body["path"], body["query"]) == (
        "alice",
        "/orders/7",
        "expand=items&limit=5",
    )


def test_curl_post_with_body(echo_url: str) -> None:
    proc = curl(
        "--aws-sigv4",
        "aws:amz:eu-west-1:execute-api",
        "--user",
        f"{AKID}:{SECRET}",
        "-H",
        "Content-Type: application/json",
        "--data",
        '{"item": "book"}',
        f"{echo_url}/orders",
    )
    assert proc.returncode == 0, proc.stderr
    body = json.loads(proc.stdout)
    assert body["method"] == "POST"
    assert body["principal"] == "alice"


def test_curl_with_a_wrong_secret_gets_signature_does_not_match(echo_url: str) -> None:
    proc = curl(
        "--aws-sigv4",
        "aws:amz:us-east-1:execute-api",
        "--user",
        f"{AKID}:wrong",
        "--write-out",
        "\n%{http_code}",
        f"{echo_url}/orders",
    )
    body, _, status = proc.stdout.rpartition("\n")
    assert status == "403"
    assert "<Code>SignatureDoesNotMatch</Code>" in body


async def caller_identity(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Just enough of STS's GetCallerIdentity (query protocol) for the AWS CLI."""
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    identity = scope["sigv4"]
    xml = (
        '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
        "<GetCallerIdentityResult>"
        f"<Arn>arn:aws:iam::000000000000:user/{identity.principal}</Arn>"
        f"<UserId>{identity.access_key_id}</UserId><Account>000000000000</Account>"
        "</GetCallerIdentityResult>"
        "<ResponseMetadata><RequestId>4c7a9b1e-0000-0000-0000-000000000000</RequestId>"
        "</ResponseMetadata></GetCallerIdentityResponse>"
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", b"text/xml"),
                (b"content-length", str(len(xml)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": xml})


def aws_cli(url: str, secret: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": AKID,
        "AWS_SECRET_ACCESS_KEY": secret,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
        "AWS_MAX_ATTEMPTS": "1",
    }
    env.pop("AWS_SESSION_TOKEN", None)
    env.pop("AWS_PROFILE", None)
    aws = Path(sys.executable).parent / "aws"
    return subprocess.run(
        [str(aws), "sts", "get-caller-identity", "--endpoint-url", url, "--output", "json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_aws_cli_get_caller_identity(tmp_path: Path) -> None:
    app = SigV4Middleware(
        caller_identity,
        store=MemoryKeyStore(STORE),
        error_format=ErrorFormat.QUERY_XML,
        config=VerifierConfig(regions=None, services={"sts"}),
    )
    with run_uvicorn(app) as url:
        ok = aws_cli(url, SECRET, tmp_path)
        refused = aws_cli(url, "not-the-secret", tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["Arn"] == "arn:aws:iam::000000000000:user/alice"
    assert refused.returncode != 0
    assert "SignatureDoesNotMatch" in refused.stderr
