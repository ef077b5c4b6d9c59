"""Connections to the store's database: the one place for dialect quirks and errors.

* SQLite: the file is created private (0600); every connection sets a busy
  timeout and foreign keys, and the database runs in WAL mode (set once, by
  the first connection, retried while another process holds the lock).
  SQLAlchemy's pysqlite and aiosqlite drivers would otherwise let Python's
  sqlite3 module decide when a transaction starts; here every transaction
  starts with an explicit ``BEGIN`` (``BEGIN IMMEDIATE`` on the writer
  engine, so a count-then-insert cannot be raced by another process).
* PostgreSQL: every connection (SQLAlchemy's pool, the lookup pool, the
  listener) is made by :func:`postgres_connect` with the same settings:
  ``search_path`` from ``?schema=``, UTC, a ``statement_timeout`` (a query
  stuck behind a lock fails closed instead of hanging a request), an
  ``application_name`` an operator can find, and TCP keepalives.
* Errors: :func:`unavailable` turns a driver or pool failure into
  :class:`StoreUnavailableError` (the middleware answers 503: fail closed),
  with libpq's first line only (details may quote row values).

Imports: SQLAlchemy, the drivers (psycopg lazily), the store errors.
"""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from .errors import StoreError, StoreUnavailableError

if TYPE_CHECKING:
    from psycopg import AsyncConnection
    from psycopg_pool import AsyncConnectionPool

__all__ = [
    "postgres_async_engine",
    "postgres_connect",
    "postgres_conninfo_from_url",
    "postgres_lookup_pool",
    "sqlite_async_engine",
    "sqlite_connect",
    "sqlite_sync_engine",
    "unavailable",
    "unavailable_error",
]

# 63 bytes is PostgreSQL's identifier limit; the notification channel is
# "sigv4kit_keys." plus the schema name, so the schema gets 49.
_SCHEMA_RE = re.compile(r"[a-z_][a-z0-9_]{0,48}")
#: Execution option: start SQLite transactions with BEGIN IMMEDIATE.
WRITE = "sigv4kit_write"


# -- SQLite ---------------------------------------------------------------------------


def sqlite_connect(path: Path, busy_timeout: float) -> sqlite3.Connection:
    """A raw sqlite3 connection, autocommit, with the store's PRAGMAs (creates the file)."""
    _create_private(path)
    try:
        conn = sqlite3.connect(
            path, timeout=busy_timeout, isolation_level=None, check_same_thread=False
        )
    except sqlite3.Error as exc:
        raise StoreUnavailableError(f"cannot open the key database {str(path)!r}: {exc}") from None
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
        mode = _enable_wal(conn, busy_timeout)
        if mode.lower() != "wal":
            raise StoreUnavailableError(
                f"the key database {str(path)!r} cannot use WAL mode (got {mode!r})"
            )
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
    except sqlite3.Error as exc:
        conn.close()
        raise StoreUnavailableError(f"cannot open the key database {str(path)!r}: {exc}") from None
    except BaseException:
        conn.close()
        raise
    return conn


def _create_private(path: Path) -> None:
    if path.exists():
        return
    # The database holds sealed secrets and metadata: private by default.
    # SQLite gives its -wal and -shm files the same mode.
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass  # another process created it first
    except FileNotFoundError:
        raise StoreUnavailableError(
            f"cannot create the key database {str(path)!r}: its directory does not exist"
        ) from None
    except OSError as exc:
        raise StoreUnavailableError(
            f"cannot create the key database {str(path)!r}: {exc.strerror or exc}"
        ) from None


def _enable_wal(conn: sqlite3.Connection, busy_timeout: float) -> str:
    # Switching a fresh database to WAL takes an exclusive lock, and SQLite
    # answers "database is locked" at once, without its busy handler, when
    # another process is doing the same: retry until the busy timeout.
    deadline = time.monotonic() + busy_timeout
    delay = 0.005
    while True:
        try:
            return str(conn.execute("PRAGMA journal_mode = WAL").fetchone()[0])
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            if time.monotonic() >= deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.1)


