"""A pytest plugin: no audit event built by the whole test session contains a secret.

Loaded by ``tests/conftest.py`` for every run. At start it wraps, for the
whole session:

* :class:`~sigv4kit.middleware.audit.AuditEvent`'s constructor: every event
  any test builds (in the test process, uvicorn threads included) is kept;
* every place a secret is made or seen, to learn the session's secrets:
  - constructors of ``sigv4kit.Credentials`` (secret key, session token),
    ``sigv4kit.KeyRecord`` (the secret the verifier uses), the store's
    ``NewAccessKey`` and ``SessionCredentials`` and IAM's ``AccessKey``
    (what IAM/STS hand out),
    botocore's ``Credentials`` (what boto3 and the AWS CLI sign with) and the
    MFA ``NewVirtualMFADevice`` (the seed);
  - botocore's ``SigV4Auth.signature`` (every signature boto3 computes) and
    ``SigV4Middleware.__call__`` (every request a served app receives: the
    ``Signature=`` of its Authorization header, ``X-Amz-Signature`` and the
    session token in headers or query);
  - the MFA TOTP functions (each seed used, each code checked or generated)
    and the web-identity validation (each JWT seen), and the test OIDC
    issuer's ``token`` (each JWT minted);

and at the end of the session scans each event's JSON for every one of those
values (as a substring, for values of 8 characters or more with at least 4
distinct ones, so a placeholder like ``"x" * 40`` does not match padding;
six-digit MFA codes as an exact JSON string value)
and for sensitive fields left unredacted (:func:`find_secrets`). A leak fails
the run (exit status 1) with the test that built the event, the event name,
the JSON path and the kind of secret: never the secret itself. Audit
segments written under the session's temporary directory (by child
processes too) are scanned the same way.

``tests/test_audit_leak_scan.py`` runs pytest on a leaking test to show the
scan fails it.
"""

from __future__ import annotations

import base64
import functools
import json
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

#: Secrets learnt this session: value -> kind ("secret access key", ...).
SECRETS: dict[str, str] = {}
#: (nodeid of the test that built it, event) for every event built.
EVENTS: list[tuple[str, Any]] = []
_current = ["(collection)"]
_MIN_SUBSTRING = 8
_MIN_DISTINCT = 4
_TOKEN = re.compile(r"[A-Za-z0-9+/=_.\-]{8,}")
_SIGNATURE = re.compile(r"Signature=([0-9a-fA-F]{64,})")


def note(value: object, kind: str) -> None:
    """Remember ``value`` as a secret of ``kind`` (strings and bytes; short ones too)."""
    if isinstance(value, bytes | bytearray) and value:
        note(base64.b32encode(bytes(value)).decode("ascii").rstrip("="), kind)
        note(bytes(value).hex(), kind)
        return
    if isinstance(value, str) and value and not value.isspace():
        SECRETS.setdefault(value, kind)


def _wrap_init(cls: type, kind_of: dict[str, str]) -> None:
    original = cls.__init__

    @functools.wraps(original)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        for name, kind in kind_of.items():
            note(getattr(self, name, None), kind)

    cls.__init__ = __init__  # type: ignore[misc]


def _wrap_result(owner: Any, name: str, kind: str) -> None:
    original = getattr(owner, name)

    @functools.wraps(original)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        note(result, kind)
        return result

    setattr(owner, name, wrapper)


def _wrap_argument(owner: Any, name: str, index: int, kind: str) -> None:
    original = getattr(owner, name)

    @functools.wraps(original)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if len(args) > index:
            note(args[index], kind)
        return original(*args, **kwargs)

    setattr(owner, name, wrapper)


def _note_request(scope: Any) -> None:
    """Signatures and session tokens of a request a served app receives."""
    if not isinstance(scope, dict) or scope.get("type") not in ("http", "websocket"):
        return
    for key, value in scope.get("headers", ()):
        if key == b"authorization":
            for found in _SIGNATURE.findall(value.decode("latin-1")):
                note(found, "request signature")
        elif key == b"x-amz-security-token":
            note(value.decode("latin-1"), "session token")
    from urllib.parse import parse_qsl

    query = bytes(scope.get("query_string", b"")).decode("latin-1")
    for name, value in parse_qsl(query):
        if name == "X-Amz-Signature":
            note(value, "request signature")
        elif name == "X-Amz-Security-Token":
            note(value, "session token")


