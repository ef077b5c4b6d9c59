"""The suite-wide secret scan (tests/_audit_leaks.py) fails a session whose events leak.

Each case runs pytest in a child process on a one-test project that loads the
plugin; the test itself passes, so the exit status is the scan's verdict.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent

HEADER = '''
import uuid
from datetime import UTC, datetime

import sigv4kit
from sigv4kit.middleware.audit import IdentityType, RequestInfo, UserIdentity, api_call_event

REQUEST = RequestInfo(when=datetime.now(UTC), event_id=str(uuid.uuid4()), request_id="r",
                      source_ip="127.0.0.1", user_agent="t", region="us-east-1")


def build(parameters):
    return api_call_event(identity=UserIdentity(type=IdentityType.UNKNOWN), service="iam",
                          operation="CreateUser", read_only=False,
                          request_parameters=parameters, response_elements=None,
                          request=REQUEST)
'''

LEAKS = {
    # A secret key the session made, in a field no redaction knows.
    "secret_key": ['sigv4kit.Credentials("AKIDLEAK", "leaky/Secret+Value0123456789")',
                   'build({"note": "key leaky/Secret+Value0123456789 here"})'],
    # A sensitive field holding a value the session never saw is still a leak.
    "unredacted_field": ["event = build({})",
                         'dataclasses.replace(event, request_parameters={"Password": "x"})'],
    # A six-digit MFA code the session generated, as an exact value.
    "mfa_code": ['code = _totp.code_at(b"0123456789abcdef0123", 1)',
                 'build({"serialNumber": code})'],
}
#: The same secret key under a sensitive name is redacted: no leak.
CLEAN = {"redacted": ['sigv4kit.Credentials("AKIDLEAK", "leaky/Secret+Value0123456789")',
                      'build({"SecretAccessKey": "leaky/Secret+Value0123456789"})']}


def run_session(tmp_path: Path, tests: dict[str, list[str]]) -> subprocess.CompletedProcess[str]:
    (tmp_path / "conftest.py").write_text('pytest_plugins = ["_audit_leaks"]\n')
    bodies = [
        f"def test_{name}():\n" + "".join(f"    {line}\n" for line in lines)
        for name, lines in tests.items()
    ]
    imports = "import dataclasses\nfrom sigv4kit.middleware.iam.mfa import _totp\n"
    (tmp_path / "test_case.py").write_text(HEADER + imports + "\n\n" + "\n\n".join(bodies))
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-c",
         os.devnull, "--rootdir", str(tmp_path), str(tmp_path)],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get(
            "PYTHONPATH", "")])},
    )
    assert f"{len(tests)} passed" in result.stdout, result.stdout + result.stderr
    assert "audit leak scan:" in result.stdout
    assert "leaky/Secret+Value0123456789" not in result.stdout
    return result


def test_the_scan_fails_a_session_whose_events_leak(tmp_path: Path) -> None:
    result = run_session(tmp_path, LEAKS)
    assert result.returncode == 1, result.stdout
    leaks = [line.strip() for line in result.stdout.splitlines() if "LEAK " in line]
    assert len(leaks) == 3, result.stdout
    assert any("test_secret_key: CreateUser: secret access key" in line for line in leaks)
    assert any("test_unredacted_field: CreateUser: unredacted field $.requestParameters.Password"
               in line for line in leaks)
    assert any("test_mfa_code: CreateUser: MFA code" in line for line in leaks)


def test_a_clean_session_passes(tmp_path: Path) -> None:
    result = run_session(tmp_path, CLEAN)
    assert result.returncode == 0, result.stdout
    assert "0 leaks" in result.stdout
