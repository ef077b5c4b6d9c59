"""The contract every access-key store backend meets.

Each test runs against every backend of the ``backend`` fixture: SQLite (a
file per test) and PostgreSQL (a schema per test on the real server; see
tests/_services.py: an unreachable server fails the tests).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import sqlite3
import string
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sigv4kit.middleware import (
    AccessKeyStore,
    KeyLimitExceededError,
    KeyManager,
    KeyNotFoundError,
    KeyStatus,
    MasterKey,
    PostgresKeyStore,
    PrincipalKind,
    PrincipalNotFoundError,
    SQLiteKeyStore,
    StoreError,
)
from sigv4kit.middleware.store.secrets import MASTER_KEY_FILE_ENV, create_key_file

from sigv4kit import KeyRecord

AKIA_RE = re.compile(r"AKIA[A-Z2-7]{16}")
ASIA_RE = re.compile(r"ASIA[A-Z2-7]{16}")
SECRET_ALPHABET = set(string.ascii_letters + string.digits + "+/")
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class FakeClock:
    """A monotonic clock the test moves by hand (cache TTLs)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Backend:
    """Opens stores of one backend on one shared database.

    A new backend (PostgreSQL) adds a ``backend`` fixture parameter and, here,
    how to open a store on a per-test database, how to hold a write lock on it
    (``lock_database``) and how to make one store's reads wait (``stall_reads``).
    """

    def __init__(self, kind: str, tmp_path: Path, url: str | None = None) -> None:
        self.kind = kind
        self.path = tmp_path / "keys.db"
        self.url = url
        self.master_key = MasterKey.generate()
        self.opened: list[Any] = []

    def open(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        cache_ttl: float = 60.0,
        negative_cache_ttl: float = 60.0,
        flush_interval: float = 3600.0,
        environ: dict[str, str] | None = None,
    ) -> Any:
        """A store on the shared database; its master key is ``environ``'s when given."""
        store: Any
        keys: dict[str, Any] = (
            {"environ": environ} if environ is not None else {"master_key": self.master_key}
        )
        if self.kind == "postgres":
            assert self.url is not None
            store = PostgresKeyStore(
                self.url,
                **keys,
                clock=clock,
                cache_ttl=cache_ttl,
                negative_cache_ttl=negative_cache_ttl,
                flush_interval=flush_interval,
                # SQLite notices other processes' changes by polling every
                # flush_interval; the tests give 3600 s to mean "not during
                # this test". PostgreSQL is told at once by LISTEN/NOTIFY,
                # which is the same switch.
                listen=flush_interval < 3600,
            )
            self.opened.append(store)
            return store
        store = SQLiteKeyStore(
            self.path,
            **keys,
            clock=clock,
            cache_ttl=cache_ttl,
            negative_cache_ttl=negative_cache_ttl,
            flush_interval=flush_interval,
        )
        self.opened.append(store)
        return store

    def lock_database(self) -> Any:
        """A context manager holding a write lock on the database (blocks writers)."""
        if self.kind == "postgres":
            return _PostgresTableLock(self.url)
        return _ExclusiveLock(self.path)

    def stall_reads(self, store: Any) -> Any:
        """A context manager during which ``store``'s database reads wait.

        SQLite in WAL mode never blocks readers on other connections' locks, so
        this holds the store's own connection as a long database call would.
        PostgreSQL: an ACCESS EXCLUSIVE table lock makes every reader wait.
        """
        if self.kind == "postgres":
            return _PostgresTableLock(self.url)
        return store._lock


class _ExclusiveLock:
    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None)

    def __enter__(self) -> None:
        self.conn.execute("BEGIN EXCLUSIVE")

    def __exit__(self, *exc: object) -> None:
        self.conn.execute("ROLLBACK")
        self.conn.close()


class _PostgresTableLock:
    """ACCESS EXCLUSIVE on the schema's access_keys table: readers and writers wait."""

    def __init__(self, url: str | None) -> None:
        import psycopg
        from sigv4kit.middleware.store.engine import postgres_conninfo_from_url

        assert url is not None
        conninfo, self.schema = postgres_conninfo_from_url(url)
        self.conn = psycopg.connect(conninfo)

    def __enter__(self) -> None:
        # Taken on the event loop's thread: never wait unbounded for another
        # holder (that would stall the loop and the test with it).
        self.conn.execute("SET lock_timeout = '10s'")
        self.conn.execute(f'LOCK TABLE "{self.schema}".access_keys IN ACCESS EXCLUSIVE MODE')

    def __exit__(self, *exc: object) -> None:
        self.conn.rollback()
        self.conn.close()


