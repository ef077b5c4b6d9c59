"""Every example runs: services under a real uvicorn, clients in-process and as programs."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest
from _cli_util import AKID, REPO, SECRET, key_store
from _servers import run_uvicorn

from examples import (
    async_client_retries,
    boto3_client,
    fastapi_service,
    presigned_download,
    starlette_service,
)
from examples._local import local_service
from sigv4kit import Credentials, SigV4Auth, presign

AUTH = SigV4Auth(Credentials(AKID, SECRET), region="us-east-1", service="execute-api")


@pytest.fixture(scope="module")
def fastapi_url() -> Iterator[str]:
    with run_uvicorn(fastapi_service.create_app(key_store())) as url:
        yield url


@pytest.fixture(scope="module")
def starlette_url() -> Iterator[str]:
    with run_uvicorn(starlette_service.create_app(key_store())) as url:
        yield url


def test_fastapi_service(fastapi_url: str) -> None:
    with httpx.Client(auth=AUTH, base_url=fastapi_url) as client:
        assert client.get("/whoami").json() == {
            "principal": "alice",
            "access_key_id": AKID,
            "region": "us-east-1",
        }
        put = client.put("/items/report", content=b"12345")
        assert put.json() == {"name": "report", "size": 5, "owner": "alice"}
    assert httpx.get(f"{fastapi_url}/whoami").status_code == 403
    # Only execute-api signatures are accepted.
    s3_auth = SigV4Auth(Credentials(AKID, SECRET), region="us-east-1", service="s3")
    refused = httpx.get(f"{fastapi_url}/whoami", auth=s3_auth)
    assert refused.status_code == 400
    assert "<Code>AuthorizationHeaderMalformed</Code>" in refused.text


def test_starlette_service(starlette_url: str) -> None:
    with httpx.Client(auth=AUTH, base_url=starlette_url) as client:
        assert client.get("/whoami").json() == {
            "principal": "alice",
            "service": "execute-api",
            "presigned": False,
        }
    assert httpx.get(f"{starlette_url}/health").text == "ok"
    assert httpx.get(f"{starlette_url}/whoami").status_code == 403
    url = presign(
        "GET",
        f"{starlette_url}/whoami",
        credentials=Credentials(AKID, SECRET),
        region="us-east-1",
        service="execute-api",
        expires_in=60,
    )
    assert httpx.get(url).json()["presigned"] is True


def test_client_examples_in_process() -> None:
    with local_service() as (url, akid, secret):
        seen = boto3_client.run(url, akid, secret)
        assert seen["get"]["access_key_id"] == akid
        assert seen["get"]["path"] == "/bucket/hello.txt"
        assert "X-Amz-Signature=" in seen["presigned"]["query"]
        assert seen["dynamodb_status"] == 200
        assert presigned_download.run(url, akid, secret) == (200, 403)


async def test_async_client_retries_through_throttling() -> None:
    with local_service(flaky=3) as (url, akid, secret):
        assert await async_client_retries.run(url, akid, secret) == [200] * 10


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("boto3_client.py", '"dynamodb_status": 200'),
        ("presigned_download.py", "fresh link: HTTP 200; expired link: HTTP 403"),
        ("async_client_retries.py", "[200, 200, 200, 200, 200, 200, 200, 200, 200, 200]"),
    ],
)
def test_client_examples_as_programs(script: str, expected: str) -> None:
    proc = subprocess.run(
        [sys.executable, f"examples/{script}"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert expected in proc.stdout


@pytest.mark.parametrize("module", ["fastapi_service", "starlette_service"])
def test_service_modules_build_their_app_from_the_environment(
    module: str, tmp_path: object
) -> None:
    code = (
        f"import examples.{module} as m; import sigv4kit.middleware as mw; "
        "app = m.app; print(type(app).__name__)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        env={"SIGV4KIT_STORE": f"sqlite:///{tmp_path}/keys.db", "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() in {"SigV4Middleware", "Starlette"}
