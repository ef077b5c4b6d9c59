"""Run by tests/test_postgres_fork.py: a PostgresKeyStore in use, then ``os.fork()``.

``python tests/_postgres_fork.py URL VARIANT`` prints ``ok`` when parent and
child both passed (exit 0), else what failed (exit 1). The parent's event loop
runs in a thread, as a server's would, so at the fork the store has pooled
connections, a LISTEN connection and a flusher task; the main thread forks.
VARIANT ``locks-held`` forks while another thread holds the key cache's and
the use batch's locks. The child then uses the store on its own loop; the
parent keeps using it on the old one. Neither may use a connection of the other.
VARIANT ``loop-done`` uses the store in an ``asyncio.run()`` that has ended
before the fork (an app that touched its store at import); only the child
goes on.
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sigv4kit.middleware import MasterKey, PostgresKeyStore

MASTER = MasterKey(bytes(32))
TIMEOUT = 10.0


async def until(what: str, check: Callable[[], Any]) -> None:
    """Wait until ``check()`` (sync or async) is true."""
    deadline = time.monotonic() + TIMEOUT
    while True:
        done = check()
        if asyncio.iscoroutine(done):
            done = await done
        if done:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {TIMEOUT:g} s: {what}")
        await asyncio.sleep(0.02)


async def backend_pids(store: PostgresKeyStore) -> set[int]:
    """The server sessions the store's two pools hand out now."""

    async def admin(conn: Any) -> int:
        return int((await conn.execute(sa.text("SELECT pg_backend_pid()"))).scalar_one())

    pids = {await store._read(admin)}
    assert store._pool is not None
    async with store._pool.connection() as conn:
        row = await (await conn.execute("SELECT pg_backend_pid()")).fetchone()
        pids.add(int(row[0]))
    return pids


async def region_of(store: PostgresKeyStore, kid: str) -> str | None:
    info = await store.get_key_info(kid)
    assert info is not None
    return info.last_used_region


async def refused(store: PostgresKeyStore, kid: str) -> bool:
    record = await store.get_key(kid)
    return record is None or not record.active


async def deactivate_elsewhere(url: str, kid: str) -> None:
    """A change made by another store (another process's), heard only through NOTIFY."""
    other = PostgresKeyStore(url, master_key=MASTER, listen=False)
    try:
        await other.deactivate_key(kid)
    finally:
        await other.aclose()


async def setup(store: PostgresKeyStore) -> dict[str, Any]:
    kids = {}
    for name in ("a", "b", "c"):  # a principal holds at most two keys
        await store.create_principal(name)
        kids[name] = (await store.create_key(name)).access_key_id
    record = await store.get_key(kids["a"])  # pooled connections, the cache, the listener
    assert record is not None
    assert record.active
    await until("the parent's listener is up", lambda: store.listening)
    store.record_use(kids["a"], at=datetime.now(UTC), region="parent", service="s3")
    await until("the parent's flusher ran", lambda: _is(region_of(store, kids["a"]), "parent"))
    return {"kids": kids, "pids": await backend_pids(store)}


async def _is(value: Awaitable[Any], expected: Any) -> bool:
    return await value == expected


async def child(store: PostgresKeyStore, url: str, kids: dict[str, str], parent: set[int]) -> None:
    record = await store.get_key(kids["b"])  # not cached: the lookup pool
    assert record is not None
    assert record.active
    mine = await backend_pids(store)
    assert not mine & parent, f"the child uses the parent's sessions {mine & parent}"
    # Written by the child's own flusher: no flush() call.
    store.record_use(kids["b"], at=datetime.now(UTC), region="child", service="s3")
    await until("the child's use was written", lambda: _is(region_of(store, kids["b"]), "child"))
    # The child's cache hears changes made elsewhere (its own LISTEN connection).
    await deactivate_elsewhere(url, kids["b"])
    await until("the child refused a key deactivated elsewhere", lambda: refused(store, kids["b"]))
    await store.aclose()


async def parent_after(store: PostgresKeyStore, url: str, kids: dict[str, str]) -> None:
    record = await store.get_key(kids["c"])  # not cached: the lookup pool
    assert record is not None
    assert record.active
    store.record_use(kids["c"], at=datetime.now(UTC), region="parent", service="s3")
    await store.flush()
    assert await region_of(store, kids["c"]) == "parent"
    await deactivate_elsewhere(url, kids["a"])
    await until("the parent refused a key deactivated elsewhere", lambda: refused(store, kids["a"]))


def main(url: str, variant: str) -> int:
    store = PostgresKeyStore(url, master_key=MASTER, flush_interval=0.05, cache_ttl=600)
    if variant == "loop-done":
        # The common --preload case: the app used the store at import, in an
        # asyncio.run() that ended; only the child uses it again.
        state = asyncio.run(setup(store))
        return fork(store, url, state, None, [])
    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, name="parent-loop", daemon=True).start()
    state = asyncio.run_coroutine_threadsafe(setup(store), loop).result(TIMEOUT * 3)
    holders: list[threading.Lock] = []
    if variant == "locks-held":
        # A flush or a cache update in progress in another thread at the fork.
        holders = [store._uses._lock, store._cache._lock]
        for lock in holders:
            threading.Thread(target=lock.acquire).start()
        while not all(lock.locked() for lock in holders):
            time.sleep(0.001)
    return fork(store, url, state, loop, holders)


def fork(
    store: PostgresKeyStore,
    url: str,
    state: dict[str, Any],
    loop: asyncio.AbstractEventLoop | None,
    holders: list[threading.Lock],
) -> int:
    pid = os.fork()
    if pid == 0:
        try:
            work = child(store, url, state["kids"], state["pids"])
            asyncio.run(asyncio.wait_for(work, TIMEOUT * 3))
        except BaseException as exc:
            print(f"child failed: {exc!r}", flush=True)
            os._exit(1)
        os._exit(0)
    for lock in holders:
        lock.release()
    failures = []

    def on_parent_loop(step: str, coro: Awaitable[Any]) -> None:
        if loop is None:  # the parent's loop is gone: only the child goes on
            coro.close()  # type: ignore[attr-defined]
            return
        try:
            asyncio.run_coroutine_threadsafe(coro, loop).result(TIMEOUT * 3)  # type: ignore[arg-type]
        except BaseException as exc:
            failures.append(f"parent failed {step}: {exc!r}")

    on_parent_loop("after the fork", parent_after(store, url, state["kids"]))
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        failures.append(f"child exit {os.waitstatus_to_exitcode(status)}")
    # Still working after the child closed its store and exited.
    on_parent_loop("after the child exited", store.get_key_info(state["kids"]["c"]))
    on_parent_loop("closing", store.aclose())
    print("\n".join(failures) or "ok", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