@pytest.fixture(params=["sqlite", "postgres"])
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    url = request.getfixturevalue("pg_url") if request.param == "postgres" else None
    b = Backend(request.param, tmp_path, url)
    yield b
    for store in b.opened:
        await store.aclose()


@pytest.fixture
async def store(backend: Backend) -> Any:
    return backend.open()


async def new_user(store: Any, name: str = "alice") -> None:
    await store.create_principal(name, now=T0)


# -- protocols ---------------------------------------------------------------


async def test_store_implements_both_protocols(store: Any) -> None:
    assert isinstance(store, AccessKeyStore)
    assert isinstance(store, KeyManager)


# -- principals ----------------------------------------------------------------


async def test_principals_round_trip(store: Any) -> None:
    await store.create_principal("alice", now=T0)
    await store.create_principal("deployer", kind=PrincipalKind.ROLE, now=T0)
    await store.create_principal("admin", root=True, now=T0)
    names = [(p.name, p.kind, p.root) for p in await store.list_principals()]
    assert names == [
        ("admin", PrincipalKind.USER, True),
        ("alice", PrincipalKind.USER, False),
        ("deployer", PrincipalKind.ROLE, False),
    ]
    alice = await store.get_principal("alice")
    assert alice is not None
    assert alice.created_at == T0
    assert await store.get_principal("nobody") is None


async def test_duplicate_and_invalid_principal_names(store: Any) -> None:
    await new_user(store)
    with pytest.raises(StoreError, match="already exists"):
        await store.create_principal("alice")
    for bad in ["", "a b", "x" * 65, "semi;colon", "é"]:
        with pytest.raises(StoreError, match="invalid principal name"):
            await store.create_principal(bad)


async def test_delete_principal_deletes_its_keys(store: Any) -> None:
    await new_user(store)
    key = await store.create_key("alice")
    assert await store.get_key(key.access_key_id) is not None
    await store.delete_principal("alice")
    assert await store.get_key(key.access_key_id) is None
    assert await store.list_keys() == []
    with pytest.raises(PrincipalNotFoundError):
        await store.delete_principal("alice")


# -- long-term keys ------------------------------------------------------------


async def test_create_key_shapes_and_lookup(store: Any) -> None:
    await new_user(store)
    key = await store.create_key("alice", now=T0)
    assert AKIA_RE.fullmatch(key.access_key_id)
    assert len(key.secret_access_key) == 40
    assert set(key.secret_access_key) <= SECRET_ALPHABET
    assert key.status is KeyStatus.ACTIVE
    assert key.principal == "alice"
    assert key.created_at == T0
    assert key.secret_access_key not in repr(key)

    record = await store.get_key(key.access_key_id)
    assert isinstance(record, KeyRecord)
    assert record.access_key_id == key.access_key_id
    assert record.secret_access_key == key.secret_access_key
    assert record.principal == "alice"
    assert record.active is True
    assert record.is_temporary is False
    assert record.expires_at is None
    assert key.secret_access_key not in repr(record)


async def test_keys_are_distinct(store: Any) -> None:
    await new_user(store, "a")
    await new_user(store, "b")
    keys = [await store.create_key(p) for p in ("a", "a", "b", "b")]
    assert len({k.access_key_id for k in keys}) == 4
    assert len({k.secret_access_key for k in keys}) == 4


async def test_create_key_for_unknown_principal(store: Any) -> None:
    with pytest.raises(PrincipalNotFoundError, match="nobody"):
        await store.create_key("nobody")


async def test_at_most_two_keys_per_principal(store: Any) -> None:
    await new_user(store)
    first = await store.create_key("alice")
    second = await store.create_key("alice")
    with pytest.raises(KeyLimitExceededError, match="at most 2") as info:
        await store.create_key("alice")
    assert first.access_key_id in str(info.value)
    assert second.access_key_id in str(info.value)
    assert first.secret_access_key not in str(info.value)
    # Inactive keys still count (as in IAM); sessions do not.
    await store.deactivate_key(first.access_key_id)
    with pytest.raises(KeyLimitExceededError):
        await store.create_key("alice")
    await store.create_session("alice", duration_seconds=900)
    await store.delete_key(first.access_key_id)
    await store.create_key("alice")


