"""Principals (users and roles of the default account), written once over SQLAlchemy Core.

:class:`PrincipalAdmin` is the part of :class:`~.keys.KeyAdmin` that names
principals. A backend supplies ``_read(fn)`` and ``_write(fn)``, which run
``fn`` on an :class:`~sqlalchemy.ext.asyncio.AsyncConnection` (``_write`` in
one transaction that serializes writers: ``BEGIN IMMEDIATE`` on SQLite, row
locks on PostgreSQL), and the cache it evicts from.

Today's key-management API names principals only; they live in the
default account (:data:`~.schema.DEFAULT_ACCOUNT_ID`), where a name is
unique across users and roles (IAM allows a user and a role to share a
name; the schema does, this API does not yet).

Imports: SQLAlchemy, :mod:`.schema`, :mod:`.keygen`, the store entities.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from .cache import KeyCache
from .entities import Principal, PrincipalKind
from .entities import store_time as _now
from .errors import PrincipalNotFoundError, StoreError
from .keygen import new_access_key_id, validate_principal_name
from .masterkeys import MasterKeys
from .schema import DEFAULT_ACCOUNT_ID, PREFIXES, access_keys, accounts, principals, roles

__all__ = ["IN_ACCOUNT", "Op", "PrincipalAdmin", "bytewise"]

T = TypeVar("T")
Op = Callable[[AsyncConnection], Awaitable[T]]

_K, _P = access_keys.c, principals.c
IN_ACCOUNT = _P.account_id == DEFAULT_ACCOUNT_ID


def _principal(row: Any) -> Principal:
    return Principal(
        name=row.name,
        kind=PrincipalKind(row.kind),
        root=bool(row.is_root),
        created_at=row.created_at,
    )


def bytewise(column: sa.ColumnElement[str], conn: AsyncConnection) -> sa.ColumnElement[str]:
    # Byte order on both: SQLite's default BINARY collation, PostgreSQL's "C".
    return column.collate("C") if conn.dialect.name == "postgresql" else column


class PrincipalAdmin:
    """Create, read, list and delete principals; see the module docstring."""

    _cache: KeyCache
    _keys: MasterKeys

    async def _read(self, fn: Op[T]) -> T:
        raise NotImplementedError

    async def _write(self, fn: Op[T]) -> T:
        raise NotImplementedError

    # -- principals -------------------------------------------------------------------

    async def create_principal(
        self,
        name: str,
        *,
        kind: PrincipalKind = PrincipalKind.USER,
        root: bool = False,
        now: datetime | None = None,
    ) -> Principal:
        """Create a user or role. Raises :class:`StoreError` if it exists or the name is invalid."""
        validate_principal_name(name)
        principal = Principal(
            name=name, kind=PrincipalKind(kind), root=bool(root), created_at=_now(now)
        )

        async def insert(conn: AsyncConnection) -> None:
            # The account row lock serializes principal creation, so the
            # name check below holds across users and roles.
            await conn.execute(
                sa.select(accounts.c.account_id)
                .where(accounts.c.account_id == DEFAULT_ACCOUNT_ID)
                .with_for_update()
            )
            if await self._principal_id(conn, name) is not None:
                raise StoreError(f"principal {name!r} already exists")
            pid = await self._new_id(
                conn, PREFIXES[principal.kind.value], principals.c.principal_id
            )
            await conn.execute(
                sa.insert(principals).values(
                    principal_id=pid,
                    account_id=DEFAULT_ACCOUNT_ID,
                    kind=principal.kind.value,
                    name=name,
                    path="/",
                    is_root=principal.root,
                    created_at=principal.created_at,
                )
            )
            if principal.kind is PrincipalKind.ROLE:
                await conn.execute(sa.insert(roles).values(principal_id=pid))

        await self._write(insert)
        return principal

    async def get_principal(self, name: str) -> Principal | None:
        """The principal with this name, or None."""

        async def q(conn: AsyncConnection) -> Principal | None:
            row = (
                await conn.execute(sa.select(principals).where(IN_ACCOUNT, _P.name == name))
            ).first()
            return None if row is None else _principal(row)

        return await self._read(q)

    async def list_principals(self) -> list[Principal]:
        """Every principal, ordered by name."""

        async def q(conn: AsyncConnection) -> list[Principal]:
            rows = await conn.execute(
                sa.select(principals).where(IN_ACCOUNT).order_by(bytewise(_P.name, conn))
            )
            return [_principal(row) for row in rows]

        return await self._read(q)

    async def delete_principal(self, name: str) -> None:
        """Delete a principal and every key it owns. Raises :class:`PrincipalNotFoundError`."""

        async def delete(conn: AsyncConnection) -> list[str]:
            pid = await self._require_principal(conn, name)
            ids = list(
                (
                    await conn.execute(sa.select(_K.access_key_id).where(_K.principal_id == pid))
                ).scalars()
            )
            await conn.execute(sa.delete(principals).where(_P.principal_id == pid))
            return ids

        self._cache.evict(await self._write(delete))

    # -- helpers ----------------------------------------------------------------------

    @staticmethod
    async def _principal_id(conn: AsyncConnection, name: str, *, lock: bool = False) -> str | None:
        query = sa.select(_P.principal_id).where(IN_ACCOUNT, _P.name == name)
        # FOR UPDATE (PostgreSQL) serializes key creation per principal: the
        # 2-key count cannot be raced by another replica.
        result = await conn.execute(query.with_for_update() if lock else query)
        return result.scalar()

    async def _require_principal(self, conn: AsyncConnection, name: str) -> str:
        pid = await self._principal_id(conn, name, lock=True)
        if pid is None:
            raise PrincipalNotFoundError(f"no principal named {name!r}")
        return pid

    @staticmethod
    async def _new_id(conn: AsyncConnection, prefix: str, column: sa.Column[str]) -> str:
        for _attempt in range(5):
            candidate = new_access_key_id(prefix)
            taken = await conn.execute(sa.select(column).where(column == candidate))
            if taken.first() is None:
                return candidate
        raise StoreError("could not allocate a unique id")  # pragma: no cover
