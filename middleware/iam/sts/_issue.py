"""Issuing temporary credentials: an ``ASIA`` key, its secret and token, and the session row.

One transaction on the key store: the key (secret sealed with the master
key, the session token kept only as its SHA-256, the expiry set) and its
``sessions`` row (role session name, issue time, MFA, source identity,
session policies, tags, provider). The token is 64 random bytes
(:func:`~sigv4kit.middleware.store.keygen.new_session_token`).

Imports: SQLAlchemy, the store's schema and key generation.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ...store.keygen import TEMPORARY_PREFIX, hash_session_token, new_session_token
from ...store.schema import sessions

__all__ = ["IssuedCredentials", "SessionRequest", "issue_session"]


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionRequest:
    """What a session records; ``principal_id`` is the user's (GetSessionToken) or role's id."""

    principal_id: str
    duration_seconds: int
    name: str | None = None
    mfa_authenticated_at: datetime | None = None
    source_identity: str | None = None
    federated_provider: str | None = None
    policy: str | None = None
    policy_arns: Sequence[str] = ()
    tags: Mapping[str, str] = field(default_factory=dict)
    transitive_tag_keys: Sequence[str] = ()
    source_arn: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class IssuedCredentials:
    """``Credentials`` of STS's answers; the secret and token are shown this once."""

    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str = field(repr=False)
    expiration: datetime

    def wire(self) -> dict[str, Any]:
        """The ``Credentials`` structure of the STS model."""
        return {
            "AccessKeyId": self.access_key_id,
            "SecretAccessKey": self.secret_access_key,
            "SessionToken": self.session_token,
            "Expiration": self.expiration,
        }


async def issue_session(store: Any, request: SessionRequest, *, now: datetime
                        ) -> IssuedCredentials:
    """Store a new session for ``request`` (``store``: a SQL key store) and return its keys."""
    token = new_session_token()
    expiration = now + timedelta(seconds=request.duration_seconds)

    async def create(conn: AsyncConnection) -> tuple[str, str]:
        kid, secret = await store._insert_key(
            conn,
            pid=request.principal_id,
            created_at=now,
            prefix=TEMPORARY_PREFIX,
            expires_at=expiration,
            token_sha256=hash_session_token(token),
        )
        await conn.execute(
            sa.insert(sessions).values(
                access_key_id=kid,
                principal_id=request.principal_id,
                role_session_name=request.name,
                issued_at=now,
                mfa_authenticated=request.mfa_authenticated_at is not None,
                mfa_authenticated_at=request.mfa_authenticated_at,
                source_identity=request.source_identity,
                session_policy=request.policy,
                session_policy_arns=json.dumps(list(request.policy_arns))
                if request.policy_arns else None,
                session_tags=json.dumps(dict(request.tags)) if request.tags else None,
                transitive_tag_keys=json.dumps(list(request.transitive_tag_keys))
                if request.transitive_tag_keys else None,
                federated_provider=request.federated_provider,
                source_arn=request.source_arn,
            )
        )
        return str(kid), str(secret)

    kid, secret = await store._write(create)
    store._cache.evict([kid])
    return IssuedCredentials(
        access_key_id=kid, secret_access_key=secret, session_token=token, expiration=expiration
    )
