"""What the credential report and the access report read: users, their MFA and keys' use.

:class:`ActivityReader` (a mixin of :class:`~._store.IAMStore`) answers in
one read transaction per account:

* :meth:`~ActivityReader.credential_rows`: the account's root principals and
  users, each with whether an MFA device is enabled and its long-term access
  keys (oldest first) with their last use;
* :meth:`~ActivityReader.principal_activity`: every principal with its
  creation time and its last use (the latest use of any of its keys or
  sessions' keys, from ``service_last_used``: it outlives the keys);
* :meth:`~ActivityReader.role_last_used` (RoleLastUsed) and
  :meth:`~ActivityReader.service_activity` (GetServiceLastAccessedDetails):
  from ``service_last_used``, the last use per principal and service that
  the store's batched last-used flush keeps (a role session's uses count for
  its role; deleting a key or an expired session keeps them).

Imports: SQLAlchemy, the store's schema, :mod:`._base`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ...store.schema import access_keys, accounts, mfa_devices, principals, service_last_used
from ._base import IAMBase, account_check

__all__ = ["ActivityReader", "KeyActivity", "PrincipalActivity"]

_P = principals.c
_K = access_keys.c
_U = service_last_used.c


@dataclass(frozen=True, slots=True, kw_only=True)
class KeyActivity:
    """One long-term access key: status, creation ("last rotated") and last use."""

    access_key_id: str
    active: bool
    created_at: datetime
    last_used_at: datetime | None
    last_used_region: str | None
    last_used_service: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class PrincipalActivity:
    """A user, role or root principal as the reports see it."""

    name: str
    path: str
    kind: str  # "user" or "role"
    root: bool
    created_at: datetime
    mfa_active: bool
    keys: tuple[KeyActivity, ...]
    #: The latest use of the principal: any of its keys (sessions' keys included),
    #: deleted ones too.
    last_used_at: datetime | None
    last_used_region: str | None


class ActivityReader(IAMBase):
    """Reads for the credential report, RoleLastUsed and ``sigv4kit iam report``."""

    async def account_created_at(self, account_id: str) -> datetime:
        """When the account was created (the root row's ``user_creation_time``)."""
        account = account_check(account_id)

        async def q(conn: AsyncConnection) -> datetime:
            created = (
                await conn.execute(
                    sa.select(accounts.c.created_at).where(accounts.c.account_id == account)
                )
            ).scalar_one()
            return created  # type: ignore[no-any-return]

        return await self._read(q)

    async def role_last_used(
        self, account_id: str, role_name: str
    ) -> tuple[datetime | None, str | None]:
        """RoleLastUsed: the latest use of the role (through any of its keys or sessions,
        with any service, even after the session expired) and that use's region;
        ``(None, None)`` when never used."""
        account = account_check(account_id)

        async def q(conn: AsyncConnection) -> tuple[datetime | None, str | None]:
            row = (
                await conn.execute(
                    sa.select(_U.last_used_at, _U.last_used_region)
                    .select_from(service_last_used.join(principals))
                    .where(_P.account_id == account, _P.kind == "role", _P.name == role_name)
                    .order_by(_U.last_used_at.desc())
                    .limit(1)
                )
            ).first()
            return (row[0], row[1]) if row is not None else (None, None)

        return await self._read(q)

    async def service_activity(
        self, account_id: str, kind: str, name: str
    ) -> list[tuple[str, datetime, str | None]] | None:
        """``(service, last authenticated, region)`` for every service a user or role
        used, newest first; None when there is no such principal.

        A service is listed whichever key was used (long-term, or a session's
        for a role or a GetSessionToken user) and after that key is deleted;
        the rows go with the principal. Uses are written by the store in
        batches, about ``flush_interval`` (1 s) late.
        """
        account = account_check(account_id)

        async def q(conn: AsyncConnection) -> list[tuple[str, datetime, str | None]] | None:
            found = (
                await conn.execute(
                    sa.select(_P.principal_id).where(
                        _P.account_id == account, _P.kind == kind, _P.name == name)
                )
            ).scalar()
            if found is None:
                return None
            rows = (
                await conn.execute(
                    sa.select(_U.service, _U.last_used_at, _U.last_used_region)
                    .where(_U.principal_id == found)
                    .order_by(_U.last_used_at.desc(), _U.service)
                )
            ).all()
            return [(service, at, region) for service, at, region in rows]

        return await self._read(q)

    async def principal_activity(self, account_id: str) -> list[PrincipalActivity]:
        """Every principal of the account (users and roles, root ones included), by name."""
        account = account_check(account_id)

        async def q(conn: AsyncConnection) -> list[PrincipalActivity]:
            rows = (
                await conn.execute(
                    sa.select(_P.principal_id, _P.name, _P.path, _P.kind, _P.is_root,
                              _P.created_at)
                    .where(_P.account_id == account)
                    .order_by(_P.kind, _P.name)
                )
            ).all()
            mfa = set(
                (
                    await conn.execute(
                        sa.select(mfa_devices.c.principal_id).where(
                            mfa_devices.c.account_id == account,
                            mfa_devices.c.enabled_at.is_not(None),
                        )
                    )
                ).scalars()
            )
            keys = (
                await conn.execute(
                    sa.select(_K.principal_id, _K.access_key_id, _K.status, _K.created_at,
                              _K.expires_at, _K.last_used_at, _K.last_used_region,
                              _K.last_used_service)
                    .select_from(access_keys.join(principals))
                    .where(_P.account_id == account)
                    .order_by(_K.created_at, _K.id)
                )
            ).all()
            uses = (
                await conn.execute(
                    sa.select(_U.principal_id, _U.last_used_at, _U.last_used_region)
                    .select_from(service_last_used.join(principals))
                    .where(_P.account_id == account)
                )
            ).all()
            return _assemble(rows, mfa, keys, uses)

        return await self._read(q)


def _assemble(
    rows: Sequence[Any], mfa: set[str], keys: Sequence[Any], uses: Sequence[Any]
) -> list[PrincipalActivity]:
    long_term: dict[str, list[KeyActivity]] = defaultdict(list)
    last: dict[str, tuple[datetime, str | None]] = {}
    # service_last_used outlives deleted keys; the keys' own columns cover
    # uses noted before it existed that a store did not seed.
    for pid, at, region in uses:
        if pid not in last or last[pid][0] < at:
            last[pid] = (at, region)
    for key in keys:
        if key.last_used_at is not None:
            seen = last.get(key.principal_id)
            if seen is None or seen[0] < key.last_used_at:
                last[key.principal_id] = (key.last_used_at, key.last_used_region)
        if key.expires_at is None:
            long_term[key.principal_id].append(
                KeyActivity(
                    access_key_id=key.access_key_id, active=key.status == "Active",
                    created_at=key.created_at, last_used_at=key.last_used_at,
                    last_used_region=key.last_used_region,
                    last_used_service=key.last_used_service,
                )
            )
    return [
        PrincipalActivity(
            name=row.name, path=row.path, kind=row.kind, root=bool(row.is_root),
            created_at=row.created_at, mfa_active=row.principal_id in mfa,
            keys=tuple(long_term[row.principal_id]),
            last_used_at=last[row.principal_id][0] if row.principal_id in last else None,
            last_used_region=last[row.principal_id][1] if row.principal_id in last else None,
        )
        for row in rows
    ]
