"""PostgreSQL-specific behaviour of PostgresKeyStore, on the real server.

The shared contract (keys, rotation, sessions, cache, last-used) is in
tests/test_store_contract.py, which runs on this backend too. Here: URLs,
the required master key, migrations under concurrent startup, encryption at
rest, LISTEN/NOTIFY invalidation, and outages through a TCP proxy the test
can cut (the shared PostgreSQL server itself is never stopped).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import io
import json
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import psycopg
import pytest
from _services import POSTGRES_DSN, drop_schema, new_schema_name, schema_url
from sigv4kit.middleware import (
    MasterKey,
    MasterKeyError,
    PostgresKeyStore,
    SchemaVersionError,
    SecretDecryptionError,
    SigV4Middleware,
    StoreError,
    StoreUnavailableError,
    open_store,
)
from sigv4kit.middleware.store.engine import postgres_conninfo_from_url

import sigv4kit
from sigv4kit.cli._main import ExitCode, main

MASTER = MasterKey.generate()


def pg_exec(sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with psycopg.connect(POSTGRES_DSN, autocommit=True) as conn:
        cur = conn.execute(sql.encode() if not params else sql, params or None)  # type: ignore[arg-type]
        return cur.fetchall() if cur.description else []


@contextlib.asynccontextmanager
async def opened(url: str, **kwargs: Any) -> AsyncIterator[PostgresKeyStore]:
    kwargs.setdefault("master_key", MASTER)
    store = PostgresKeyStore(url, **kwargs)
    try:
        yield store
    finally:
        await store.aclose()


async def wait_for(predicate: Any, *, timeout: float = 5.0, step: float = 0.01) -> float:
    """Await until ``predicate()`` (sync or async) is true; returns the seconds it took."""
    started = time.perf_counter()
    while True:
        result = predicate()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return time.perf_counter() - started
        if time.perf_counter() - started > timeout:
            pytest.fail(f"condition not met within {timeout} s")
        await asyncio.sleep(step)


# -- URLs and configuration ------------------------------------------------------------------


def test_url_parsing() -> None:
    assert postgres_conninfo_from_url("postgresql://u@h:5/db?schema=keys&sslmode=require") == (
        "postgresql://u@h:5/db?sslmode=require",
        "keys",
    )
    assert postgres_conninfo_from_url("postgres://h/db") == ("postgresql://h/db", "public")
    assert postgres_conninfo_from_url("postgresql+psycopg://h/db")[0] == "postgresql://h/db"
    for bad in (
        "postgresql://h/db?schema=Bad-Name",
        "postgresql://h/db?schema=" + "x" * 50,
        "postgresql://h/db?schema=a&schema=b",
        "postgresql://h/db?schema=",
    ):
        with pytest.raises(StoreError):
            postgres_conninfo_from_url(bad)


def test_master_key_is_required_never_generated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SIGV4KIT_MASTER_KEY", raising=False)
    monkeypatch.delenv("SIGV4KIT_MASTER_KEY_FILE", raising=False)
    with pytest.raises(MasterKeyError, match="master key is required"):
        open_store("postgresql://postgres@127.0.0.1/test?schema=nothing_here")
    monkeypatch.setenv("SIGV4KIT_MASTER_KEY", MASTER.to_base64())
    store = open_store("postgresql://postgres:hunter2@127.0.0.1/test?schema=nothing_here")
    assert isinstance(store, PostgresKeyStore)
    assert "hunter2" not in repr(store)


# -- schema ------------------------------------------------------------------------------


async def test_concurrent_startup_migrates_once(pg_url: str) -> None:
    stores = [PostgresKeyStore(pg_url, master_key=MASTER, listen=False) for _ in range(6)]
    try:
        await asyncio.gather(*(s.get_key("AKIAAAAAAAAAAAAAAAAA") for s in stores))
        assert [await s.schema_version() for s in stores] == ["0008_service_last_used"] * 6
    finally:
        for s in stores:
            await s.aclose()
    schema = postgres_conninfo_from_url(pg_url)[1]
    assert pg_exec(f'SELECT version_num FROM "{schema}".alembic_version') == [
        ("0008_service_last_used",)
    ]
    # Each step ran once: one row per pre-Alembic version, one default account.
    rows = pg_exec(f'SELECT version FROM "{schema}".schema_migrations ORDER BY version')
    assert rows == [(1,), (2,)]
    assert pg_exec(f'SELECT account_id FROM "{schema}".accounts') == [("000000000000",)]


async def test_newer_schema_is_refused(pg_url: str) -> None:
    async with opened(pg_url) as store:
        await store.create_principal("alice")
    schema = postgres_conninfo_from_url(pg_url)[1]
    pg_exec(f"UPDATE \"{schema}\".alembic_version SET version_num = '0099_future'")
    async with opened(pg_url) as store:
        with pytest.raises(SchemaVersionError, match="'0099_future', newer than"):
            await store.get_key("AKIAAAAAAAAAAAAAAAAA")


async def test_secrets_encrypted_at_rest_and_master_key_checked(pg_url: str) -> None:
    async with opened(pg_url) as store:
        await store.create_principal("alice")
        key = await store.create_key("alice")
    schema = postgres_conninfo_from_url(pg_url)[1]
    dump = repr(pg_exec(f'SELECT * FROM "{schema}".access_keys'))
    assert key.access_key_id in dump
    assert key.secret_access_key not in dump
    assert base64.b64encode(key.secret_access_key.encode()).decode() not in dump
    async with opened(pg_url, master_key=MasterKey.generate()) as wrong:
        with pytest.raises(SecretDecryptionError, match="another master key"):
            await wrong.get_key(key.access_key_id)


async def test_rewrap_then_old_key_refused(pg_url: str) -> None:
    new = MasterKey.generate()
    async with opened(pg_url) as store:
        await store.create_principal("alice")
        key = await store.create_key("alice")
        assert await store.rewrap(new) == 1
        record = await store.get_key(key.access_key_id)
        assert record is not None
        assert record.secret_access_key == key.secret_access_key
    async with opened(pg_url, master_key=new) as store:
        assert (await store.get_key(key.access_key_id)) is not None
    async with opened(pg_url) as store:
        with pytest.raises(SecretDecryptionError):
            await store.get_key(key.access_key_id)


# -- CLI -----------------------------------------------------------------------------------


def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdin=io.BytesIO(), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


async def test_cli_keys_against_postgres(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIGV4KIT_MASTER_KEY", MASTER.to_base64())
    code, out, err = await asyncio.to_thread(
        cli, "keys", "create", "--principal", "alice", "--json", "--store", pg_url
    )
    assert code == ExitCode.OK, err
    created = json.loads(out)
    code, out, err = await asyncio.to_thread(cli, "keys", "list", "--json", "--store", pg_url)
    assert code == ExitCode.OK, err
    assert [k["access_key_id"] for k in json.loads(out)] == [created["access_key_id"]]
    assert created["secret_access_key"] not in out
    code, _out, err = await asyncio.to_thread(
        cli, "keys", "deactivate", created["access_key_id"], "--store", pg_url
    )
    assert code == ExitCode.OK, err
    async with opened(pg_url) as store:
        record = await store.get_key(created["access_key_id"])
        assert record is not None
        assert record.secret_access_key == created["secret_access_key"]
        assert record.active is False
    # rewrap needs the new key given explicitly (nothing is generated for PostgreSQL).
    code, _out, err = await asyncio.to_thread(cli, "keys", "rewrap", "--store", pg_url)
    assert code == ExitCode.USAGE
    assert "no new master key" in err
    new = MasterKey.generate()
    monkeypatch.setenv("SIGV4KIT_NEW_MASTER_KEY", new.to_base64())
    code, out, err = await asyncio.to_thread(cli, "keys", "rewrap", "--store", pg_url)
    assert code == ExitCode.OK, err
    assert f"re-encrypted 1 secret(s): master key {MASTER.key_id} -> {new.key_id}" in out
    async with opened(pg_url, master_key=new) as store:
        record = await store.get_key(created["access_key_id"])
        assert record is not None
        assert record.secret_access_key == created["secret_access_key"]
    monkeypatch.delenv("SIGV4KIT_MASTER_KEY")
    code, _out, err = await asyncio.to_thread(cli, "keys", "list", "--store", pg_url)
    assert code != ExitCode.OK
    assert "master key is required" in err


def test_unreachable_service_fails_unless_skipping_is_explicit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import _services

    monkeypatch.delenv(_services.SKIP_ENV, raising=False)
    with pytest.raises(pytest.fail.Exception, match="not reachable"):
        _services._unreachable("PostgreSQL at x", "connection refused")
    monkeypatch.setenv(_services.SKIP_ENV, "1")
    with pytest.raises(pytest.skip.Exception):
        _services._unreachable("PostgreSQL at x", "connection refused")


# -- cross-node invalidation ---------------------------------------------------------------


@pytest.mark.parametrize("change", ["deactivate", "delete", "rotate", "delete_principal"])
async def test_notify_evicts_other_stores_within_a_second(pg_url: str, change: str) -> None:
    async with opened(pg_url, cache_ttl=3600) as reader, opened(pg_url) as writer:
        await writer.create_principal("alice")
        key = await writer.create_key("alice")
        assert (await reader.get_key(key.access_key_id)).active is True  # cached, listening
        assert reader.listening
        if change == "deactivate":
            await writer.deactivate_key(key.access_key_id)
        elif change == "delete":
            await writer.delete_key(key.access_key_id)
        elif change == "rotate":
            await writer.rotate_key("alice")
        else:
            await writer.delete_principal("alice")

        async def refused() -> bool:
            record = await reader.get_key(key.access_key_id)
            return record is None or not record.active

        assert await wait_for(refused, timeout=1.0, step=0.002) < 1.0


async def test_cached_lookups_make_no_round_trip(pg_url: str) -> None:
    async with opened(pg_url, cache_ttl=3600) as store:
        await store.create_principal("alice")
        key = await store.create_key("alice")
        await asyncio.sleep(0.2)  # our own insert's notification evicts too
        await store.get_key(key.access_key_id)
        schema = postgres_conninfo_from_url(pg_url)[1]
        with psycopg.connect(POSTGRES_DSN) as locker:
            # Every query on access_keys now waits for this transaction.
            locker.execute(f'LOCK TABLE "{schema}".access_keys IN ACCESS EXCLUSIVE MODE')
            started = time.perf_counter()
            for _ in range(1000):
                assert (await store.get_key(key.access_key_id)) is not None
            assert time.perf_counter() - started < 0.5
            locker.rollback()


async def test_last_used_updates_do_not_flush_other_caches(pg_url: str) -> None:
    async with opened(pg_url) as store:
        await store.create_principal("alice")
        key = await store.create_key("alice")
        await asyncio.sleep(0.2)  # our own insert's notification evicts too
        await store.get_key(key.access_key_id)
        assert len(store._cache) == 1
        store.record_use(key.access_key_id, at=sigv4kit_now(), region="r", service="s")
        await store.flush()
        await asyncio.sleep(0.2)
        assert len(store._cache) == 1


def sigv4kit_now() -> Any:
    from datetime import UTC, datetime

    return datetime.now(UTC)


async def test_terminated_connections_recover(pg_url: str) -> None:
    async with opened(pg_url, cache_ttl=3600) as store:
        await store.create_principal("alice")
        key = await store.create_key("alice")
        await asyncio.sleep(0.2)  # our own insert's notification evicts too
        await store.get_key(key.access_key_id)
        schema = postgres_conninfo_from_url(pg_url)[1]
        killed = pg_exec(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
            (f"sigv4kit/{schema}",),
        )
        assert len(killed) >= 2  # the pool's and the listener's
        await wait_for(lambda: not store.listening, timeout=2)
        # The listener is gone: the lookup goes to the database (a fresh connection).
        record = await store.get_key(key.access_key_id)
        assert record is not None
        await wait_for(lambda: store.listening, timeout=5)


# -- outages (through a proxy the test can cut) ---------------------------------------------


class CuttableProxy:
    """A TCP proxy to PostgreSQL: ``cut()`` drops every connection and refuses new ones."""

    def __init__(self) -> None:
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    def url(self, schema: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/test?schema={schema}"

    def _call(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(10)

    def start(self) -> None:
        self._call(self._start())

    def cut(self) -> None:
        self._call(self._cut())

    def close(self) -> None:
        self.cut()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()

    async def _start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)

    async def _cut(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", 5432)
        except OSError:
            writer.transport.abort()
            return
        self._writers |= {writer, up_writer}

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (OSError, asyncio.CancelledError):
                pass
            finally:
                dst.transport.abort()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self._writers -= {writer, up_writer}


@pytest.fixture
def proxy() -> Iterator[tuple[CuttableProxy, str]]:
    import _services

    _services.require_postgres()
    schema = new_schema_name()
    p = CuttableProxy()
    p.start()
    try:
        yield p, schema
    finally:
        p.close()
        drop_schema(schema)


async def test_outage_fails_closed_and_recovers(proxy: tuple[CuttableProxy, str]) -> None:
    p, schema = proxy
    async with opened(schema_url(schema)) as admin:
        await admin.create_principal("alice")
        key = await admin.create_key("alice")
    async with opened(p.url(schema), cache_ttl=3600, timeout=1.0) as store:
        assert (await store.get_key(key.access_key_id)) is not None  # cached
        p.cut()
        started = time.perf_counter()

        async def unavailable() -> bool:
            try:
                await store.get_key(key.access_key_id)
            except StoreUnavailableError:
                return True
            return False

        # The cached key stops working as soon as the listener is lost.
        await wait_for(unavailable, timeout=5)
        assert time.perf_counter() - started < 5
        with pytest.raises(StoreUnavailableError):
            await store.get_key("AKIAAAAAAAAAAAAAAAAA")
        p.start()

        async def back() -> bool:
            try:
                return await store.get_key(key.access_key_id) is not None
            except StoreUnavailableError:
                return False

        await wait_for(back, timeout=10, step=0.1)
        await wait_for(lambda: store.listening, timeout=5)


async def test_outage_grace_keeps_cached_keys(proxy: tuple[CuttableProxy, str]) -> None:
    p, schema = proxy
    async with opened(schema_url(schema)) as admin:
        await admin.create_principal("alice")
        key = await admin.create_key("alice")
    async with opened(p.url(schema), cache_ttl=3600, timeout=1.0, outage_grace=60) as store:
        assert (await store.get_key(key.access_key_id)) is not None
        p.cut()
        await wait_for(lambda: not store.listening, timeout=5)
        for _ in range(100):
            assert (await store.get_key(key.access_key_id)) is not None  # grace: still cached
        with pytest.raises(StoreUnavailableError):
            await store.get_key("AKIAAAAAAAAAAAAAAAAA")  # not cached: fail closed


async def test_store_down_at_first_use_then_up(proxy: tuple[CuttableProxy, str]) -> None:
    p, schema = proxy
    p.cut()
    async with opened(p.url(schema), timeout=1.0) as store:
        with pytest.raises(StoreUnavailableError):
            await store.get_key("AKIAAAAAAAAAAAAAAAAA")
        # Requests right behind a failed start are answered from that failure,
        # not each after another full timeout.
        started = time.perf_counter()
        results = await asyncio.gather(
            *(store.get_key("AKIAAAAAAAAAAAAAAAAA") for _ in range(20)), return_exceptions=True
        )
        assert all(isinstance(r, StoreUnavailableError) for r in results)
        assert time.perf_counter() - started < 0.9
        p.start()

        async def answers() -> bool:
            try:
                return await store.get_key("AKIAAAAAAAAAAAAAAAAA") is None
            except StoreUnavailableError:
                return False

        await wait_for(answers, timeout=10, step=0.1)


async def test_middleware_answers_503_during_outage(proxy: tuple[CuttableProxy, str]) -> None:
    p, schema = proxy
    async with opened(schema_url(schema)) as admin:
        await admin.create_principal("alice")
        key = await admin.create_key("alice")
    async with opened(p.url(schema), timeout=1.0) as store:

        async def ok(scope: Any, receive: Any, send: Any) -> None:
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"ok"})

        app = SigV4Middleware(ok, store=store)
        creds = sigv4kit.Credentials(key.access_key_id, key.secret_access_key)
        auth = sigv4kit.SigV4Auth(creds, region="us-east-1", service="execute-api")
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://svc", auth=auth
        ) as client:
            assert (await client.get("/x")).status_code == 200
            p.cut()
            await wait_for(lambda: not store.listening, timeout=5)
            response = await client.get("/x")
            assert response.status_code == 503
            assert b"<Code>ServiceUnavailable</Code>" in response.content
            p.start()

            async def served() -> bool:
                return (await client.get("/x")).status_code == 200

            await wait_for(served, timeout=10, step=0.1)
