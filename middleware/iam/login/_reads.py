"""Reads of the login tables that the password operations and the sign-in check share.

A user by name (case-insensitive, as IAM compares names), a login profile,
the account's password policy (or IAM's default), the newest password
hashes, and what a sign-in needs to know in one read. Each function works
on a connection the caller's transaction owns.

Imports: SQLAlchemy, the store's schema, :mod:`..entities` (``NoSuchEntity``),
:mod:`._policy`.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ...store.schema import (
    accounts,
    login_profiles,
    mfa_devices,
    password_history,
    password_policies,
    principals,
)
from ..entities import NoSuchEntity
from ._policy import DEFAULT_POLICY, PasswordPolicy

__all__ = ["account_policy", "profile_row", "recent_hashes", "sign_in_lookup", "user_row"]

_L, _H, _P = login_profiles.c, password_history.c, principals.c


async def user_row(conn: AsyncConnection, account_id: str, user_name: str) -> Any:
    """The user's ``principal_id`` and ``name``; NoSuchEntity when there is none."""
    row = (
        await conn.execute(
            sa.select(_P.principal_id, _P.name).where(
                _P.account_id == account_id,
                _P.kind == "user",
                sa.func.lower(_P.name) == user_name.lower(),
            )
        )
    ).first()
    if row is None:
        raise NoSuchEntity(f"The user with name {user_name} cannot be found.")
    return row


async def profile_row(conn: AsyncConnection, owner_id: str) -> Any:
    """The owner's login profile row (None: no console password)."""
    return (
        await conn.execute(sa.select(login_profiles).where(_L.owner_id == owner_id))
    ).first()


async def account_policy(conn: AsyncConnection, account_id: str) -> PasswordPolicy:
    """The account's password policy, or IAM's default (``custom=False``)."""
    row = (
        await conn.execute(
            sa.select(password_policies).where(password_policies.c.account_id == account_id)
        )
    ).first()
    return _policy_of(row)


async def recent_hashes(conn: AsyncConnection, owner_id: str, count: int) -> list[str]:
    """The owner's newest ``count`` password hashes, newest first."""
    rows = await conn.execute(
        sa.select(_H.password_hash)
        .where(_H.owner_id == owner_id)
        .order_by(_H.id.desc())
        .limit(count)
    )
    return [str(h) for h in rows.scalars()]


async def sign_in_lookup(
    conn: AsyncConnection, account: str, user_name: str | None
) -> tuple[Any, Any, PasswordPolicy, list[str]]:
    """``(found, profile, policy, mfa serials)`` for a sign-in.

    ``account`` is an id or alias, ``user_name`` None for root. ``found`` is
    ``(account_id, owner)`` (``owner``: ``(owner id, user name)`` or None), or
    None when the account does not exist; ``profile`` None without a password.
    """
    account_row = (
        await conn.execute(
            sa.select(accounts.c.account_id).where(
                sa.or_(accounts.c.account_id == account, accounts.c.alias == account)
            )
        )
    ).first()
    if account_row is None:
        return None, None, DEFAULT_POLICY, []
    account_id = account_row.account_id
    owner = None
    if user_name is None:
        owner = (account_id, None)
    else:
        found = (
            await conn.execute(
                sa.select(_P.principal_id, _P.name).where(
                    _P.account_id == account_id, _P.kind == "user",
                    sa.func.lower(_P.name) == user_name.lower(),
                )
            )
        ).first()
        owner = None if found is None else (found.principal_id, found.name)
    profile = None if owner is None else await profile_row(conn, owner[0])
    serials: list[str] = []
    if owner is not None and user_name is not None:
        rows = await conn.execute(
            sa.select(mfa_devices.c.serial_number).where(
                mfa_devices.c.principal_id == owner[0],
                mfa_devices.c.enabled_at.is_not(None),
            ).order_by(mfa_devices.c.serial_number)
        )
        serials = [str(s) for s in rows.scalars()]
    policy = await account_policy(conn, account_id)
    return (account_id, owner), profile, policy, serials


def _policy_of(row: Any) -> PasswordPolicy:
    if row is None:
        return DEFAULT_POLICY
    return PasswordPolicy(
        minimum_length=row.minimum_length,
        require_symbols=row.require_symbols,
        require_numbers=row.require_numbers,
        require_uppercase=row.require_uppercase,
        require_lowercase=row.require_lowercase,
        allow_users_to_change=row.allow_users_to_change,
        max_password_age=row.max_password_age,
        reuse_prevention=row.reuse_prevention,
        hard_expiry=row.hard_expiry,
    )
