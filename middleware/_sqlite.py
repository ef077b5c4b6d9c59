"""The embedded SQLite access-key store (``sqlite:///path/to/keys.db``).

One database file holds principals and access keys; secrets are sealed with
the master key (:mod:`._crypto`), session tokens kept only as SHA-256.

Concurrency: the database runs in WAL mode with a busy timeout, so several
processes (uvicorn workers) can share one file; writes that must see a
consistent count (the 2-key limit) run in ``BEGIN IMMEDIATE`` transactions.
Each store object keeps two connections, one for lookups and administration
and one for its background thread, and every database call runs in a worker
thread, never on the event loop.

Request path: :meth:`SQLiteKeyStore.get_key` answers from an in-process
cache (positive entries for ``cache_ttl`` seconds, unknown ids for
``negative_cache_ttl``, each bounded in size). Changes made through the same
store object evict the keys they touch at once. Changes made by other
processes bump a counter (triggers on the tables) that the background thread
polls every ``flush_interval`` seconds, clearing the cache when it moves; the
TTL bounds staleness if that thread is behind.

:meth:`SQLiteKeyStore.record_use` only updates an in-memory dict; the
background thread writes the latest use of each key in one transaction per
``flush_interval``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from sigv4kit import KeyRecord

from ._cache import KeyCache, KeyUse, UseBatch
from ._crypto import (
    MASTER_KEY_ENV,
    MASTER_KEY_FILE_ENV,
    MasterKey,
    create_key_file,
    envelope_key_id,
    resolve_master_key,
)
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

__all__ = ["SCHEMA_VERSION", "SQLiteKeyStore"]

logger = logging.getLogger("sigv4kit.middleware.store")

T = TypeVar("T")

# Ids this store answers for: its own AKIA/ASIA ids and imported ids (IAM's
# AccessKeyId is [\w]+, up to 128 characters). Anything else is unknown
# without touching the database or the cache.
_LOOKUP_ID_RE = re.compile(r"[A-Za-z0-9_]{3,128}")

_BUMP = "UPDATE cache_generation SET value = value + 1 WHERE id = 1;"

#: (version, description, statements). Append only: a released migration
#: never changes, later versions add entries.
MIGRATIONS: tuple[tuple[int, str, tuple[str, ...]], ...] = (
    (
        1,
        "principals, access keys, cache generation",
        (
            """CREATE TABLE principals (
                name TEXT PRIMARY KEY,
                kind TEXT NOT NULL CHECK (kind IN ('user', 'role')),
                is_root INTEGER NOT NULL DEFAULT 0 CHECK (is_root IN (0, 1)),
                created_at TEXT NOT NULL
            )""",
            """CREATE TABLE access_keys (
                access_key_id TEXT PRIMARY KEY,
                principal TEXT NOT NULL REFERENCES principals(name) ON DELETE CASCADE,
                status TEXT NOT NULL CHECK (status IN ('Active', 'Inactive')),
                secret_envelope BLOB NOT NULL,
                master_key_id TEXT NOT NULL,
                created_at TEXT NOT NULL,
                expires_at TEXT,
                session_token_sha256 TEXT,
                last_used_at TEXT,
                last_used_region TEXT,
                last_used_service TEXT,
                CHECK ((expires_at IS NULL) = (session_token_sha256 IS NULL))
            )""",
            "CREATE INDEX access_keys_by_principal ON access_keys(principal, created_at)",
            """CREATE TABLE cache_generation (
                id INTEGER PRIMARY KEY CHECK (id = 1),
                value INTEGER NOT NULL
            )""",
            "INSERT INTO cache_generation (id, value) VALUES (1, 0)",
            f"CREATE TRIGGER access_keys_insert AFTER INSERT ON access_keys BEGIN {_BUMP} END",
            f"CREATE TRIGGER access_keys_delete AFTER DELETE ON access_keys BEGIN {_BUMP} END",
            "CREATE TRIGGER access_keys_update AFTER UPDATE OF status, secret_envelope, "
            "master_key_id, principal, expires_at, session_token_sha256 ON access_keys "
            f"BEGIN {_BUMP} END",
            f"CREATE TRIGGER principals_delete AFTER DELETE ON principals BEGIN {_BUMP} END",
            f"CREATE TRIGGER principals_update AFTER UPDATE ON principals BEGIN {_BUMP} END",
        ),
    ),
)
SCHEMA_VERSION = MIGRATIONS[-1][0]

_KEY_COLUMNS = (
    "access_key_id, principal, status, created_at, expires_at, "
    "last_used_at, last_used_region, last_used_service"
)


def _ts(value: datetime) -> str:
    """Fixed-width UTC text, so SQL string comparison orders by time."""
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def _parse_ts(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _info(row: sqlite3.Row) -> AccessKeyInfo:
    return AccessKeyInfo(
        access_key_id=row["access_key_id"],
        principal=row["principal"],
        status=KeyStatus(row["status"]),
        created_at=datetime.fromisoformat(row["created_at"]),
        expires_at=_parse_ts(row["expires_at"]),
        last_used_at=_parse_ts(row["last_used_at"]),
        last_used_region=row["last_used_region"],
        last_used_service=row["last_used_service"],
    )


def _principal(row: sqlite3.Row) -> Principal:
    return Principal(
        name=row["name"],
        kind=PrincipalKind(row["kind"]),
        root=bool(row["is_root"]),
        created_at=datetime.fromisoformat(row["created_at"]),
    )


class SQLiteKeyStore:
    """An :class:`~sigv4kit.middleware.AccessKeyStore` and
    :class:`~sigv4kit.middleware.KeyManager` on one SQLite file.

    ```python
    store = SQLiteKeyStore("keys.db")
    await store.create_principal("alice")
    key = await store.create_key("alice")      # key.secret_access_key: shown once
    record = await store.get_key(key.access_key_id)
    await store.aclose()
    ```

    ``master_key`` defaults to :func:`~._crypto.resolve_master_key` on
    ``environ`` (default ``os.environ``) with ``<path>.key`` as the default
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
        self.path = Path(path)
        self._busy_timeout = busy_timeout
        self._flush_interval = flush_interval
        self._clock = clock
        self._cache = KeyCache(
            ttl=cache_ttl,
            negative_ttl=negative_cache_ttl,
            size=cache_size,
            negative_size=negative_cache_size,
        )
        self._closed = False
        self._init_process_state()
        conn = self._connection()
        try:
            with self._lock:
                self._migrate(conn)
                holds_keys = conn.execute("SELECT EXISTS (SELECT 1 FROM access_keys)").fetchone()[0]
                self._seen_generation = self._generation(conn)
            self._default_key_file = Path(f"{self.path}.key")
            # The key file rewrap must replace: only the default one beside
            # the database (a configured key is the operator's to change).
            self._owned_key_file: Path | None = None
            # The file the key was read from, re-read when another process
            # has re-wrapped the secrets (see _key_for).
            self._key_file: Path | None = None
            if master_key is None:
                env = os.environ if environ is None else environ
                master_key = resolve_master_key(
                    env, default_key_file=self._default_key_file, create=not holds_keys
                )
                if MASTER_KEY_ENV not in env and MASTER_KEY_FILE_ENV not in env:
                    self._owned_key_file = self._key_file = self._default_key_file
                elif MASTER_KEY_FILE_ENV in env:
                    self._key_file = Path(env[MASTER_KEY_FILE_ENV])
            self._master_key = master_key
            with self._lock:
                self._check_master_key(conn)
        except sqlite3.Error as exc:
            self.close()
            raise StoreUnavailableError(
                f"cannot open the key database {str(self.path)!r}: {exc}"
            ) from None
        except BaseException:
            self.close()
            raise

    # -- connections ------------------------------------------------------

    def _init_process_state(self) -> None:
        # Everything a forked child must not inherit: connections, the
        # background thread, locks another thread may have held at the fork,
        # and the parent's pending notes (the parent writes those).
        self._pid = os.getpid()
        self._uses = UseBatch()
        self._thread_lock = threading.Lock()
        self._lock = threading.Lock()
        self._bg_lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._bg_conn: sqlite3.Connection | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _check_process(self) -> None:
        # A forked child must not share the parent's connections or thread.
        if os.getpid() != self._pid:
            self._init_process_state()

    def _open_connection(self) -> sqlite3.Connection:
        if not self.path.exists():
            # The database holds sealed secrets and metadata: private by
            # default. SQLite gives its -wal and -shm files the same mode.
            try:
                os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            except FileExistsError:
                pass  # another process created it first
            except FileNotFoundError:
                raise StoreUnavailableError(
                    f"cannot create the key database {str(self.path)!r}: "
                    "its directory does not exist"
                ) from None
            except OSError as exc:
                raise StoreUnavailableError(
                    f"cannot create the key database {str(self.path)!r}: {exc.strerror or exc}"
                ) from None
        try:
            conn = sqlite3.connect(
                self.path,
                timeout=self._busy_timeout,
                isolation_level=None,
                check_same_thread=False,
            )
        except sqlite3.Error as exc:
            raise StoreUnavailableError(
                f"cannot open the key database {str(self.path)!r}: {exc}"
            ) from None
        try:
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout * 1000)}")
            mode = self._enable_wal(conn)
            if str(mode).lower() != "wal":
                raise StoreUnavailableError(
                    f"the key database {str(self.path)!r} cannot use WAL mode (got {mode!r})"
                )
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
        except sqlite3.Error as exc:
            conn.close()
            raise StoreUnavailableError(
                f"cannot open the key database {str(self.path)!r}: {exc}"
            ) from None
        except BaseException:
            conn.close()
            raise
        return conn

    def _enable_wal(self, conn: sqlite3.Connection) -> str:
        # Switching a fresh database to WAL takes an exclusive lock, and
        # SQLite answers "database is locked" at once, without its busy
        # handler, when another process is doing the same: retry until the
        # busy timeout.
        deadline = time.monotonic() + self._busy_timeout
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

    def _connection(self) -> sqlite3.Connection:
        if self._closed:
            raise StoreError("the key store is closed")
        self._check_process()
        if self._conn is None:
            self._conn = self._open_connection()
        return self._conn

    def _background_connection(self) -> sqlite3.Connection:
        if self._bg_conn is None:
            self._bg_conn = self._open_connection()
        return self._bg_conn

    @contextlib.contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            conn = self._connection()
            try:
                yield conn
            except sqlite3.Error as exc:
                raise StoreUnavailableError(f"key database error: {exc}") from None

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` .. ``COMMIT`` on the main connection."""
        with self._lock:
            conn = self._connection()
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    yield conn
                    conn.execute("COMMIT")
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
            except sqlite3.Error as exc:
                raise StoreUnavailableError(f"key database error: {exc}") from None

    async def _run(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        if self._closed:
            raise StoreError("the key store is closed")
        return await asyncio.to_thread(fn, *args, **kwargs)

    # -- schema -----------------------------------------------------------

    @staticmethod
    def _migrate(conn: sqlite3.Connection) -> None:
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute(
                    "CREATE TABLE IF NOT EXISTS schema_migrations ("
                    "version INTEGER PRIMARY KEY, description TEXT NOT NULL, "
                    "applied_at TEXT NOT NULL)"
                )
                current = conn.execute(
                    "SELECT COALESCE(MAX(version), 0) FROM schema_migrations"
                ).fetchone()[0]
                if current > SCHEMA_VERSION:
                    raise SchemaVersionError(
                        f"the key database has schema version {current}; this sigv4kit "
                        f"supports up to {SCHEMA_VERSION}: upgrade sigv4kit"
                    )
                for version, description, statements in MIGRATIONS:
                    if version <= current:
                        continue
                    for statement in statements:
                        conn.execute(statement)
                    conn.execute(
                        "INSERT INTO schema_migrations (version, description, applied_at) "
                        "VALUES (?, ?, ?)",
                        (version, description, _ts(datetime.now(UTC))),
                    )
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise StoreUnavailableError(f"cannot prepare the key database: {exc}") from None

    @staticmethod
    def _generation(conn: sqlite3.Connection) -> int:
        return int(conn.execute("SELECT value FROM cache_generation WHERE id = 1").fetchone()[0])

    def schema_version(self) -> int:
        """The schema version recorded in the database."""
        with self._read() as conn:
            return int(conn.execute("SELECT MAX(version) FROM schema_migrations").fetchone()[0])

    def _check_master_key(self, conn: sqlite3.Connection) -> None:
        rows = conn.execute(
            "SELECT master_key_id, COUNT(*) AS n FROM access_keys GROUP BY master_key_id"
        ).fetchall()
        foreign = {row["master_key_id"]: row["n"] for row in rows}
        foreign.pop(self._master_key.key_id, None)
        if not foreign:
            return
        if self._recover_interrupted_rewrap(conn, set(foreign)):
            return
        described = ", ".join(f"{n} under {kid}" for kid, n in sorted(foreign.items()))
        raise SecretDecryptionError(
            f"the key database {str(self.path)!r} holds secrets sealed under another master "
            f"key ({described}); the configured master key ({self._master_key.source}) is "
            f"{self._master_key.key_id}. Configure the right SIGV4KIT_MASTER_KEY or "
            "SIGV4KIT_MASTER_KEY_FILE."
        )

    def _recover_interrupted_rewrap(self, conn: sqlite3.Connection, foreign: set[str]) -> bool:
        # A rewrap of a store keyed by its default key file commits the
        # database, then renames <db>.key.new over <db>.key. A crash between
        # the two leaves the new key in <db>.key.new: finish the rename.
        pending = Path(f"{self._default_key_file}.new")
        if not self._uses_default_key_file() or not pending.exists():
            return False
        candidate = MasterKey.from_file(pending)
        ids = {
            row[0]
            for row in conn.execute("SELECT DISTINCT master_key_id FROM access_keys").fetchall()
        }
        if ids != {candidate.key_id}:
            return False
        os.replace(pending, self._default_key_file)
        self._master_key = MasterKey(
            candidate.material, source=f"master key file {str(self._default_key_file)!r}"
        )
        logger.warning(
            "finished an interrupted rewrap: %s now holds the new master key",
            self._default_key_file,
        )
        return True

    def _uses_default_key_file(self) -> bool:
        return self._owned_key_file is not None

    @property
    def owns_key_file(self) -> bool:
        """True when the master key is the default key file beside the database."""
        return self._owned_key_file is not None

    # -- cache ------------------------------------------------------------

    def _evict(self, ids: list[str] | tuple[str, ...]) -> None:
        self._cache.evict(ids)

    def _clear_cache(self) -> None:
        self._cache.clear()

    def _after_write(self, conn: sqlite3.Connection, before: int) -> None:
        # Our own change moved the generation counter; remember it so the
        # poller does not clear the whole cache for it. A change by another
        # process in between (before != seen) is left for the poller.
        after = self._generation(conn)
        if before == self._seen_generation:
            self._seen_generation = after

    # -- AccessKeyStore ---------------------------------------------------

    async def get_key(self, access_key_id: str) -> KeyRecord | None:
        """The key with this id (active or not) or None; cached.

        Raises :class:`StoreUnavailableError` when the database cannot answer
        and :class:`SecretDecryptionError` when the secret cannot be decrypted.
        """
        if not isinstance(access_key_id, str) or not _LOOKUP_ID_RE.fullmatch(access_key_id):
            return None
        self._ensure_background()
        hit, record, epoch = self._cache.lookup(access_key_id, self._clock())
        if hit:
            return record
        record = await self._run(self._load_record, access_key_id)
        self._cache.remember(access_key_id, record, epoch, self._clock())
        return record

    def _key_for(self, envelope: bytes) -> MasterKey:
        """The master key for an envelope: ours, or the key file's new one.

        After ``keys rewrap`` in another process the rows carry the new key
        id while this process still holds the old key. When the key came
        from a file, the file (or the default file's pending ``.new``) is
        re-read; a key matching the envelope replaces ours. Anything else is
        left to :meth:`MasterKey.open` to refuse precisely.
        """
        wanted = envelope_key_id(envelope)
        current = self._master_key
        if wanted == current.key_id or self._key_file is None:
            return current
        candidates = [self._key_file]
        if self._owned_key_file is not None:
            candidates.append(Path(f"{self._owned_key_file}.new"))
        for path in candidates:
            try:
                candidate = MasterKey.from_file(path)
            except MasterKeyError:
                continue
            if candidate.key_id == wanted:
                logger.warning(
                    "the stored secrets were re-wrapped under master key %s: now using it", wanted
                )
                self._master_key = MasterKey(candidate.material, source=current.source)
                return self._master_key
        return current

    def _load_record(self, access_key_id: str) -> KeyRecord | None:
        with self._read() as conn:
            row = conn.execute(
                "SELECT principal, status, CAST(secret_envelope AS BLOB) AS secret_envelope, "
                "expires_at, session_token_sha256 "
                "FROM access_keys WHERE access_key_id = ?",
                (access_key_id,),
            ).fetchone()
        if row is None:
            return None
        envelope = row["secret_envelope"]
        secret = self._key_for(envelope).open(envelope, access_key_id=access_key_id)
        return KeyRecord(
            access_key_id=access_key_id,
            secret_access_key=secret,
            principal=row["principal"],
            active=row["status"] == KeyStatus.ACTIVE.value,
            session_token_sha256=row["session_token_sha256"],
            expires_at=_parse_ts(row["expires_at"]),
        )

    def record_use(self, access_key_id: str, *, at: datetime, region: str, service: str) -> None:
        """Note a use of a key; returns at once (written by the background thread)."""
        if self._closed or at.tzinfo is None:
            return
        self._uses.add(access_key_id, KeyUse(at, str(region)[:64], str(service)[:64]))
        self._ensure_background()

    async def aclose(self) -> None:
        """Stop the background thread, write pending uses, close the database."""
        if self._closed:
            return
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
        with self._bg_lock:
            if self._bg_conn is not None:
                self._bg_conn.close()
                self._bg_conn = None

    # -- background thread: batched last-used writes, cross-process changes

    def _ensure_background(self) -> None:
        self._check_process()
        thread = self._thread
        if thread is not None or self._closed:
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
            self._background_tick()

    def _background_tick(self) -> None:
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
            return self._flush_pending_locked()

    def _flush_pending_locked(self) -> int:
        batch, dropped = self._uses.take()
        if dropped:
            logger.warning("dropped %d key-use notes: too many pending", dropped)
        if not batch:
            return 0
        try:
            with self._bg_lock:
                if self._closed:
                    raise StoreError("the key store is closed")
                conn = self._background_connection()
                conn.execute("BEGIN IMMEDIATE")
                try:
                    conn.executemany(
                        "UPDATE access_keys SET last_used_at = ?, last_used_region = ?, "
                        "last_used_service = ? WHERE access_key_id = ? "
                        "AND (last_used_at IS NULL OR last_used_at < ?)",
                        [
                            (_ts(u.at), u.region, u.service, kid, _ts(u.at))
                            for kid, u in batch.items()
                        ],
                    )
                    conn.execute("COMMIT")
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
        except BaseException:
            self._uses.put_back(batch)
            raise
        return len(batch)

    def _poll_generation(self) -> None:
        with self._bg_lock:
            if self._closed:
                return
            generation = self._generation(self._background_connection())
        if generation != self._seen_generation:
            self._seen_generation = generation
            self._clear_cache()

    async def flush(self) -> None:
        """Write pending :meth:`record_use` notes now (tests, shutdown).

        Raises :class:`StoreUnavailableError` when the database cannot be written.
        """
        try:
            await self._run(self._flush_pending)
        except sqlite3.Error as exc:
            raise StoreUnavailableError(f"key database error: {exc}") from None

    # -- KeyManager: principals ------------------------------------------

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
        return await self._run(self._create_principal, principal)

    def _create_principal(self, principal: Principal) -> Principal:
        with self._transaction() as conn:
            try:
                conn.execute(
                    "INSERT INTO principals (name, kind, is_root, created_at) VALUES (?, ?, ?, ?)",
                    (
                        principal.name,
                        principal.kind.value,
                        int(principal.root),
                        _ts(principal.created_at),
                    ),
                )
            except sqlite3.IntegrityError:
                raise StoreError(f"principal {principal.name!r} already exists") from None
        return principal

    async def get_principal(self, name: str) -> Principal | None:
        """The principal with this name, or None."""
        return await self._run(self._get_principal, name)

    def _get_principal(self, name: str) -> Principal | None:
        with self._read() as conn:
            row = conn.execute("SELECT * FROM principals WHERE name = ?", (name,)).fetchone()
        return None if row is None else _principal(row)

    async def list_principals(self) -> list[Principal]:
        """Every principal, ordered by name."""
        return await self._run(self._list_principals)

    def _list_principals(self) -> list[Principal]:
        with self._read() as conn:
            rows = conn.execute("SELECT * FROM principals ORDER BY name").fetchall()
        return [_principal(row) for row in rows]

    async def delete_principal(self, name: str) -> None:
        """Delete a principal and every key it owns. Raises :class:`PrincipalNotFoundError`."""
        await self._run(self._delete_principal, name)

    def _delete_principal(self, name: str) -> None:
        with self._transaction() as conn:
            before = self._generation(conn)
            ids = [
                r[0]
                for r in conn.execute(
                    "SELECT access_key_id FROM access_keys WHERE principal = ?", (name,)
                ).fetchall()
            ]
            if conn.execute("DELETE FROM principals WHERE name = ?", (name,)).rowcount == 0:
                raise PrincipalNotFoundError(f"no principal named {name!r}")
            self._after_write(conn, before)
        self._evict(ids)

    # -- KeyManager: keys -------------------------------------------------

    def _require_principal(self, conn: sqlite3.Connection, name: str) -> None:
        if conn.execute("SELECT 1 FROM principals WHERE name = ?", (name,)).fetchone() is None:
            raise PrincipalNotFoundError(f"no principal named {name!r}")

    def _long_term_ids(self, conn: sqlite3.Connection, principal: str) -> list[str]:
        return [
            r[0]
            for r in conn.execute(
                "SELECT access_key_id FROM access_keys WHERE principal = ? "
                "AND expires_at IS NULL ORDER BY created_at DESC, rowid DESC",
                (principal,),
            ).fetchall()
        ]

    def _insert_key(
        self,
        conn: sqlite3.Connection,
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
        sealing = self._sealing_key(conn)
        for _attempt in range(5):
            kid = new_access_key_id(prefix) if access_key_id is None else access_key_id
            try:
                conn.execute(
                    "INSERT INTO access_keys (access_key_id, principal, status, secret_envelope, "
                    "master_key_id, created_at, expires_at, session_token_sha256) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        kid,
                        principal,
                        KeyStatus.ACTIVE.value,
                        sealing.seal(secret, access_key_id=kid),
                        sealing.key_id,
                        _ts(created_at),
                        None if expires_at is None else _ts(expires_at),
                        token_sha256,
                    ),
                )
            except sqlite3.IntegrityError:
                if access_key_id is not None:
                    raise StoreError(f"access key {access_key_id} already exists") from None
                continue  # 80 random bits collided; draw again
            return kid, secret
        raise StoreError("could not allocate a unique access key id")  # pragma: no cover

    def _sealing_key(self, conn: sqlite3.Connection) -> MasterKey:
        """The key new secrets are sealed with, checked inside the write transaction.

        If another process re-wrapped the store since this one opened it, the
        rows carry another key id: follow it through the key file (as lookups
        do), or refuse, so one database never mixes master keys.
        """
        row = conn.execute(
            "SELECT CAST(secret_envelope AS BLOB) FROM access_keys WHERE master_key_id != ? "
            "LIMIT 1",
            (self._master_key.key_id,),
        ).fetchone()
        if row is None:
            return self._master_key
        key = self._key_for(row[0])
        if key.key_id != envelope_key_id(row[0]):
            raise SecretDecryptionError(
                f"the key database was re-wrapped under master key {envelope_key_id(row[0])}, "
                f"but this process holds {key.key_id} ({key.source}); restart it with the "
                "new master key"
            )
        return key

    def _check_limit(self, conn: sqlite3.Connection, principal: str) -> None:
        existing = self._long_term_ids(conn, principal)
        if len(existing) >= MAX_KEYS_PER_PRINCIPAL:
            raise KeyLimitExceededError(
                f"principal {principal!r} already has {len(existing)} access keys "
                f"({', '.join(existing)}); at most {MAX_KEYS_PER_PRINCIPAL} are allowed: "
                "delete one, or rotate"
            )

    async def create_key(self, principal: str, *, now: datetime | None = None) -> NewAccessKey:
        """A new active ``AKIA`` key; the returned secret is never readable again.

        Raises :class:`PrincipalNotFoundError` and :class:`KeyLimitExceededError`.
        """
        return await self._run(self._create_key, principal, _now(now))

    def _create_key(self, principal: str, now: datetime) -> NewAccessKey:
        with self._transaction() as conn:
            before = self._generation(conn)
            self._require_principal(conn, principal)
            self._check_limit(conn, principal)
            kid, secret = self._insert_key(conn, principal=principal, created_at=now)
            self._after_write(conn, before)
        self._evict([kid])
        return NewAccessKey(
            access_key_id=kid,
            secret_access_key=secret,
            principal=principal,
            status=KeyStatus.ACTIVE,
            created_at=now,
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
        return await self._run(
            self._import_key, principal, access_key_id, secret_access_key, _now(now)
        )

    def _import_key(self, principal: str, kid: str, secret: str, now: datetime) -> AccessKeyInfo:
        with self._transaction() as conn:
            before = self._generation(conn)
            self._require_principal(conn, principal)
            self._check_limit(conn, principal)
            self._insert_key(
                conn, principal=principal, created_at=now, access_key_id=kid, secret=secret
            )
            self._after_write(conn, before)
        self._evict([kid])
        return AccessKeyInfo(
            access_key_id=kid, principal=principal, status=KeyStatus.ACTIVE, created_at=now
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
        return await self._run(self._create_session, principal, duration_seconds, _now(now))

    def _create_session(self, principal: str, duration: int, now: datetime) -> SessionCredentials:
        token = new_session_token()
        expiration = now + timedelta(seconds=duration)
        with self._transaction() as conn:
            before = self._generation(conn)
            self._require_principal(conn, principal)
            kid, secret = self._insert_key(
                conn,
                principal=principal,
                created_at=now,
                prefix=TEMPORARY_PREFIX,
                expires_at=expiration,
                token_sha256=hash_session_token(token),
            )
            self._after_write(conn, before)
        self._evict([kid])
        return SessionCredentials(
            access_key_id=kid,
            secret_access_key=secret,
            session_token=token,
            principal=principal,
            expiration=expiration,
        )

    async def get_key_info(self, access_key_id: str) -> AccessKeyInfo | None:
        """Metadata of a key (no secret), or None."""
        return await self._run(self._get_key_info, access_key_id)

    def _get_key_info(self, access_key_id: str) -> AccessKeyInfo | None:
        with self._read() as conn:
            row = conn.execute(
                f"SELECT {_KEY_COLUMNS} FROM access_keys WHERE access_key_id = ?",  # noqa: S608
                (access_key_id,),
            ).fetchone()
        return None if row is None else _info(row)

    async def list_keys(self, principal: str | None = None) -> list[AccessKeyInfo]:
        """Keys of every principal or of one, by principal then creation time (no secrets).

        Raises :class:`PrincipalNotFoundError` for an unknown ``principal``.
        """
        return await self._run(self._list_keys, principal)

    def _list_keys(self, principal: str | None) -> list[AccessKeyInfo]:
        with self._read() as conn:
            if principal is None:
                rows = conn.execute(
                    f"SELECT {_KEY_COLUMNS} FROM access_keys "  # noqa: S608
                    "ORDER BY principal, created_at, rowid"
                ).fetchall()
            else:
                self._require_principal(conn, principal)
                rows = conn.execute(
                    f"SELECT {_KEY_COLUMNS} FROM access_keys WHERE principal = ? "  # noqa: S608
                    "ORDER BY created_at, rowid",
                    (principal,),
                ).fetchall()
        return [_info(row) for row in rows]

    async def set_key_status(self, access_key_id: str, status: KeyStatus) -> AccessKeyInfo:
        """Activate or deactivate a key. Raises :class:`KeyNotFoundError`."""
        return await self._run(self._set_key_status, access_key_id, KeyStatus(status))

    def _set_key_status(self, access_key_id: str, status: KeyStatus) -> AccessKeyInfo:
        with self._transaction() as conn:
            before = self._generation(conn)
            conn.execute(
                "UPDATE access_keys SET status = ? WHERE access_key_id = ? AND status != ?",
                (status.value, access_key_id, status.value),
            )
            row = conn.execute(
                f"SELECT {_KEY_COLUMNS} FROM access_keys WHERE access_key_id = ?",  # noqa: S608
                (access_key_id,),
            ).fetchone()
            if row is None:
                raise KeyNotFoundError(f"no access key {access_key_id!r}")
            self._after_write(conn, before)
        self._evict([access_key_id])
        return _info(row)

    async def activate_key(self, access_key_id: str) -> AccessKeyInfo:
        """Set a key Active. Raises :class:`KeyNotFoundError`."""
        return await self.set_key_status(access_key_id, KeyStatus.ACTIVE)

    async def deactivate_key(self, access_key_id: str) -> AccessKeyInfo:
        """Set a key Inactive (requests signed with it fail). Raises :class:`KeyNotFoundError`."""
        return await self.set_key_status(access_key_id, KeyStatus.INACTIVE)

    async def delete_key(self, access_key_id: str) -> None:
        """Delete a key for good. Raises :class:`KeyNotFoundError`."""
        await self._run(self._delete_key, access_key_id)

    def _delete_key(self, access_key_id: str) -> None:
        with self._transaction() as conn:
            before = self._generation(conn)
            cursor = conn.execute(
                "DELETE FROM access_keys WHERE access_key_id = ?", (access_key_id,)
            )
            if cursor.rowcount == 0:
                raise KeyNotFoundError(f"no access key {access_key_id!r}")
            self._after_write(conn, before)
        self._evict([access_key_id])

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
        return await self._run(self._rotate_key, principal, keep_previous_active, _now(now))

    def _rotate_key(self, principal: str, keep_active: bool, now: datetime) -> RotationResult:
        with self._transaction() as conn:
            before = self._generation(conn)
            self._require_principal(conn, principal)
            existing = self._long_term_ids(conn, principal)
            kept, deleted = existing[:1], existing[1:]
            for kid in deleted:
                conn.execute("DELETE FROM access_keys WHERE access_key_id = ?", (kid,))
            if kept and not keep_active:
                conn.execute(
                    "UPDATE access_keys SET status = ? WHERE access_key_id = ?",
                    (KeyStatus.INACTIVE.value, kept[0]),
                )
            kid, secret = self._insert_key(conn, principal=principal, created_at=now)
            self._after_write(conn, before)
        self._evict([kid, *existing])
        return RotationResult(
            new_key=NewAccessKey(
                access_key_id=kid,
                secret_access_key=secret,
                principal=principal,
                status=KeyStatus.ACTIVE,
                created_at=now,
            ),
            kept=tuple(kept),
            deleted=tuple(deleted),
        )

    async def delete_expired_sessions(self, *, now: datetime | None = None) -> int:
        """Delete temporary credentials whose expiry has passed; returns the count."""
        return await self._run(self._delete_expired, _now(now))

    def _delete_expired(self, now: datetime) -> int:
        with self._transaction() as conn:
            before = self._generation(conn)
            ids = [
                r[0]
                for r in conn.execute(
                    "SELECT access_key_id FROM access_keys WHERE expires_at IS NOT NULL "
                    "AND expires_at <= ?",
                    (_ts(now),),
                ).fetchall()
            ]
            conn.executemany("DELETE FROM access_keys WHERE access_key_id = ?", [(k,) for k in ids])
            self._after_write(conn, before)
        self._evict(ids)
        return len(ids)

    # -- KeyManager: master key ------------------------------------------

    @property
    def master_key_id(self) -> str:
        """The fingerprint of the master key in use."""
        return self._master_key.key_id

    @property
    def master_key_source(self) -> str:
        """Where the master key in use came from (never the key)."""
        return self._master_key.source

    async def rewrap(self, new_master_key: MasterKey) -> int:
        """Re-encrypt every secret under ``new_master_key`` in one transaction.

        Returns the number of secrets re-encrypted. When the store's key came
        from the default key file beside the database, that file is replaced
        by the new key (written first as ``<db>.key.new``, renamed after the
        commit; an interrupted rename is finished on the next open). When the
        key came from ``SIGV4KIT_MASTER_KEY(_FILE)``, configure the new key
        there before the next start.

        Raises :class:`SecretDecryptionError` (nothing changed) when a secret
        cannot be decrypted with the current key.
        """
        return await self._run(self._rewrap, new_master_key)

    def _rewrap(self, new_key: MasterKey) -> int:
        pending: Path | None = None
        if self._uses_default_key_file():
            pending = Path(f"{self._default_key_file}.new")
            with contextlib.suppress(FileNotFoundError):
                pending.unlink()
            create_key_file(pending, new_key)
        count = 0
        try:
            with self._transaction() as conn:
                before = self._generation(conn)
                rows = conn.execute(
                    "SELECT access_key_id, CAST(secret_envelope AS BLOB) AS secret_envelope, "
                    "master_key_id FROM access_keys"
                ).fetchall()
                for row in rows:
                    kid = row["access_key_id"]
                    if row["master_key_id"] == new_key.key_id:
                        # Verify it, but it needs no work.
                        new_key.open(row["secret_envelope"], access_key_id=kid)
                        continue
                    secret = self._master_key.open(row["secret_envelope"], access_key_id=kid)
                    conn.execute(
                        "UPDATE access_keys SET secret_envelope = ?, master_key_id = ? "
                        "WHERE access_key_id = ?",
                        (new_key.seal(secret, access_key_id=kid), new_key.key_id, kid),
                    )
                    count += 1
                self._after_write(conn, before)
        except BaseException:
            if pending is not None:
                with contextlib.suppress(OSError):
                    pending.unlink()
            raise
        if pending is not None:
            os.replace(pending, self._default_key_file)
            self._master_key = MasterKey(
                new_key.material, source=f"master key file {str(self._default_key_file)!r}"
            )
        else:
            self._master_key = new_key
        self._clear_cache()
        return count
