"""The PostgreSQL backend (``postgresql://...?schema=NAME``), for services on many machines.

Every replica opens the same database; the tables live in one schema
(``public`` unless the URL says ``?schema=NAME``). The master key is
*required* (``SIGV4KIT_MASTER_KEY`` or ``SIGV4KIT_MASTER_KEY_FILE``): a
server database is shared by machines, so no key file is generated.

Nothing connects at construction: on first use, on the running event loop,
the schema is migrated under an advisory lock (:mod:`.migrate`), the master
key checked, and the listener and flusher started; a failure is retried on
later calls (requests queued behind a failed start are answered from that
failure for a second instead of each waiting a full timeout).

* Administration: :class:`~.keys.KeyAdmin` on a psycopg async engine.
* Request path: the compiled lookup on a raw ``psycopg_pool`` connection
  (one round trip per cache miss).
* Invalidation: :class:`~.pg_listen.ChangeListener` (``LISTEN/NOTIFY``).
* Outage: a lookup that cannot reach the database within ``timeout``
  seconds raises :class:`StoreUnavailableError` (the middleware answers
  503). With ``outage_grace=0`` a cached key does not outlive the listener;
  a positive ``outage_grace`` lets keys cached before the outage keep
  working that many seconds (never past their TTL).
* Last-used notes are batched per process and written every
  ``flush_interval`` seconds by a background task.
* Fork-safe: in a forked child (gunicorn ``--preload``) the store starts
  over on first use, with connections, listener and flusher of its own; the
  parent's connections are left to the parent, never used or closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection

from sigv4kit import KeyRecord

from .._fork import at_fork
from . import migrate
from .base import SQLKeyStore, lookup_sql
from .engine import (
    postgres_async_engine,
    postgres_conninfo_from_url,
    postgres_lookup_pool,
    require_psycopg,
    unavailable,
)
from .errors import SecretDecryptionError, StoreError, StoreUnavailableError
from .keys import Op, foreign_envelopes
from .masterkeys import MasterKeys
from .pg_listen import ChangeListener
from .secrets import MASTER_KEY_FILE_ENV, MasterKey, resolve_master_key

if TYPE_CHECKING:
    from psycopg_pool import AsyncConnectionPool

__all__ = ["POSTGRES_SCHEMA_VERSION", "PostgresKeyStore"]

logger = logging.getLogger("sigv4kit.middleware.store")

T = TypeVar("T")

#: The schema revision this code reads and writes (the same history as SQLite's).
POSTGRES_SCHEMA_VERSION = migrate.HEAD
_READY_RETRY_SECONDS = 1.0
# The longest aclose() waits for background tasks and the pools to stop.
_CLOSE_TIMEOUT = 5.0


class PostgresKeyStore(SQLKeyStore):
    """An :class:`~sigv4kit.middleware.AccessKeyStore` and
    :class:`~sigv4kit.middleware.KeyManager` on PostgreSQL.

    ```python
    store = PostgresKeyStore("postgresql://app@db.internal/keys?schema=sigv4kit")
    await store.create_principal("alice")
    key = await store.create_key("alice")      # key.secret_access_key: shown once
    record = await store.get_key(key.access_key_id)
    await store.aclose()
    ```

    Use one store object per event loop. ``listen=False`` turns
    cross-process invalidation off (cache entries then live until their
    TTL). ``timeout`` bounds how long a lookup waits for a connection or a
    query before :class:`StoreUnavailableError`. See the module docstring
    for ``outage_grace``.

    Raises :class:`StoreError` for a malformed URL and :class:`MasterKeyError`
    when no master key is configured (it is never generated for PostgreSQL).
    Operations raise :class:`StoreUnavailableError` when the database cannot
    answer, :class:`SchemaVersionError` for a schema from a newer sigv4kit and
    :class:`SecretDecryptionError` for secrets sealed under another master key.
    """

    def __init__(
        self,
        url: str,
        *,
        master_key: MasterKey | None = None,
        environ: Mapping[str, str] | None = None,
        cache_ttl: float = 60.0,
        negative_cache_ttl: float = 5.0,
        cache_size: int = 10_000,
        negative_cache_size: int = 10_000,
        flush_interval: float = 1.0,
        listen: bool = True,
        heartbeat_interval: float = 1.0,
        timeout: float = 3.0,
        outage_grace: float = 0.0,
        pool_max_size: int = 4,
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
        self._conninfo, self.schema = postgres_conninfo_from_url(url)
        require_psycopg()
        env = os.environ if environ is None else environ
        key_file: Path | None = None
        if master_key is None:
            master_key = resolve_master_key(env, default_key_file=None)
            if MASTER_KEY_FILE_ENV in env:
                key_file = Path(env[MASTER_KEY_FILE_ENV])
        self._keys = MasterKeys(master_key, key_file=key_file)
        self._listen = listen
        self._timeout = timeout
        self._pool_max_size = pool_max_size
        self._listener = ChangeListener(
            conninfo=self._conninfo,
            schema=self.schema,
            cache=self._cache,
            heartbeat=heartbeat_interval,
            timeout=timeout,
            outage_grace=outage_grace,
            clock=clock,
        )
        self.channel = self._listener.channel
        self._engine = postgres_async_engine(self._conninfo, self.schema, timeout)
        self._lookup_sql = lookup_sql(self._engine.dialect)
        self._pool: AsyncConnectionPool[Any] | None = None
        self._ready = False
        self._ready_lock: asyncio.Lock | None = None
        self._flush_lock: asyncio.Lock | None = None
        self._ready_failure: tuple[float, type[StoreUnavailableError], str] | None = None
        self._tasks: list[asyncio.Task[None]] = []
        at_fork(self, after_in_child=PostgresKeyStore._after_fork)

    def _after_fork(self) -> None:
        # In a forked child, before it runs anything else. Every connection
        # the store holds is a socket shared with the parent: using one mixes
        # the two processes' queries and answers on one session (a lookup can
        # get the other process's row), and closing one ends the parent's
        # session. So they are dropped without a word to the server:
        # SQLAlchemy's rule for a child is dispose(close=False); the lookup
        # pool and the LISTEN connection are just forgotten (psycopg finishes
        # a connection on collection only in the process that opened it).
        # The parent's tasks, loop-bound locks and events do not exist here;
        # threading locks another thread held at the fork would never be
        # released; the parent writes its own pending notes. The next use
        # starts the store again on the child's loop.
        if self._closed:
            return
        self._uses.after_fork()
        self._cache.after_fork()
        self._engine.sync_engine.dispose(close=False)
        self._pool = None
        self._listener.after_fork()
        self._tasks = []
        self._ready = False
        self._ready_lock = None
        self._flush_lock = None
        self._ready_failure = None

    def __repr__(self) -> str:
        # Never the URL: it may carry a password.
        return f"PostgresKeyStore(schema={self.schema!r})"

    @property
    def listening(self) -> bool:
        """True while the ``LISTEN`` connection is up (the cache is trusted)."""
        return self._listener.listening

    # -- start-up -------------------------------------------------------------------------

    async def _ensure_ready(self) -> None:
        if self._ready:
            return
        if self._closed:
            raise StoreError("the key store is closed")
        if self._ready_lock is None:
            self._ready_lock = asyncio.Lock()
            self._flush_lock = asyncio.Lock()
        async with self._ready_lock:
            if self._ready:
                return
            failed = self._ready_failure
            if failed is not None and time.monotonic() - failed[0] < _READY_RETRY_SECONDS:
                raise failed[1](failed[2])
            try:
                await self._prepare()
            except StoreUnavailableError as exc:
                self._ready_failure = (time.monotonic(), type(exc), str(exc))
                raise
            self._ready_failure = None

    async def _prepare(self) -> None:
        if self._pool is None:
            self._pool = postgres_lookup_pool(
                self._conninfo, self.schema, self._timeout, self._pool_max_size
            )
            await self._pool.open(wait=False)
        with unavailable(self._timeout):
            async with self._engine.begin() as conn:
                await conn.run_sync(lambda sync: migrate.upgrade(sync, schema=self.schema))
            async with self._engine.connect() as conn:
                foreign = await conn.run_sync(foreign_envelopes, self._keys.current.key_id)
        self._keys.check(foreign, f"the key database schema {self.schema!r}")
        if not self._tasks:
            if self._listen:
                self._tasks.append(asyncio.create_task(self._listener.run()))
            self._tasks.append(asyncio.create_task(self._flush_forever()))
        if self._listen:
            # Start with a trusted cache when the listener comes up quickly;
            # lookups work (uncached) meanwhile anyway.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._listener.up.wait(), self._timeout)
        self._ready = True

    async def schema_version(self) -> str:
        """The schema revision recorded in the database."""
        return await self._read(lambda conn: conn.run_sync(migrate.current_revision))  # type: ignore[arg-type]

    # -- administration (KeyAdmin's transport) -------------------------------------------

    @contextlib.asynccontextmanager
    async def _connection(self, *, write: bool) -> AsyncIterator[AsyncConnection]:
        if self._closed:
            raise StoreError("the key store is closed")
        await self._ensure_ready()
        with unavailable(self._timeout):
            async with self._engine.begin() if write else self._engine.connect() as conn:
                yield conn

    async def _run(self, fn: Op[T], *, write: bool) -> T:
        # A connection killed by a restart fails on first use; the work did
        # not commit, so it is retried once on a fresh connection.
        for attempt in range(2):
            try:
                async with self._connection(write=write) as conn:
                    return await fn(conn)
            except StoreUnavailableError as exc:
                if attempt == 1 or isinstance(exc, SecretDecryptionError):
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    async def _read(self, fn: Op[T]) -> T:
        return await self._run(fn, write=False)

    async def _write(self, fn: Op[T]) -> T:
        return await self._run(fn, write=True)

    # -- request path -------------------------------------------------------------------------

    async def get_key(self, access_key_id: str) -> KeyRecord | None:
        """The key with this id (active or not) or None; cached.

        Raises :class:`StoreUnavailableError` when the database cannot answer
        and :class:`SecretDecryptionError` when the secret cannot be decrypted.
        """
        if self._closed:
            raise StoreError("the key store is closed")
        if not self._wanted(access_key_id):
            return None
        if not self._ready:
            await self._ensure_ready()
        trusted = self._listener.listening or not self._listen
        epoch = 0
        if trusted or self._listener.in_grace():
            hit, record, epoch = self._cache.lookup(access_key_id, self._clock())
            if hit:
                return record
        record = await self._load_record(access_key_id)
        if trusted and (self._listener.listening or not self._listen):
            self._cache.remember(access_key_id, record, epoch, self._clock())
        return record

    async def _load_record(self, access_key_id: str) -> KeyRecord | None:
        assert self._pool is not None
        for attempt in range(2):
            try:
                with unavailable(self._timeout):
                    async with self._pool.connection() as conn:
                        cur = await conn.execute(self._lookup_sql, {"kid": access_key_id})
                        row = await cur.fetchone()
                return self._record(access_key_id, row)
            except StoreUnavailableError as exc:
                if attempt == 1 or isinstance(exc, SecretDecryptionError):
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def record_use(self, access_key_id: str, *, at: datetime, region: str, service: str) -> None:
        """Note a use of a key; returns at once (written by the background task)."""
        self._note(access_key_id, at, region, service)

    async def _flush_forever(self) -> None:
        while not self._closed:
            await asyncio.sleep(self._flush_interval)
            try:
                await self._flush_pending()
            except Exception as exc:  # the task must survive a broken database
                logger.warning("could not write key last-used times (will retry): %s", exc)

    async def _flush_pending(self) -> int:
        assert self._flush_lock is not None
        async with self._flush_lock:
            batch, dropped = self._uses.take()
            if dropped:
                logger.warning("dropped %d key-use notes: too many pending", dropped)
            if not batch:
                return 0

            async def write(conn: AsyncConnection) -> None:
                for statement, rows in self._use_writes(batch, "postgresql"):
                    await conn.execute(statement, rows)

            try:
                await self._write(write)
            except BaseException:
                self._uses.put_back(batch)
                raise
            return len(batch)

    async def flush(self) -> None:
        """Write pending :meth:`record_use` notes now.

        Raises :class:`StoreUnavailableError` when the database cannot be written.
        """
        await self._ensure_ready()
        await self._flush_pending()

    async def aclose(self) -> None:
        """Stop the listener and the flusher, write pending uses, close the pools."""
        if self._closed:
            return
        if self._ready:
            try:
                await self._flush_pending()
            except Exception as exc:
                logger.warning("could not write key last-used times at close (lost): %s", exc)
        self._closed = True
        self._listener.closed = True
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            # Bounded: cancelling a psycopg operation on a connection the
            # server has dropped can wait on the socket; closing must not.
            done, pending = await asyncio.wait(self._tasks, timeout=_CLOSE_TIMEOUT)
            for task in done:
                if not task.cancelled():
                    task.exception()  # retrieved, so it is not reported as lost
            if pending:
                logger.warning("background tasks did not stop within %g s", _CLOSE_TIMEOUT)
        self._tasks.clear()
        if self._pool is not None:
            await self._pool.close(timeout=_CLOSE_TIMEOUT)
            self._pool = None
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._engine.dispose(), _CLOSE_TIMEOUT)
