"""Every snippet of README.md runs.

Python blocks run in a fresh namespace each:
* client snippets against real AWS host names, which respx routes to the echo
  service behind the real middleware on 127.0.0.1 (the signed Host header is
  kept, so the middleware verifies exactly what the snippet signed);
* service snippets (they define ``app``) under a real uvicorn, called with a
  key created by ``sigv4kit keys create`` in the snippet's store;
* the boto3 snippet against the echo service on a free port (the README's
  ``127.0.0.1:8000`` is replaced by it).
Shell lines starting with ``sigv4kit`` run as real programs (``aws`` too when
the AWS CLI is installed); ``make`` and ``uvicorn`` lines are what this test
itself does.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from _cli_util import REPO, key_store, run_cli
from _servers import run_uvicorn
from sigv4kit.middleware import SigV4Middleware

from examples.echo_service import create_app
from sigv4kit import Credentials, RawRequest, SigningSettings, SigV4Auth, sign

README = (REPO / "README.md").read_text()


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, re.DOTALL)


PYTHON = blocks("python")
SHELL = blocks("sh")


def kind(snippet: str) -> str:
    if "SigV4Middleware" in snippet:
        return "service"
    if "boto3" in snippet:
        return "boto3"
    return "client"


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("readme")
    old = Path.cwd()
    saved = {k: os.environ.pop(k) for k in list(os.environ) if k.startswith("SIGV4KIT_")}
    os.chdir(path)
    try:
        yield path
    finally:
        os.chdir(old)
        os.environ.update(saved)


@pytest.fixture(scope="module")
def alice(workdir: Path) -> dict[str, str]:
    created = run_cli(
        "keys", "create", "--principal", "alice", "--store", "sqlite:///keys.db", "--json"
    )
    assert created.code == 0, created.err
    key: dict[str, str] = json.loads(created.out)
    return key


@pytest.fixture(scope="module")
def memory_echo() -> Iterator[str]:
    with run_uvicorn(create_app(key_store())) as url:
        yield url


@pytest.fixture(scope="module")
def sqlite_echo(workdir: Path, alice: dict[str, str]) -> Iterator[str]:
    with run_uvicorn(create_app("sqlite:///keys.db")) as url:
        yield url


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, alice: dict[str, str], workdir: Path) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", alice["access_key_id"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", alice["secret_access_key"])
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(workdir / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(workdir / "no-credentials"))


def forward_to(base: str) -> Any:
    def handler(request: httpx.Request) -> httpx.Response:
        url = httpx.URL(base).copy_with(raw_path=request.url.raw_path)
        with httpx.Client() as client:
            answer = client.request(
                request.method, url, headers=request.headers.raw, content=request.read()
            )
        return httpx.Response(
            answer.status_code, headers=answer.headers.raw, content=answer.content
        )

    return handler


def test_the_setup_commands_are_make_demo_and_make_test() -> None:
    setup = SHELL[0]
    assert [line.split("#")[0].strip() for line in setup.splitlines()] == ["make demo", "make test"]
    assert "on any machine with `python3`" in README


@pytest.mark.parametrize(
    "snippet",
    [s for s in PYTHON if kind(s) == "client"],
    ids=lambda s: s.splitlines()[-1][:40],
)
def test_client_snippet(snippet: str, memory_echo: str) -> None:
    with respx.mock(assert_all_called=False) as mock:
        mock.route(host="127.0.0.1").pass_through()
        route = mock.route(host__regex=r".*\.amazonaws\.com$").mock(
            side_effect=forward_to(memory_echo)
        )
        namespace: dict[str, Any] = {"__name__": "readme"}
        exec(compile(snippet, "README.md", "exec"), namespace)
    assert route.called
    for call in route.calls:
        assert call.response.status_code == 200, call.response.text
    for name in ("response", "download"):
        if name in namespace:
            assert namespace[name].status_code == 200
    if "status" in namespace:
        assert namespace["status"] == 200


def _serve_and_call(app: Any, key: dict[str, str]) -> None:
    auth = SigV4Auth(
        Credentials(key["access_key_id"], key["secret_access_key"]),
        region="us-east-1",
        service="execute-api",
    )
    with run_uvicorn(app) as url:
        signed = httpx.get(f"{url}/whoami", auth=auth)
        assert signed.status_code == 200, signed.text
        assert signed.json() == {"principal": "alice"}
        unsigned = httpx.get(f"{url}/whoami")
        assert unsigned.status_code == 403
        assert "<Code>AccessDenied</Code>" in unsigned.text


@pytest.mark.parametrize(
    "snippet",
    [s for s in PYTHON if kind(s) == "service"],
    ids=lambda s: s.splitlines()[0][:40],
)
def test_service_snippet(snippet: str, workdir: Path, alice: dict[str, str]) -> None:
    namespace: dict[str, Any] = {"__name__": "readme"}
    exec(compile(snippet, "README.md", "exec"), namespace)
    app = namespace["app"]
    try:
        _serve_and_call(app, alice)
    finally:
        if isinstance(app, SigV4Middleware):
            asyncio.run(app.store.aclose())


def test_boto3_snippet(sqlite_echo: str, aws_env: None) -> None:
    (snippet,) = [s for s in PYTHON if kind(s) == "boto3"]
    assert "http://127.0.0.1:8000" in snippet
    namespace: dict[str, Any] = {"__name__": "readme"}
    exec(
        compile(snippet.replace("http://127.0.0.1:8000", sqlite_echo), "README.md", "exec"),
        namespace,
    )
    assert namespace["seen"]["principal"] == "alice"
    assert namespace["seen"]["path"] == "/reports/q1.csv"
    assert httpx.get(namespace["url"]).json()["principal"] == "alice"


def _shell_lines() -> list[str]:
    lines = []
    for block in SHELL[1:]:
        for line in block.splitlines():
            if line.startswith(("sigv4kit ", "aws ", "printf ")):
                lines.append(line)
    return lines


# The README's debugging lines answer with the service's error on purpose.
EXPECTED_CODES = {"sigv4kit request ": 4, "sigv4kit verify ": 4}


@pytest.fixture(scope="module")
def debug_files(workdir: Path, alice: dict[str, str], sqlite_echo: str) -> None:
    # A real mismatch for `explain` and `verify`: the path signed with S3's rules
    # (encoded once) for execute-api, whose rules encode it twice.
    host = sqlite_echo.removeprefix("http://")
    result = sign(
        "GET",
        "/reports/q1%20final.csv",
        [("Host", host)],
        credentials=Credentials(alice["access_key_id"], alice["secret_access_key"]),
        region="us-east-1",
        service="execute-api",
        now=__import__("datetime").datetime.now(__import__("datetime").UTC),
        settings=SigningSettings.s3(),
    )
    request = RawRequest("GET", result.target, result.headers, b"")
    (workdir / "request.txt").write_text(request.to_text())
    with httpx.Client() as client:
        response = client.get(
            f"{sqlite_echo}/reports/q1%20final.csv",
            headers=[(k, v) for k, v in result.headers if k.lower() != "host"],
        )
    assert response.status_code == 403
    (workdir / "error.xml").write_bytes(response.content)


@pytest.mark.parametrize("line", _shell_lines(), ids=lambda line: line[:50])
def test_shell_line(
    line: str, workdir: Path, sqlite_echo: str, aws_env: None, debug_files: None
) -> None:
    if line.startswith("aws ") and shutil.which("aws") is None:
        pytest.skip("the AWS CLI is not installed")
    command = line.replace("http://127.0.0.1:8000", sqlite_echo)
    if " s3 presign " in line:
        # The README's `aws configure` lines come first (idempotent: run them again,
        # so this line also passes when selected alone).
        configure = [x for x in _shell_lines() if x.startswith("aws configure ")]
        command = " && ".join([*configure, command])
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    proc = subprocess.run(
        ["bash", "-c", command],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    expected = next((code for prefix, code in EXPECTED_CODES.items() if line.startswith(prefix)), 0)
    assert proc.returncode == expected, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    if line.startswith("sigv4kit request "):
        (sample,) = blocks("text")
        for expected_line in sample.splitlines():
            text = expected_line.strip()
            if text and text != "..." and not text.startswith("request id:"):
                assert text in proc.stderr, text
        assert "line 2 (canonical URI)" in proc.stderr
        assert "the service percent-encoded the path twice, we once" in proc.stderr
    if line.startswith("sigv4kit explain ") and "--json" not in line:
        assert "Likely cause:" in proc.stdout
        assert "percent-encoded the path twice" in proc.stdout
    if line.startswith("sigv4kit verify "):
        assert "SignatureDoesNotMatch" in proc.stdout
    if " s3 presign " in line:
        # AWS CLI v1 presigns with SigV2 unless configured (the line before).
        url = proc.stdout.strip()
        assert "X-Amz-Algorithm=AWS4-HMAC-SHA256" in url, url
        assert httpx.get(url).json()["principal"] == "alice"


def test_every_snippet_is_covered() -> None:
    kinds = [kind(s) for s in PYTHON]
    assert kinds.count("client") == 4
    assert kinds.count("service") == 3
    assert kinds.count("boto3") == 1


def test_debugging_doc_lists_every_cause() -> None:
    from sigv4kit import Cause

    text = (REPO / "docs" / "debugging.md").read_text()
    for cause in Cause:
        if cause is Cause.UNKNOWN:
            continue
        assert f"`{cause.value}`" in text, cause
