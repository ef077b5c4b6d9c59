"""Audit trail costs: per request on the request path, and lookup on a million events.

Run: ``.venv/bin/python benchmarks/bench_audit.py [EVENTS] [--rounds N]
[--throughput-only]`` (PostgreSQL at 127.0.0.1:5432, database ``test``, or
``SIGV4KIT_TEST_POSTGRES``; its own random schema, dropped at the end; EVENTS
defaults to 1,000,000; ``wrk`` installed).

Prints, from one run:

0. throughput of the orders service (``SigV4Middleware`` with a per-action
   authorizer that leaves its ``AuthorizationRecord``, in front of an echo
   app) with ``audit=AuditLog(JsonLinesSink(...))`` and without, same run:
   uvicorn ``--http httptools --loop uvloop`` in subprocesses, ``wrk`` cycling
   through thousands of distinct freshly signed GETs (bench_middleware.py's
   approach), alternating rounds, medians; the ratio (target: at most 10%
   less throughput) and the server CPU per request;

1. the request-path cost of auditing, in µs per request: building the event
   (:func:`authorization_event`), ``AuditLog.emit`` (the queue put), and the
   JSON serialization the writer does later; against the baseline of one
   ``Verifier.verify_at`` of bench_verify.py's signed GET (the work every
   request already pays);
2. ``audit lookup`` by user on EVENTS events in PostgreSQL (1,000 users, the
   50 newest events of a random user, through :func:`lookup_database`):
   p50/p99 latency with the ``(user_name, event_time)`` index, against the
   same query with index scans switched off (the full-scan baseline);
3. the same lookup on a JSON-lines directory (per-segment index) for a
   tenth of EVENTS, against reading every segment.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from bench_verify import signed_request, verify_call
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from psycopg import sql
from sigv4kit.middleware.audit import (
    AuditLog,
    AuditSettings,
    FileSinkSettings,
    IdentityType,
    JsonLinesSink,
    LookupKey,
    LookupQuery,
    RequestInfo,
    Resource,
    SigningKey,
    SqlAuditSink,
    UserIdentity,
    authorization_event,
    lookup_database,
    lookup_directory,
)
from sigv4kit.middleware.audit._integrity import GENESIS_HASH, row_hash
from sigv4kit.middleware.audit._sql import _row, lookup_statement

DSN = os.environ.get("SIGV4KIT_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
USERS = 1_000
LOOKUPS = 200
T0 = datetime(2026, 1, 1, tzinfo=UTC)
N = 20_000


def identity(n: int) -> UserIdentity:
    return UserIdentity(
        type=IdentityType.IAM_USER,
        principal_id=f"AIDA{n:016d}",
        arn=f"arn:aws:iam::123456789012:user/user{n}",
        account_id="123456789012",
        access_key_id=f"AKIA{n:016d}",
        user_name=f"user{n}",
    )


def make_event(i: int, user: UserIdentity) -> object:
    return authorization_event(
        identity=user,
        action="orders:GetOrder",
        resources=[Resource(arn=f"arn:aws:orders:us-east-1:123456789012:order/{i % 5000}")],
        allowed=i % 10 != 0,
        read_only=True,
        request=RequestInfo(
            when=T0 + timedelta(seconds=i),
            event_id=str(uuid.UUID(int=i)),
            request_id=f"{i:016X}",
            source_ip="192.0.2.10",
            user_agent="bench/1.0",
            region="us-east-1",
        ),
        event_source="orders.example.com",
    )


def per_call_us(fn: object, n: int = N) -> float:
    samples = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(n):
            fn()  # type: ignore[operator]
        samples.append((time.perf_counter() - start) / n * 1e6)
    return statistics.median(samples)


async def request_path_cost() -> None:
    users = [identity(n) for n in range(10)]
    counter = iter(range(10**9))
    build = per_call_us(lambda: make_event(next(counter), users[0]))
    event = make_event(1, users[0])

    class NullSink:
        async def write(self, events: object) -> None:
            return None

        async def aclose(self) -> None:
            return None

    log = AuditLog(NullSink(), AuditSettings(queue_size=10**8))  # never drained: put only
    emit = per_call_us(lambda: log.emit(event))  # type: ignore[arg-type]
    serialize = per_call_us(lambda: event.to_line())  # type: ignore[attr-defined]
    verify = per_call_us(verify_call(signed_request()))
    total = build + emit + serialize
    print("1. per-request audit cost (µs; median of 5 rounds of 20,000)")
    print(f"   baseline Verifier.verify_at       {verify:8.2f}")
    print(f"   build authorization_event         {build:8.2f}")
    print(f"   AuditLog.emit (queue put)         {emit:8.2f}")
    print(f"   serialize (writer, off the path)  {serialize:8.2f}")
    print(f"   total {total:.2f} µs = {total / verify:.2f}x a verification")


def generate_copy(events: int) -> io.StringIO:
    """COPY text for EVENTS chained rows (the sink's own row and hash functions)."""
    users = [identity(n) for n in range(USERS)]
    out = io.StringIO()
    previous = GENESIS_HASH
    rng = random.Random(7)
    for i in range(events):
        record = make_event(i, users[rng.randrange(USERS)]).to_json()  # type: ignore[attr-defined]
        line = json.dumps(record, separators=(",", ":"), ensure_ascii=False)
        row = _row(record, line)
        current = row_hash(previous, line)
        fields = [
            str(i + 1),
            row["event_id"],
            row["event_time"].isoformat(),
            row["event_source"],
            row["event_name"],
            row["user_name"],
            row["access_key_id"],
            "t" if row["read_only"] else "f",
            line.replace("\\", "\\\\"),
            previous,
            current,
        ]
        out.write("\t".join(fields) + "\n")
        previous = current
    out.seek(0)
    return out


def full_scans(schema: str, rng: random.Random) -> list[float]:
    """The same lookups with every kind of index scan turned off (the plan checked), on a
    psycopg session of its own: through SQLAlchemy's connection the settings did not reach
    the planner (the "baseline" then used the index and printed 1/1)."""
    from sqlalchemy.dialects import postgresql

    samples = []
    with psycopg.connect(DSN, options=f"-c search_path={schema}") as conn:
        for setting in ("enable_indexscan", "enable_bitmapscan", "enable_indexonlyscan"):
            conn.execute(sql.SQL("SET {} = off").format(sql.Identifier(setting)))
        for number in range(5):
            query = LookupQuery(attributes=((LookupKey.USERNAME, f"user{rng.randrange(USERS)}"),))
            text = str(lookup_statement(query).compile(
                dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
            if number == 0:
                plan = " ".join(row[0] for row in conn.execute("EXPLAIN " + text))  # type: ignore[arg-type]
                assert "Index" not in plan, plan
            t = time.perf_counter()
            rows = conn.execute(text).fetchall()  # type: ignore[arg-type]
            samples.append((time.perf_counter() - t) * 1000)
            assert rows
    return sorted(samples)


async def postgres_lookup(events: int) -> None:
    schema = "sigv4kit_bench_" + secrets.token_hex(4)
    url = f"{DSN}?schema={schema}"
    sink = await SqlAuditSink.open(url)  # creates and migrates the schema
    try:
        start = time.perf_counter()
        data = generate_copy(events)
        with psycopg.connect(DSN, options=f"-c search_path={schema}") as conn:
            with conn.cursor().copy(
                "COPY audit_events (seq, event_id, event_time, event_source, event_name,"
                " user_name, access_key_id, read_only, record, previous_hash, row_hash)"
                " FROM STDIN"
            ) as copy:
                while chunk := data.read(1 << 20):
                    copy.write(chunk)
            conn.execute("ANALYZE audit_events")
        print(f"2. PostgreSQL: {events:,} events loaded in {time.perf_counter() - start:.0f} s")
        rng = random.Random(11)

        async def timed(conn: object) -> list[float]:
            samples = []
            for _ in range(LOOKUPS):
                query = LookupQuery(
                    attributes=((LookupKey.USERNAME, f"user{rng.randrange(USERS)}"),)
                )
                t = time.perf_counter()
                result = await lookup_database(conn, query)  # type: ignore[arg-type]
                samples.append((time.perf_counter() - t) * 1000)
                assert result["Events"]
            return sorted(samples)

        async with sink.engine.connect() as conn:
            indexed = await timed(conn)
        scanned = full_scans(schema, rng)
        p50, p99 = indexed[len(indexed) // 2], indexed[int(len(indexed) * 0.99)]
        base = statistics.median(scanned)
        print(f"   lookup by user, 50 newest, index:     p50 {p50:7.2f} ms  p99 {p99:7.2f} ms")
        print(f"   baseline, no index (5 runs):          p50 {base:7.2f} ms")
        print(f"   index / full scan = 1/{base / p50:.0f} (target: < 100 ms)")
    finally:
        await sink.aclose()
        with psycopg.connect(DSN, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


def file_lookup(events: int) -> None:
    users = [identity(n) for n in range(USERS)]
    rng = random.Random(7)
    key = SigningKey(Ed25519PrivateKey.generate())
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        sink = JsonLinesSink(directory, key=key, settings=FileSinkSettings(max_bytes=1 << 20))
        batch = []
        for i in range(events):
            # The rare user acted only early on: one segment of hundreds.
            rare_turn = i < 400 and i % 8 == 0
            user = identity(USERS + 1) if rare_turn else users[rng.randrange(USERS)]
            batch.append(make_event(i, user).to_json())  # type: ignore[attr-defined]
            if len(batch) == 10_000:
                sink.write_records(batch)
                batch = []
        sink.write_records(batch)
        sink.close_segment()
        segments = len(list(directory.glob("*.jsonl")))
        rare = LookupQuery(attributes=((LookupKey.USERNAME, f"user{USERS + 1}"),))
        t = time.perf_counter()
        found = lookup_directory(directory, rare)
        indexed = (time.perf_counter() - t) * 1000
        t = time.perf_counter()
        scanned = sum(
            1
            for path in directory.glob("*.jsonl")
            for line in path.read_text().splitlines()
            if json.loads(line)["userIdentity"].get("userName") == f"user{USERS + 1}"
        )
        full = (time.perf_counter() - t) * 1000
        print(f"3. files: {events:,} events in {segments} segments of 1 MiB")
        hits = len(found["Events"])
        print(
            f"   a user in one segment ({hits} of {scanned} events), via digests: {indexed:8.1f} ms"
        )
        print(f"   baseline, reading every segment:                       {full:8.1f} ms")


# -- 0. throughput of the orders service, audited or not (uvicorn + wrk) ---------------------

THROUGHPUT_MODES = ("orders", "orders+audit")
ROUNDS = 3


class OrdersAuthorizer:
    """Decides per action and leaves its record, as the IAM authorizer does."""

    async def authorize(self, caller: Any, scope: Any) -> None:
        from sigv4kit.middleware.asgi.authorize import AUTHORIZATION_KEY, AuthorizationRecord

        order = scope["query_string"].decode().partition("=")[2] or "0"
        scope[AUTHORIZATION_KEY] = AuthorizationRecord(
            action="orders:GetOrder",
            resource=f"arn:aws:orders:us-east-1:{caller.account_id}:order/{order}",
            allowed=True,
        )


def orders_app(mode: str, directory: str) -> Any:
    from bench_middleware import AKID, SECRET, echo
    from sigv4kit.middleware import MemoryKeyStore, SigV4Middleware
    from sigv4kit.middleware.audit import SigningKey

    import sigv4kit

    store = MemoryKeyStore(
        [sigv4kit.KeyRecord(access_key_id=AKID, secret_access_key=SECRET, principal="bench")]
    )
    audit = None
    if mode == "orders+audit":
        key = SigningKey(Ed25519PrivateKey.generate())
        audit = AuditLog(JsonLinesSink(Path(directory), key=key))
    return SigV4Middleware(echo, store=store, authorizer=OrdersAuthorizer(), audit=audit)


def serve(mode: str, port: int, directory: str) -> None:
    import uvicorn

    uvicorn.run(orders_app(mode, directory), host="127.0.0.1", port=port, http="httptools",
                loop="uvloop", log_level="warning", access_log=False, lifespan="off")


def throughput(rounds: int) -> None:
    """Same-run medians of the orders service with and without the audit trail."""
    import shutil

    from bench_middleware import CONNECTIONS, DISTINCT_REQUESTS, DURATION, WRK_SCRIPT, Server, load

    if shutil.which("wrk") is None:
        sys.exit("bench_audit needs wrk: apt-get install wrk (or `make bench`)")
    with tempfile.TemporaryDirectory() as directory:
        script = os.path.join(directory, "requests.lua")
        with open(script, "w") as out:
            out.write(WRK_SCRIPT)
        trail = os.path.join(directory, "trail")
        servers = {mode: Server(mode, __file__, trail) for mode in THROUGHPUT_MODES}
        results: dict[str, list[tuple[float, float]]] = {m: [] for m in THROUGHPUT_MODES}
        try:
            for _ in range(rounds):
                for mode, server in servers.items():
                    results[mode].append(load(server, script, directory))
        finally:
            for server in servers.values():
                server.close()
        written = sum(
            len(path.read_bytes().splitlines()) for path in Path(trail).glob("*.jsonl")
        )
    rate = {m: statistics.median(r for r, _ in runs) for m, runs in results.items()}
    cpu = {m: statistics.median(c for _, c in runs) for m, runs in results.items()}
    print(f"0. orders service (SigV4Middleware + a per-action authorizer, echo app): uvicorn "
          f"httptools+uvloop, 1 worker; wrk -t1 -c{CONNECTIONS}, {DISTINCT_REQUESTS} distinct "
          f"freshly signed GETs; {rounds} x {DURATION}s alternating rounds; medians")
    for mode in THROUGHPUT_MODES:
        print(f"   {mode:13s} {rate[mode]:8.0f} req/s  {cpu[mode]:6.1f} us server CPU/request")
    ratio = rate["orders+audit"] / rate["orders"]
    print(f"   audited/unaudited throughput {ratio:5.3f} (cost {100 * (1 - ratio):4.1f}%, "
          f"target <= 10%); added CPU/request {cpu['orders+audit'] - cpu['orders']:+5.1f} us; "
          f"{written:,} events written to the JSON-lines trail")


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    events = int(args[0]) if args else 1_000_000
    rounds = ROUNDS
    if "--rounds" in sys.argv:
        rounds = int(sys.argv[sys.argv.index("--rounds") + 1])
        args.remove(str(rounds))
    throughput(rounds)
    if "--throughput-only" in sys.argv:
        return
    asyncio.run(request_path_cost())
    asyncio.run(postgres_lookup(events))
    file_lookup(max(10_000, events // 10))


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--serve":
        serve(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    else:
        main()
