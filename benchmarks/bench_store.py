"""SQLite key store: what the request path pays.

Run: ``.venv/bin/python benchmarks/bench_store.py``

Prints, from one run:

* ``get_key`` answered from the in-process cache, against the baseline of a
  cache miss (a worker thread, one SELECT, one AES-GCM decryption);
* ``record_use`` (an in-memory note; the background thread writes batches),
  against the baseline of writing last-used synchronously on every request
  (one UPDATE and commit).
"""

from __future__ import annotations

import asyncio
import sqlite3
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sigv4kit.middleware import MasterKey, SQLiteKeyStore

N_LOOKUPS = 5_000
N_USES = 2_000


async def per_call(n: int, fn: object) -> float:
    started = time.perf_counter()
    for _ in range(n):
        await fn()  # type: ignore[operator]
    return (time.perf_counter() - started) / n


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.db"
        key = MasterKey.generate()
        cached = SQLiteKeyStore(db, master_key=key, cache_ttl=3600)
        uncached = SQLiteKeyStore(db, master_key=key, cache_ttl=0, negative_cache_ttl=0)
        try:
            await cached.create_principal("bench")
            kid = (await cached.create_key("bench")).access_key_id
            await cached.get_key(kid)

            miss = await per_call(N_LOOKUPS // 5, lambda: uncached.get_key(kid))
            hit = await per_call(N_LOOKUPS, lambda: cached.get_key(kid))
            print(f"get_key cache miss (baseline): {miss * 1e6:8.1f} us")
            print(f"get_key cache hit:             {hit * 1e6:8.1f} us   {miss / hit:6.1f}x faster")

            now = datetime.now(UTC)
            conn = sqlite3.connect(db, isolation_level=None, timeout=10)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            started = time.perf_counter()
            for _ in range(N_USES):
                conn.execute("BEGIN IMMEDIATE")
                conn.execute(
                    "UPDATE access_keys SET last_used_at = ?, last_used_region = ?, "
                    "last_used_service = ? WHERE access_key_id = ?",
                    (now.isoformat(), "us-east-1", "s3", kid),
                )
                conn.execute("COMMIT")
            sync_write = (time.perf_counter() - started) / N_USES
            conn.close()
            started = time.perf_counter()
            for _ in range(N_USES):
                cached.record_use(kid, at=now, region="us-east-1", service="s3")
            note = (time.perf_counter() - started) / N_USES
            await cached.flush()
            print(f"last-used written per request (baseline): {sync_write * 1e6:8.1f} us")
            print(
                f"record_use (batched):                     {note * 1e6:8.1f} us   "
                f"{sync_write / note:6.1f}x faster"
            )
        finally:
            await cached.aclose()
            await uncached.aclose()


if __name__ == "__main__":
    asyncio.run(main())