def _explicit_begin(engine: sa.Engine) -> None:
    @event.listens_for(engine, "begin")
    def begin(conn: sa.Connection) -> None:
        immediate = conn.get_execution_options().get(WRITE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def sqlite_sync_engine(path: Path, busy_timeout: float) -> sa.Engine:
    """Blocking engine: migrations at open, the background thread's writes."""
    engine = sa.create_engine(
        "sqlite+pysqlite://",
        creator=lambda: sqlite_connect(path, busy_timeout),
        poolclass=sa.pool.NullPool,
    )
    _explicit_begin(engine)
    return engine


def sqlite_async_engine(path: Path, busy_timeout: float) -> AsyncEngine:
    """The administration engine (aiosqlite).

    No pool: a store may be used from several event loops in turn (scripts
    calling ``asyncio.run`` twice, a forked worker), and an aiosqlite
    connection is a thread of its own, cheap to open for a rare admin call.
    """
    import aiosqlite

    async def connect() -> Any:
        _create_private(path)
        conn = await aiosqlite.connect(path, timeout=busy_timeout, isolation_level=None)
        try:
            await conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
            await conn.execute("PRAGMA synchronous = NORMAL")
            await conn.execute("PRAGMA foreign_keys = ON")
        except BaseException:
            await conn.close()
            raise
        return conn

    engine = create_async_engine(
        "sqlite+aiosqlite://", async_creator=connect, poolclass=sa.pool.NullPool
    )
    _explicit_begin(engine.sync_engine)

    @event.listens_for(engine.sync_engine, "connect")
    def autocommit_driver(dbapi_connection: Any, _record: Any) -> None:
        # Leave BEGIN to _explicit_begin (SQLAlchemy's aiosqlite recipe).
        dbapi_connection.isolation_level = None

    return engine


# -- PostgreSQL -------------------------------------------------------------------------


def postgres_conninfo_from_url(url: str) -> tuple[str, str]:
    """``(libpq URL, schema)`` of a ``postgresql://`` store URL.

    ``postgres://`` and ``postgresql+psycopg://`` are accepted as aliases;
    the sigv4kit-specific query parameter ``schema`` (default ``public``) is
    removed, every other parameter is libpq's. Raises :class:`StoreError`.
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in {"postgresql", "postgres"} and not scheme.startswith("postgresql+"):
        raise StoreError("not a postgresql:// store URL")
    query = parse_qsl(parts.query, keep_blank_values=True)
    schemas = [value for name, value in query if name == "schema"]
    if len(schemas) > 1:
        raise StoreError("the store URL gives schema= more than once")
    schema = schemas[0] if schemas else "public"
    if not _SCHEMA_RE.fullmatch(schema):
        raise StoreError(
            f"invalid schema name {schema!r}: use 1 to 49 of a-z, 0-9 and _, "
            "not starting with a digit"
        )
    rest = urlencode([(n, v) for n, v in query if n != "schema"])
    return urlunsplit(("postgresql", parts.netloc, parts.path, rest, parts.fragment)), schema


def require_psycopg() -> Any:
    """The psycopg module, or a :class:`StoreError` naming the extra to install."""
    try:
        import psycopg
        import psycopg_pool  # noqa: F401
    except ImportError:  # pragma: no cover - the extra is installed in dev
        raise StoreError(
            "postgresql:// stores need psycopg 3: pip install 'sigv4kit[postgres]'"
        ) from None
    return psycopg


def _connect_kwargs(schema: str, timeout: float) -> dict[str, Any]:
    return {
        "connect_timeout": max(2, round(timeout)),
        "options": f"-c search_path={schema} -c TimeZone=UTC "
        f"-c statement_timeout={max(1000, round(timeout * 1000))}",
        "application_name": f"sigv4kit/{schema}",
        # A dead peer must not look alive for the kernel's default 2 hours.
        "keepalives": 1,
        "keepalives_idle": 5,
        "keepalives_interval": 2,
        "keepalives_count": 2,
    }


async def postgres_connect(
    conninfo: str, schema: str, timeout: float, *, autocommit: bool
) -> AsyncConnection[Any]:
    """A raw psycopg connection with the store's settings (the listener's)."""
    psycopg = require_psycopg()
    conn: AsyncConnection[Any] = await psycopg.AsyncConnection.connect(
        conninfo, autocommit=autocommit, **_connect_kwargs(schema, timeout)
    )
    return conn


def postgres_async_engine(conninfo: str, schema: str, timeout: float) -> AsyncEngine:
    """The administration engine; connections made by :func:`postgres_connect`."""
    require_psycopg()
    return create_async_engine(
        "postgresql+psycopg://",
        async_creator=lambda: postgres_connect(conninfo, schema, timeout, autocommit=False),
        pool_size=2,
        max_overflow=2,
        pool_timeout=timeout,
        # A connection killed by a restart or pg_terminate_backend is found
        # out on checkout, not by the statement.
        pool_pre_ping=True,
    )


def postgres_lookup_pool(
    conninfo: str, schema: str, timeout: float, max_size: int
) -> AsyncConnectionPool[Any]:
    """The request path's pool (raw psycopg: a cache miss is one round trip)."""
    require_psycopg()
    import psycopg_pool

    return psycopg_pool.AsyncConnectionPool(
        conninfo,
        min_size=1,
        max_size=max_size,
        kwargs={"autocommit": True, **_connect_kwargs(schema, timeout)},
        timeout=timeout,
        check=psycopg_pool.AsyncConnectionPool.check_connection,
        open=False,
        name="sigv4kit-keys",
    )


# -- errors -------------------------------------------------------------------------------


def describe(exc: BaseException) -> str:
    """The first line of a driver error (libpq's details may quote row values)."""
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def unavailable_error(exc: BaseException, timeout: float | None = None) -> StoreError | None:
    """The store error for a driver/pool failure, or None when ``exc`` is not one."""
    if isinstance(exc, StoreError):
        return None
    name = type(exc).__name__
    if isinstance(exc, sa.exc.TimeoutError) or name == "PoolTimeout":
        waited = "" if timeout is None else f" within {timeout:g} s"
        return StoreUnavailableError(f"the key database did not answer{waited}")
    # statement_timeout: psycopg's QueryCanceled, raw or wrapped by SQLAlchemy.
    if "QueryCanceled" in {name, type(getattr(exc, "orig", None)).__name__}:
        return StoreUnavailableError("a key database query timed out")
    if isinstance(exc, sa.exc.IntegrityError):
        return StoreError(f"the key database refused a change: {describe(exc)}")
    if isinstance(exc, sa.exc.DBAPIError | sa.exc.OperationalError | sqlite3.Error):
        return StoreUnavailableError(f"key database error: {describe(exc)}")
    if type(exc).__module__.startswith(("psycopg", "psycopg_pool")):
        return StoreUnavailableError(f"key database error: {describe(exc)}")
    return None


@contextlib.contextmanager
def unavailable(timeout: float | None = None) -> Iterator[None]:
    """Re-raise driver and pool failures as :class:`StoreUnavailableError` (fail closed)."""
    try:
        yield
    except Exception as exc:
        mapped = unavailable_error(exc, timeout)
        if mapped is None:
            raise
        raise mapped from None
