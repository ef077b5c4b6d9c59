"""The PostgreSQL sink on a real server: one chain from many writers, tampering, lookup."""

from __future__ import annotations

import asyncio
import hashlib
import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from _audit_util import T0, event
from _cli_util import run_cli
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sigv4kit.middleware.audit import (
    LookupKey,
    LookupQuery,
    SigningKey,
    SqlAuditSink,
    generate_signing_key,
    lookup_database,
    verify_database,
)
from sigv4kit.middleware.audit._sql import lookup_statement
from sigv4kit.middleware.store.engine import postgres_async_engine, postgres_conninfo_from_url

KEY = SigningKey(Ed25519PrivateKey.generate())


def sql(url: str, statement: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    conninfo, schema = postgres_conninfo_from_url(url)
    with psycopg.connect(conninfo, autocommit=True, options=f"-c search_path={schema}") as conn:
        cur = conn.execute(statement, params)
        return cur.fetchall() if cur.description else []


async def problems(sink: SqlAuditSink) -> list[tuple[str, str]]:
    async with sink.engine.connect() as conn:
        report = await verify_database(conn, KEY.public_key)
    return [(p.kind, p.target) for p in report.problems]


@pytest.fixture
async def chain(pg_url: str) -> Any:
    """Ten events in four batches (3, 3, 3, 1), each batch checkpointed."""
    sink = await SqlAuditSink.open(pg_url, key=KEY)
    for start, stop in ((0, 3), (3, 6), (6, 9), (9, 10)):
        await sink.write([event(i) for i in range(start, stop)])
    yield sink
    await sink.aclose()


async def test_rows_form_one_verified_chain(chain: SqlAuditSink, pg_url: str) -> None:
    rows = sql(
        pg_url, "SELECT seq, user_name, event_name, read_only FROM audit_events ORDER BY seq"
    )
    assert rows[:2] == [(1, "alice", "GetOrder", True), (2, "alice", "PutOrder", False)]
    assert [r[0] for r in rows] == list(range(1, 11))
    assert sql(pg_url, "SELECT seq FROM audit_checkpoints ORDER BY seq") == [
        (3,),
        (6,),
        (9,),
        (10,),
    ]
    # The documented hash: SHA-256(previous hash hex, "\n", JSON line); row 1 follows 64 zeros.
    first, second = sql(
        pg_url, "SELECT record, row_hash, previous_hash FROM audit_events ORDER BY seq LIMIT 2"
    )
    assert first[1] == hashlib.sha256(("0" * 64 + "\n" + first[0]).encode()).hexdigest()
    assert second[2] == first[1]
    assert await problems(chain) == []


async def test_many_writers_share_one_chain(pg_url: str) -> None:
    sinks = [await SqlAuditSink.open(pg_url, key=KEY) for _ in range(4)]
    try:

        async def writer(n: int) -> None:
            for batch in range(5):
                base = 1000 * n + 10 * batch
                await sinks[n].write([event(base + i) for i in range(10)])

        await asyncio.gather(*(writer(n) for n in range(4)))
        assert sql(pg_url, "SELECT count(*), min(seq), max(seq) FROM audit_events") == [
            (200, 1, 200)
        ]
        assert await problems(sinks[0]) == []
    finally:
        for sink in sinks:
            await sink.aclose()


def test_writer_processes_share_one_chain(pg_url: str) -> None:
    writer = Path(__file__).parent / "_audit_pg_writer.py"
    procs = [subprocess.Popen([sys.executable, str(writer), pg_url, str(n)]) for n in range(3)]
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0]
    counts = sql(pg_url, "SELECT count(*), min(seq), max(seq) FROM audit_events")
    assert counts == [(300, 1, 300)]
    writers = sql(pg_url, "SELECT count(DISTINCT event_id) FROM audit_events")
    assert writers == [(300,)]

    async def check() -> list[tuple[str, str]]:
        sink = SqlAuditSink(
            postgres_async_engine(*postgres_conninfo_from_url(pg_url), 10.0), schema=None
        )
        try:
            return await problems(sink)
        finally:
            await sink.aclose()

    assert asyncio.run(check()) == []


