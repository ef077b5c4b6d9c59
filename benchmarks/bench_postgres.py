"""PostgreSQL key store against SQLite, on loopback.

Run: ``.venv/bin/python benchmarks/bench_postgres.py`` (PostgreSQL at
127.0.0.1:5432, database ``test``, or ``SIGV4KIT_TEST_POSTGRES``). Uses its
own random schema and drops it at the end.

Prints, from one run:

1. cold ``get_key`` latency (every lookup a cache miss: one query, one
   AES-GCM decryption), p50 / p99, PostgreSQL against the SQLite baseline;
2. cached-path throughput: the echo service in two uvicorn worker processes
   on one store, each loaded with one signed GET replayed by ``wrk`` (or a
   bounded httpx load), the store URL PostgreSQL against SQLite;
3. revocation propagation over 2 workers on PostgreSQL: the key is
   deactivated, then both workers are polled until each refuses it; the
   time to each worker's first refusal (an upper bound: it includes the
   polling interval), p50 / p99 over all trials.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg
from psycopg import sql
from sigv4kit.middleware import MasterKey, PostgresKeyStore, SQLiteKeyStore

import sigv4kit

ROOT = Path(__file__).resolve().parent.parent
DSN = os.environ.get("SIGV4KIT_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
COLD_LOOKUPS = 2_000
LOAD_SECONDS = 3
CONNECTIONS = 32
REVOCATION_TRIALS = 20
MASTER = MasterKey.generate()


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# -- the app the workers serve: the echo service, tagged with the worker pid ------------------


def __getattr__(name: str) -> Any:
    if name == "tagged_app":
        import examples.echo_service as echo

        inner = echo.app
        pid = str(os.getpid()).encode()

        async def tagged_app(scope: Any, receive: Any, send: Any) -> None:
            async def tagged(message: Any) -> None:
                if message["type"] == "http.response.start":
                    message = {**message, "headers": [*message["headers"], (b"x-worker-pid", pid)]}
                await send(message)

            await inner(scope, receive, tagged if scope["type"] == "http" else send)

        globals()["tagged_app"] = tagged_app
        return tagged_app
    raise AttributeError(name)


def free_port() -> int:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = int(probe.getsockname()[1])
    probe.close()
    return port


@contextlib.contextmanager
def workers(store_url: str) -> Iterator[list[str]]:
    """Two worker processes on one store; yields their base URLs.

    Two single-worker uvicorn processes rather than ``uvicorn --workers 2``:
    on this machine (uvicorn 0.54) the multi-worker mode adds a ~44 ms stall
    to every keep-alive request, even for a trivial app, which would hide
    what the store costs. tests/test_postgres_workers.py uses the real
    ``--workers 2`` for correctness.
    """
    env = {**os.environ, "SIGV4KIT_STORE": store_url, "SIGV4KIT_MASTER_KEY": MASTER.to_base64()}
    procs: list[subprocess.Popen[bytes]] = []
    bases: list[str] = []
    try:
        for _ in range(2):
            port = free_port()
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "uvicorn", "benchmarks.bench_postgres:tagged_app",
                 "--host", "127.0.0.1", "--port", str(port),
                 "--log-level", "warning", "--no-access-log"],
                cwd=ROOT, env=env, start_new_session=True,
            ))
            bases.append(f"http://127.0.0.1:{port}")
        deadline = time.monotonic() + 30
        for base, proc in zip(bases, procs, strict=True):
            while True:
                try:
                    httpx.get(base + "/", timeout=1)
                    break
                except httpx.TransportError:
                    if time.monotonic() > deadline or proc.poll() is not None:
                        raise RuntimeError("uvicorn did not start") from None
                    time.sleep(0.1)
        yield bases
    finally:
        for proc in procs:
            os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            proc.wait(15)


# -- 1. cold lookups --------------------------------------------------------------------


async def cold_latencies(store: Any, kid: str) -> list[float]:
    await store.get_key(kid)  # connect, migrate
    samples = []
    for _ in range(COLD_LOOKUPS):
        started = time.perf_counter()
        record = await store.get_key(kid)
        samples.append(time.perf_counter() - started)
        assert record is not None
    return samples


async def provision(store: Any) -> Any:
    await store.create_principal("bench")
    return await store.create_key("bench")


async def bench_cold(pg_url: str, sqlite_path: Path) -> dict[str, Any]:
    pg = PostgresKeyStore(pg_url, master_key=MASTER, cache_ttl=0, negative_cache_ttl=0)
    lite = SQLiteKeyStore(sqlite_path, master_key=MASTER, cache_ttl=0, negative_cache_ttl=0)
    try:
        pg_key = await provision(pg)
        lite_key = await provision(lite)
        return {
            "postgres": await cold_latencies(pg, pg_key.access_key_id),
            "sqlite": await cold_latencies(lite, lite_key.access_key_id),
            "pg_key": pg_key,
            "lite_key": lite_key,
        }
    finally:
        await pg.aclose()
        await lite.aclose()


# -- 2. cached-path throughput -------------------------------------------------------------


def signed_headers(base: str, key: Any) -> dict[str, str]:
    creds = sigv4kit.Credentials(key.access_key_id, key.secret_access_key)
    result = sigv4kit.sign("GET", "/hello", [("Host", base.removeprefix("http://"))],
                           credentials=creds, region="us-east-1", service="execute-api",
                           now=datetime.now(UTC))
    return dict(result.added_headers)


def throughput(bases: list[str], key: Any) -> float:
    """Requests per second over both workers, loaded at the same time."""
    signed = [signed_headers(base, key) for base in bases]
    for base, headers in zip(bases, signed, strict=True):
        for _ in range(20):  # warm the worker's cache
            httpx.get(base + "/hello", headers=headers).raise_for_status()
    if shutil.which("wrk"):
        runs = []
        for base, headers in zip(bases, signed, strict=True):
            command = ["wrk", "-t1", f"-c{CONNECTIONS // 2}", f"-d{LOAD_SECONDS}s"]
            for name, value in headers.items():
                command += ["-H", f"{name}: {value}"]
            runs.append(subprocess.Popen([*command, base + "/hello"], stdout=subprocess.PIPE,
                                         text=True))
        total = 0.0
        for run in runs:
            out, _ = run.communicate(timeout=LOAD_SECONDS + 30)
            match = re.search(r"Requests/sec:\s+([\d.]+)", out)
            if match is None or "Non-2xx" in out:
                raise RuntimeError(out)
            total += float(match.group(1))
        return total

    async def both() -> float:
        rates = await asyncio.gather(*(_httpx_load(b, h) for b, h in zip(bases, signed,
                                                                           strict=True)))
        return sum(rates)

    return asyncio.run(both())


async def _httpx_load(base: str, headers: dict[str, str]) -> float:
    done = 0
    deadline = time.monotonic() + LOAD_SECONDS
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=CONNECTIONS)) as client:

        async def one() -> None:
            nonlocal done
            while time.monotonic() < deadline:
                (await client.get(base + "/hello", headers=headers)).raise_for_status()
                done += 1

        await asyncio.gather(*(one() for _ in range(CONNECTIONS)))
    return done / LOAD_SECONDS


# -- 3. revocation propagation -----------------------------------------------------------


async def revocation(bases: list[str], pg_url: str, key: Any) -> list[float]:
    writer = PostgresKeyStore(pg_url, master_key=MASTER)
    creds = sigv4kit.Credentials(key.access_key_id, key.secret_access_key)
    auth = sigv4kit.SigV4Auth(creds, region="us-east-1", service="execute-api")
    samples: list[float] = []
    try:
        async with httpx.AsyncClient(
            auth=auth, limits=httpx.Limits(max_keepalive_connections=0), timeout=10
        ) as client:
            for _ in range(REVOCATION_TRIALS):
                await writer.activate_key(key.access_key_id)
                accepted: set[str] = set()
                for _ in range(500):
                    for base in bases:
                        r = await client.get(base + "/hello")
                        if r.status_code == 200:
                            accepted.add(r.headers["x-worker-pid"])
                    if len(accepted) == 2:
                        break
                await writer.deactivate_key(key.access_key_id)
                done = time.perf_counter()
                first_refusal: dict[str, float] = {}
                for _ in range(2000):
                    rs = await asyncio.gather(*(client.get(b + "/hello") for b in bases * 2))
                    now = time.perf_counter() - done
                    for r in rs:
                        if r.status_code == 403:
                            first_refusal.setdefault(r.headers["x-worker-pid"], now)
                    if len(first_refusal) == 2:
                        break
                samples.extend(first_refusal.values())
    finally:
        await writer.aclose()
    return samples


def main() -> None:
    schema = "sigv4kit_bench_" + secrets.token_hex(4)
    pg_url = f"{DSN}?schema={schema}"
    try:
        with tempfile.TemporaryDirectory() as tmp:
            sqlite_path = Path(tmp) / "bench.db"
            cold = asyncio.run(bench_cold(pg_url, sqlite_path))
            pg_ms = [s * 1e3 for s in cold["postgres"]]
            lite_ms = [s * 1e3 for s in cold["sqlite"]]
            print(f"cold get_key ({COLD_LOOKUPS} misses, one process)")
            for label, ms in (("SQLite (baseline)", lite_ms), ("PostgreSQL", pg_ms)):
                print(f"  {label:18s} p50 {pct(ms, 0.5):6.3f} ms   p99 {pct(ms, 0.99):6.3f} ms")
            print(f"  PostgreSQL / SQLite: p50 x{pct(pg_ms, 0.5) / pct(lite_ms, 0.5):.2f}, "
                  f"p99 x{pct(pg_ms, 0.99) / pct(lite_ms, 0.99):.2f}")

            rates = {}
            for label, url, key in (
                ("SQLite (baseline)", f"sqlite:///{sqlite_path}", cold["lite_key"]),
                ("PostgreSQL", pg_url, cold["pg_key"]),
            ):
                with workers(url) as bases:
                    rates[label] = throughput(bases, key)
            tool = "wrk" if shutil.which("wrk") else "httpx load"
            print(f"cached path, 2 uvicorn worker processes, {tool}, {CONNECTIONS} connections")
            for label, rate in rates.items():
                print(f"  {label:18s} {rate:9.0f} req/s")
            print(f"  PostgreSQL / SQLite: x{rates['PostgreSQL'] / rates['SQLite (baseline)']:.2f}")

            with workers(pg_url) as bases:
                samples = asyncio.run(revocation(bases, pg_url, cold["pg_key"]))
            ms = [s * 1e3 for s in samples]
            print(f"revocation propagation, 2 workers, {REVOCATION_TRIALS} deactivations "
                  f"({len(ms)} worker refusals observed)")
            print(f"  p50 {statistics.median(ms):6.2f} ms   p99 {pct(ms, 0.99):6.2f} ms   "
                  f"max {max(ms):6.2f} ms   (budget 1000 ms: x{pct(ms, 0.99) / 1000:.3f})")
    finally:
        with psycopg.connect(DSN, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


if __name__ == "__main__":
    main()
