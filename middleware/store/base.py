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

from .cache import KeyCache, KeyUse, UseBatch
from .entities import KeyStatus, PrincipalKind, StoredKey
from .keys import LOOKUP_ID_RE, KeyAdmin
from .masterkeys import MasterKeys
from .schema import ENVELOPE, access_keys, principals, sessions, to_utc

__all__ = ["SQLKeyStore", "lookup_sql"]

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
    def _use_rows(batch: dict[str, KeyUse]) -> list[dict[str, Any]]:
        return [
            {"kid": kid, "at": u.at, "region": u.region, "service": u.service}
            for kid, u in batch.items()
        ]