async def test_modified_row(chain: SqlAuditSink, pg_url: str) -> None:
    sql(
        pg_url, "UPDATE audit_events SET record = replace(record, 'alice', 'mallory') WHERE seq = 4"
    )
    assert await problems(chain) == [("modified", "row 4")]


async def test_modified_lookup_column(chain: SqlAuditSink, pg_url: str) -> None:
    # Hiding an event from "lookup by user" without touching the record.
    sql(pg_url, "UPDATE audit_events SET user_name = 'nobody' WHERE seq = 5")
    assert await problems(chain) == [("modified", "row 5")]


async def test_deleted_rows(chain: SqlAuditSink, pg_url: str) -> None:
    sql(pg_url, "DELETE FROM audit_events WHERE seq IN (4, 5)")
    assert await problems(chain) == [("deleted", "rows 4..5")]


async def test_deleted_newest_rows_are_caught_by_the_checkpoint(
    chain: SqlAuditSink, pg_url: str
) -> None:
    sql(pg_url, "DELETE FROM audit_events WHERE seq = 10")
    assert await problems(chain) == [("deleted", "row 10")]


async def test_reordered_rows(chain: SqlAuditSink, pg_url: str) -> None:
    # Swap every column but seq between rows 2 and 7 (event_id is unique: via a placeholder).
    columns = (
        "event_id, event_time, event_source, event_name, user_name, access_key_id, read_only,"
        " record, previous_hash, row_hash"
    )
    two, seven = (
        sql(pg_url, f"SELECT {columns} FROM audit_events WHERE seq = {n}")[0] for n in (2, 7)
    )
    assign = ", ".join(f"{c.strip()} = %s" for c in columns.split(","))
    sql(pg_url, "UPDATE audit_events SET event_id = 'placeholder' WHERE seq = 2")
    sql(pg_url, f"UPDATE audit_events SET {assign} WHERE seq = 7", two)
    sql(pg_url, f"UPDATE audit_events SET {assign} WHERE seq = 2", seven)
    found = await problems(chain)
    assert ("reordered", "row 2") in found
    assert ("reordered", "row 7") in found
    assert {kind for kind, _ in found} == {"reordered"}


async def test_inserted_row(chain: SqlAuditSink, pg_url: str) -> None:
    from sigv4kit.middleware.audit._integrity import row_hash

    line = event(99).to_line()
    fake_previous = "ab" * 32
    sql(
        pg_url,
        "INSERT INTO audit_events (seq, event_id, event_time, event_source, event_name, user_name,"
        " access_key_id, read_only, record, previous_hash, row_hash) VALUES"
        " (11, %s, %s, 'orders.example.com', 'PutOrder', 'alice', 'AKIAALICEAAAAAAAAAAA', false,"
        " %s, %s, %s)",
        (
            json.loads(line)["eventID"],
            T0 + timedelta(seconds=99),
            line,
            fake_previous,
            row_hash(fake_previous, line),
        ),
    )
    assert await problems(chain) == [("inserted", "row 11")]


async def test_forged_checkpoint(chain: SqlAuditSink, pg_url: str) -> None:
    other = SigningKey(Ed25519PrivateKey.generate())
    import base64

    from sigv4kit.middleware.audit._sql import checkpoint_message

    head = sql(pg_url, "SELECT row_hash FROM audit_events WHERE seq = 6")[0][0]
    signature = base64.b64encode(other.sign(checkpoint_message(6, head))).decode()
    sql(pg_url, "UPDATE audit_checkpoints SET signature = %s WHERE seq = 6", (signature,))
    assert await problems(chain) == [("forged", "checkpoint 6")]


