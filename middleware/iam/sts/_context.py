"""Who calls STS: the per-request context, and the caller's policies for AssumeRole.

Every STS operation but ``AssumeRoleWithWebIdentity`` needs signed
credentials: the signing key's authorization snapshot (a user, the root
user, or a session). ``AssumeRoleWithWebIdentity`` comes unsigned (the OIDC
token is the credential; ``scope["sigv4"]`` is None).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..api._iam_context import InvalidClientTokenId
from ..entities import AuthorizationSnapshot

__all__ = ["UNSIGNED_ACTIONS", "STSContext", "STSServices", "sts_context_factory"]

#: STS operations that take no signature (their request carries its own credential).
UNSIGNED_ACTIONS = frozenset({"AssumeRoleWithWebIdentity"})


@dataclass(frozen=True, slots=True, kw_only=True)
class STSServices:
    """What the STS handlers work with (one per app): stores, the JWKS cache, the clock."""

    store: Any
    iam: Any
    mfa: Any
    oidc: Any
    jwks: Callable[[], Any]
    clock: Callable[[], datetime]


@dataclass(frozen=True, slots=True, kw_only=True)
class STSContext:
    """One STS call: the services, the ASGI scope and the signed caller (None when unsigned)."""

    services: STSServices
    scope: Mapping[str, Any]
    snapshot: AuthorizationSnapshot | None

    def caller(self) -> AuthorizationSnapshot:
        if self.snapshot is None:  # pragma: no cover - the factory refuses this
            raise InvalidClientTokenId()
        return self.snapshot


ContextFactory = Callable[[Mapping[str, Any], str, Mapping[str, Any]], Awaitable[STSContext]]


def sts_context_factory(services: STSServices) -> ContextFactory:
    """Build each call's :class:`STSContext`.

    Raises ``InvalidClientTokenId`` (403) when a call that needs a signature
    has none, or when the signing key belongs to no IAM identity.
    """

    async def context(scope: Mapping[str, Any], action: str,
                      params: Mapping[str, Any]) -> STSContext:
        identity = scope.get("sigv4")
        access_key_id = getattr(identity, "access_key_id", None)
        if not isinstance(access_key_id, str):
            if action in UNSIGNED_ACTIONS:
                return STSContext(services=services, scope=scope, snapshot=None)
            raise InvalidClientTokenId()
        snapshot = await services.iam.load_authorization(access_key_id)
        if snapshot is None:
            raise InvalidClientTokenId()
        return STSContext(services=services, scope=scope, snapshot=snapshot)

    return context
