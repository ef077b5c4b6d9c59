"""The PostgreSQL access-key store (``postgresql://...``), for services on many machines.

Every replica of a service opens the same database; the tables live in one
schema (``public`` unless the URL says ``?schema=NAME``). Secrets are sealed
exactly as in SQLite (:mod:`._crypto`), but the master key is *required*
(``SIGV4KIT_MASTER_KEY`` or ``SIGV4KIT_MASTER_KEY_FILE``): a server database
is shared by machines, so no key file is ever generated beside it.

Schema: created and migrated by the library (:data:`MIGRATIONS`, recorded in
``schema_migrations``). Every process runs the migrations on first use,
inside one transaction holding a transaction-level advisory lock, so replicas
starting together apply each version exactly once.

Request path: :meth:`PostgresKeyStore.get_key` answers from the in-process
:class:`~._cache.KeyCache`; a miss costs one query on a pooled connection
(``psycopg_pool.AsyncConnectionPool``, never blocking the event loop).

Cross-node invalidation: triggers on ``access_keys`` call ``pg_notify`` in
the transaction that changes a key (status, secret, deletion, ...), so the
notification is delivered exactly when the change commits. Each process
holds one dedicated ``LISTEN`` connection and evicts the named key from its
cache. The cache is trusted only while that connection is up: when it drops
(notifications may be lost), the cache is cleared and lookups go to the
database until the listener is back (then the cache is cleared once more).
The listener sends a heartbeat every ``heartbeat_interval`` seconds, so a
silently dead connection is noticed too.

Outage: a lookup that cannot reach the database within ``timeout`` seconds
raises :class:`StoreUnavailableError` (the middleware answers 503). With the
default ``outage_grace=0`` a cached key does not outlive the listener: once
the store notices the outage (at once for a closed connection, within a
heartbeat plus ``timeout`` for a silent one), every request is refused until
the database is back. A positive ``outage_grace`` lets keys cached before
the outage keep working for that many seconds (and never past their TTL),
trading revocation guarantees for availability. The pool and the listener
reconnect by themselves.

Last-used notes are batched per process (:class:`~._cache.UseBatch`) and
written every ``flush_interval`` seconds by a background task.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from sigv4kit import KeyRecord

from ._cache import KeyCache, KeyUse, UseBatch
from ._crypto import MASTER_KEY_FILE_ENV, MasterKey, envelope_key_id, resolve_master_key
from ._keygen import (
    LONG_TERM_PREFIX,
    TEMPORARY_PREFIX,
    hash_session_token,
    new_access_key_id,
    new_secret_access_key,
    new_session_token,
    validate_principal_name,
    validate_session_duration,
)
from ._store import (
    MAX_KEYS_PER_PRINCIPAL,
    AccessKeyInfo,
    KeyLimitExceededError,
    KeyNotFoundError,
    KeyStatus,
    MasterKeyError,
    NewAccessKey,
    Principal,
    PrincipalKind,
    PrincipalNotFoundError,
    RotationResult,
    SchemaVersionError,
    SecretDecryptionError,
    SessionCredentials,
    StoreError,
    StoreUnavailableError,
)
from ._store import (
    store_time as _now,
)

if TYPE_CHECKING:
    from psycopg import AsyncConnection
    from psycopg_pool import AsyncConnectionPool

__all__ = ["POSTGRES_SCHEMA_VERSION", "PostgresKeyStore", "postgres_conninfo_from_url"]

logger = logging.getLogger("sigv4kit.middleware.store")

T = TypeVar("T")

_LOOKUP_ID_RE = re.compile(r"[A-Za-z0-9_]{3,128}")
# 63 bytes is PostgreSQL's identifier limit; the notification channel is
# "sigv4kit_keys." plus the schema name, so the schema gets 49.
_SCHEMA_RE = re.compile(r"[a-z_][a-z0-9_]{0,48}")
_CHANNEL_PREFIX = "sigv4kit_keys."
_READY_RETRY_SECONDS = 1.0

#: (version, description, statements). Append only: a released migration
#: never changes, later versions add entries.
MIGRATIONS: tuple[tuple[int, str, tuple[str, ...]], ...] = (
    (
        1,
        "principals, access keys, change notifications",
        (
            """CREATE TABLE principals (
                name TEXT PRIMARY KEY,
                kind TEXT NOT NULL CHECK (kind IN ('user', 'role')),
                is_root BOOLEAN NOT NULL DEFAULT FALSE,
                created_at TIMESTAMPTZ NOT NULL
            )""",
            """CREATE TABLE access_keys (
                access_key_id TEXT PRIMARY KEY,
                seq BIGINT GENERATED ALWAYS AS IDENTITY,
                principal TEXT NOT NULL REFERENCES principals(name) ON DELETE CASCADE,
                status TEXT NOT NULL CHECK (status IN ('Active', 'Inactive')),
                secret_envelope BYTEA NOT NULL,
                master_key_id TEXT NOT NULL,
                created_at TIMESTAMPTZ NOT NULL,
                expires_at TIMESTAMPTZ,
                session_token_sha256 TEXT,
                last_used_at TIMESTAMPTZ,
                last_used_region TEXT,
                last_used_service TEXT,
                CHECK ((expires_at IS NULL) = (session_token_sha256 IS NULL))
            )""",
            "CREATE INDEX access_keys_by_principal ON access_keys (principal, created_at, seq)",
            # The channel is per schema, so stores in other schemas of the
            # same database (tests, tenants) do not evict each other's keys.
            f"""CREATE FUNCTION sigv4kit_key_changed() RETURNS trigger
                LANGUAGE plpgsql AS $$
                BEGIN
                    IF TG_OP = 'DELETE' THEN
                        PERFORM pg_notify('{_CHANNEL_PREFIX}' || TG_TABLE_SCHEMA,
                                          OLD.access_key_id);
                    ELSE
                        PERFORM pg_notify('{_CHANNEL_PREFIX}' || TG_TABLE_SCHEMA,
                                          NEW.access_key_id);
                    END IF;
                    RETURN NULL;
                END $$""",
            "CREATE TRIGGER access_keys_insert_delete AFTER INSERT OR DELETE ON access_keys "
            "FOR EACH ROW EXECUTE FUNCTION sigv4kit_key_changed()",
            # Not on last_used_*: batched bookkeeping must not flush every
            # replica's cache.
            "CREATE TRIGGER access_keys_update AFTER UPDATE OF status, secret_envelope, "
            "master_key_id, principal, expires_at, session_token_sha256 ON access_keys "
            "FOR EACH ROW EXECUTE FUNCTION sigv4kit_key_changed()",
        ),
    ),
)
POSTGRES_SCHEMA_VERSION = MIGRATIONS[-1][0]

_KEY_COLUMNS = (
    "access_key_id, principal, status, created_at, expires_at, "
    "last_used_at, last_used_region, last_used_service"
)


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


def _utc(value: datetime | None) -> datetime | None:
    return None if value is None else value.astimezone(UTC)


def _info(row: tuple[Any, ...]) -> AccessKeyInfo:
    return AccessKeyInfo(
        access_key_id=row[0],
        principal=row[1],
        status=KeyStatus(row[2]),
        created_at=row[3].astimezone(UTC),
        expires_at=_utc(row[4]),
        last_used_at=_utc(row[5]),
        last_used_region=row[6],
        last_used_service=row[7],
    )


def _principal(row: tuple[Any, ...]) -> Principal:
    return Principal(
        name=row[0],
        kind=PrincipalKind(row[1]),
        root=bool(row[2]),
        created_at=row[3].astimezone(UTC),
    )


def _driver() -> Any:
    try:
        import psycopg
        import psycopg_pool
    except ImportError:  # pragma: no cover - the extra is installed in dev
        raise StoreError(
            "postgresql:// stores need psycopg 3: pip install 'sigv4kit[postgres]'"
        ) from None
    return psycopg, psycopg_pool


# The longest aclose() waits for background tasks and the pool to stop.
_CLOSE_TIMEOUT = 5.0

class PostgresKeyStore:
    """An :class:`~sigv4kit.middleware.AccessKeyStore` and
    :class:`~sigv4kit.middleware.KeyManager` on PostgreSQL.

    ```python
    store = PostgresKeyStore("postgresql://app@db.internal/keys?schema=sigv4kit")
    await store.create_principal("alice")
    key = await store.create_key("alice")      # key.secret_access_key: shown once
    record = await store.get_key(key.access_key_id)
    await store.aclose()
    ```

    Nothing connects at construction: the pool, the schema migrations, the
    master-key check and the ``LISTEN`` connection start on first use, on the
    running event loop, and are retried on later calls while the database
    is unreachable. Use one store object per event loop.

    ``listen=False`` turns cross-process invalidation off (cache entries then
    live until their TTL, as with ``cache_ttl`` alone). ``timeout`` bounds how
    long a lookup waits for a connection or a query before
    :class:`StoreUnavailableError`. See the module docstring for
    ``outage_grace``.

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
        self._conninfo, self.schema = postgres_conninfo_from_url(url)
        self.channel = _CHANNEL_PREFIX + self.schema
        _driver()
        env = os.environ if environ is None else environ
        self._key_file: Path | None = None
        if master_key is None:
            master_key = resolve_master_key(env, default_key_file=None)
            if MASTER_KEY_FILE_ENV in env:
                self._key_file = Path(env[MASTER_KEY_FILE_ENV])
        self._master_key = master_key
        self._cache = KeyCache(
            ttl=cache_ttl,
            negative_ttl=negative_cache_ttl,
            size=cache_size,
            negative_size=negative_cache_size,
        )
        self._uses = UseBatch()
        self._flush_interval = flush_interval
        self._listen = listen
        self._heartbeat = heartbeat_interval
        self._timeout = timeout
        self._outage_grace = outage_grace
        self._pool_max_size = pool_max_size
        self._clock = clock
        self._closed = False
        self._ready = False
        self._ready_lock: asyncio.Lock | None = None
        self._pool: AsyncConnectionPool[Any] | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._listening = False
        self._listener_up: asyncio.Event | None = None
        self._lost_at = float("-inf")
        self._flush_lock: asyncio.Lock | None = None
        self._ready_failure: tuple[float, str] | None = None

    def __repr__(self) -> str:
        # Never the URL: it may carry a password.
        return f"PostgresKeyStore(schema={self.schema!r})"

    # -- connections ------------------------------------------------------------

    def _connect_kwargs(self) -> dict[str, Any]:
        return {
            "autocommit": True,
            "connect_timeout": max(2, round(self._timeout)),
            # statement_timeout: a lookup stuck behind a lock fails closed
            # (StoreUnavailableError) instead of hanging the request.
            "options": f"-c search_path={self.schema} -c TimeZone=UTC "
            f"-c statement_timeout={max(1000, round(self._timeout * 1000))}",
            # Lets an operator find (or pg_terminate_backend) this store's sessions.
            "application_name": f"sigv4kit/{self.schema}",
            # A dead peer must not look alive for the kernel's default 2 hours.
            "keepalives": 1,
            "keepalives_idle": 5,
            "keepalives_interval": 2,
            "keepalives_count": 2,
        }

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
            # While the database is down at startup, requests queued behind
            # this lock would each wait `timeout` in turn: answer them from
            # the last failure for a second instead.
            failed = self._ready_failure
            if failed is not None and time.monotonic() - failed[0] < _READY_RETRY_SECONDS:
                raise StoreUnavailableError(failed[1])
            try:
                await self._prepare()
            except StoreUnavailableError as exc:
                self._ready_failure = (time.monotonic(), str(exc))
                raise
            self._ready_failure = None

    async def _prepare(self) -> None:
        _psycopg, psycopg_pool = _driver()
        if self._pool is None:
            self._pool = psycopg_pool.AsyncConnectionPool(
                self._conninfo,
                min_size=1,
                max_size=self._pool_max_size,
                kwargs=self._connect_kwargs(),
                timeout=self._timeout,
                # A pooled connection killed by a restart or
                # pg_terminate_backend is found out on checkout (one round
                # trip, cache misses only), not by the query.
                check=psycopg_pool.AsyncConnectionPool.check_connection,
                open=False,
                name="sigv4kit-keys",
            )
            await self._pool.open(wait=False)
        await self._migrate()
        try:
            await self._check_master_key()
        except psycopg_pool.PoolTimeout:
            raise StoreUnavailableError(
                f"the key database did not answer within {self._timeout:g} s"
            ) from None
        except _psycopg.Error as exc:
            raise StoreUnavailableError(f"key database error: {_describe(exc)}") from None
        if not self._tasks:
            self._listener_up = asyncio.Event()
            if self._listen:
                self._tasks.append(asyncio.create_task(self._listen_forever()))
            self._tasks.append(asyncio.create_task(self._flush_forever()))
        if self._listen and self._listener_up is not None:
            # Start with a trusted cache when the listener comes up quickly;
            # lookups work (uncached) meanwhile anyway.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._listener_up.wait(), self._timeout)
        self._ready = True

    @contextlib.asynccontextmanager
    async def _conn(self) -> AsyncIterator[AsyncConnection[Any]]:
        psycopg, psycopg_pool = _driver()
        await self._ensure_ready()
        assert self._pool is not None
        try:
            async with self._pool.connection() as conn:
                yield conn
        except psycopg_pool.PoolTimeout:
            raise StoreUnavailableError(
                f"the key database did not answer within {self._timeout:g} s"
            ) from None
        except psycopg.errors.QueryCanceled:
            raise StoreUnavailableError("a key database query timed out") from None
        except psycopg.OperationalError as exc:
            raise StoreUnavailableError(f"key database error: {_describe(exc)}") from None
        except psycopg.errors.UniqueViolation:
            raise
        except psycopg.Error as exc:
            raise StoreUnavailableError(f"key database error: {_describe(exc)}") from None

    async def _run(self, fn: Callable[[AsyncConnection[Any]], Awaitable[T]], *, retry: bool) -> T:
        """``fn`` on a pooled connection; once more on a fresh one if that one was dead.

        Only idempotent work is retried (``retry``): a connection killed by
        a restart or ``pg_terminate_backend`` fails on its first use.
        """
        if self._closed:
            raise StoreError("the key store is closed")
        attempts = 2 if retry else 1
        for attempt in range(attempts):
            try:
                async with self._conn() as conn:
                    return await fn(conn)
            except StoreUnavailableError as exc:
                if attempt + 1 == attempts or isinstance(exc, SecretDecryptionError):
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    async def _write(self, fn: Callable[[AsyncConnection[Any]], Awaitable[T]]) -> T:
        async def in_transaction(conn: AsyncConnection[Any]) -> T:
            async with conn.transaction():
                return await fn(conn)

        # A transaction that failed on a dead connection did not commit:
        # retrying it once is safe.
        return await self._run(in_transaction, retry=True)

    # -- schema -----------------------------------------------------------------

    async def _migrate(self) -> None:
        psycopg, psycopg_pool = _driver()
        from psycopg import sql

        assert self._pool is not None
        try:
            async with self._pool.connection() as conn, conn.transaction():
                # Replicas starting together: one applies, the others wait and
                # then find nothing to do. The lock ends with the transaction.
                await conn.execute(
                    "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                    (f"sigv4kit.migrations.{self.schema}",),
                )
                await conn.execute(
                    sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(self.schema))
                )
                await conn.execute(
                    "CREATE TABLE IF NOT EXISTS schema_migrations ("
                    "version INTEGER PRIMARY KEY, description TEXT NOT NULL, "
                    "applied_at TIMESTAMPTZ NOT NULL)"
                )
                cur = await conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
                row = await cur.fetchone()
                current = int(row[0]) if row else 0
                if current > POSTGRES_SCHEMA_VERSION:
                    raise SchemaVersionError(
                        f"the key database schema {self.schema!r} has version {current}; "
                        f"this sigv4kit supports up to {POSTGRES_SCHEMA_VERSION}: "
                        "upgrade sigv4kit"
                    )
                for version, description, statements in MIGRATIONS:
                    if version <= current:
                        continue
                    for statement in statements:
                        await conn.execute(statement.encode())
                    await conn.execute(
                        "INSERT INTO schema_migrations (version, description, applied_at) "
                        "VALUES (%s, %s, now())",
                        (version, description),
                    )
        except psycopg_pool.PoolTimeout:
            raise StoreUnavailableError(
                f"the key database did not answer within {self._timeout:g} s"
            ) from None
        except psycopg.Error as exc:
            raise StoreUnavailableError(
                f"cannot prepare the key database: {_describe(exc)}"
            ) from None

    async def schema_version(self) -> int:
        """The schema version recorded in the database."""

        async def q(conn: AsyncConnection[Any]) -> int:
            cur = await conn.execute("SELECT MAX(version) FROM schema_migrations")
            row = await cur.fetchone()
            return int(row[0]) if row else 0

        return await self._run(q, retry=True)

    async def _check_master_key(self) -> None:
        assert self._pool is not None
        async with self._pool.connection() as conn:
            cur = await conn.execute(
                "SELECT master_key_id, COUNT(*), (ARRAY_AGG(secret_envelope))[1] "
                "FROM access_keys WHERE master_key_id != %s GROUP BY master_key_id",
                (self._master_key.key_id,),
            )
            rows = await cur.fetchall()
        foreign = {row[0]: (int(row[1]), bytes(row[2])) for row in rows}
        if not foreign:
            return
        if len(foreign) == 1:
            (envelope,) = [e for _n, e in foreign.values()]
            if self._key_for(envelope).key_id == envelope_key_id(envelope):
                return
        described = ", ".join(f"{n} under {kid}" for kid, (n, _e) in sorted(foreign.items()))
        raise SecretDecryptionError(
            f"the key database schema {self.schema!r} holds secrets sealed under another "
            f"master key ({described}); the configured master key "
            f"({self._master_key.source}) is {self._master_key.key_id}. Configure the right "
            "SIGV4KIT_MASTER_KEY or SIGV4KIT_MASTER_KEY_FILE."
        )

    def _key_for(self, envelope: bytes) -> MasterKey:
        """Ours, or the key file's new key after ``keys rewrap`` by another process."""
        wanted = envelope_key_id(envelope)
        current = self._master_key
        if wanted == current.key_id or self._key_file is None:
            return current
        try:
            candidate = MasterKey.from_file(self._key_file)
        except MasterKeyError:
            return current
        if candidate.key_id == wanted:
            logger.warning(
                "the stored secrets were re-wrapped under master key %s: now using it", wanted
            )
            self._master_key = MasterKey(candidate.material, source=current.source)
        return self._master_key

    @property
    def master_key_id(self) -> str:
        """The fingerprint of the master key in use."""
        return self._master_key.key_id

    @property
    def master_key_source(self) -> str:
        """Where the master key in use came from (never the key)."""
        return self._master_key.source

    # -- cross-node invalidation ---------------------------------------------------

    @property
    def listening(self) -> bool:
        """True while the ``LISTEN`` connection is up (the cache is trusted)."""
        return self._listening

    async def _listen_forever(self) -> None:
        psycopg, _pool = _driver()
        from psycopg import sql

        delay = 0.05
        while not self._closed:
            conn: AsyncConnection[Any] | None = None
            try:
                conn = await psycopg.AsyncConnection.connect(
                    self._conninfo, **self._connect_kwargs()
                )
                await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.channel)))
                # Changes before LISTEN were not heard: forget everything once.
                self._cache.clear()
                self._listening = True
                assert self._listener_up is not None
                self._listener_up.set()
                if delay > 0.05:
                    logger.warning("key change listener reconnected; key cache cleared")
                delay = 0.05
                while True:
                    async for notify in conn.notifies(timeout=self._heartbeat):
                        self._cache.evict([notify.payload])
                    # The heartbeat is bounded by the connection's statement_timeout
                    # and TCP keepalives; no wait_for, whose cancellation of a
                    # psycopg query could itself wait on a dead socket.
                    await conn.execute("SELECT 1")
            except asyncio.CancelledError:
                self._lose_listener()
                raise
            except Exception as exc:
                if self._listening:
                    logger.warning(
                        "key change listener lost (%s); lookups bypass the cache until it is back",
                        type(exc).__name__,
                    )
                self._lose_listener()
            finally:
                if conn is not None:
                    with contextlib.suppress(Exception):
                        await conn.close()
            await asyncio.sleep(delay)
            delay = min(delay * 2, 1.0)

    def _lose_listener(self) -> None:
        if self._listening:
            self._lost_at = self._clock()
        self._listening = False
        if self._listener_up is not None:
            self._listener_up.clear()
        if self._outage_grace <= 0:
            self._cache.clear()

    # -- AccessKeyStore ---------------------------------------------------------------

    async def get_key(self, access_key_id: str) -> KeyRecord | None:
        """The key with this id (active or not) or None; cached.

        Raises :class:`StoreUnavailableError` when the database cannot answer
        and :class:`SecretDecryptionError` when the secret cannot be decrypted.
        """
        if self._closed:
            raise StoreError("the key store is closed")
        if not isinstance(access_key_id, str) or not _LOOKUP_ID_RE.fullmatch(access_key_id):
            return None
        if not self._ready:
            await self._ensure_ready()
        trusted = self._listening or not self._listen
        epoch = 0
        if trusted or self._clock() - self._lost_at < self._outage_grace:
            hit, record, epoch = self._cache.lookup(access_key_id, self._clock())
            if hit:
                return record
        record = await self._run(lambda conn: self._load_record(conn, access_key_id), retry=True)
        if trusted and (self._listening or not self._listen):
            self._cache.remember(access_key_id, record, epoch, self._clock())
        return record

    async def _load_record(self, conn: AsyncConnection[Any], kid: str) -> KeyRecord | None:
        cur = await conn.execute(
            "SELECT principal, status, secret_envelope, expires_at, session_token_sha256 "
            "FROM access_keys WHERE access_key_id = %s",
            (kid,),
        )
        row = await cur.fetchone()
        if row is None:
            return None
        envelope = bytes(row[2])
        secret = self._key_for(envelope).open(envelope, access_key_id=kid)
        return KeyRecord(
            access_key_id=kid,
            secret_access_key=secret,
            principal=row[0],
            active=row[1] == KeyStatus.ACTIVE.value,
            session_token_sha256=row[4],
            expires_at=_utc(row[3]),
        )

    def record_use(self, access_key_id: str, *, at: datetime, region: str, service: str) -> None:
        """Note a use of a key; returns at once (written by the background task)."""
        if self._closed or at.tzinfo is None:
            return
        self._uses.add(access_key_id, KeyUse(at, str(region)[:64], str(service)[:64]))

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

            async def write(conn: AsyncConnection[Any]) -> None:
                async with conn.cursor() as cur:
                    await cur.executemany(
                        "UPDATE access_keys SET last_used_at = %s, last_used_region = %s, "
                        "last_used_service = %s WHERE access_key_id = %s "
                        "AND (last_used_at IS NULL OR last_used_at < %s)",
                        [(u.at, u.region, u.service, kid, u.at) for kid, u in batch.items()],
                    )

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
        """Stop the listener and the flusher, write pending uses, close the pool."""
        if self._closed:
            return
        if self._ready:
            try:
                await self._flush_pending()
            except Exception as exc:
                logger.warning("could not write key last-used times at close (lost): %s", exc)
        self._closed = True
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

    # -- KeyManager: principals ------------------------------------------------------

    async def create_principal(
        self,
        name: str,
        *,
        kind: PrincipalKind = PrincipalKind.USER,
        root: bool = False,
        now: datetime | None = None,
    ) -> Principal:
        """Create a user or role. Raises :class:`StoreError` if it exists or the name is invalid."""
        validate_principal_name(name)
        principal = Principal(
            name=name, kind=PrincipalKind(kind), root=bool(root), created_at=_now(now)
        )
        psycopg, _pool = _driver()

        async def insert(conn: AsyncConnection[Any]) -> None:
            await conn.execute(
                "INSERT INTO principals (name, kind, is_root, created_at) VALUES (%s, %s, %s, %s)",
                (principal.name, principal.kind.value, principal.root, principal.created_at),
            )

        try:
            await self._write(insert)
        except psycopg.errors.UniqueViolation:
            raise StoreError(f"principal {principal.name!r} already exists") from None
        return principal

    async def get_principal(self, name: str) -> Principal | None:
        """The principal with this name, or None."""

        async def q(conn: AsyncConnection[Any]) -> Principal | None:
            cur = await conn.execute(
                "SELECT name, kind, is_root, created_at FROM principals WHERE name = %s", (name,)
            )
            row = await cur.fetchone()
            return None if row is None else _principal(row)

        return await self._run(q, retry=True)

    async def list_principals(self) -> list[Principal]:
        """Every principal, ordered by name."""

        async def q(conn: AsyncConnection[Any]) -> list[Principal]:
            cur = await conn.execute(
                "SELECT name, kind, is_root, created_at FROM principals ORDER BY name COLLATE \"C\""
            )
            return [_principal(row) for row in await cur.fetchall()]

        return await self._run(q, retry=True)

    async def delete_principal(self, name: str) -> None:
        """Delete a principal and every key it owns. Raises :class:`PrincipalNotFoundError`."""

        async def delete(conn: AsyncConnection[Any]) -> list[str]:
            cur = await conn.execute(
                "SELECT access_key_id FROM access_keys WHERE principal = %s", (name,)
            )
            ids = [r[0] for r in await cur.fetchall()]
            cur = await conn.execute("DELETE FROM principals WHERE name = %s", (name,))
            if cur.rowcount == 0:
                raise PrincipalNotFoundError(f"no principal named {name!r}")
            return ids

        self._cache.evict(await self._write(delete))

    # -- KeyManager: keys -----------------------------------------------------------

    @staticmethod
    async def _lock_principal(conn: AsyncConnection[Any], name: str) -> None:
        # FOR UPDATE serializes key creation per principal: the 2-key count
        # below cannot be raced by another replica.
        cur = await conn.execute("SELECT 1 FROM principals WHERE name = %s FOR UPDATE", (name,))
        if await cur.fetchone() is None:
            raise PrincipalNotFoundError(f"no principal named {name!r}")

    @staticmethod
    async def _long_term_ids(conn: AsyncConnection[Any], principal: str) -> list[str]:
        cur = await conn.execute(
            "SELECT access_key_id FROM access_keys WHERE principal = %s "
            "AND expires_at IS NULL ORDER BY created_at DESC, seq DESC",
            (principal,),
        )
        return [r[0] for r in await cur.fetchall()]

    async def _check_limit(self, conn: AsyncConnection[Any], principal: str) -> None:
        existing = await self._long_term_ids(conn, principal)
        if len(existing) >= MAX_KEYS_PER_PRINCIPAL:
            raise KeyLimitExceededError(
                f"principal {principal!r} already has {len(existing)} access keys "
                f"({', '.join(existing)}); at most {MAX_KEYS_PER_PRINCIPAL} are allowed: "
                "delete one, or rotate"
            )

    async def _sealing_key(self, conn: AsyncConnection[Any]) -> MasterKey:
        """The key new secrets are sealed with; one database never mixes master keys."""
        cur = await conn.execute(
            "SELECT secret_envelope FROM access_keys WHERE master_key_id != %s LIMIT 1",
            (self._master_key.key_id,),
        )
        row = await cur.fetchone()
        if row is None:
            return self._master_key
        envelope = bytes(row[0])
        key = self._key_for(envelope)
        if key.key_id != envelope_key_id(envelope):
            raise SecretDecryptionError(
                f"the key database was re-wrapped under master key {envelope_key_id(envelope)}, "
                f"but this process holds {key.key_id} ({key.source}); restart it with the "
                "new master key"
            )
        return key

    async def _insert_key(
        self,
        conn: AsyncConnection[Any],
        *,
        principal: str,
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
            # ON CONFLICT rather than catching the violation: an error would
            # abort the whole transaction.
            cur = await conn.execute(
                "INSERT INTO access_keys (access_key_id, principal, status, secret_envelope, "
                "master_key_id, created_at, expires_at, session_token_sha256) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                (
                    kid,
                    principal,
                    KeyStatus.ACTIVE.value,
                    sealing.seal(secret, access_key_id=kid),
                    sealing.key_id,
                    created_at,
                    expires_at,
                    token_sha256,
                ),
            )
            if cur.rowcount == 1:
                return kid, secret
            if access_key_id is not None:
                raise StoreError(f"access key {access_key_id} already exists")
        raise StoreError("could not allocate a unique access key id")  # pragma: no cover

    async def create_key(self, principal: str, *, now: datetime | None = None) -> NewAccessKey:
        """A new active ``AKIA`` key; the returned secret is never readable again.

        Raises :class:`PrincipalNotFoundError` and :class:`KeyLimitExceededError`.
        """
        at = _now(now)

        async def create(conn: AsyncConnection[Any]) -> tuple[str, str]:
            await self._lock_principal(conn, principal)
            await self._check_limit(conn, principal)
            return await self._insert_key(conn, principal=principal, created_at=at)

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
        """Store an existing long-term key pair (same rules as SQLite's ``import_key``).

        Raises :class:`StoreError`, :class:`PrincipalNotFoundError`,
        :class:`KeyLimitExceededError`.
        """
        if not isinstance(access_key_id, str) or not _LOOKUP_ID_RE.fullmatch(access_key_id):
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
        at = _now(now)

        async def insert(conn: AsyncConnection[Any]) -> None:
            await self._lock_principal(conn, principal)
            await self._check_limit(conn, principal)
            await self._insert_key(
                conn,
                principal=principal,
                created_at=at,
                access_key_id=access_key_id,
                secret=secret_access_key,
            )

        await self._write(insert)
        self._cache.evict([access_key_id])
        return AccessKeyInfo(
            access_key_id=access_key_id, principal=principal, status=KeyStatus.ACTIVE, created_at=at
        )

    async def create_session(
        self, principal: str, *, duration_seconds: int, now: datetime | None = None
    ) -> SessionCredentials:
        """Temporary ``ASIA`` credentials valid 900..129600 s; the token is stored hashed.

        Raises :class:`StoreError` for a duration out of range and
        :class:`PrincipalNotFoundError`.
        """
        validate_session_duration(duration_seconds)
        at = _now(now)
        token = new_session_token()
        expiration = at + timedelta(seconds=duration_seconds)

        async def create(conn: AsyncConnection[Any]) -> tuple[str, str]:
            await self._lock_principal(conn, principal)
            return await self._insert_key(
                conn,
                principal=principal,
                created_at=at,
                prefix=TEMPORARY_PREFIX,
                expires_at=expiration,
                token_sha256=hash_session_token(token),
            )

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

        async def q(conn: AsyncConnection[Any]) -> AccessKeyInfo | None:
            cur = await conn.execute(
                f"SELECT {_KEY_COLUMNS} FROM access_keys WHERE access_key_id = %s",  # noqa: S608
                (access_key_id,),
            )
            row = await cur.fetchone()
            return None if row is None else _info(row)

        return await self._run(q, retry=True)

    async def list_keys(self, principal: str | None = None) -> list[AccessKeyInfo]:
        """Keys of every principal or of one, by principal then creation time (no secrets).

        Raises :class:`PrincipalNotFoundError` for an unknown ``principal``.
        """

        async def q(conn: AsyncConnection[Any]) -> list[AccessKeyInfo]:
            if principal is None:
                cur = await conn.execute(
                    f"SELECT {_KEY_COLUMNS} FROM access_keys "  # noqa: S608
                    'ORDER BY principal COLLATE "C", created_at, seq'
                )
            else:
                found = await conn.execute("SELECT 1 FROM principals WHERE name = %s", (principal,))
                if await found.fetchone() is None:
                    raise PrincipalNotFoundError(f"no principal named {principal!r}")
                cur = await conn.execute(
                    f"SELECT {_KEY_COLUMNS} FROM access_keys WHERE principal = %s "  # noqa: S608
                    "ORDER BY created_at, seq",
                    (principal,),
                )
            return [_info(row) for row in await cur.fetchall()]

        return await self._run(q, retry=True)

    async def set_key_status(self, access_key_id: str, status: KeyStatus) -> AccessKeyInfo:
        """Activate or deactivate a key. Raises :class:`KeyNotFoundError`."""
        status = KeyStatus(status)

        async def update(conn: AsyncConnection[Any]) -> AccessKeyInfo:
            await conn.execute(
                "UPDATE access_keys SET status = %s WHERE access_key_id = %s AND status != %s",
                (status.value, access_key_id, status.value),
            )
            cur = await conn.execute(
                f"SELECT {_KEY_COLUMNS} FROM access_keys WHERE access_key_id = %s",  # noqa: S608
                (access_key_id,),
            )
            row = await cur.fetchone()
            if row is None:
                raise KeyNotFoundError(f"no access key {access_key_id!r}")
            return _info(row)

        info = await self._write(update)
        self._cache.evict([access_key_id])
        return info

    async def activate_key(self, access_key_id: str) -> AccessKeyInfo:
        """Set a key Active. Raises :class:`KeyNotFoundError`."""
        return await self.set_key_status(access_key_id, KeyStatus.ACTIVE)

    async def deactivate_key(self, access_key_id: str) -> AccessKeyInfo:
        """Set a key Inactive (refused by every replica within a second).

        Raises :class:`KeyNotFoundError`.
        """
        return await self.set_key_status(access_key_id, KeyStatus.INACTIVE)

    async def delete_key(self, access_key_id: str) -> None:
        """Delete a key for good. Raises :class:`KeyNotFoundError`."""

        async def delete(conn: AsyncConnection[Any]) -> None:
            cur = await conn.execute(
                "DELETE FROM access_keys WHERE access_key_id = %s", (access_key_id,)
            )
            if cur.rowcount == 0:
                raise KeyNotFoundError(f"no access key {access_key_id!r}")

        await self._write(delete)
        self._cache.evict([access_key_id])

    async def rotate_key(
        self, principal: str, *, keep_previous_active: bool = False, now: datetime | None = None
    ) -> RotationResult:
        """Replace a principal's long-term key, in one transaction (as SQLite's ``rotate_key``).

        Raises :class:`PrincipalNotFoundError`.
        """
        at = _now(now)

        async def rotate(conn: AsyncConnection[Any]) -> tuple[list[str], str, str]:
            await self._lock_principal(conn, principal)
            existing = await self._long_term_ids(conn, principal)
            kept, deleted = existing[:1], existing[1:]
            for kid in deleted:
                await conn.execute("DELETE FROM access_keys WHERE access_key_id = %s", (kid,))
            if kept and not keep_previous_active:
                await conn.execute(
                    "UPDATE access_keys SET status = %s WHERE access_key_id = %s",
                    (KeyStatus.INACTIVE.value, kept[0]),
                )
            kid, secret = await self._insert_key(conn, principal=principal, created_at=at)
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

        async def delete(conn: AsyncConnection[Any]) -> list[str]:
            cur = await conn.execute(
                "DELETE FROM access_keys WHERE expires_at IS NOT NULL AND expires_at <= %s "
                "RETURNING access_key_id",
                (at,),
            )
            return [r[0] for r in await cur.fetchall()]

        ids = await self._write(delete)
        self._cache.evict(ids)
        return len(ids)

    async def rewrap(self, new_master_key: MasterKey) -> int:
        """Re-encrypt every secret under ``new_master_key`` in one transaction.

        Returns how many secrets were re-encrypted. Other replicas are told
        through the change notifications; those whose master key came from
        ``SIGV4KIT_MASTER_KEY_FILE`` follow the file once it holds the new
        key, the others answer 503 for those keys until restarted with it.
        Raises :class:`SecretDecryptionError` (nothing changed) when a
        secret cannot be decrypted with the current key.
        """

        async def rewrap(conn: AsyncConnection[Any]) -> int:
            cur = await conn.execute(
                "SELECT access_key_id, secret_envelope, master_key_id FROM access_keys FOR UPDATE"
            )
            count = 0
            for kid, envelope, key_id in await cur.fetchall():
                envelope = bytes(envelope)
                if key_id == new_master_key.key_id:
                    new_master_key.open(envelope, access_key_id=kid)
                    continue
                secret = self._key_for(envelope).open(envelope, access_key_id=kid)
                await conn.execute(
                    "UPDATE access_keys SET secret_envelope = %s, master_key_id = %s "
                    "WHERE access_key_id = %s",
                    (new_master_key.seal(secret, access_key_id=kid), new_master_key.key_id, kid),
                )
                count += 1
            return count

        count = await self._write(rewrap)
        self._master_key = new_master_key
        self._cache.clear()
        return count


def _describe(exc: BaseException) -> str:
    # The primary message only: libpq's text can span lines, and details
    # may quote row values.
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