async def test_lookup_filters(chain: SqlAuditSink) -> None:
    await chain.write([event(i, name="bob") for i in range(10, 13)])
    async with chain.engine.connect() as conn:
        by_user = await lookup_database(
            conn, LookupQuery(attributes=((LookupKey.USERNAME, "bob"),), max_results=2)
        )
        assert [e["Username"] for e in by_user["Events"]] == ["bob", "bob"]
        assert [json.loads(e["CloudTrailEvent"])["requestID"] for e in by_user["Events"]] == [
            "req-12",
            "req-11",
        ]
        by_name = await lookup_database(
            conn,
            LookupQuery(
                attributes=((LookupKey.EVENT_NAME, "PutOrder"),),
                start=T0 + timedelta(seconds=3),
                end=T0 + timedelta(seconds=7),
            ),
        )
        assert [e["EventTime"][17:19] for e in by_name["Events"]] == ["07", "05", "03"]
        by_resource = await lookup_database(
            conn,
            LookupQuery(
                attributes=(
                    (LookupKey.RESOURCE_NAME, "arn:aws:orders:us-east-1:123456789012:order/3"),
                )
            ),
        )
        # order/(i % 7) == order/3 for i = 3 and 10.
        assert sorted(
            json.loads(e["CloudTrailEvent"])["requestID"] for e in by_resource["Events"]
        ) == [
            "req-10",
            "req-3",
        ]
        read_only = await lookup_database(
            conn, LookupQuery(attributes=((LookupKey.READ_ONLY, "false"),))
        )
        assert {e["ReadOnly"] for e in read_only["Events"]} == {"false"}
        assert len(read_only["Events"]) == 6  # odd i in 0..12


async def test_lookup_by_user_uses_the_index(pg_url: str) -> None:
    sink = await SqlAuditSink.open(pg_url)
    try:
        for batch in range(20):
            await sink.write([event(batch * 1000 + i, name=f"user{i % 200}") for i in range(1000)])
    finally:
        await sink.aclose()
    sql(pg_url, "ANALYZE audit_events")
    sink = await SqlAuditSink.open(pg_url)
    try:
        statement = lookup_statement(LookupQuery(attributes=((LookupKey.USERNAME, "user7"),)))
        compiled = statement.compile(
            sink.engine.sync_engine, compile_kwargs={"literal_binds": True}
        )
        plan = "\n".join(r[0] for r in sql(pg_url, f"EXPLAIN {compiled}"))
        assert "ix_audit_events_user_name_event_time" in plan, plan
        assert "Seq Scan" not in plan, plan
    finally:
        await sink.aclose()


def test_cli_verify_and_lookup_on_postgres(pg_url: str, tmp_path: Path) -> None:
    key_file = tmp_path / "audit.key"

    async def fill() -> None:
        sink = await SqlAuditSink.open(pg_url, key=generate_signing_key(key_file))
        await sink.write([event(i) for i in range(5)])
        await sink.aclose()

    asyncio.run(fill())
    ok = run_cli("audit", "verify", pg_url, "--public-key", f"{key_file}.pub")
    assert ok.code == 0, ok.err
    assert ok.out.splitlines()[-1].startswith("VALID: 5 verified through sequence 5")
    found = run_cli(
        "audit",
        "lookup",
        pg_url,
        "--lookup-attributes",
        "AttributeKey=EventName,AttributeValue=PutOrder",
    )
    assert found.code == 0, found.err
    assert [e["EventId"][-1] for e in json.loads(found.out)["Events"]] == ["3", "1"]
    sql(pg_url, "DELETE FROM audit_events WHERE seq = 2")
    bad = run_cli("audit", "verify", pg_url, "--public-key", f"{key_file}.pub")
    assert bad.code == 4
    assert "DELETED: rows 2..2" in bad.out


def test_cli_on_a_database_without_audit_tables(pg_url: str) -> None:
    result = run_cli("audit", "lookup", pg_url)
    assert result.code == 1
    assert result.err.startswith("error: key database error:")
    assert "audit_events" in result.err
    assert "Traceback" not in result.err
