"""The key store: one implementation over SQLAlchemy Core for SQLite and PostgreSQL.

Modules, in the order a request meets them:

* :mod:`.url`: :func:`~.url.open_store` (a URL to a backend);
* :mod:`.base`: :class:`SQLKeyStore`, the request path both backends share
  (the lookup compiled from the tables, the cache, last-used notes);
* :mod:`.keys`: every key-management operation, written once;
* :mod:`.schema`: the tables (accounts, principals, keys, sessions and the
  IAM tables to come), once; :mod:`.migrate` and ``migrations/``: their
  Alembic history;
* :mod:`.engine`: engines and connections, dialect quirks, error mapping;
* :mod:`.masterkeys`: which master key opens which secret;
* :mod:`.sqlite`, :mod:`.postgres`: the backends (connections, background
  work); :mod:`.pg_listen`: PostgreSQL's ``LISTEN/NOTIFY`` invalidation.

What every backend shares, free of SQLAlchemy: :mod:`.errors` (the error
tree), :mod:`.entities` (principals, keys, credentials, quotas),
:mod:`.protocols` (:class:`~.protocols.AccessKeyStore`,
:class:`~.protocols.KeyManager`), :mod:`.secrets` (the master key and the
AES-GCM envelope), :mod:`.keygen` (key ids, secrets, tokens),
:mod:`.cache` (the lookup cache, last-used batches) and :mod:`.memory`
(:class:`~.memory.MemoryKeyStore`, for tests).

Imports: the core (``sigv4kit``), SQLAlchemy, Alembic, the drivers.
Nothing here imports the ASGI side or IAM.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import load as _load

if TYPE_CHECKING:
    from .base import SQLKeyStore
    from .postgres import POSTGRES_SCHEMA_VERSION, PostgresKeyStore
    from .sqlite import SCHEMA_VERSION, SQLiteKeyStore

__all__ = [
    "POSTGRES_SCHEMA_VERSION",
    "SCHEMA_VERSION",
    "PostgresKeyStore",
    "SQLKeyStore",
    "SQLiteKeyStore",
]

# Loaded on first use, so the SQLAlchemy-free modules (errors, entities,
# protocols, secrets, keygen, cache, memory) import without SQLAlchemy.
_LAZY = {
    "POSTGRES_SCHEMA_VERSION": ".postgres",
    "PostgresKeyStore": ".postgres",
    "SCHEMA_VERSION": ".sqlite",
    "SQLKeyStore": ".base",
    "SQLiteKeyStore": ".sqlite",
}


def __getattr__(name: str) -> object:
    return _load(__name__, _LAZY, name, globals())
