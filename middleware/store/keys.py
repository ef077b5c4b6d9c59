"""Every key-management operation, written once over SQLAlchemy Core.

:class:`KeyAdmin` implements :class:`~.protocols.KeyManager` for both
databases: the principals (:class:`~.principals.PrincipalAdmin`), the keys
(here) and the master key (:class:`~.masterkeys.MasterKeyAdmin`). A backend
(:mod:`.sqlite`, :mod:`.postgres`) supplies the transport (``_read``,
``_write``; see :mod:`.principals`) and the cache it evicts from.

Imports: SQLAlchemy, :mod:`.schema`, :mod:`.principals`, :mod:`.masterkeys`,
:mod:`.keygen`, the store entities.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.ext.asyncio import AsyncConnection

from .entities import (
    MAX_KEYS_PER_PRINCIPAL,
    AccessKeyInfo,
    KeyStatus,
    NewAccessKey,
    RotationResult,
    SessionCredentials,
)
from .entities import store_time as _now
from .errors import KeyLimitExceededError, KeyNotFoundError, PrincipalNotFoundError, StoreError
from .keygen import (
    LONG_TERM_PREFIX,
    TEMPORARY_PREFIX,
    hash_session_token,
    new_access_key_id,
    new_secret_access_key,
    new_session_token,
    validate_session_duration,
)
from .masterkeys import MasterKeyAdmin, foreign_envelopes
from .principals import IN_ACCOUNT, Op, PrincipalAdmin, bytewise
from .schema import UTCDateTime, access_keys, principals, sessions

__all__ = ["LOOKUP_ID_RE", "KeyAdmin", "Op", "foreign_envelopes", "last_used_update"]

# Ids this store answers for: its own AKIA/ASIA ids and imported ids (IAM's
# AccessKeyId is [\w]+, up to 128 characters). Anything else is unknown
# without touching the database or the cache.
LOOKUP_ID_RE = re.compile(r"[A-Za-z0-9_]{3,128}")

_K, _P = access_keys.c, principals.c
_INFO_COLUMNS = (
    _K.access_key_id,
    _P.name,
    _K.status,
    _K.created_at,
    _K.expires_at,
    _K.last_used_at,
    _K.last_used_region,
    _K.last_used_service,
)
_KEYS_WITH_OWNER = access_keys.join(principals, _K.principal_id == _P.principal_id)


def _info(row: Any) -> AccessKeyInfo:
    return AccessKeyInfo(
        access_key_id=row[0],
        principal=row[1],
        status=KeyStatus(row[2]),
        created_at=row[3],
        expires_at=row[4],
        last_used_at=row[5],
        last_used_region=row[6],
        last_used_service=row[7],
    )


async def _key_info(conn: AsyncConnection, access_key_id: str) -> AccessKeyInfo | None:
    query = sa.select(*_INFO_COLUMNS).select_from(_KEYS_WITH_OWNER)
    row = (await conn.execute(query.where(_K.access_key_id == access_key_id))).first()
    return None if row is None else _info(row)


def _insert_or_skip(conn: AsyncConnection, table: sa.Table) -> Any:
    # ON CONFLICT DO NOTHING rather than catching the violation: on
    # PostgreSQL an error aborts the whole transaction.
    dialect = pg_dialect if conn.dialect.name == "postgresql" else sqlite_dialect
    return dialect.insert(table).on_conflict_do_nothing()


def last_used_update() -> sa.Update:
    """The batched last-used write: one row per key, never moving last-used back."""
    at = sa.bindparam("at", type_=UTCDateTime())
    return (
        sa.update(access_keys)
        .where(_K.access_key_id == sa.bindparam("kid"))
        .where(sa.or_(_K.last_used_at.is_(None), _K.last_used_at < at))
        .values(
            last_used_at=at,
            last_used_region=sa.bindparam("region"),
            last_used_service=sa.bindparam("service"),
        )
    )


def _check_import(access_key_id: str, secret_access_key: str) -> None:
    if not isinstance(access_key_id, str) or not LOOKUP_ID_RE.fullmatch(access_key_id):
        raise StoreError(
            f"invalid access key id {access_key_id!r}: use 3 to 128 of A-Z, a-z, 0-9, _"
        )
    if access_key_id.startswith(TEMPORARY_PREFIX):
        raise StoreError("ASIA access key ids are reserved for temporary credentials")
    if (
        not isinstance(secret_access_key, str)
        or not 1 <= len(secret_access_key) <= 128
        or not secret_access_key.isprintable()
    ):
        raise StoreError("a secret access key is 1 to 128 printable characters")


class KeyAdmin(PrincipalAdmin, MasterKeyAdmin):
    """:class:`~.protocols.KeyManager` over SQLAlchemy Core; see the module docstring."""

    # Each backend's writer of the batched last-used notes (SQLiteKeyStore.flush,
    # PostgresKeyStore.flush).
    flush: Callable[[], Awaitable[None]]

    async def _flush_before_delete(self) -> None:
        # Uses noted for a key are written with its owner's per-service record
        # by the batched flush, which finds the owner through the key: write
        # them before the key goes, or a use just before the delete is lost.
        await self.flush()

    @staticmethod
    async def _long_term_ids(conn: AsyncConnection, pid: str) -> list[str]:
        rows = await conn.execute(
            sa.select(_K.access_key_id)
            .where(_K.principal_id == pid, _K.expires_at.is_(None))
            .order_by(_K.created_at.desc(), _K.id.desc())
        )
        return list(rows.scalars())

    async def _check_limit(self, conn: AsyncConnection, pid: str, name: str) -> None:
        existing = await self._long_term_ids(conn, pid)
        if len(existing) >= MAX_KEYS_PER_PRINCIPAL:
            raise KeyLimitExceededError(
                f"principal {name!r} already has {len(existing)} access keys "
                f"({', '.join(existing)}); at most {MAX_KEYS_PER_PRINCIPAL} are allowed: "
                "delete one, or rotate"
            )

    async def _insert_key(
        self,
        conn: AsyncConnection,
        *,
        pid: str,
        created_at: datetime,
        prefix: str = LONG_TERM_PREFIX,
        access_key_id: str | None = None,
        secret: str | None = None,
        expires_at: datetime | None = None,
        token_sha256: str | None = None,
    ) -> tuple[str, str]:
        secret = new_secret_access_key() if secret is None else secret
        sealing = await self._sealing_key(conn)
        for _attempt in range(5):
            kid = new_access_key_id(prefix) if access_key_id is None else access_key_id
            result = await conn.execute(
                _insert_or_skip(conn, access_keys)
                .values(
                    access_key_id=kid,
                    principal_id=pid,
                    status=KeyStatus.ACTIVE.value,
                    secret_envelope=sealing.seal(secret, access_key_id=kid),
                    master_key_id=sealing.key_id,
                    created_at=created_at,
                    expires_at=expires_at,
                    session_token_sha256=token_sha256,
                )
                .returning(_K.id)
            )
            if result.first() is not None:
                return kid, secret
            if access_key_id is not None:
                raise StoreError(f"access key {access_key_id} already exists")
        raise StoreError("could not allocate a unique access key id")  # pragma: no cover

    # -- keys -------------------------------------------------------------------------

    async def create_key(self, principal: str, *, now: datetime | None = None) -> NewAccessKey:
        """A new active ``AKIA`` key; the returned secret is never readable again.

        Raises :class:`PrincipalNotFoundError` and :class:`KeyLimitExceededError`.
        """
        at = _now(now)

        async def create(conn: AsyncConnection) -> tuple[str, str]:
            pid = await self._require_principal(conn, principal)
            await self._check_limit(conn, pid, principal)
            return await self._insert_key(conn, pid=pid, created_at=at)

        kid, secret = await self._write(create)
        self._cache.evict([kid])
        return NewAccessKey(
            access_key_id=kid,
            secret_access_key=secret,
            principal=principal,
            status=KeyStatus.ACTIVE,
            created_at=at,
        )

    async def import_key(
        self,
        principal: str,
        *,
        access_key_id: str,
        secret_access_key: str,
        now: datetime | None = None,
    ) -> AccessKeyInfo:
        """Store an existing long-term key pair (migrating from another system, tests).

        The id must be 3..128 characters of ``A-Za-z0-9_`` and must not start
        with ``ASIA`` (reserved for temporary credentials). Counts toward the
        2-key limit. Raises :class:`StoreError`, :class:`PrincipalNotFoundError`,
        :class:`KeyLimitExceededError`.
        """
        _check_import(access_key_id, secret_access_key)
        at = _now(now)

        async def insert(conn: AsyncConnection) -> None:
            pid = await self._require_principal(conn, principal)
            await self._check_limit(conn, pid, principal)
            await self._insert_key(
                conn, pid=pid, created_at=at, access_key_id=access_key_id, secret=secret_access_key
            )

        await self._write(insert)
        self._cache.evict([access_key_id])
        return AccessKeyInfo(
            access_key_id=access_key_id, principal=principal, status=KeyStatus.ACTIVE, created_at=at
        )

    async def create_session(
        self, principal: str, *, duration_seconds: int, now: datetime | None = None
    ) -> SessionCredentials:
        """Temporary credentials: an ``ASIA`` key, a secret and a session token.

        Valid ``duration_seconds`` (900..129600) from ``now``; the token is
        stored only as its SHA-256. Sessions do not count toward the 2-key
        limit. Raises :class:`StoreError` for a duration out of range and
        :class:`PrincipalNotFoundError`.
        """
        validate_session_duration(duration_seconds)
        at = _now(now)
        token = new_session_token()
        expiration = at + timedelta(seconds=duration_seconds)

        async def create(conn: AsyncConnection) -> tuple[str, str]:
            pid = await self._require_principal(conn, principal)
            kid, secret = await self._insert_key(
                conn,
                pid=pid,
                created_at=at,
                prefix=TEMPORARY_PREFIX,
                expires_at=expiration,
                token_sha256=hash_session_token(token),
            )
            await conn.execute(
                sa.insert(sessions).values(
                    access_key_id=kid, principal_id=pid, issued_at=at, mfa_authenticated=False
                )
            )
            return kid, secret

        kid, secret = await self._write(create)
        self._cache.evict([kid])
        return SessionCredentials(
            access_key_id=kid,
            secret_access_key=secret,
            session_token=token,
            principal=principal,
            expiration=expiration,
        )

    async def get_key_info(self, access_key_id: str) -> AccessKeyInfo | None:
        """Metadata of a key (no secret), or None."""

        return await self._read(lambda conn: _key_info(conn, access_key_id))

    async def list_keys(self, principal: str | None = None) -> list[AccessKeyInfo]:
        """Keys of every principal or of one, by principal then creation time (no secrets).

        Raises :class:`PrincipalNotFoundError` for an unknown ``principal``.
        """

        async def q(conn: AsyncConnection) -> list[AccessKeyInfo]:
            query = sa.select(*_INFO_COLUMNS).select_from(_KEYS_WITH_OWNER).where(IN_ACCOUNT)
            if principal is not None:
                pid = await self._principal_id(conn, principal)
                if pid is None:
                    raise PrincipalNotFoundError(f"no principal named {principal!r}")
                query = query.where(_K.principal_id == pid)
            rows = await conn.execute(query.order_by(bytewise(_P.name, conn), _K.created_at, _K.id))
            return [_info(row) for row in rows]

        return await self._read(q)

    async def set_key_status(self, access_key_id: str, status: KeyStatus) -> AccessKeyInfo:
        """Activate or deactivate a key. Raises :class:`KeyNotFoundError`."""
        status = KeyStatus(status)

        async def update(conn: AsyncConnection) -> AccessKeyInfo:
            await conn.execute(
                sa.update(access_keys)
                .where(_K.access_key_id == access_key_id, _K.status != status.value)
                .values(status=status.value)
            )
            info = await _key_info(conn, access_key_id)
            if info is None:
                raise KeyNotFoundError(f"no access key {access_key_id!r}")
            return info

        info = await self._write(update)
        self._cache.evict([access_key_id])
        return info

    async def activate_key(self, access_key_id: str) -> AccessKeyInfo:
        """Set a key Active. Raises :class:`KeyNotFoundError`."""
        return await self.set_key_status(access_key_id, KeyStatus.ACTIVE)

    async def deactivate_key(self, access_key_id: str) -> AccessKeyInfo:
        """Set a key Inactive (requests signed with it fail). Raises :class:`KeyNotFoundError`."""
        return await self.set_key_status(access_key_id, KeyStatus.INACTIVE)

    async def delete_key(self, access_key_id: str) -> None:
        """Delete a key for good. Raises :class:`KeyNotFoundError`."""
        await self._flush_before_delete()

        async def delete(conn: AsyncConnection) -> None:
            result = await conn.execute(
                sa.delete(access_keys).where(_K.access_key_id == access_key_id)
            )
            if result.rowcount == 0:
                raise KeyNotFoundError(f"no access key {access_key_id!r}")

        await self._write(delete)
        self._cache.evict([access_key_id])

    async def rotate_key(
        self, principal: str, *, keep_previous_active: bool = False, now: datetime | None = None
    ) -> RotationResult:
        """Replace a principal's long-term key, in one transaction.

        1. The principal's most recent long-term key (the *previous* key) is
           kept for rollback: set Inactive, or left as it is with
           ``keep_previous_active`` (a grace period while clients switch;
           deactivate it later).
        2. Its older long-term keys are deleted, so the new key always fits
           within the 2-key limit.
        3. A new Active key is created and returned with its secret.

        Temporary credentials are not touched. A rolled-back previous key can
        be re-activated with :meth:`activate_key`. Raises
        :class:`PrincipalNotFoundError`.
        """
        at = _now(now)
        await self._flush_before_delete()

        async def rotate(conn: AsyncConnection) -> tuple[list[str], str, str]:
            pid = await self._require_principal(conn, principal)
            existing = await self._long_term_ids(conn, pid)
            kept, deleted = existing[:1], existing[1:]
            if deleted:
                await conn.execute(sa.delete(access_keys).where(_K.access_key_id.in_(deleted)))
            if kept and not keep_previous_active:
                await conn.execute(
                    sa.update(access_keys)
                    .where(_K.access_key_id == kept[0])
                    .values(status=KeyStatus.INACTIVE.value)
                )
            kid, secret = await self._insert_key(conn, pid=pid, created_at=at)
            return existing, kid, secret

        existing, kid, secret = await self._write(rotate)
        self._cache.evict([kid, *existing])
        return RotationResult(
            new_key=NewAccessKey(
                access_key_id=kid,
                secret_access_key=secret,
                principal=principal,
                status=KeyStatus.ACTIVE,
                created_at=at,
            ),
            kept=tuple(existing[:1]),
            deleted=tuple(existing[1:]),
        )

    async def delete_expired_sessions(self, *, now: datetime | None = None) -> int:
        """Delete temporary credentials whose expiry has passed; returns the count."""
        at = _now(now)
        await self._flush_before_delete()

        async def delete(conn: AsyncConnection) -> list[str]:
            expired = _K.expires_at.is_not(None) & (_K.expires_at <= at)
            ids = list((await conn.execute(sa.select(_K.access_key_id).where(expired))).scalars())
            if ids:
                await conn.execute(sa.delete(access_keys).where(_K.access_key_id.in_(ids)))
            return ids

        ids = await self._write(delete)
        self._cache.evict(ids)
        return len(ids)
