"""Server-side console sessions in the key store (any worker serves any session).

The cookie holds a random 256-bit token; the store keeps only its SHA-256, so
reading the database never yields a usable cookie. A session has a *state*
(the sign-in step reached: MFA code pending, password change required,
signed in), an idle expiry (pushed forward as it is used) and an absolute
one (fixed at sign-in). Each step of the sign-in issues a new token and
drops the old one (no session fixation). The CSRF token of a session is an
HMAC of its token, so it needs no storage and changes with it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ..store.schema import console_sessions

if TYPE_CHECKING:
    from ..store.base import SQLKeyStore

__all__ = ["ConsoleSession", "ConsoleSessions", "SessionState", "csrf_token", "token_hash"]

_S = console_sessions.c


class SessionState(StrEnum):
    """The sign-in step a session has reached."""

    MFA = "mfa"  # password right; an MFA code is asked
    MFA_THEN_CHANGE = "mfa-change"  # then a new password
    CHANGE = "change"  # a new password is asked (reset required or expired)
    ACTIVE = "active"  # signed in


@dataclass(frozen=True, slots=True, kw_only=True)
class ConsoleSession:
    """A live session (never holds the token)."""

    account_id: str
    owner_id: str  # user principal id, or the account id for the root user
    state: SessionState
    created_at: datetime
    expires_at: datetime
    mfa_authenticated: bool

    @property
    def is_root(self) -> bool:
        return self.owner_id == self.account_id


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def csrf_token(token: str) -> str:
    """The CSRF token of a session (or pre-session) token."""
    return hmac.new(token.encode("ascii", "replace"), b"sigv4kit-console-csrf",
                    hashlib.sha256).hexdigest()


class ConsoleSessions:
    """Create, read, advance and end console sessions; see the module docstring."""

    def __init__(
        self,
        store: SQLKeyStore,
        *,
        idle: timedelta,
        absolute: timedelta,
        new_token: Callable[[], str] = lambda: secrets.token_urlsafe(32),
    ) -> None:
        self._store = store
        self.idle = idle
        self.absolute = absolute
        self._new_token = new_token

    async def create(
        self, account_id: str, owner_id: str, state: SessionState, *, now: datetime,
        source_ip: str | None, max_session: timedelta | None = None,
        mfa_authenticated: bool = False,
    ) -> str:
        """A new session; returns its token (for the cookie, never stored)."""
        token = self._new_token()
        lifetime = self.absolute if max_session is None else min(self.absolute, max_session)

        async def op(conn: AsyncConnection) -> None:
            await conn.execute(
                sa.insert(console_sessions).values(
                    token_hash=token_hash(token), account_id=account_id, owner_id=owner_id,
                    state=state.value, created_at=now, last_seen_at=now,
                    expires_at=now + lifetime, mfa_authenticated=mfa_authenticated,
                    source_ip=source_ip,
                )
            )

        await self._store._write(op)
        return token

    async def get(self, token: str | None, *, now: datetime) -> ConsoleSession | None:
        """The live session of ``token``, its idle expiry pushed forward; None when absent,
        idle too long or past its absolute expiry (an expired row is deleted)."""
        if not token:
            return None
        key = token_hash(token)
        idle = self.idle

        async def op(conn: AsyncConnection) -> ConsoleSession | None:
            row = (
                await conn.execute(sa.select(console_sessions).where(_S.token_hash == key))
            ).first()
            if row is None:
                return None
            if now >= row.expires_at or now >= row.last_seen_at + idle:
                await conn.execute(sa.delete(console_sessions).where(_S.token_hash == key))
                return None
            await conn.execute(
                sa.update(console_sessions).where(_S.token_hash == key).values(last_seen_at=now)
            )
            return _session(row)

        return await self._store._write(op)

    async def advance(
        self, token: str, state: SessionState, *, now: datetime, mfa_authenticated: bool = False
    ) -> str:
        """Move a session to ``state`` under a new token (the old one stops working)."""
        new = self._new_token()
        old = token_hash(token)

        async def op(conn: AsyncConnection) -> None:
            values: dict[str, Any] = {"token_hash": token_hash(new), "state": state.value,
                                      "last_seen_at": now}
            if mfa_authenticated:
                values["mfa_authenticated"] = True
            await conn.execute(
                sa.update(console_sessions).where(_S.token_hash == old).values(values)
            )

        await self._store._write(op)
        return new

    async def end(self, token: str | None) -> None:
        """Sign out: the session's row is deleted."""
        if not token:
            return
        key = token_hash(token)

        async def op(conn: AsyncConnection) -> None:
            await conn.execute(sa.delete(console_sessions).where(_S.token_hash == key))

        await self._store._write(op)


def _session(row: Any) -> ConsoleSession:
    return ConsoleSession(
        account_id=row.account_id, owner_id=row.owner_id, state=SessionState(row.state),
        created_at=row.created_at, expires_at=row.expires_at,
        mfa_authenticated=bool(row.mfa_authenticated),
    )
