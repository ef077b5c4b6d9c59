"""Access keys of IAM users: CreateAccessKey, ListAccessKeys, UpdateAccessKey,
DeleteAccessKey, GetAccessKeyLastUsed.

Keys are the key store's rows (sealed secrets, the request path's lookup,
its cache); IAM's quota is 2 long-term keys per user; temporary (``ASIA``)
keys are never listed here.

Imports: SQLAlchemy, the store's schema, :mod:`._users`.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ...store.schema import access_keys, principals
from ._base import account_check, bytewise, page_of, same_name
from ._errors import LimitExceeded, NoSuchEntity, ValidationError
from ._model import AccessKey, AccessKeyLastUsed, AccessKeyMetadata, Page
from ._rules import MAX_ACCESS_KEYS_PER_USER
from ._users import UserAdmin

__all__ = ["AccessKeyAdmin"]

_P, _K = principals.c, access_keys.c


class AccessKeyAdmin(UserAdmin):
    """A user's access keys."""

    async def create_access_key(self, account_id: str, user_name: str) -> AccessKey:
        """CreateAccessKey: a new Active ``AKIA`` key; the secret is returned only here.

        Raises :class:`NoSuchEntity`, :class:`LimitExceeded` (2 keys per user).
        """
        at = self._now()

        async def create(conn: AsyncConnection) -> tuple[str, str, str]:
            row = await self._principal_row(conn, account_id, "user", user_name)
            count = await conn.execute(
                sa.select(sa.func.count()).where(
                    _K.principal_id == row.principal_id, _K.expires_at.is_(None)
                )
            )
            if int(count.scalar_one()) >= MAX_ACCESS_KEYS_PER_USER:
                raise LimitExceeded(
                    f"Cannot exceed quota for AccessKeysPerUser: {MAX_ACCESS_KEYS_PER_USER}"
                )
            kid, secret = await self._store._insert_key(conn, pid=row.principal_id, created_at=at)
            return kid, secret, row.name

        kid, secret, name = await self._write(create)
        self._store._cache.evict([kid])
        return AccessKey(
            user_name=name,
            access_key_id=kid,
            status="Active",
            create_date=at,
            secret_access_key=secret,
        )

    async def list_access_keys(
        self,
        account_id: str,
        user_name: str,
        *,
        marker: str | None = None,
        max_items: int | None = None,
    ) -> Page[AccessKeyMetadata]:
        """ListAccessKeys: the user's long-term keys in creation order (never secrets)."""

        async def q(conn: AsyncConnection) -> list[AccessKeyMetadata]:
            row = await self._principal_row(conn, account_id, "user", user_name)
            rows = await conn.execute(
                sa.select(_K.access_key_id, _K.status, _K.created_at)
                .where(_K.principal_id == row.principal_id, _K.expires_at.is_(None))
                .order_by(bytewise(_K.access_key_id, conn))
            )
            return [
                AccessKeyMetadata(
                    user_name=row.name, access_key_id=kid, status=status, create_date=created
                )
                for kid, status, created in rows
            ]

        return page_of(await self._read(q), lambda k: k.access_key_id, marker, max_items)

    async def _user_key(
        self, conn: AsyncConnection, account_id: str, access_key_id: str, user_name: str | None
    ) -> Any:
        query = (
            sa.select(_K.access_key_id, _K.principal_id, principals.c.name)
            .select_from(access_keys.join(principals))
            .where(
                _K.access_key_id == access_key_id,
                _K.expires_at.is_(None),
                _P.account_id == account_id,
                _P.kind == "user",
            )
        )
        if user_name is not None:
            await self._principal_row(conn, account_id, "user", user_name)
            query = query.where(same_name(_P.name, user_name))
        row = (await conn.execute(query)).first()
        if row is None:
            raise NoSuchEntity(f"The Access Key with id {access_key_id} cannot be found.")
        return row

    async def update_access_key(
        self, account_id: str, access_key_id: str, status: str, *, user_name: str | None = None
    ) -> None:
        """UpdateAccessKey: ``Active`` or ``Inactive``. Raises :class:`NoSuchEntity`."""
        if status not in {"Active", "Inactive"}:
            raise ValidationError(
                f"1 validation error detected: Value '{status}' at 'status' failed to satisfy "
                "constraint: Member must satisfy enum value set: [Active, Inactive]"
            )

        async def update(conn: AsyncConnection) -> None:
            await self._user_key(conn, account_id, access_key_id, user_name)
            await conn.execute(
                sa.update(access_keys)
                .where(_K.access_key_id == access_key_id)
                .values(status=status)
            )

        await self._write(update, evict=[access_key_id])

    async def delete_access_key(
        self, account_id: str, access_key_id: str, *, user_name: str | None = None
    ) -> None:
        """DeleteAccessKey. Raises :class:`NoSuchEntity`."""
        # The key's pending uses first: the per-service record finds its owner
        # through the key (see SQLKeyStore's batched flush).
        await self._store.flush()

        async def delete(conn: AsyncConnection) -> None:
            await self._user_key(conn, account_id, access_key_id, user_name)
            await conn.execute(sa.delete(access_keys).where(_K.access_key_id == access_key_id))

        await self._write(delete, evict=[access_key_id])

    async def get_access_key_last_used(
        self, access_key_id: str, *, account_id: str | None = None
    ) -> AccessKeyLastUsed:
        """GetAccessKeyLastUsed. Raises :class:`NoSuchEntity`.

        Pass the caller's ``account_id``: a key of another account is then
        "not found", so one tenant cannot learn another's user names. Last
        use is written in batches by the store (about a second late).
        """
        where = [_K.access_key_id == access_key_id, _K.expires_at.is_(None), _P.kind == "user"]
        if account_id is not None:
            where.append(_P.account_id == account_check(account_id))

        async def q(conn: AsyncConnection) -> AccessKeyLastUsed:
            row = (
                await conn.execute(
                    sa.select(
                        principals.c.name,
                        _K.last_used_at,
                        _K.last_used_service,
                        _K.last_used_region,
                    )
                    .select_from(access_keys.join(principals))
                    .where(*where)
                )
            ).first()
            if row is None:
                raise NoSuchEntity(f"The Access Key with id {access_key_id} cannot be found.")
            return AccessKeyLastUsed(
                user_name=row[0], last_used_date=row[1], service_name=row[2], region=row[3]
            )

        return await self._read(q)
