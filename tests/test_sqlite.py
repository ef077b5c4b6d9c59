"""SQLite specifics: URLs, schema versions, WAL, several processes on one file."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest
from _workers import run_forking
from sigv4kit.middleware import (
    MasterKey,
    SchemaVersionError,
    SQLiteKeyStore,
    StoreError,
    StoreUnavailableError,
    open_store,
)
from sigv4kit.middleware.store.sqlite import SCHEMA_VERSION
from sigv4kit.middleware.store.url import sqlite_path_from_url

WORKER = Path(__file__).with_name("_store_worker.py")


# -- URLs ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("sqlite:///keys.db", "keys.db"),
        ("sqlite:///data/keys.db", "data/keys.db"),
        ("sqlite:////var/lib/app/keys.db", "/var/lib/app/keys.db"),
        ("SQLITE:///keys.db", "keys.db"),
    ],
)
def test_sqlite_urls(url: str, path: str) -> None:
    assert sqlite_path_from_url(url) == path


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "empty"),
        ("keys.db", "has no scheme"),
        ("mysql://u@h/db", "no access-key store backend handles the URL scheme 'mysql'"),
        ("redis://localhost", "scheme 'redis'"),
        ("postgresql://u@h/db?schema=Bad-Name", "invalid schema name"),
        ("postgres://u@h/db?schema=", "invalid schema name"),
        ("sqlite://host/keys.db", "names a host"),
        ("sqlite:///", "no database path"),
        ("sqlite:///:memory:", "in-memory"),
        ("sqlite:///keys.db?mode=ro", "query or fragment"),
        ("sqlite:///dir/", "does not name a database file"),
    ],
)
def test_bad_urls(url: str, message: str) -> None:
    with pytest.raises(StoreError, match=message):
        open_store(url)


async def test_open_store_relative_and_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SIGV4KIT_MASTER_KEY", raising=False)
    monkeypatch.delenv("SIGV4KIT_MASTER_KEY_FILE", raising=False)
    monkeypatch.chdir(tmp_path)
    relative = open_store("sqlite:///rel.db")
    absolute = open_store(f"sqlite:///{tmp_path}/abs.db")  # tmp_path starts with "/"
    try:
        assert isinstance(relative, SQLiteKeyStore)
        assert isinstance(absolute, SQLiteKeyStore)
        assert (tmp_path / "rel.db").exists()
        assert (tmp_path / "rel.db.key").exists()
        assert (tmp_path / "abs.db").exists()
    finally:
        await relative.aclose()
        await absolute.aclose()


def test_missing_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StoreUnavailableError, match="directory does not exist"):
        SQLiteKeyStore(tmp_path / "nope" / "k.db", master_key=MasterKey.generate())


def test_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "k.db"
    path.write_bytes(b"this is not a database file" * 100)
    with pytest.raises(StoreUnavailableError, match=r"k\.db"):
        SQLiteKeyStore(path, master_key=MasterKey.generate())


# -- schema --------------------------------------------------------------------------


async def test_schema_is_versioned_wal_and_private(tmp_path: Path) -> None:
    path = tmp_path / "k.db"
    store = SQLiteKeyStore(path, master_key=MasterKey.generate())
    try:
        # Alembic owns the schema: the revision is its id, not a number.
        assert store.schema_version() == SCHEMA_VERSION == "0008_service_last_used"
    finally:
        await store.aclose()
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [
            ("0008_service_last_used",)
        ]
        # The pre-Alembic version table says 2, so a sigv4kit from before
        # Alembic refuses this database instead of misreading it.
        rows = conn.execute("SELECT version FROM schema_migrations ORDER BY version").fetchall()
        assert [r[0] for r in rows] == [1, 2]
    finally:
        conn.close()
    assert path.stat().st_mode & 0o077 == 0


async def test_reopening_does_not_migrate_twice(tmp_path: Path) -> None:
    key = MasterKey.generate()
    for _ in range(3):
        store = SQLiteKeyStore(tmp_path / "k.db", master_key=key)
        await store.aclose()
    conn = sqlite3.connect(tmp_path / "k.db")
    try:
        assert conn.execute("SELECT COUNT(*) FROM schema_migrations").fetchone()[0] == 2
        assert conn.execute("SELECT COUNT(*) FROM alembic_version").fetchone()[0] == 1
        assert conn.execute("SELECT COUNT(*) FROM accounts").fetchone()[0] == 1
    finally:
        conn.close()


async def test_newer_schema_is_refused(tmp_path: Path) -> None:
    key = MasterKey.generate()
    store = SQLiteKeyStore(tmp_path / "k.db", master_key=key)
    await store.aclose()
    conn = sqlite3.connect(tmp_path / "k.db")
    with conn:
        conn.execute("UPDATE alembic_version SET version_num = '0099_from_the_future'")
    conn.close()
    with pytest.raises(SchemaVersionError, match="'0099_from_the_future', newer than"):
        SQLiteKeyStore(tmp_path / "k.db", master_key=key)


async def test_newer_pre_alembic_schema_is_refused(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "k.db")
    with conn:
        conn.execute(
            "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, "
            "description TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
        conn.execute("INSERT INTO schema_migrations VALUES (7, 'unknown', '2099-01-01')")
    conn.close()
    with pytest.raises(SchemaVersionError, match="schema version 7"):
        SQLiteKeyStore(tmp_path / "k.db", master_key=MasterKey.generate())


# -- several processes ------------------------------------------------------------------


def _run_workers(db: Path, env: dict[str, str], rounds: int) -> list[dict[str, object]]:
    procs = [
        subprocess.Popen(
            [sys.executable, str(WORKER), str(db), name, peer, str(rounds)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            text=True,
        )
        for name, peer in (("one", "two"), ("two", "one"))
    ]
    outputs = []
    try:
        for proc in procs:
            outputs.append((proc.communicate(timeout=120), proc.returncode))
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
            proc.communicate()
    results = []
    for (out, err), returncode in outputs:
        assert returncode == 0, err
        results.append(json.loads(out))
    return results


async def test_two_processes_share_one_database(tmp_path: Path) -> None:
    db = tmp_path / "shared.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIGV4KIT_")}
    rounds = 15
    # Both start on a fresh file: schema creation and the key file race too.
    one, two = _run_workers(db, env, rounds)

    assert one["seen_peer"] == two["seen_peer"] == 2 * rounds
    created = {**one["created"], **two["created"]}  # type: ignore[dict-item]
    # Own principals: 2 keys each; shared principals: exactly 2 between both.
    assert len(created) == 2 * rounds * 2 + 2 * rounds
    assert one["limit_errors"] + two["limit_errors"] == rounds * 2 + 2 * rounds  # type: ignore[operator]

    key_text = (tmp_path / "shared.db.key").read_text()
    store = SQLiteKeyStore(db, master_key=MasterKey(base64.b64decode(key_text)))
    try:
        for kid, secret in created.items():
            record = await store.get_key(kid)
            assert record is not None
            assert record.secret_access_key == secret
        for i in range(rounds):
            assert len(await store.list_keys(f"shared-{i}")) == 2
        used = [k for k in await store.list_keys() if k.last_used_at is not None]
        assert {k.last_used_region for k in used} == {"one", "two"}
        assert len(used) == 2 * rounds * 2
    finally:
        await store.aclose()


def _open_concurrently(db: Path, n: int) -> tuple[list[SQLiteKeyStore], list[BaseException]]:
    barrier = threading.Barrier(n)
    stores: list[SQLiteKeyStore] = []
    errors: list[BaseException] = []

    def open_one() -> None:
        barrier.wait()
        try:
            stores.append(SQLiteKeyStore(db, environ={}))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return stores, errors


async def test_concurrent_first_open_of_a_fresh_file(tmp_path: Path) -> None:
    # Several workers starting at once on a file that does not exist yet:
    # creating the file, the schema and the key file must not trip each other.
    for attempt in range(5):
        stores, errors = _open_concurrently(tmp_path / f"fresh{attempt}.db", 4)
        for store in stores:
            await store.aclose()
        assert errors == []
        assert len({store.master_key_id for store in stores}) == 1


FORK_SCRIPT = """
import asyncio, os, sys
from datetime import UTC, datetime
from sigv4kit.middleware import MasterKey, SQLiteKeyStore

