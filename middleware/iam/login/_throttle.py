"""The console's sign-in throttle: failed sign-ins counted per key, then a lock.

Failures are counted per ``sha256(account id, lower(user name))``
(:func:`throttle_key`), whether the user exists or not, so the lock says
nothing about existence and no name is stored in clear. The first failure
opens a window (:attr:`~._model.SignInSettings.window`); the
:attr:`~._model.SignInSettings.max_failures`-th failure within it locks the
key for :attr:`~._model.SignInSettings.lockout`; a failure after the window
starts a new count, and a successful sign-in clears the key.

Each function works on a connection the caller's transaction owns.

Imports: SQLAlchemy, the store's schema, :mod:`._model`.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ...store.schema import signin_throttle
from ._model import SignInSettings

__all__ = ["clear_failures", "locked_until", "record_failure", "throttle_key"]

_T = signin_throttle.c


def throttle_key(account_id: str, user_name: str | None) -> str:
    """The throttle row's key: no user name or account id is stored in clear."""
    who = "" if user_name is None else user_name.lower()
    return hashlib.sha256(f"{account_id}\x00{who}".encode()).hexdigest()


async def locked_until(conn: AsyncConnection, key: str) -> datetime | None:
    """When the key's lock ends (None: never locked, or no failures counted)."""
    lock: datetime | None = (
        await conn.execute(sa.select(_T.locked_until).where(_T.throttle_key == key))
    ).scalar()
    return lock


async def record_failure(
    conn: AsyncConnection, key: str, now: datetime, settings: SignInSettings
) -> None:
    """Count a failed sign-in for ``key``, locking it at the limit."""
    table = signin_throttle
    row = (await conn.execute(sa.select(table).where(_T.throttle_key == key))).first()
    if row is None or row.first_failure_at + settings.window <= now:
        await conn.execute(sa.delete(table).where(_T.throttle_key == key))
        await conn.execute(
            sa.insert(table).values(throttle_key=key, failures=1, first_failure_at=now)
        )
        return
    failures = row.failures + 1
    locked = now + settings.lockout if failures >= settings.max_failures else None
    await conn.execute(
        sa.update(table).where(_T.throttle_key == key)
        .values(failures=failures, locked_until=locked)
    )


async def clear_failures(conn: AsyncConnection, key: str) -> None:
    """Forget the key's failures (a successful sign-in)."""
    await conn.execute(sa.delete(signin_throttle).where(_T.throttle_key == key))
