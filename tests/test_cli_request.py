"""``sigv4kit request`` against a real uvicorn service, and against AWS hosts via respx."""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from _cli_util import AKID, SECRET, TEMP_AKID, TOKEN, key_store, run_cli, run_program
from _servers import run_uvicorn
from sigv4kit.middleware import SigV4Middleware

from examples.echo_service import create_app, echo
from sigv4kit.cli._main import ExitCode
from sigv4kit.cli._request import FileStream

KEYS = ("--access-key-id", AKID, "--secret-access-key", SECRET)
SCOPE = ("--region", "us-east-1", "--service", "execute-api")


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with run_uvicorn(create_app(key_store())) as url:
        yield url


@pytest.fixture(autouse=True)
def no_aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))


def test_get(base_url: str) -> None:
    r = run_cli("request", "GET", f"{base_url}/items?limit=10", *KEYS, *SCOPE)
    assert r.code == 0, r.err
    doc = json.loads(r.out)
    assert (doc["principal"], doc["path"], doc["query"]) == ("alice", "/items", "limit=10")


def test_headers_and_data(base_url: str) -> None:
    r = run_cli(
        "request",
        "POST",
        f"{base_url}/put",
        *KEYS,
        *SCOPE,
        "-H",
        "Content-Type: application/json",
        "-d",
        '{"a": 1}',
    )
    assert r.code == 0, r.err
    assert json.loads(r.out)["body_sha256"] == hashlib.sha256(b'{"a": 1}').hexdigest()


@pytest.mark.parametrize("service", ["execute-api", "s3"])
def test_data_binary_file_is_streamed_and_signed(
    base_url: str, tmp_path: Path, service: str
) -> None:
    data = bytes(range(256)) * 4096  # 1 MiB
    path = tmp_path / "upload.bin"
    path.write_bytes(data)
    r = run_cli(
        "request",
        "PUT",
        f"{base_url}/upload.bin",
        *KEYS,
        "--region",
        "us-east-1",
        "--service",
        service,
        "--data-binary",
        f"@{path}",
        "--json",
    )
    assert r.code == 0, r.out + r.err
    doc = json.loads(r.out)
    assert json.loads(doc["body"])["body_sha256"] == hashlib.sha256(data).hexdigest()
    # The canonical request's payload line is the file's hash: it was signed, not skipped.
    assert doc["canonical_request"].endswith(hashlib.sha256(data).hexdigest())


def test_progress_bar_only_when_asked() -> None:
    stream = io.StringIO()
    path = Path(__file__)
    size = path.stat().st_size
    assert b"".join(FileStream(path, size, stream)) == path.read_bytes()
    assert "100%" in stream.getvalue()
    assert b"".join(FileStream(path, size, None)) == path.read_bytes()