async def test_status_changes_are_seen_at_once(store: Any) -> None:
    await new_user(store)
    key = await store.create_key("alice")
    assert (await store.get_key(key.access_key_id)).active is True  # now cached
    info = await store.deactivate_key(key.access_key_id)
    assert info.status is KeyStatus.INACTIVE
    record = await store.get_key(key.access_key_id)
    assert record is not None
    assert record.active is False
    assert record.secret_access_key == key.secret_access_key
    info = await store.activate_key(key.access_key_id)
    assert info.status is KeyStatus.ACTIVE
    assert (await store.get_key(key.access_key_id)).active is True
    with pytest.raises(KeyNotFoundError):
        await store.deactivate_key("AKIAAAAAAAAAAAAAAAAA")


async def test_delete_key(store: Any) -> None:
    await new_user(store)
    key = await store.create_key("alice")
    assert await store.get_key(key.access_key_id) is not None  # cached
    await store.delete_key(key.access_key_id)
    assert await store.get_key(key.access_key_id) is None
    assert await store.get_key_info(key.access_key_id) is None
    with pytest.raises(KeyNotFoundError, match=key.access_key_id):
        await store.delete_key(key.access_key_id)


async def test_list_keys_never_shows_secrets(store: Any) -> None:
    await new_user(store, "alice")
    await new_user(store, "bob")
    a = await store.create_key("alice", now=T0)
    b = await store.create_key("bob", now=T0 + timedelta(seconds=1))
    s = await store.create_session("alice", duration_seconds=900, now=T0 + timedelta(seconds=2))
    everything = await store.list_keys()
    assert [k.access_key_id for k in everything] == [
        a.access_key_id,
        s.access_key_id,
        b.access_key_id,
    ]
    assert [k.is_temporary for k in everything] == [False, True, False]
    assert [k.access_key_id for k in await store.list_keys("bob")] == [b.access_key_id]
    text = repr(everything)
    for secret in (a.secret_access_key, b.secret_access_key, s.secret_access_key, s.session_token):
        assert secret not in text
    with pytest.raises(PrincipalNotFoundError):
        await store.list_keys("carol")


async def test_import_key(store: Any) -> None:
    await new_user(store)
    # The AWS SigV4 test suite's key pair.
    await store.import_key(
        "alice",
        access_key_id="AKIDEXAMPLE",
        secret_access_key="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
    )
    record = await store.get_key("AKIDEXAMPLE")
    assert record is not None
    assert record.secret_access_key == "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
    with pytest.raises(StoreError, match="already exists"):
        await store.import_key("alice", access_key_id="AKIDEXAMPLE", secret_access_key="x")
    with pytest.raises(StoreError, match="reserved"):
        await store.import_key("alice", access_key_id="ASIAEXAMPLE", secret_access_key="x")
    with pytest.raises(StoreError, match="invalid access key id"):
        await store.import_key("alice", access_key_id="AK/ID", secret_access_key="x")


# -- rotation ------------------------------------------------------------------


async def test_rotate_without_keys_creates_one(store: Any) -> None:
    await new_user(store)
    result = await store.rotate_key("alice")
    assert result.kept == ()
    assert result.deleted == ()
    assert [k.access_key_id for k in await store.list_keys("alice")] == [
        result.new_key.access_key_id
    ]


async def test_rotate_deactivates_previous_and_deletes_older(store: Any) -> None:
    await new_user(store)
    oldest = await store.create_key("alice", now=T0)
    previous = await store.create_key("alice", now=T0 + timedelta(days=1))
    await store.get_key(previous.access_key_id)  # cached as active
    result = await store.rotate_key("alice", now=T0 + timedelta(days=2))
    assert result.kept == (previous.access_key_id,)
    assert result.deleted == (oldest.access_key_id,)
    new = result.new_key
    assert AKIA_RE.fullmatch(new.access_key_id)
    assert new.status is KeyStatus.ACTIVE
    by_id = {k.access_key_id: k for k in await store.list_keys("alice")}
    assert set(by_id) == {previous.access_key_id, new.access_key_id}
    assert by_id[previous.access_key_id].status is KeyStatus.INACTIVE
    assert (await store.get_key(previous.access_key_id)).active is False
    assert await store.get_key(oldest.access_key_id) is None
    assert (await store.get_key(new.access_key_id)).secret_access_key == new.secret_access_key
    # Rollback is possible: the previous key can be re-activated.
    await store.activate_key(previous.access_key_id)
    assert (await store.get_key(previous.access_key_id)).active is True


