"""``sigv4kit sign`` on the official suites, in-process and as a subprocess."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from vectors_loader import CrtCase, crt_cases

from sigv4kit.cli._main import ExitCode, main
from sigv4kit.signing import verify_sigv4a

CRT = list(crt_cases())


def case_args(case: CrtCase) -> list[str]:
    ctx = case.context
    creds = ctx["credentials"]
    args = [
        "sign",
        "-",
        "--json",
        "--access-key-id",
        creds["access_key_id"],
        "--secret-access-key",
        creds["secret_access_key"],
        "--region",
        ctx["region"],
        "--service",
        ctx["service"],
        "--time",
        ctx["timestamp"],
    ]
    if creds.get("token"):
        args += ["--session-token", creds["token"]]
    if not ctx["normalize"]:
        args.append("--no-normalize-path")
    if ctx["sign_body"]:
        args.append("--sign-body")
    if ctx.get("omit_session_token"):
        args.append("--omit-session-token")
    if case.version == "v4a":
        args.append("--sigv4a")
    if case.location == "query":
        args += ["--presign", "--expires", str(ctx["expiration_in_seconds"])]
    return args


def run_cli(args: list[str], stdin: bytes = b"") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(args, stdin=io.BytesIO(stdin), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def check_output(case: CrtCase, doc: dict[str, Any]) -> None:
    assert doc["canonical_request"] == case.read("canonical-request.txt")
    assert doc["string_to_sign"] == case.read("string-to-sign.txt")
    if case.version == "v4":
        assert doc["signature"] == case.read("signature.txt").strip()
    else:
        x, y = case.public_key_xy()
        key = ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()
        assert verify_sigv4a(key, doc["string_to_sign"], doc["signature"])
    if case.location == "header":
        assert doc["authorization"].endswith(f"Signature={doc['signature']}")
        assert ["Authorization", doc["authorization"]] in doc["headers"]
    else:
        assert doc["authorization"] is None
        assert doc["url"].endswith(f"X-Amz-Signature={doc['signature']}")


@pytest.mark.parametrize("case", CRT, ids=lambda c: c.id)
def test_suite_in_process(case: CrtCase) -> None:
    code, out, err = run_cli(case_args(case), case.request_bytes())
    assert (code, err) == (ExitCode.OK, "")
    check_output(case, json.loads(out))


@pytest.mark.parametrize(
    "case",
    [c for c in CRT if c.name in {"get-utf8", "post-sts-header-after", "get-vanilla-query"}],
    ids=lambda c: c.id,
)
def test_suite_as_subprocess(case: CrtCase) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "sigv4kit", *case_args(case)],
        input=case.request_bytes(),
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    check_output(case, json.loads(proc.stdout))


def test_human_output_shows_every_step() -> None:
    case = next(c for c in CRT if c.id == "v4-get-vanilla-header")
    args = [a for a in case_args(case) if a != "--json"]
    code, out, _ = run_cli(args, case.request_bytes())
    assert code == ExitCode.OK
    for title in ("Canonical request", "String to sign", "Signature", "Signed request"):
        assert f"== {title} ==" in out
    assert case.read("canonical-request.txt") in out
    assert case.read("signature.txt").strip() in out


def test_credentials_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    case = next(c for c in CRT if c.id == "v4-get-vanilla-with-session-token-header")
    creds = case.context["credentials"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", creds["access_key_id"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", creds["secret_access_key"])
    monkeypatch.setenv("AWS_SESSION_TOKEN", creds["token"])
    args = [
        "sign",
        "--json",
        "--region",
        "us-east-1",
        "--service",
        "service",
        "--time",
        "2015-08-30T12:36:00Z",
    ]
    code, out, _ = run_cli(args, case.request_bytes())
    assert code == ExitCode.OK
    assert json.loads(out)["signature"] == case.read("signature.txt").strip()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--time", "2015-08-30T12:36:00"], "has no time zone"),
        (["--time", "yesterday"], "is not ISO 8601"),
        (["--presign", "--expires", "604801"], "between 1 and 604800"),
        (["--presign", "--expires", "0"], "between 1 and 604800"),
    ],
)
def test_bad_options_are_precise(extra: list[str], message: str) -> None:
    args = [
        "sign",
        "--access-key-id",
        "AKID",
        "--secret-access-key",
        "s",
        "--region",
        "us-east-1",
        "--service",
        "svc",
        *extra,
    ]
    code, out, err = run_cli(args, b"GET / HTTP/1.1\nHost:h\n\n")
    assert code in (ExitCode.USAGE, ExitCode.ERROR)
    assert message in err
    assert out == ""
    assert "Traceback" not in err


def test_missing_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    code, _, err = run_cli(["sign", "--region", "r", "--service", "s"], b"GET / HTTP/1.1\n\n")
    assert code == ExitCode.USAGE
    assert "no credentials" in err


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "empty request"),
        (b"GET\nHost:h\n\n", "bad request line"),
        (b"GET / HTTP/1.1\nno colon here\n\n", "bad header line"),
        (b"GET / HTTP/1.1\n  folded first\n\n", "continuation line"),
        (b"GET / HTTP/1.1\n\n", "no Host header"),
    ],
)
def test_bad_requests_are_precise(raw: bytes, message: str) -> None:
    args = [
        "sign",
        "--access-key-id",
        "AKID",
        "--secret-access-key",
        "s",
        "--region",
        "us-east-1",
        "--service",
        "svc",
    ]
    code, _, err = run_cli(args, raw)
    assert code in (ExitCode.BAD_INPUT, ExitCode.ERROR)
    assert message in err


def test_unreadable_file() -> None:
    code, _, err = run_cli(["sign", "/nonexistent/request.txt", "--service", "s"])
    assert code == ExitCode.BAD_INPUT
    assert "cannot read /nonexistent/request.txt" in err


def test_help_lists_examples_and_exit_codes() -> None:
    code, out, _ = run_cli(["sign", "--help"])
    assert code == 0
    assert "examples:" in out
    assert "exit codes:" in out
    assert "3  bad input" in out


def test_unknown_command_is_usage_error() -> None:
    code, _, err = run_cli(["frobnicate"])
    assert code == ExitCode.USAGE
    assert "invalid choice" in err


def test_console_script_is_installed() -> None:
    bindir = os.path.dirname(sys.executable)
    proc = subprocess.run(
        [os.path.join(bindir, "sigv4kit"), "--help"], capture_output=True, timeout=60, check=False
    )
    assert proc.returncode == 0
    assert b"sign" in proc.stdout
