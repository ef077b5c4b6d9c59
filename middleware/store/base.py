"""What both backends share on the request path: the lookup, the cache, last-used notes.

Last-used notes are written in batches (:meth:`SQLKeyStore._use_writes`):
one statement for each key's last use (``access_keys.last_used_*``) and one
upsert for the last use per principal and service (``service_last_used``),
in the same transaction, so the request path never waits for the database.

The lookup is the one query SQLAlchemy does not run: it is built here from
the tables, compiled once per dialect (:func:`lookup_sql`) and executed on
the raw driver connection (sqlite3, psycopg), because SQLAlchemy's async
layer would triple a cache miss's cost (see docs/store.md, Performance).

Imports: SQLAlchemy, :mod:`.schema`, :mod:`.keys`, :mod:`.masterkeys`,
:mod:`.cache`, the core's :class:`~sigv4kit.KeyRecord`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect

from .cache import KeyCache, KeyUse, ServiceUseBatch
from .entities import KeyStatus, PrincipalKind, StoredKey
from .keys import LOOKUP_ID_RE, KeyAdmin, last_used_update
from .masterkeys import MasterKeys
from .schema import (
    ENVELOPE,
    UTCDateTime,
    access_keys,
    principals,
    service_last_used,
    sessions,
    to_utc,
)

__all__ = ["SQLKeyStore", "lookup_sql", "service_use_upsert"]

# One row per key: the secret, the holder (account, id, kind, path, root)
# and, for temporary keys, the session (an outer join on its primary key).
_LOOKUP = (
    sa.select(
        principals.c.name,
        access_keys.c.status,
        ENVELOPE,
        access_keys.c.expires_at,
        access_keys.c.session_token_sha256,
        principals.c.account_id,
        principals.c.principal_id,
        principals.c.kind,
        principals.c.path,
        principals.c.is_root,
        sessions.c.issued_at,
        sessions.c.role_session_name,
        sessions.c.mfa_authenticated,
    )
    .select_from(
        access_keys.join(principals).outerjoin(
            sessions, sessions.c.access_key_id == access_keys.c.access_key_id
        )
    )
    .where(access_keys.c.access_key_id == sa.bindparam("kid"))
)


def lookup_sql(dialect: sa.Dialect) -> str:
    """The hot-path lookup as SQL for ``dialect`` (one parameter: the key id)."""
    return str(_LOOKUP.compile(dialect=dialect))


def service_use_upsert(dialect_name: str) -> sa.Insert:
    """The batched per-service write: the key's owner's row for the service, never moved back.

    ``INSERT ... SELECT`` finds the owner from the key (a role session's key
    belongs to the role), so the request path needs no principal id; a key
    deleted before the flush writes nothing. Parameters as :func:`last_used_update`.
    """
    u = service_last_used.c
    owner = sa.select(
        access_keys.c.principal_id,
        sa.cast(sa.bindparam("service"), sa.String(64)),
        sa.bindparam("at", type_=UTCDateTime()),
        sa.cast(sa.bindparam("region"), sa.String(64)),
    ).where(access_keys.c.access_key_id == sa.bindparam("kid"))
    columns = [u.principal_id, u.service, u.last_used_at, u.last_used_region]
    primary_key = [u.principal_id, u.service]
    if dialect_name == "postgresql":
        pg = pg_dialect.insert(service_last_used).from_select(columns, owner)
        return pg.on_conflict_do_update(
            index_elements=primary_key, set_=_newer(pg.excluded),
            where=u.last_used_at < pg.excluded.last_used_at,
        )
    lite = sqlite_dialect.insert(service_last_used).from_select(columns, owner)
    return lite.on_conflict_do_update(
        index_elements=primary_key, set_=_newer(lite.excluded),
        where=u.last_used_at < lite.excluded.last_used_at,
    )


def _newer(excluded: Any) -> dict[str, Any]:
    # The row proposed by the INSERT: taken only when it is later (the WHERE).
    return {"last_used_at": excluded.last_used_at,
            "last_used_region": excluded.last_used_region}


class SQLKeyStore(KeyAdmin):
    """The one key store: :class:`~.keys.KeyAdmin` plus the shared request path.

    Backends (:class:`~.sqlite.SQLiteKeyStore`, :class:`~.postgres.PostgresKeyStore`)
    add connections, the lookup's transport and cross-process invalidation.
    """

    def __init__(
        self,
        *,
        cache_ttl: float,
        negative_cache_ttl: float,
        cache_size: int,
        negative_cache_size: int,
        flush_interval: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._cache = KeyCache(
            ttl=cache_ttl,
            negative_ttl=negative_cache_ttl,
            size=cache_size,
            negative_size=negative_cache_size,
        )
        self._uses = ServiceUseBatch()
        self._flush_interval = flush_interval
        self._clock = clock
        self._closed = False

    _keys: MasterKeys

    @staticmethod
    def _wanted(access_key_id: object) -> bool:
        return isinstance(access_key_id, str) and LOOKUP_ID_RE.fullmatch(access_key_id) is not None

    def _record(self, access_key_id: str, row: Sequence[Any] | None) -> StoredKey | None:
        if row is None:
            return None
        (name, status, envelope, expires_at, token_sha256, account_id, principal_id,
         kind, path, is_root, issued_at, session_name, mfa) = row  # fmt: skip
        return StoredKey(
            access_key_id=access_key_id,
            secret_access_key=self._keys.open(bytes(envelope), access_key_id),
            principal=name,
            active=status == KeyStatus.ACTIVE.value,
            session_token_sha256=token_sha256,
            expires_at=to_utc(expires_at),
            account_id=account_id,
            principal_id=principal_id,
            principal_kind=PrincipalKind(kind),
            principal_path=path,
            root=bool(is_root),
            session_issued_at=to_utc(issued_at),
            session_name=session_name,
            mfa_authenticated=bool(mfa),
        )

    def _note(self, access_key_id: str, at: datetime, region: str, service: str) -> bool:
        if self._closed or at.tzinfo is None:
            return False
        self._uses.add(access_key_id, KeyUse(at, str(region)[:64], str(service)[:64]))
        return True

    @staticmethod
    def _use_writes(
        batch: dict[tuple[str, str], KeyUse], dialect_name: str
    ) -> list[tuple[sa.Executable, list[dict[str, Any]]]]:
        """The statements and rows that write a taken batch, in one transaction.

        Rows go in key id order, so two processes flushing the same keys lock
        their rows in the same order. (A deadlock PostgreSQL still finds
        between per-service rows aborts one flush, whose batch is put back
        and written at the next.)
        """

        def rows(notes: Iterable[tuple[str, KeyUse]]) -> list[dict[str, Any]]:
            return [{"kid": kid, "at": u.at, "region": u.region, "service": u.service}
                    for kid, u in notes]

        per_key = ServiceUseBatch.latest_per_key(batch)
        return [
            (last_used_update(), rows(sorted(per_key.items(), key=lambda item: item[0]))),
            (service_use_upsert(dialect_name),
             rows((kid, batch[kid, service]) for kid, service in sorted(batch))),
        ]