async def test_rotate_keep_previous_active(store: Any) -> None:
    await new_user(store)
    previous = await store.create_key("alice", now=T0)
    session = await store.create_session("alice", duration_seconds=900, now=T0)
    result = await store.rotate_key("alice", keep_previous_active=True, now=T0 + timedelta(1))
    assert result.kept == (previous.access_key_id,)
    assert (await store.get_key(previous.access_key_id)).active is True
    assert (await store.get_key(result.new_key.access_key_id)).active is True
    assert await store.get_key(session.access_key_id) is not None  # sessions untouched


async def test_rotate_unknown_principal(store: Any) -> None:
    with pytest.raises(PrincipalNotFoundError):
        await store.rotate_key("nobody")


# -- temporary credentials ---------------------------------------------------------


async def test_session_credentials(store: Any) -> None:
    await new_user(store)
    creds = await store.create_session("alice", duration_seconds=3600, now=T0)
    assert ASIA_RE.fullmatch(creds.access_key_id)
    assert len(creds.secret_access_key) == 40
    assert len(creds.session_token) >= 64
    assert creds.expiration == datetime(2026, 3, 1, 13, 0, tzinfo=UTC)
    for secret in (creds.secret_access_key, creds.session_token):
        assert secret not in repr(creds)

    record = await store.get_key(creds.access_key_id)
    assert record is not None
    assert record.is_temporary
    assert record.secret_access_key == creds.secret_access_key
    assert record.expires_at == datetime(2026, 3, 1, 13, 0, tzinfo=UTC)
    assert record.session_token_sha256 == hashlib.sha256(creds.session_token.encode()).hexdigest()
    info = await store.get_key_info(creds.access_key_id)
    assert info is not None
    assert info.expires_at == record.expires_at
    assert info.is_temporary


@pytest.mark.parametrize("seconds", [900, 129_600])
async def test_session_duration_bounds_accepted(store: Any, seconds: int) -> None:
    await new_user(store)
    creds = await store.create_session("alice", duration_seconds=seconds, now=T0)
    assert creds.expiration - T0 == timedelta(seconds=seconds)


@pytest.mark.parametrize("seconds", [0, 899, 129_601, -1, 10**9])
async def test_session_duration_out_of_range(store: Any, seconds: int) -> None:
    await new_user(store)
    with pytest.raises(StoreError, match="900 to 129600"):
        await store.create_session("alice", duration_seconds=seconds)


async def test_session_for_unknown_principal(store: Any) -> None:
    with pytest.raises(PrincipalNotFoundError):
        await store.create_session("nobody", duration_seconds=900)


async def test_expired_sessions_are_returned_then_purged(store: Any) -> None:
    await new_user(store)
    old = await store.create_session("alice", duration_seconds=900, now=T0)
    fresh = await store.create_session("alice", duration_seconds=3600, now=T0)
    key = await store.create_key("alice", now=T0)
    later = T0 + timedelta(seconds=1000)
    # The verifier decides ExpiredToken; the store still answers with the record.
    record = await store.get_key(old.access_key_id)
    assert record is not None
    assert record.expires_at is not None
    assert record.expires_at < later
    assert await store.delete_expired_sessions(now=later) == 1
    assert await store.get_key(old.access_key_id) is None
    assert await store.get_key(fresh.access_key_id) is not None
    assert await store.get_key(key.access_key_id) is not None


# -- cache -------------------------------------------------------------------------


async def test_positive_cache_serves_until_ttl(backend: Backend) -> None:
    clock = FakeClock()
    reader = backend.open(clock=clock, cache_ttl=30)
    writer = backend.open()
    await new_user(writer)
    key = await writer.create_key("alice")
    assert (await reader.get_key(key.access_key_id)).active is True
    await writer.deactivate_key(key.access_key_id)  # another store object: reader not told
    clock.now += 29
    assert (await reader.get_key(key.access_key_id)).active is True  # cached
    clock.now += 2
    assert (await reader.get_key(key.access_key_id)).active is False  # TTL passed


async def test_negative_cache_until_ttl(backend: Backend) -> None:
    clock = FakeClock()
    reader = backend.open(clock=clock, negative_cache_ttl=5)
    writer = backend.open()
    await new_user(writer)
    assert await reader.get_key("AKIDEXAMPLE") is None
    await writer.import_key("alice", access_key_id="AKIDEXAMPLE", secret_access_key="s3cret")
    clock.now += 4
    assert await reader.get_key("AKIDEXAMPLE") is None  # negatively cached
    clock.now += 2
    record = await reader.get_key("AKIDEXAMPLE")
    assert record is not None
    assert record.secret_access_key == "s3cret"