def test_progress_bar_for_large_uploads_on_a_terminal_only(
    base_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sigv4kit.cli import _request as _cli_request
    from sigv4kit.cli._main import main

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(_cli_request, "PROGRESS_THRESHOLD", 1000)
    path = tmp_path / "big.bin"
    path.write_bytes(b"x" * 200_000)
    argv = ["request", "PUT", f"{base_url}/big", *KEYS, *SCOPE, "--data-binary", f"@{path}"]
    for stderr, shown in ((Terminal(), True), (io.StringIO(), False)):
        code = main(argv, stdin=io.BytesIO(), stdout=io.StringIO(), stderr=stderr)
        assert code == 0
        assert ("100%" in stderr.getvalue()) is shown
    small = tmp_path / "small.bin"
    small.write_bytes(b"x" * 10)
    stderr = Terminal()
    argv[-1] = f"@{small}"
    assert main(argv, stdin=io.BytesIO(), stdout=io.StringIO(), stderr=stderr) == 0
    assert "%" not in stderr.getvalue()


def test_verbose_shows_what_was_signed_with_the_token_redacted(base_url: str) -> None:
    r = run_cli(
        "request",
        "GET",
        f"{base_url}/",
        "--access-key-id",
        TEMP_AKID,
        "--secret-access-key",
        SECRET,
        "--session-token",
        TOKEN,
        *SCOPE,
        "-v",
    )
    assert r.code == 0, r.err
    assert "== Canonical request ==\nGET\n/\n" in r.err
    assert "== String to sign ==\nAWS4-HMAC-SHA256\n" in r.err
    assert "x-amz-security-token:** REDACTED **" in r.err
    assert TOKEN not in r.err + r.out
    assert json.loads(r.out)["principal"] == "bob"


def test_sigv4a(base_url: str) -> None:
    r = run_cli(
        "request",
        "GET",
        f"{base_url}/",
        *KEYS,
        "--sigv4a",
        "--region",
        "*",
        "--service",
        "execute-api",
    )
    assert r.code == 0, r.err


def test_profile(base_url: str, tmp_path: Path) -> None:
    (tmp_path / "credentials").write_text(
        f"[dev]\naws_access_key_id = {AKID}\naws_secret_access_key = {SECRET}\n"
    )
    r = run_cli("request", "GET", f"{base_url}/", "--profile", "dev", *SCOPE)
    assert r.code == 0, r.err
    missing = run_cli("request", "GET", f"{base_url}/", "--profile", "nope", *SCOPE)
    assert missing.code == 2
    assert "no credentials" in missing.err


def test_aws_error_prints_the_error_and_the_analysis(base_url: str) -> None:
    # S3 rules (single encoding) for a service that encodes twice: a real mismatch.
    r = run_cli("request", "GET", f"{base_url}/a%20b", *KEYS, *SCOPE, "--s3")
    assert r.code == 4
    assert "HTTP 403: SignatureDoesNotMatch" in r.err
    assert "line 2 (canonical URI)" in r.err
    assert "percent-encoded the path twice" in r.err
    j = run_cli("request", "GET", f"{base_url}/a%20b", *KEYS, *SCOPE, "--s3", "--json")
    assert j.code == 4
    doc = json.loads(j.out)
    assert doc["status"] == 403
    assert doc["error"]["code"] == "SignatureDoesNotMatch"
    assert doc["explain"]["causes"][0]["cause"] == "path-encoding"


def test_retries() -> None:
    calls = {"n": 0}

    async def flaky(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            calls["n"] += 1
            if calls["n"] <= 2:
                body = b"<Error><Code>ServiceUnavailable</Code><Message>busy</Message></Error>"
                await send({"type": "http.response.start", "status": 503, "headers": []})
                await send({"type": "http.response.body", "body": body})
                return
        await echo(scope, receive, send)

    with run_uvicorn(SigV4Middleware(flaky, store=key_store())) as url:
        once = run_cli("request", "GET", f"{url}/", *KEYS, *SCOPE, "--retries", "0")
        assert once.code == 4
        assert "ServiceUnavailable" in once.err
        again = run_cli("request", "GET", f"{url}/", *KEYS, *SCOPE, "--retries", "2")
        assert again.code == 0, again.err
        assert calls["n"] == 3


def test_a_streamed_file_is_not_resent(tmp_path: Path) -> None:
    async def busy(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        while (await receive()).get("more_body"):
            pass
        body = b"<Error><Code>SlowDown</Code><Message>busy</Message></Error>"
        await send({"type": "http.response.start", "status": 503, "headers": []})
        await send({"type": "http.response.body", "body": body})

    path = tmp_path / "f.bin"
    path.write_bytes(b"data" * 1000)
    with run_uvicorn(SigV4Middleware(busy, store=key_store())) as url:
        r = run_cli(
            "request",
            "PUT",
            f"{url}/f",
            *KEYS,
            *SCOPE,
            "--data-binary",
            f"@{path}",
            "--retries",
            "1",
        )
    assert r.code == 1
    assert "error:" in r.err
    assert "Traceback" not in r.err


@respx.mock
def test_aws_host_inferred_and_json_error_explained() -> None:
    # STS answers in JSON-in-prose when the scope names another region.
    message = (
        "Credential should be scoped to a valid region. \n\nThe String-to-Sign should have "
        "been\n'AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/eu-west-1/sts/aws4_request\n"
        + "0" * 64
        + "'\n"
    )
    route = respx.get(url__startswith="https://sts.us-east-1.amazonaws.com/").mock(
        return_value=httpx.Response(
            403, json={"__type": "SignatureDoesNotMatch", "message": message}
        )
    )
    r = run_cli(
        "request",
        "GET",
        "https://sts.us-east-1.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15",
        *KEYS,
        "--retries",
        "0",
    )
    assert route.called
    sent = route.calls.last.request
    assert "/us-east-1/sts/aws4_request" in sent.headers["authorization"]
    assert r.code == 4
    assert "region" in r.err


def test_usage_errors(base_url: str) -> None:
    no_region = run_cli("request", "GET", f"{base_url}/", *KEYS)
    assert no_region.code == 2
    assert "pass --region and --service" in no_region.err
    assert run_cli("request", "GET", "ftp://x/", *KEYS, *SCOPE).code == 2
    assert run_cli("request", "GET", f"{base_url}/", *KEYS, *SCOPE, "-H", "bad").code == 2
    assert (
        run_cli(
            "request", "GET", f"{base_url}/", *KEYS, *SCOPE, "--data-binary", "@/nonexistent"
        ).code
        == 3
    )
    assert run_cli("request", "GET", f"{base_url}/", "--access-key-id", AKID, *SCOPE).code == 2
    down = run_cli("request", "GET", "http://127.0.0.1:9/", *KEYS, *SCOPE, "--retries", "0")
    assert down.code == 1
    assert "ConnectError" in down.err


def test_as_a_subprocess(base_url: str, tmp_path: Path) -> None:
    env = {
        "AWS_ACCESS_KEY_ID": AKID,
        "AWS_SECRET_ACCESS_KEY": SECRET,
        "AWS_CONFIG_FILE": str(tmp_path / "c"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "c"),
    }
    r = run_program("request", "GET", f"{base_url}/sub", *SCOPE, env=env)
    assert r.code == 0, r.err
    assert json.loads(r.out)["path"] == "/sub"
    bad = run_program("request", "GET", f"{base_url}/a%20b", *SCOPE, "--s3", env=env)
    assert bad.code == 4
    assert "Likely cause:" in bad.err


def test_help() -> None:
    r = run_cli("request", "--help")
    assert "examples:" in r.out
    assert "exit codes:" in r.out
    top = run_cli("--help")
    for command in ("sign", "verify", "explain", "request", "presign", "keys"):
        assert command in top.out


def test_secret_on_the_command_line_with_the_key_id_from_the_environment(
    base_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", AKID)
    r = run_cli("request", "GET", f"{base_url}/items", "--secret-access-key", SECRET, *SCOPE)
    assert r.code == 0, r.err
    assert json.loads(r.out)["principal"] == "alice"
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    r = run_cli("request", "GET", f"{base_url}/items", "--access-key-id", AKID, *SCOPE)
    assert r.code == 0, r.err
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    alone = run_cli("request", "GET", f"{base_url}/items", "--access-key-id", AKID, *SCOPE)
    assert alone.code == ExitCode.USAGE
    assert "AWS_SECRET_ACCESS_KEY" in alone.err