async def use(store, kid, region):
    record = await store.get_key(kid)
    assert record is not None and record.active
    store.record_use(kid, at=datetime.now(UTC), region=region, service="s3")
    await store.flush()

async def setup():
    store = SQLiteKeyStore(sys.argv[1], master_key=MasterKey(bytes(32)), flush_interval=0.01)
    await store.create_principal("alice")
    kid = (await store.create_key("alice")).access_key_id
    await use(store, kid, "parent")  # connections, cache and thread exist before the fork
    return store, kid

store, kid = asyncio.run(setup())
if len(sys.argv) > 2:
    # Another thread of the parent holds the store's locks at the fork (a flush or a
    # cache update in progress): the child must not wait for them.
    import threading, time
    for lock in (store._uses._lock, store._cache._lock):
        threading.Thread(target=lock.acquire).start()
    while not (store._uses._lock.locked() and store._cache._lock.locked()):
        time.sleep(0.001)
pid = os.fork()
if pid != 0 and len(sys.argv) > 2:
    store._uses._lock.release()
    store._cache._lock.release()
if pid == 0:
    try:
        asyncio.run(use(store, kid, "child"))
        asyncio.run(store.aclose())
    except BaseException as exc:
        print("child failed:", repr(exc), flush=True)
        os._exit(1)
    os._exit(0)
