"""docs/middleware.md's "Calling it" examples run as written against the echo service."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from _cli_util import AKID, REPO, SECRET, key_store
from _servers import run_uvicorn

from examples.echo_service import create_app

DOC = (REPO / "docs" / "middleware.md").read_text()
SECTION = DOC.split("### Calling it", 1)[1].split("\n### ", 1)[0]


def _block(language: str, containing: str) -> str:
    (block,) = [
        b for b in re.findall(rf"```{language}\n(.*?)```", SECTION, re.DOTALL) if containing in b
    ]
    return block


@pytest.fixture(scope="module")
def echo() -> Iterator[str]:
    with run_uvicorn(create_app(key_store())) as url:
        yield url


def test_boto3_snippet(echo: str) -> None:
    snippet = _block("python", "boto3")
    assert 'aws_access_key_id="AKIA..."' in snippet
    assert 'aws_secret_access_key="..."' in snippet
    runnable = (
        snippet.replace("http://127.0.0.1:8000", echo)
        .replace('aws_access_key_id="AKIA..."', f'aws_access_key_id="{AKID}"')
        .replace('aws_secret_access_key="..."', f'aws_secret_access_key="{SECRET}"')
    )
    namespace: dict[str, Any] = {"__name__": "middleware_md"}
    exec(compile(runnable, "docs/middleware.md", "exec"), namespace)
    # S3's ETag of a single-part upload: the MD5 of b"hello" (RFC 1321 digest).
    assert namespace["etag"] == '"5d41402abc4b2a76b9719d911017c592"'
    presigned = httpx.get(namespace["url"])
    assert presigned.status_code == 200, presigned.text
    assert presigned.json()["path"] == "/bucket/hello.txt"
    for client in ("s3", "dynamodb"):
        namespace[client].close()


def test_sigv4kit_clients_still_get_json_for_s3_puts(echo: str) -> None:
    import sigv4kit

    auth = sigv4kit.SigV4Auth(
        sigv4kit.Credentials(AKID, SECRET),
        region="us-east-1",
        service="s3",
        settings=sigv4kit.SigningSettings.s3(),
    )
    response = httpx.put(f"{echo}/bucket/k", content=b"hello", auth=auth)
    assert response.status_code == 200
    assert response.json()["principal"] == "alice"


def test_aws_cli_lines(echo: str, tmp_path: Path) -> None:
    aws = shutil.which("aws")
    if aws is None:
        pytest.skip("the AWS CLI is not installed")
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": AKID,
        "AWS_SECRET_ACCESS_KEY": SECRET,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(tmp_path / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"),
    }
    env.pop("AWS_PROFILE", None)
    lines = [line.split("#")[0].strip() for line in _block("sh", "aws ").splitlines()]
    outputs = []
    for line in filter(None, lines):
        proc = subprocess.run(
            ["bash", "-c", line.replace("http://127.0.0.1:8000", echo)],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
        outputs.append(proc.stdout.strip())
    assert "signature_version = s3v4" in (tmp_path / "config").read_text()
    url = outputs[-1]
    assert "X-Amz-Algorithm=AWS4-HMAC-SHA256" in url, url
    assert httpx.get(url).json()["path"] == "/bucket/hello.txt"


def _curl(url: str, service: str, *extra: str) -> tuple[int, str]:
    curl = shutil.which("curl")
    assert curl is not None, "curl is part of the machine image"
    proc = subprocess.run(
        [
            curl,
            "--silent",
            "--aws-sigv4",
            f"aws:amz:us-east-1:{service}",
            "--user",
            f"{AKID}:{SECRET}",
            *extra,
            "--write-out",
            "\n%{http_code}",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    body, _, status = proc.stdout.rpartition("\n")
    return int(status), body


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("a=1&b=2", 200),
        ("b=2&a=1", 403),
        ("a=1&a=2", 200),
        ("a=2&a=1", 403),
        ("a=b%20c", 200),
        ("a=b+c", 403),
    ],
)
def test_curl_query_limits_are_as_documented(echo: str, query: str, status: int) -> None:
    assert "sorted by name" in SECTION
    code, body = _curl(f"{echo}/items?{query}", "execute-api")
    assert code == status, body
    if status == 403:
        assert "<Code>SignatureDoesNotMatch</Code>" in body


def test_curl_s3_needs_the_documented_header(echo: str) -> None:
    code, body = _curl(f"{echo}/bucket/k", "s3")
    assert (code, "<Code>InvalidRequest</Code>" in body) == (400, True)
    workaround = '-H "x-amz-content-sha256: UNSIGNED-PAYLOAD"'
    assert workaround in SECTION
    code, body = _curl(f"{echo}/bucket/k", "s3", "-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD")
    assert code == 200, body
