"""The ``sigv4kit`` command as a whole: --version, and one exit code per kind of error."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from _cli_util import REPO, run_cli, run_program

from sigv4kit.cli._main import ExitCode

GET = b"GET / HTTP/1.1\nHost: example.amazonaws.com\n\n"
SIGN = (
    "sign",
    "--access-key-id",
    "AKIDEXAMPLE",
    "--secret-access-key",
    "secret",
    "--time",
    "2015-08-30T12:36:00Z",
)


def test_version() -> None:
    version = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    assert run_cli("--version").out == f"sigv4kit {version}\n"
    proc = run_program("--version")
    assert (proc.code, proc.out) == (0, f"sigv4kit {version}\n")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        # argparse's own checks ...
        (["sign", "--region", "r"], "required: --service"),
        (["keys", "create-session", "--principal", "a", "--duration", "ten"], "--duration"),
        # ... and the value checks that used to exit 1: the same kind of error, exit 2.
        (["keys", "create", "--principal", "a b"], "invalid principal name 'a b'"),
        (["keys", "create-session", "--principal", "a", "--duration", "60"], "900 to 129600"),
        (["keys", "show", "AKIA-not-a-key-id"], "invalid access key id"),
        (["keys", "delete", "nope"], "invalid access key id"),
        (["keys", "list", "--store", "mysql://db/keys"], "scheme 'mysql'"),
        ([*SIGN, "--region", "us-east-1", "--service", "a/b"], "argument --service"),
        ([*SIGN, "--region", "us east", "--service", "s"], "argument --region"),
        (["request", "GET", "http://h/", "--service", "a b"], "argument --service"),
        (["explain", "-", "--region", "eu/west"], "argument --region"),
    ],
)
def test_every_usage_error_exits_2(
    argv: list[str], message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SIGV4KIT_STORE", raising=False)
    r = run_cli(*argv, stdin=GET)
    assert (r.code, r.out) == (ExitCode.USAGE, ""), r.err
    assert message in r.err
    assert list(tmp_path.iterdir()) == []  # refused before any store was opened


def test_sign_prints_no_blank_line_after_the_signed_request() -> None:
    r = run_cli(*SIGN, "--region", "us-east-1", "--service", "service", stdin=GET)
    assert r.code == 0, r.err
    last = r.out.split("== Signed request ==\n")[1]
    assert last.startswith("GET / HTTP/1.1\n")
    assert last.endswith("\n")
    assert not last.endswith("\n\n")
    assert last.splitlines()[-1].startswith("Authorization:AWS4-HMAC-SHA256 Credential=")
    # With a body, the body ends the output, after the blank line ending the headers.
    with_body = run_cli(
        *SIGN, "--region", "us-east-1", "--service", "service", stdin=GET + b"hello"
    )
    assert with_body.out.endswith("\n\nhello\n")


def test_help_documents_each_exit_code() -> None:
    out = run_cli("--help").out
    for code in ExitCode:
        assert f"  {code.value}  {code.name.lower().replace('_', ' ')}: " in out
    assert "2  usage: a wrong option or option value" in out