_, status = os.waitpid(pid, 0)
asyncio.run(store.aclose())
print(kid if os.waitstatus_to_exitcode(status) == 0 else "child exit %d" % status)
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
@pytest.mark.parametrize("held", [False, True], ids=["idle", "locks-held-at-fork"])
async def test_store_survives_a_fork(tmp_path: Path, held: bool) -> None:
    # gunicorn --preload forks workers after the app (and its store) exists.
    db = tmp_path / "k.db"
    result = subprocess.run(
        [sys.executable, "-c", FORK_SCRIPT, str(db), *(["held"] if held else [])],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    kid = result.stdout.strip().splitlines()[-1]
    store = SQLiteKeyStore(db, master_key=MasterKey(bytes(32)))
    try:
        info = await store.get_key_info(kid)
        assert info is not None
        assert info.last_used_region == "child"
    finally:
        await store.aclose()


MANY_FORKS_SCRIPT = """
import asyncio, os, signal, sys
from sigv4kit.middleware import MasterKey, SQLiteKeyStore

async def setup():
    # The background thread flushes and polls without pause: almost always inside SQLite.
    store = SQLiteKeyStore(sys.argv[1], master_key=MasterKey(bytes(32)), flush_interval=0.0001)
    await store.create_principal("alice")
    await store.get_key((await store.create_key("alice")).access_key_id)
    return store

async def lookup(store):
    assert await store.get_key("AKIA" + "Z" * 16) is None  # not cached: a query

store = asyncio.run(setup())
hung = 0
for _ in range(int(sys.argv[2])):
    pid = os.fork()
    if pid == 0:
        signal.alarm(3)  # a hung child is killed
        asyncio.run(lookup(store))
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    hung += status != 0
print(f"{hung} hung")
"""


def test_forks_wait_for_the_background_thread_to_leave_sqlite(tmp_path: Path) -> None:
    # A thread inside SQLite at the fork can leave SQLite's own mutexes (its
    # allocator's) locked in the child, whose first query then hangs: before
    # the fork held the store's locks, about 1 fork in 8 of this script hung.
    code, out, err = run_forking(
        [sys.executable, "-c", MANY_FORKS_SCRIPT, str(tmp_path / "k.db"), "40"], timeout=120)
    assert out.strip().splitlines() == ["0 hung"], out + err
    assert code == 0, err


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_uvicorn_workers_share_the_store(tmp_path: Path) -> None:
    db = tmp_path / "keys.db"
    admin = SQLiteKeyStore(db, environ={})
    await admin.create_principal("alice")
    key = await admin.create_key("alice")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIGV4KIT_")}
    env["SIGV4KIT_STORE"] = f"sqlite:///{db}"
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "_store_app:app",
            "--workers",
            "2",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=Path(__file__).parent,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        url = f"http://127.0.0.1:{port}/key/{key.access_key_id}"
        async with httpx.AsyncClient(timeout=5) as client:
            for _ in range(200):
                try:
                    await client.get(url)
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.05)

            async def ask() -> list[dict[str, object]]:
                # Fresh connections, so the kernel spreads them over the workers.
                async def one() -> dict[str, object]:
                    async with httpx.AsyncClient(timeout=5) as c:
                        return dict((await c.get(url)).json())

                return list(await asyncio.gather(*(one() for _ in range(20))))

            pids: set[object] = set()
            for _ in range(100):  # until both workers have answered
                answers = await ask()
                assert all(a["found"] and a["active"] for a in answers)
                pids |= {a["pid"] for a in answers}
                if len(pids) == 2:
                    break
            assert len(pids) == 2, "only one worker ever answered"
            await admin.deactivate_key(key.access_key_id)  # another process, the admin
            inactive_in: set[object] = set()
            for _ in range(200):  # until both workers have seen the change
                answers = await ask()
                inactive_in |= {a["pid"] for a in answers if not a["active"]}
                if inactive_in == pids:
                    break
                await asyncio.sleep(0.02)
            assert inactive_in == pids, "a worker kept a deactivated key"
    finally:
        server.send_signal(signal.SIGINT)  # graceful: lifespan shutdown flushes
        try:
            _, err = server.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            _, err = server.communicate()
    assert server.returncode == 0, err
    info = await admin.get_key_info(key.access_key_id)
    await admin.aclose()
    assert info is not None
    assert info.last_used_at is not None
    assert info.last_used_service is not None
    assert info.last_used_service.startswith("w")