async def test_own_changes_invalidate_negative_cache(backend: Backend) -> None:
    store = backend.open(clock=FakeClock())
    await new_user(store)
    assert await store.get_key("AKIDEXAMPLE") is None
    await store.import_key("alice", access_key_id="AKIDEXAMPLE", secret_access_key="s3cret")
    assert (await store.get_key("AKIDEXAMPLE")) is not None


async def test_changes_by_other_processes_seen_without_ttl(backend: Backend) -> None:
    # The background thread polls the change counter every flush_interval.
    reader = backend.open(cache_ttl=3600, flush_interval=0.02)
    writer = backend.open()
    await new_user(writer)
    key = await writer.create_key("alice")
    assert (await reader.get_key(key.access_key_id)).active is True
    await writer.deactivate_key(key.access_key_id)
    for _ in range(250):
        record = await reader.get_key(key.access_key_id)
        if record is not None and not record.active:
            break
        await asyncio.sleep(0.02)
    else:
        pytest.fail("the reader never saw the deactivation")


async def test_malformed_ids_are_unknown(store: Any) -> None:
    for bad in ["", "A", "AKIA/BAD", "x" * 200, "AKIA\x00", "ÄKIA1234567890123456"]:
        assert await store.get_key(bad) is None


async def test_cache_miss_does_not_block_the_event_loop(backend: Backend) -> None:
    store = backend.open()
    await new_user(store)
    key = await store.create_key("alice")
    fresh = backend.open()  # empty cache
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.005)

    tick_task = asyncio.create_task(ticker())
    try:
        with backend.stall_reads(fresh):
            lookup = asyncio.create_task(fresh.get_key(key.access_key_id))
            await asyncio.sleep(0.3)
            # waiting on the database lock ...
            assert not lookup.done(), lookup.exception() if lookup.done() else None
            assert ticks >= 10, ticks  # ... while the loop keeps running
        record = await asyncio.wait_for(lookup, 10)
        assert record is not None
        assert record.secret_access_key == key.secret_access_key
    finally:
        tick_task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await tick_task


# -- last used -----------------------------------------------------------------------


async def test_record_use_is_batched_and_visible_after_flush(store: Any) -> None:
    await new_user(store)
    key = await store.create_key("alice")
    store.record_use(key.access_key_id, at=T0, region="us-east-1", service="s3")
    store.record_use(key.access_key_id, at=T0 + timedelta(1), region="eu-west-1", service="sqs")
    store.record_use(
        key.access_key_id, at=T0 + timedelta(hours=1), region="ap-south-1", service="x"
    )
    info = await store.get_key_info(key.access_key_id)
    assert info.last_used_at is None  # nothing written on the request path
    await store.flush()
    info = await store.get_key_info(key.access_key_id)
    assert info.last_used_at == T0 + timedelta(1)
    assert (info.last_used_region, info.last_used_service) == ("eu-west-1", "sqs")
    # An older note flushed later never moves last-used back.
    store.record_use(key.access_key_id, at=T0, region="us-east-1", service="s3")
    await store.flush()
    assert (await store.get_key_info(key.access_key_id)).last_used_at == T0 + timedelta(1)


async def test_record_use_written_by_background_thread(backend: Backend) -> None:
    store = backend.open(flush_interval=0.02)
    await new_user(store)
    key = await store.create_key("alice")
    store.record_use(key.access_key_id, at=T0, region="us-east-1", service="s3")
    for _ in range(250):
        info = await store.get_key_info(key.access_key_id)
        if info.last_used_at is not None:
            break
        await asyncio.sleep(0.02)
    assert info.last_used_at == T0
    assert info.last_used_service == "s3"


async def test_record_use_never_waits_for_the_database(backend: Backend) -> None:
    store = backend.open(flush_interval=0.02)
    await new_user(store)
    key = await store.create_key("alice")
    with backend.lock_database():
        started = time.perf_counter()
        for i in range(1000):
            store.record_use(
                key.access_key_id, at=T0 + timedelta(seconds=i), region="r", service="s"
            )
        assert time.perf_counter() - started < 0.5
        await asyncio.sleep(0.1)  # the flusher fails to write meanwhile, and retries
    await store.flush()
    info = await store.get_key_info(key.access_key_id)
    assert info.last_used_at == T0 + timedelta(seconds=999)


