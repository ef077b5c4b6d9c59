"""The request context of a service call: the global condition keys AWS sets, per request.

Split in two so the per-request work stays small:

* :func:`principal_keys`: what depends only on who calls (``aws:PrincipalArn``,
  ``aws:PrincipalAccount``, ``aws:PrincipalType``, ``aws:userid``,
  ``aws:username``, ``aws:PrincipalTag/*``, the session keys), computed once
  per cached snapshot;
* :func:`request_keys`: what depends on the request (``aws:SourceIp``,
  ``aws:SecureTransport``, ``aws:CurrentTime``, ``aws:EpochTime``,
  ``aws:RequestedRegion``, ``aws:UserAgent``).

Which keys are present follows reference_policies_condition-keys: ``aws:username``
for IAM users only; ``aws:TokenIssueTime`` and ``aws:MultiFactorAuthPresent``
only for temporary credentials; ``aws:MultiFactorAuthAge`` only when MFA was
used; for a role session ``aws:PrincipalArn`` is the *role's* ARN and
``aws:userid`` ``<role id>:<session name>``.

Imports: the standard library, the middleware's request helpers, the entities.
"""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime

from ...asgi.identity import CallerIdentity, CallerKind
from ...asgi.request import TrustedProxies, header_value, is_trusted
from ...asgi.types import Scope
from ..entities import AuthorizationSnapshot, PrincipalKind
from ..policy import Principal, PrincipalType

__all__ = [
    "engine_principal_of",
    "principal_keys",
    "request_keys",
    "secure_transport",
    "session_keys",
    "source_ip",
    "w3c_time",
]


def w3c_time(when: datetime) -> str:
    """``2026-12-03T13:40:00Z``: how AWS writes ``aws:CurrentTime`` and ``aws:TokenIssueTime``."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def engine_principal_of(snapshot: AuthorizationSnapshot, caller: CallerIdentity) -> Principal:
    """The policy engine's view of the caller: a role session names its role in ``role_arn``."""
    info = snapshot.principal
    if caller.kind is CallerKind.ROLE_SESSION:
        return Principal(arn=caller.arn, account=info.account_id,
                         type=PrincipalType.ASSUMED_ROLE, role_arn=info.arn)
    if snapshot.is_root or info.kind is PrincipalKind.ROOT:
        return Principal(arn=f"arn:aws:iam::{info.account_id}:root", account=info.account_id,
                         type=PrincipalType.ACCOUNT)
    kind = PrincipalType.ASSUMED_ROLE if info.kind is PrincipalKind.ROLE else PrincipalType.USER
    return Principal(arn=info.arn, account=info.account_id, type=kind)


def principal_keys(snapshot: AuthorizationSnapshot, caller: CallerIdentity) -> dict[str, str]:
    """The keys that depend only on who calls (the session's keys: :func:`session_keys`)."""
    info = snapshot.principal
    principal = engine_principal_of(snapshot, caller)
    keys = {
        "aws:PrincipalArn": principal.role_arn or principal.arn,
        "aws:PrincipalAccount": info.account_id,
        "aws:PrincipalType": principal.type.value,
        "aws:ViaAWSService": "false",
    }
    if principal.type is PrincipalType.ACCOUNT:
        keys["aws:userid"] = info.account_id
    elif caller.kind is CallerKind.ROLE_SESSION:
        session = caller.session.name or caller.access_key_id
        keys["aws:userid"] = f"{info.unique_id}:{session}"
    else:
        keys["aws:userid"] = info.unique_id
    if principal.type is PrincipalType.USER:
        keys["aws:username"] = info.name
    for key, value in info.tags.items():
        keys[f"aws:PrincipalTag/{key}"] = value
    return keys


def session_keys(caller: CallerIdentity, now: datetime) -> dict[str, str]:
    """``aws:TokenIssueTime``, ``aws:MultiFactorAuthPresent`` / ``Age``: temporary keys only."""
    session = caller.session
    if not session.temporary:
        return {}
    keys = {"aws:MultiFactorAuthPresent": "true" if session.mfa_authenticated else "false"}
    if session.issued_at is not None:
        keys["aws:TokenIssueTime"] = w3c_time(session.issued_at)
        if session.mfa_authenticated:
            age = max(0, int((now - session.issued_at).total_seconds()))
            keys["aws:MultiFactorAuthAge"] = str(age)
    return keys


def _forwarded_values(scope: Scope, name: bytes) -> list[str]:
    values: list[str] = []
    for header, value in scope.get("headers", ()):
        if header == name:
            values.extend(part.strip() for part in value.decode("latin-1").split(","))
    return [value for value in values if value]


def source_ip(scope: Scope, trusted_proxies: TrustedProxies) -> str | None:
    """``aws:SourceIp``: the peer, or behind trusted proxies the client they name.

    ``X-Forwarded-For`` is read only when the peer is one of
    ``trusted_proxies`` (anyone can send the header): walking it from the
    right, each hop that is itself a trusted proxy is skipped and the first
    other address is the client. A malformed entry stops the walk at the last
    trusted hop (never a client-chosen string).
    """
    client = scope.get("client")
    if not client:
        return None
    peer = str(client[0])
    if not trusted_proxies or not is_trusted(scope, trusted_proxies):
        return peer
    hop = peer
    for value in reversed(_forwarded_values(scope, b"x-forwarded-for")):
        try:
            address = ipaddress.ip_address(value)
        except ValueError:
            return hop
        hop = str(address)
        if not any(address in network for network in trusted_proxies):
            return hop
    return hop


def secure_transport(scope: Scope, trusted_proxies: TrustedProxies) -> bool:
    """``aws:SecureTransport``: TLS to us, or (behind a trusted proxy) to the proxy."""
    if trusted_proxies and is_trusted(scope, trusted_proxies):
        proto = _forwarded_values(scope, b"x-forwarded-proto")
        if proto:
            return proto[-1].lower() in ("https", "wss")
    return scope.get("scheme") in ("https", "wss")


def request_keys(
    scope: Scope, caller: CallerIdentity, trusted_proxies: TrustedProxies
) -> dict[str, str]:
    """The keys that depend on the request, except the time."""
    keys = {
        "aws:SecureTransport": "true" if secure_transport(scope, trusted_proxies) else "false",
        "aws:RequestedRegion": caller.sigv4.region,
    }
    address = source_ip(scope, trusted_proxies)
    if address is not None:
        keys["aws:SourceIp"] = address
    agent = header_value(scope.get("headers", ()), b"user-agent")
    if agent is not None:
        keys["aws:UserAgent"] = agent.decode("latin-1")
    return keys
