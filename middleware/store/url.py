"""Store URLs: :func:`open_store` and the ``sqlite:///`` path rule.

Imports: the store entities and errors; the backends lazily (opening a
SQLite store never imports the PostgreSQL driver).
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

from .errors import StoreError, StoreNotFoundError, StoreUnavailableError
from .protocols import AccessKeyStore

__all__ = ["open_store", "sqlite_path_from_url"]


def open_store(url: str, *, create: bool = True) -> AccessKeyStore:
    """Open a store from its URL.

    * ``sqlite:///relative/path.db`` — a path relative to the working directory;
    * ``sqlite:////absolute/path.db`` — an absolute path;
    * ``postgresql://user@host:5432/db?schema=name`` — PostgreSQL
      (:class:`~.postgres.PostgresKeyStore`; ``schema`` defaults to ``public``,
      other query parameters are libpq's).

    The master key comes from ``SIGV4KIT_MASTER_KEY`` or
    ``SIGV4KIT_MASTER_KEY_FILE``; for SQLite with neither, from a key file
    beside the database (``<db>.key``, created on first use). PostgreSQL
    requires one of the two variables.

    With ``create=False`` the store must already exist (the SQLite file, or
    the PostgreSQL schema with its ``schema_migrations`` table): nothing is
    created, not even a key file, and :class:`StoreNotFoundError` names the
    path or schema. Every ``sigv4kit`` command except ``keys create`` opens
    its store so, and so should a service that must not start on a typo.

    ```python
    store = open_store("sqlite:///var/lib/myservice/keys.db")
    ```

    Raises :class:`StoreError` for a URL whose scheme no backend handles or
    that is malformed, :class:`MasterKeyError` for a bad master key,
    :class:`SecretDecryptionError` when the stored keys were encrypted under a
    different master key, :class:`StoreUnavailableError` when the database
    cannot be opened (or, with ``create=False``, checked).
    """
    if not isinstance(url, str) or not url:
        raise StoreError("the store URL is empty; expected e.g. sqlite:///sigv4kit.db")
    scheme, sep, _rest = url.partition("://")
    scheme = scheme.lower()
    if not sep:
        raise StoreError(f"store URL {url!r} has no scheme; expected sqlite:///path/to/keys.db")
    if scheme == "sqlite":
        from .sqlite import SQLiteKeyStore

        path = sqlite_path_from_url(url)
        if not create and not os.path.isfile(path):
            raise StoreNotFoundError(f"no key store at {path!r}: the file does not exist")
        return SQLiteKeyStore(path)
    if scheme in {"postgresql", "postgres"} or scheme.startswith("postgresql+"):
        from .postgres import PostgresKeyStore

        store = PostgresKeyStore(url)
        if not create:
            _require_postgres_store(url)
        return store
    raise StoreError(
        f"no access-key store backend handles the URL scheme {scheme!r} "
        "(supported: sqlite:///relative/path.db, sqlite:////absolute/path.db, "
        "postgresql://user@host/db?schema=name)"
    )


def sqlite_path_from_url(url: str) -> str:
    """The file path of a ``sqlite:///...`` URL (SQLAlchemy's convention).

    Three slashes then a relative path; four slashes (three then ``/``) for an
    absolute path. Raises :class:`StoreError` for a host, query or fragment
    part or an empty path.
    """
    parts = urlsplit(url)
    if parts.scheme.lower() != "sqlite":
        raise StoreError(f"not a sqlite URL: {url!r}")
    if parts.netloc:
        raise StoreError(
            f"sqlite URL {url!r} names a host ({parts.netloc!r}); use sqlite:///relative.db "
            "or sqlite:////absolute/path.db"
        )
    if parts.query or parts.fragment or "?" in url or "#" in url:
        raise StoreError(f"sqlite URL {url!r} has a query or fragment, which is not supported")
    if not parts.path.startswith("/") or len(parts.path) < 2:
        raise StoreError(f"sqlite URL {url!r} has no database path; expected sqlite:///keys.db")
    path = parts.path[1:]
    if path in {":memory:", ""} or path.endswith("/"):
        raise StoreError(
            f"sqlite URL {url!r} does not name a database file (in-memory databases "
            "cannot be shared between connections)"
        )
    return path


def _require_postgres_store(url: str) -> None:
    """Raise :class:`StoreNotFoundError` unless the URL's schema holds a store.

    Every store's schema has the ``schema_migrations`` table (the baseline
    revision creates it, Alembic's later revisions keep it); a mistyped
    ``?schema=`` has none (or does not exist).
    """
    from .engine import describe, postgres_conninfo_from_url, require_psycopg

    psycopg = require_psycopg()
    conninfo, schema = postgres_conninfo_from_url(url)
    try:
        with psycopg.connect(conninfo, autocommit=True, connect_timeout=10) as conn:
            row = conn.execute(
                "SELECT to_regclass(%s)", (f"{schema}.schema_migrations",)
            ).fetchone()
    except psycopg.Error as exc:
        raise StoreUnavailableError(f"key database error: {describe(exc)}") from None
    if row is None or row[0] is None:
        parts = urlsplit(url)
        # Never the whole URL: it may carry a password.
        where = f"{parts.hostname or 'localhost'}{parts.path or ''}"
        raise StoreNotFoundError(
            f"no key store in schema {schema!r} of the PostgreSQL database {where!r}"
        )