def install() -> None:
    """Wrap the constructors and functions listed in the module docstring."""
    import botocore.auth
    import botocore.credentials
    from sigv4kit.middleware import SigV4Middleware
    from sigv4kit.middleware.audit import AuditEvent
    from sigv4kit.middleware.iam.entities import _model as iam_model
    from sigv4kit.middleware.iam.mfa import _model as mfa_model
    from sigv4kit.middleware.iam.mfa import _totp
    from sigv4kit.middleware.iam.oidc import _validate
    from sigv4kit.middleware.store import entities

    import sigv4kit

    original_event_init = AuditEvent.__init__

    @functools.wraps(original_event_init)
    def event_init(self: Any, *args: Any, **kwargs: Any) -> None:
        original_event_init(self, *args, **kwargs)
        EVENTS.append((_current[0], self))

    AuditEvent.__init__ = event_init  # type: ignore[method-assign]

    secret_key = {"secret_access_key": "secret access key", "session_token": "session token"}
    _wrap_init(sigv4kit.Credentials, secret_key)
    _wrap_init(sigv4kit.KeyRecord, secret_key)
    _wrap_init(entities.NewAccessKey, secret_key)
    _wrap_init(entities.SessionCredentials, secret_key)
    _wrap_init(iam_model.AccessKey, secret_key)
    _wrap_init(botocore.credentials.Credentials,
               {"secret_key": "secret access key", "token": "session token"})
    _wrap_init(mfa_model.NewVirtualMFADevice,
               {"base32_string_seed": "MFA seed", "provisioning_uri": "MFA seed"})
    _wrap_result(botocore.auth.SigV4Auth, "signature", "request signature")
    _wrap_argument(_totp, "_totp", 0, "MFA seed")
    _wrap_argument(_totp, "_matches", 1, "MFA code")
    _wrap_result(_totp, "code_at", "MFA code")
    from sigv4kit.middleware.iam import mfa

    mfa.code_at = _totp.code_at  # the package's re-export is the same (wrapped) function
    _wrap_argument(_validate, "_header_and_issuer", 0, "web identity token (JWT)")
    try:
        import _oidc_issuer
    except ImportError:  # pragma: no cover - run outside the tests directory
        pass
    else:
        _wrap_result(_oidc_issuer.Issuer, "token", "web identity token (JWT)")

    original_call = SigV4Middleware.__call__

    @functools.wraps(original_call)
    async def middleware_call(self: Any, scope: Any, receive: Any, send: Any) -> None:
        _note_request(scope)
        await original_call(self, scope, receive, send)

    SigV4Middleware.__call__ = middleware_call  # type: ignore[method-assign]


def _scanner(secrets: dict[str, str]) -> Callable[[str], list[str]]:
    """A function: a JSON line -> the kinds of the secrets in it."""
    # Placeholders such as "x" * 40 (a deliberately wrong secret) are not secrets and
    # would match any padding: a value needs a few distinct characters to count.
    long = {s: k for s, k in secrets.items()
            if len(s) >= _MIN_SUBSTRING and len(set(s)) >= _MIN_DISTINCT}
    by_prefix: dict[str, list[str]] = {}
    for value in long:
        by_prefix.setdefault(value[:_MIN_SUBSTRING], []).append(value)
    codes = {s: k for s, k in secrets.items() if len(s) < _MIN_SUBSTRING and s.isdigit()}

    def scan(line: str) -> list[str]:
        found: list[str] = []
        for token in _TOKEN.findall(line):
            if token in long:
                found.append(long[token])
                continue
            for i in range(len(token) - _MIN_SUBSTRING + 1):
                for value in by_prefix.get(token[i : i + _MIN_SUBSTRING], ()):
                    if token.startswith(value, i):
                        found.append(long[value])
        found.extend(kind for code, kind in codes.items() if f'"{code}"' in line)
        return found

    return scan


def leaks(records: Iterable[tuple[str, dict[str, Any]]], secrets: dict[str, str]) -> list[str]:
    """One line per leak in ``records`` (``(where, record)``): never the secret itself."""
    from sigv4kit.middleware.audit import find_secrets

    scan = _scanner(secrets)
    out: list[str] = []
    for where, record in records:
        name = record.get("eventName", "?")
        line = json.dumps(record, ensure_ascii=False)
        out.extend(f"{where}: {name}: {kind}" for kind in sorted(set(scan(line))))
        out.extend(f"{where}: {name}: unredacted field {path}" for path in find_secrets(record))
    return out


def _segment_records(root: Path) -> Iterable[tuple[str, dict[str, Any]]]:
    for path in sorted(root.rglob("audit-*.jsonl")):
        for number, line in enumerate(path.read_text("utf-8", "replace").splitlines(), 1):
            try:
                record = json.loads(line)
            except ValueError:
                continue  # a torn line (the crash test): verify reports it, not this scan
            if isinstance(record, dict):
                yield f"{path.relative_to(root)}:{number}", record


# -- the pytest hooks -------------------------------------------------------------------


def pytest_configure(config: pytest.Config) -> None:
    install()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Any:
    _current[0] = item.nodeid
    yield
    _current[0] = "(between tests)"


_FOUND: list[list[str]] = []


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    records: list[tuple[str, dict[str, Any]]] = [
        (where, event.to_json()) for where, event in EVENTS
    ]
    factory = getattr(session.config, "_tmp_path_factory", None)
    if factory is not None:
        records.extend(_segment_records(Path(factory.getbasetemp())))
    found = leaks(records, SECRETS)
    _FOUND.append([f"{len(records)} events against {len(SECRETS)} secrets", *found])
    if found:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _FOUND:
        return
    counts, *found = _FOUND[-1]
    terminalreporter.write_line(f"audit leak scan: {counts}: {len(found)} leaks")
    for line in found[:50]:
        terminalreporter.write_line(f"  LEAK {line}", red=True)
