"""The request context that policy conditions see, from a principal's snapshot.

:func:`caller_context_keys` gives the global condition keys AWS sets for the
caller (reference_policies_condition-keys); :func:`engine_principal` the
policy engine's view of the caller. Shared by the IAM API's own authorization
and the middleware's authorizer.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from ..entities import AuthorizationSnapshot, PrincipalKind, SessionInfo
from ..policy import Principal, PrincipalType

__all__ = ["PRINCIPAL_TYPES", "caller_context_keys", "engine_principal", "session_context_keys"]


PRINCIPAL_TYPES = {
    PrincipalKind.USER: PrincipalType.USER,
    PrincipalKind.ROLE: PrincipalType.ASSUMED_ROLE,
    PrincipalKind.ROOT: PrincipalType.ACCOUNT,
}


def caller_context_keys(
    snapshot: AuthorizationSnapshot, scope: Mapping[str, Any], now: datetime
) -> dict[str, str]:
    """The global condition keys of an IAM API request (reference_policies_condition-keys).

    ``aws:username`` only for IAM users; ``aws:userid`` is the unique id (the
    account id for the root user; ``AROA...:<session>`` for a role session);
    ``aws:SourceIp`` the peer address. Temporary credentials add the session's
    keys (:func:`session_context_keys`); long-term keys have none of them.
    """
    info = snapshot.principal
    identity = scope.get("sigv4")
    keys = {
        "aws:PrincipalArn": info.arn,
        "aws:PrincipalAccount": info.account_id,
        "aws:PrincipalType": PRINCIPAL_TYPES[info.kind].value,
        "aws:userid": (
            info.unique_id if snapshot.session is None
            else snapshot.session.user_id(info)
        ),
        "aws:CurrentTime": now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "aws:EpochTime": str(int(now.timestamp())),
        "aws:SecureTransport": "true" if scope.get("scheme") in ("https", "wss") else "false",
        "aws:ViaAWSService": "false",
    }
    if info.kind is PrincipalKind.USER:
        keys["aws:username"] = info.name
    client = scope.get("client")
    if client:
        keys["aws:SourceIp"] = str(client[0])
    region = getattr(identity, "region", None)
    if isinstance(region, str):
        keys["aws:RequestedRegion"] = region
    for header, value in scope.get("headers", ()):
        if header == b"user-agent":
            keys["aws:UserAgent"] = value.decode("latin-1")
    for key, value in info.tags.items():
        keys[f"aws:PrincipalTag/{key}"] = value
    if snapshot.session is not None:
        keys |= session_context_keys(snapshot.session, now)
    return keys


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def session_context_keys(session: SessionInfo, now: datetime) -> dict[str, str]:
    """The condition keys AWS sets for temporary credentials (reference_policies_condition-keys).

    ``aws:TokenIssueTime`` and ``aws:MultiFactorAuthPresent`` for every
    session; ``aws:MultiFactorAuthAge`` (seconds since the MFA check) only
    when MFA was used; ``aws:SourceIdentity`` and ``aws:FederatedProvider``
    when the session has them. Never present for long-term keys (hence
    ``BoolIfExists`` in MFA-requiring policies).
    """
    keys = {
        "aws:TokenIssueTime": _iso(session.issued_at),
        "aws:MultiFactorAuthPresent": "true" if session.mfa_authenticated else "false",
    }
    if session.mfa_authenticated and session.mfa_authenticated_at is not None:
        age = max(0, int((now - session.mfa_authenticated_at).total_seconds()))
        keys["aws:MultiFactorAuthAge"] = str(age)
    if session.source_identity is not None:
        keys["aws:SourceIdentity"] = session.source_identity
    if session.federated_provider is not None:
        keys["aws:FederatedProvider"] = session.federated_provider
    return keys


def engine_principal(snapshot: AuthorizationSnapshot) -> Principal:
    """The policy engine's caller: a role session acts as its ``assumed-role`` ARN, with the
    role's ARN as ``role_arn``."""
    info = snapshot.principal
    if snapshot.session is not None and snapshot.session.name is not None:
        return Principal(
            arn=snapshot.caller_arn,
            account=info.account_id,
            type=PrincipalType.ASSUMED_ROLE,
            role_arn=info.arn,
        )
    return Principal(arn=info.arn, account=info.account_id, type=PRINCIPAL_TYPES[info.kind])
