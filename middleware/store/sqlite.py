"""The embedded SQLite backend (``sqlite:///path/to/keys.db``).

One database file; several processes (uvicorn workers) may share it: WAL
mode, a busy timeout, and ``BEGIN IMMEDIATE`` for writes (:mod:`.engine`).
Opening is synchronous: it creates the file, migrates the schema
(:mod:`.migrate`) and checks the master key before the constructor returns.

* Administration: :class:`~.keys.KeyAdmin` on an aiosqlite engine.
* Request path: the compiled lookup (:func:`~.base.lookup_sql`) on one raw
  sqlite3 connection, in a worker thread, never on the event loop.
* A background thread writes batched last-used notes every
  ``flush_interval`` seconds and polls ``cache_generation`` (bumped by
  triggers on key changes), clearing the cache when another process changed
  a key; the cache TTL bounds staleness if that thread is behind.
* Fork-safe: a child process (gunicorn ``--preload``) opens its own
  connections and thread on first use; a fork waits until the background
  thread and the lookups are outside SQLite (a thread inside it at the fork
  can leave SQLite's own mutexes locked in the child for good).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from sigv4kit import KeyRecord

from .._fork import at_fork
from . import migrate
from .base import SQLKeyStore, lookup_sql
from .engine import WRITE, sqlite_async_engine, sqlite_connect, sqlite_sync_engine, unavailable
from .errors import StoreError, StoreUnavailableError
from .keys import Op, foreign_envelopes
from .masterkeys import MasterKeys
from .schema import access_keys, cache_generation
from .secrets import MASTER_KEY_ENV, MASTER_KEY_FILE_ENV, MasterKey, resolve_master_key

__all__ = ["SCHEMA_VERSION", "SQLiteKeyStore"]

logger = logging.getLogger("sigv4kit.middleware.store")

T = TypeVar("T")

#: The schema revision this code reads and writes (an Alembic revision id).
SCHEMA_VERSION = migrate.HEAD

_GENERATION = sa.select(cache_generation.c.value).where(cache_generation.c.id == 1)


class SQLiteKeyStore(SQLKeyStore):
    """An :class:`~sigv4kit.middleware.AccessKeyStore` and
    :class:`~sigv4kit.middleware.KeyManager` on one SQLite file.

    ```python
    store = SQLiteKeyStore("keys.db")
    await store.create_principal("alice")
    key = await store.create_key("alice")      # key.secret_access_key: shown once
    record = await store.get_key(key.access_key_id)
    await store.aclose()
    ```

    ``master_key`` defaults to :func:`~sigv4kit.middleware.resolve_master_key`
    on ``environ`` (default ``os.environ``) with ``<path>.key`` as the default
    key file. Opening creates the file and schema when needed and checks that
    the stored secrets were sealed under this master key.

    Raises :class:`StoreUnavailableError` when the file cannot be opened,
    :class:`SchemaVersionError` for a database from a newer sigv4kit,
    :class:`MasterKeyError` for a bad master key configuration and
    :class:`SecretDecryptionError` when the stored secrets were sealed under
    another master key.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        master_key: MasterKey | None = None,
        environ: Mapping[str, str] | None = None,
        cache_ttl: float = 30.0,
        negative_cache_ttl: float = 5.0,
        cache_size: int = 10_000,
        negative_cache_size: int = 10_000,
        flush_interval: float = 1.0,
        busy_timeout: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(
            cache_ttl=cache_ttl,
            negative_cache_ttl=negative_cache_ttl,
            cache_size=cache_size,
            negative_cache_size=negative_cache_size,
            flush_interval=flush_interval,
            clock=clock,
        )
        self.path = Path(path)
        self._busy_timeout = busy_timeout
        self._sync = sqlite_sync_engine(self.path, busy_timeout)
        self._async = sqlite_async_engine(self.path, busy_timeout)
        self._writer = self._async.execution_options(**{WRITE: True})
        self._seen_generation = 0
        self._init_process_state()
        at_fork(self, before=SQLiteKeyStore._before_fork,
                after_in_parent=SQLiteKeyStore._after_fork_in_parent,
                after_in_child=SQLiteKeyStore._init_process_state)
        try:
            self._open(master_key, os.environ if environ is None else environ)
        except StoreUnavailableError as exc:
            self.close()
            message = str(exc)
            if str(self.path) not in message:
                message = f"cannot open the key database {str(self.path)!r}: {message}"
            raise type(exc)(message) from None
        except BaseException:
            self.close()
            raise

    def _open(self, master_key: MasterKey | None, env: Mapping[str, str]) -> None:
        with unavailable(), self._sync.execution_options(**{WRITE: True}).begin() as conn:
            migrate.upgrade(conn)
            holds_keys = conn.execute(sa.select(sa.exists().select_from(access_keys))).scalar()
            self._seen_generation = int(conn.execute(_GENERATION).scalar_one())
        default_file = Path(f"{self.path}.key")
        owned: Path | None = None
        key_file: Path | None = None
        if master_key is None:
            master_key = resolve_master_key(
                env, default_key_file=default_file, create=not holds_keys
            )
            if MASTER_KEY_ENV not in env and MASTER_KEY_FILE_ENV not in env:
                owned = default_file
            elif MASTER_KEY_FILE_ENV in env:
                key_file = Path(env[MASTER_KEY_FILE_ENV])
        self._keys = MasterKeys(master_key, key_file=key_file, owned_file=owned)
        with unavailable(), self._sync.connect() as conn:
            foreign = foreign_envelopes(conn, master_key.key_id)
        self._keys.check(foreign, f"the key database {str(self.path)!r}")

    # -- per-process state --------------------------------------------------------------

    def _init_process_state(self) -> None:
        # Everything a forked child must not inherit: connections, the
        # background thread, locks another thread may have held at the fork,
        # and the parent's pending notes (the parent writes those).
        self._pid = os.getpid()
        self._uses.after_fork()
        self._cache.after_fork()
        self._thread_lock = threading.Lock()
        self._lock = threading.Lock()  # the lookup connection
        self._flush_lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._lookup_sql = lookup_sql(self._sync.dialect)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._held_at_fork: list[threading.Lock] = []

    def _before_fork(self) -> None:
        # SQLite's static mutexes (its allocator's among them) live in the
        # library: a thread inside SQLite at the fork leaves them locked in the
        # child, whose first query then hangs. Our threads use SQLite only
        # under these two locks: hold them across the fork. Bounded: a write
        # waits at most the busy timeout for the database.
        self._held_at_fork = [
            lock for lock in (self._flush_lock, self._lock)
            if lock.acquire(timeout=self._busy_timeout + 5)
        ]

    def _after_fork_in_parent(self) -> None:
        for lock in self._held_at_fork:
            lock.release()
        self._held_at_fork = []

    def _check_process(self) -> None:
        if os.getpid() != self._pid:
            self._init_process_state()

    def schema_version(self) -> str:
        """The schema revision recorded in the database."""
        with unavailable(), self._sync.connect() as conn:
            return str(migrate.current_revision(conn))

    # -- administration (KeyAdmin's transport) -------------------------------------------

    @contextlib.asynccontextmanager
    async def _connection(self, *, write: bool) -> AsyncIterator[AsyncConnection]:
        if self._closed:
            raise StoreError("the key store is closed")
        self._check_process()
        with unavailable():
            async with (self._writer if write else self._async).begin() as conn:
                yield conn

    async def _read(self, fn: Op[T]) -> T:
        async with self._connection(write=False) as conn:
            return await fn(conn)

    async def _write(self, fn: Op[T]) -> T:
        async with self._connection(write=True) as conn:
            before = int((await conn.execute(_GENERATION)).scalar_one())
            result = await fn(conn)
            after = int((await conn.execute(_GENERATION)).scalar_one())
        # Our own change moved the generation counter; remember it so the
        # poller does not clear the whole cache for it. A change by another
        # process in between (before != seen) is left for the poller.
        if before == self._seen_generation:
            self._seen_generation = after
        return result

    # -- request path -------------------------------------------------------------------------

    async def get_key(self, access_key_id: str) -> KeyRecord | None:
        """The key with this id (active or not) or None; cached.

        Raises :class:`StoreUnavailableError` when the database cannot answer
        and :class:`SecretDecryptionError` when the secret cannot be decrypted.
        """
        if not self._wanted(access_key_id):
            return None
        if self._closed:
            raise StoreError("the key store is closed")
        self._ensure_background()
        hit, record, epoch = self._cache.lookup(access_key_id, self._clock())
        if hit:
            return record
        record = await asyncio.to_thread(self._load_record, access_key_id)
        self._cache.remember(access_key_id, record, epoch, self._clock())
        return record

    def _load_record(self, access_key_id: str) -> KeyRecord | None:
        with self._lock:
            if self._closed:
                raise StoreError("the key store is closed")
            with unavailable():
                if self._conn is None:
                    self._conn = sqlite_connect(self.path, self._busy_timeout)
                row = self._conn.execute(self._lookup_sql, (access_key_id,)).fetchone()
        return self._record(access_key_id, row)

    def record_use(self, access_key_id: str, *, at: datetime, region: str, service: str) -> None:
        """Note a use of a key; returns at once (written by the background thread)."""
        if self._note(access_key_id, at, region, service):
            self._ensure_background()

    async def flush(self) -> None:
        """Write pending :meth:`record_use` notes now (tests, shutdown).

        Raises :class:`StoreUnavailableError` when the database cannot be written.
        """
        if self._closed:
            raise StoreError("the key store is closed")
        await asyncio.to_thread(self._flush_pending)

    async def aclose(self) -> None:
        """Stop the background thread, write pending uses, close the database."""
        if not self._closed:
            await asyncio.to_thread(self.close)

    def close(self) -> None:
        """Blocking :meth:`aclose` for synchronous callers. Idempotent."""
        if self._closed:
            return
        thread = self._thread
        self._stop.set()
        if thread is not None and thread.is_alive() and self._pid == os.getpid():
            thread.join()
        try:
            self._flush_pending()
        except Exception as exc:
            logger.warning("could not write key last-used times at close (lost): %s", exc)
        self._closed = True
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
        self._sync.dispose()

    # -- background thread: batched last-used writes, cross-process changes ----------------

    def _ensure_background(self) -> None:
        self._check_process()
        if self._thread is not None or self._closed:
            return
        with self._thread_lock:
            if self._thread is not None:
                return
            self._thread = threading.Thread(
                target=self._background_main, name="sigv4kit-store-flusher", daemon=True
            )
            self._thread.start()

    def _background_main(self) -> None:
        while not self._stop.wait(self._flush_interval):
            try:
                self._flush_pending()
            except Exception as exc:  # the thread must survive a busy or broken database
                logger.warning("could not write key last-used times (will retry): %s", exc)
            try:
                self._poll_generation()
            except Exception as exc:
                logger.warning("could not check the key database for changes: %s", exc)

    def _flush_pending(self) -> int:
        # One flush at a time, so flush() returns only after a batch the
        # background thread took earlier has been written too.
        with self._flush_lock:
            batch, dropped = self._uses.take()
            if dropped:
                logger.warning("dropped %d key-use notes: too many pending", dropped)
            if not batch:
                return 0
            try:
                with unavailable(), self._sync.execution_options(**{WRITE: True}).begin() as conn:
                    for statement, rows in self._use_writes(batch, "sqlite"):
                        conn.execute(statement, rows)
            except BaseException:
                self._uses.put_back(batch)
                raise
            return len(batch)

    def _poll_generation(self) -> None:
        if self._closed:
            return
        with self._flush_lock, unavailable(), self._sync.connect() as conn:
            generation = int(conn.execute(_GENERATION).scalar_one())
        if generation != self._seen_generation:
            self._seen_generation = generation
            self._cache.clear()
