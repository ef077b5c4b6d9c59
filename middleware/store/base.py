"""What both backends share on the request path: the lookup, the cache, last-used notes.

The lookup is the one query SQLAlchemy does not run: it is built here from
the tables, compiled once per dialect (:func:`lookup_sql`) and executed on
the raw driver connection (sqlite3, psycopg), because SQLAlchemy's async
layer would triple a cache miss's cost (see docs/store.md, Performance).

Imports: SQLAlchemy, :mod:`.schema`, :mod:`.keys`, :mod:`.masterkeys`,
:mod:`.cache`, the core's :class:`~sigv4kit.KeyRecord`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from sigv4kit import KeyRecord

from .cache import KeyCache, KeyUse, UseBatch
from .entities import KeyStatus
from .keys import LOOKUP_ID_RE, KeyAdmin
from .masterkeys import MasterKeys
from .schema import ENVELOPE, access_keys, principals, to_utc

__all__ = ["SQLKeyStore", "lookup_sql"]

_LOOKUP = (
    sa.select(
        principals.c.name,
        access_keys.c.status,
        ENVELOPE,
        access_keys.c.expires_at,
        access_keys.c.session_token_sha256,
    )
    .select_from(access_keys.join(principals))
    .where(access_keys.c.access_key_id == sa.bindparam("kid"))
)


def lookup_sql(dialect: sa.Dialect) -> str:
    """The hot-path lookup as SQL for ``dialect`` (one parameter: the key id)."""
    return str(_LOOKUP.compile(dialect=dialect))


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
        self._uses = UseBatch()
        self._flush_interval = flush_interval
        self._clock = clock
        self._closed = False

    _keys: MasterKeys

    @staticmethod
    def _wanted(access_key_id: object) -> bool:
        return isinstance(access_key_id, str) and LOOKUP_ID_RE.fullmatch(access_key_id) is not None

    def _record(self, access_key_id: str, row: Sequence[Any] | None) -> KeyRecord | None:
        if row is None:
            return None
        name, status, envelope, expires_at, token_sha256 = row
        return KeyRecord(
            access_key_id=access_key_id,
            secret_access_key=self._keys.open(bytes(envelope), access_key_id),
            principal=name,
            active=status == KeyStatus.ACTIVE.value,
            session_token_sha256=token_sha256,
            expires_at=to_utc(expires_at),
        )

    def _note(self, access_key_id: str, at: datetime, region: str, service: str) -> bool:
        if self._closed or at.tzinfo is None:
            return False
        self._uses.add(access_key_id, KeyUse(at, str(region)[:64], str(service)[:64]))
        return True

    @staticmethod
    def _use_rows(batch: dict[str, KeyUse]) -> list[dict[str, Any]]:
        return [
            {"kid": kid, "at": u.at, "region": u.region, "service": u.service}
            for kid, u in batch.items()
        ]
