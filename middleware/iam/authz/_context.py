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

from ..entities import AuthorizationSnapshot, PrincipalKind
from ..policy import Principal, PrincipalType

__all__ = ["PRINCIPAL_TYPES", "caller_context_keys", "engine_principal"]


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
    account id for the root user); ``aws:SourceIp`` the peer address.
    """
    info = snapshot.principal
    identity = scope.get("sigv4")
    keys = {
        "aws:PrincipalArn": info.arn,
        "aws:PrincipalAccount": info.account_id,
        "aws:PrincipalType": PRINCIPAL_TYPES[info.kind].value,
        "aws:userid": info.unique_id,
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
    return keys


def engine_principal(snapshot: AuthorizationSnapshot) -> Principal:
    info = snapshot.principal
    return Principal(arn=info.arn, account=info.account_id, type=PRINCIPAL_TYPES[info.kind])