async def test_aclose_flushes_pending_uses(backend: Backend) -> None:
    store = backend.open()
    await new_user(store)
    key = await store.create_key("alice")
    store.record_use(key.access_key_id, at=T0, region="us-east-1", service="s3")
    await store.aclose()
    other = backend.open()
    assert (await other.get_key_info(key.access_key_id)).last_used_at == T0


async def test_closed_store_refuses_work(backend: Backend) -> None:
    store = backend.open()
    await store.aclose()
    await store.aclose()  # idempotent
    with pytest.raises(StoreError, match="closed"):
        await store.get_key("AKIAAAAAAAAAAAAAAAAA")
    with pytest.raises(StoreError, match="closed"):
        await store.create_principal("alice")
    store.record_use("AKIAAAAAAAAAAAAAAAAA", at=T0, region="r", service="s")  # silently ignored


async def test_naive_times_are_refused(store: Any) -> None:
    with pytest.raises(StoreError, match="timezone-aware"):
        await store.create_principal("alice", now=datetime(2026, 1, 1))


async def test_no_secret_in_logs_or_errors(
    backend: Backend, caplog: pytest.LogCaptureFixture
) -> None:
    store = backend.open(flush_interval=0.01)
    secrets_seen: list[str] = []
    messages: list[str] = []
    with caplog.at_level(logging.DEBUG):
        await new_user(store)
        key = await store.create_key("alice")
        session = await store.create_session("alice", duration_seconds=900)
        rotated = await store.rotate_key("alice")
        secrets_seen += [
            key.secret_access_key,
            session.secret_access_key,
            session.session_token,
            rotated.new_key.secret_access_key,
        ]
        for attempt in (
            store.create_key("alice"),
            store.create_key("alice"),
            store.delete_key("AKIAAAAAAAAAAAAAAAAA"),
            store.create_session("alice", duration_seconds=1),
        ):
            try:
                await attempt
            except StoreError as exc:
                messages.append(str(exc))
        store.record_use(key.access_key_id, at=T0, region="r", service="s")
        await store.flush()
    assert len(messages) >= 3
    text = caplog.text + "\n".join(messages) + repr(await store.list_keys())
    for secret in secrets_seen:
        assert secret not in text


# -- master keys: a rewrap by another process ----------------------------------------
# Both backends follow a key file (SIGV4KIT_MASTER_KEY_FILE) the same way; the
# two cases below once differed between SQLite and PostgreSQL.


def replace_key_file(path: Path, key: MasterKey) -> None:
    """What an operator does after a rewrap: the key file now holds the new key."""
    staged = path.with_name(path.name + ".staged")
    create_key_file(staged, key)
    staged.replace(path)


async def test_lookup_follows_the_key_files_pending_new_key(
    backend: Backend, tmp_path: Path
) -> None:
    key_file = tmp_path / "master.key"
    old = create_key_file(key_file)
    service = backend.open(environ={MASTER_KEY_FILE_ENV: str(key_file)}, cache_ttl=0.0)
    await new_user(service)
    key = await service.create_key("alice")
    # Another process re-wraps and has written the new key to <file>.new,
    # but not yet renamed it over the key file (the moment a rewrap of a
    # default key file is in).
    new = MasterKey.generate()
    backend.master_key = old  # the admin process was given the old key
    assert await backend.open().rewrap(new) == 1
    create_key_file(Path(f"{key_file}.new"), new)
    record = await service.get_key(key.access_key_id)
    assert record is not None
    assert record.secret_access_key == key.secret_access_key
    assert service.master_key_id == new.key_id


async def test_rewrap_opens_each_secret_with_the_key_it_names(
    backend: Backend, tmp_path: Path
) -> None:
    key_file = tmp_path / "master.key"
    create_key_file(key_file)
    env = {MASTER_KEY_FILE_ENV: str(key_file)}
    service = backend.open(environ=env)  # holds the first key
    admin = backend.open(environ=env)
    await new_user(service)
    key = await service.create_key("alice")
    second = MasterKey.generate()
    assert await admin.rewrap(second) == 1
    replace_key_file(key_file, second)
    # The service still holds the first key; its rewrap must open the
    # secret with the key the row names (the key file's), not its own.
    third = MasterKey.generate()
    assert await service.rewrap(third) == 1
    assert service.master_key_id == third.key_id
    backend.master_key = third
    reader = backend.open()
    record = await reader.get_key(key.access_key_id)
    assert record is not None
    assert record.secret_access_key == key.secret_access_key
