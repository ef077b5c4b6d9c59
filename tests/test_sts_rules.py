"""STS's pure rules, the session context keys, and the unsigned gate, without a server."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sigv4kit.middleware.iam.authz import AccessDenied, session_context_keys
from sigv4kit.middleware.iam.entities import SessionInfo, SessionKind
from sigv4kit.middleware.iam.sts import STSError, UnsignedSTSGate
from sigv4kit.middleware.iam.sts._rules import (
    check_source_identity,
    check_tags,
    packed_percent,
    parse_role_arn,
    role_duration,
    session_token_duration,
)

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_role_duration_defaults_and_limits() -> None:
    assert role_duration(None, max_session=3600, chained=False) == 3600
    assert role_duration(43200, max_session=43200, chained=False) == 43200
    with pytest.raises(STSError) as exc:
        role_duration(7200, max_session=3600, chained=False)
    assert exc.value.code == "ValidationError"
    with pytest.raises(STSError) as exc:
        role_duration(3601, max_session=43200, chained=True)
    assert "1 hour session limit" in exc.value.message
    assert session_token_duration(None, root=False) == 43200
    assert session_token_duration(None, root=True) == 3600
    with pytest.raises(STSError):
        session_token_duration(3601, root=True)


def test_role_arn_parsing() -> None:
    name = parse_role_arn("arn:aws:iam::123456789012:role/team/deploy", caller_arn="c",
                          action="sts:AssumeRole")
    assert (name.account, name.path, name.name) == ("123456789012", "/team/", "deploy")
    with pytest.raises(STSError) as exc:
        parse_role_arn("not-an-arn", caller_arn="c", action="sts:AssumeRole")
    assert exc.value.code == "ValidationError"
    with pytest.raises(AccessDenied):
        parse_role_arn("arn:aws:iam::123456789012:user/bob", caller_arn="c",
                       action="sts:AssumeRole")


def test_tags_transitive_keys_and_inherited_tags() -> None:
    tags = [{"Key": "team", "Value": "a"}, {"Key": "cost", "Value": "b"}]
    assert check_tags(tags, ["team"], {"project": "x"}) == {
        "team": "a", "cost": "b", "project": "x"}
    with pytest.raises(STSError) as exc:
        check_tags(tags, ["nope"], {})
    assert exc.value.code == "ValidationError"
    with pytest.raises(STSError) as exc:
        check_tags(tags, [], {"TEAM": "z"})
    assert exc.value.code == "InvalidParameterValue"


def test_source_identity_is_set_once() -> None:
    assert check_source_identity("alice", None) == "alice"
    assert check_source_identity(None, "alice") == "alice"
    assert check_source_identity("alice", "alice") == "alice"
    with pytest.raises(AccessDenied):
        check_source_identity("bob", "alice")
    with pytest.raises(STSError):
        check_source_identity("aws:me", None)


def test_packed_size() -> None:
    assert packed_percent(None, [], {}) == 0
    policy = '{"Version": "2012-10-17", "Statement": []}'
    minified = '{"Version":"2012-10-17","Statement":[]}'
    assert packed_percent(policy, [], {}) == -(-100 * len(minified) // 2048)
    with pytest.raises(STSError) as exc:
        packed_percent(None, [], {f"key{n}": "v" * 256 for n in range(9)})
    assert exc.value.code == "PackedPolicyTooLarge"


def _session(**fields: Any) -> SessionInfo:
    base: dict[str, Any] = {"kind": SessionKind.ROLE, "access_key_id": "ASIAEXAMPLE",
                            "issued_at": NOW - timedelta(minutes=10),
                            "expires_at": NOW + timedelta(minutes=50), "name": "s1"}
    return SessionInfo(**(base | fields))


def test_session_context_keys_as_aws_sets_them() -> None:
    plain = session_context_keys(_session(), NOW)
    assert plain == {"aws:TokenIssueTime": "2026-01-02T02:54:05Z",
                     "aws:MultiFactorAuthPresent": "false"}
    mfa = session_context_keys(
        _session(mfa_authenticated=True, mfa_authenticated_at=NOW - timedelta(seconds=90),
                 source_identity="alice", federated_provider="arn:aws:iam::1:oidc-provider/x"),
        NOW)
    assert mfa["aws:MultiFactorAuthPresent"] == "true"
    assert mfa["aws:MultiFactorAuthAge"] == "90"
    assert mfa["aws:SourceIdentity"] == "alice"
    assert mfa["aws:FederatedProvider"] == "arn:aws:iam::1:oidc-provider/x"


class _Recorder:
    def __init__(self, name: str) -> None:
        self.name = name
        self.bodies: list[bytes] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        self.bodies.append(body)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": self.name.encode()})


def _through_gate(body: bytes, *, method: str = "POST", query: bytes = b"",
                  headers: list[tuple[bytes, bytes]] | None = None,
                  chunks: int = 1) -> tuple[str, bytes]:
    verified, sts = _Recorder("verified"), _Recorder("sts")
    gate = UnsignedSTSGate(verified, sts, max_body=1024)
    size = max(1, -(-len(body) // chunks))
    parts = [body[i:i + size] for i in range(0, len(body), size)] or [b""]
    messages = [{"type": "http.request", "body": p, "more_body": i < len(parts) - 1}
                for i, p in enumerate(parts)]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": method, "path": "/", "query_string": query,
             "headers": headers or [(b"content-type", b"application/x-www-form-urlencoded")]}
    asyncio.run(gate(scope, receive, send))
    app = verified if verified.bodies else sts
    return sent[1]["body"].decode(), app.bodies[0]


WEB = b"Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=a&WebIdentityToken=t"


def test_gate_passes_only_the_unsigned_web_identity_action() -> None:
    assert _through_gate(WEB) == ("sts", WEB)
    assert _through_gate(WEB, chunks=3) == ("sts", WEB)
    for body in (b"Action=GetCallerIdentity&Version=2011-06-15",
                 b"Action=ListUsers&Version=2010-05-08",
                 b"Action=AssumeRoleWithWebIdentity&Action=AssumeRole",  # duplicate: malformed
                 b"\xff\xfe"):
        assert _through_gate(body) == ("verified", body)
    # Signed requests are never read by the gate.
    signed = [(b"authorization", b"AWS4-HMAC-SHA256 Credential=...")]
    assert _through_gate(WEB, headers=signed) == ("verified", WEB)
    assert _through_gate(WEB, query=b"X-Amz-Signature=abc")[0] == "verified"
    # A body over the limit goes to the middleware whole.
    big = WEB + b"&Padding=" + b"x" * 2000
    assert _through_gate(big, chunks=4) == ("verified", big)
    # The query string decides only when the body is empty (as the Query app reads it).
    assert _through_gate(b"", query=WEB)[0] == "sts"
    assert _through_gate(b"Action=ListUsers", query=WEB)[0] == "verified"
    assert _through_gate(b"", method="PUT", query=WEB)[0] == "verified"
