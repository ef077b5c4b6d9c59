"""``sigv4kit policy validate``: in-process with injected streams, and as a real subprocess.

Expected messages are IAM's (see tests/test_policy_parse.py for their sources);
lint codes and texts are Access Analyzer's (tests/test_policy_lint.py).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from _cli_util import run_cli, run_program

IDENTITY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "Read", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}
        ],
    }
)
BUCKET = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "Everyone",
                "Effect": "Allow",
                "NotPrincipal": {"AWS": "111122223333"},
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::bucket/*",
            }
        ],
    }
)


def test_valid_policy_prints_ok(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text(IDENTITY)
    result = run_cli("policy", "validate", str(path))
    assert (result.code, result.out, result.err) == (0, "OK\n", "")


def test_malformed_policy_prints_iam_message_and_exits_1() -> None:
    result = run_cli("policy", "validate", "-", stdin=BUCKET.encode())
    assert result.code == 1
    assert (
        result.out == "MalformedPolicyDocument: Policy document should not specify a principal.\n"
    )


def test_type_option_selects_the_rules() -> None:
    result = run_cli("policy", "validate", "--type", "resource", "-", stdin=BUCKET.encode())
    assert (result.code, result.out) == (0, "OK\n")


def test_lint_adds_findings_and_still_exits_0() -> None:
    result = run_cli(
        "policy", "validate", "--type", "resource", "--lint", "-", stdin=BUCKET.encode()
    )
    assert result.code == 0
    lines = result.out.splitlines()
    assert lines[0] == "OK"
    assert lines[1].startswith(
        "SECURITY_WARNING ALLOW_WITH_NOT_PRINCIPAL: statement 0 (Sid Everyone) at line 1, column "
    )
    assert lines[1].endswith(
        "Using Allow with NotPrincipal can be overly permissive. "
        "We recommend that you use Principal instead."
    )
    assert len(lines) == 2


def test_json_output_valid_with_findings() -> None:
    argv = ("policy", "validate", "--type", "resource", "--lint", "--json", "-")
    result = run_cli(*argv, stdin=BUCKET.encode())
    assert result.code == 0
    body = json.loads(result.out)
    # "{" of the statement: counted by hand in the json.dumps text, 1-based, plus one.
    column = BUCKET.index('[{"Sid') + 3
    assert body == {
        "policyType": "resource",
        "valid": True,
        "statements": 1,
        "findings": [
            {
                "findingType": "SECURITY_WARNING",
                "issueCode": "ALLOW_WITH_NOT_PRINCIPAL",
                "findingDetails": "Using Allow with NotPrincipal can be overly permissive. "
                "We recommend that you use Principal instead.",
                "statementIndex": 0,
                "sid": "Everyone",
                "position": {"line": 1, "column": column},
            }
        ],
    }


def test_json_output_invalid() -> None:
    text = IDENTITY.replace("2012-10-17", "2008-10-17")
    result = run_cli("policy", "validate", "--json", "-", stdin=text.encode())
    assert result.code == 1
    assert json.loads(result.out) == {
        "policyType": "identity",
        "valid": False,
        "error": {
            "code": "MalformedPolicyDocument",
            "message": "Policy document must be version 2012-10-17 or greater.",
        },
    }


def test_size_quota_reports_its_own_code() -> None:
    text = IDENTITY.replace('"Read"', '"' + "R" * 3000 + '"')
    result = run_cli("policy", "validate", "--type", "trust", "-", stdin=text.encode())
    assert (result.code, result.out) == (
        1,
        "LimitExceeded: Cannot exceed quota for ACLSizePerRole: 2048\n",
    )


@pytest.mark.parametrize("stdin", [b"\xff\xfe", b"", b"[" * 50_000])
def test_hostile_stdin_is_a_clean_error(stdin: bytes) -> None:
    result = run_cli("policy", "validate", "--type", "resource", "-", stdin=stdin)
    assert (result.code, result.out, result.err) == (
        1,
        "MalformedPolicyDocument: Syntax errors in policy.\n",
        "",
    )


def test_missing_file_is_bad_input(tmp_path: Path) -> None:
    result = run_cli("policy", "validate", str(tmp_path / "missing.json"))
    assert result.code == 3
    assert "cannot read" in result.err
    assert result.out == ""


def test_unknown_type_is_a_usage_error() -> None:
    result = run_cli("policy", "validate", "--type", "user", "-")
    assert result.code == 2
    assert "invalid choice: 'user'" in result.err


def test_subprocess(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text(IDENTITY)
    assert run_program("policy", "validate", str(path)).out == "OK\n"
    bad = run_program("policy", "validate", "--lint", "-", stdin=BUCKET.encode())
    assert (bad.code, bad.out) == (
        1,
        "MalformedPolicyDocument: Policy document should not specify a principal.\n",
    )


def test_policy_is_listed_without_loading_the_server_half() -> None:
    code = (
        "import sys, contextlib, io, sigv4kit.cli._main as c\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        "    c.main(['--help'])\n"
        "print('policy' in out.getvalue(), "
        "any(m.startswith('sigv4kit.middleware') for m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.split() == ["True", "False"]


def test_missing_server_half_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from importlib.metadata import EntryPoint

    import sigv4kit.cli._hook as hook

    missing = EntryPoint(name="policy", value="no.such.module:COMMAND", group=hook.COMMANDS_GROUP)
    monkeypatch.setattr(hook, "command_entry_points", lambda: [missing])
    result = run_cli("policy", "validate", "-", stdin=IDENTITY.encode())
    assert result.code == 1
    assert result.err == "error: 'policy' needs the server half (sigv4kit.middleware)\n"


def test_document_level_finding_line() -> None:
    text = BUCKET.replace('"Version": "2012-10-17", ', "").replace("NotPrincipal", "Principal")
    result = run_cli("policy", "validate", "--type", "resource", "--lint", "-", stdin=text.encode())
    assert result.out == (
        "OK\nWARNING MISSING_VERSION: document: We recommend that you specify the Version "
        "element to help you with debugging permission issues.\n"
    )
    body = json.loads(
        run_cli(
            "policy", "validate", "--type", "resource", "--lint", "--json", "-", stdin=text.encode()
        ).out
    )
    assert body["findings"][0]["position"] is None
    assert body["findings"][0]["statementIndex"] is None
