"""The database sink: one hash chain of events in PostgreSQL (or SQLite).

Many workers on many machines write to one chain. Each batch is one
transaction that takes a transaction-level advisory lock (PostgreSQL; on
SQLite the ``BEGIN IMMEDIATE`` of a write transaction), reads the chain
head, and inserts its rows with ``seq`` = head + 1, 2, ... and
``row_hash`` = :func:`~._integrity.row_hash` (previous hash, JSON line).
The primary key on ``seq`` makes a fork impossible even without the lock.
With a signing key, the transaction also signs the new head
(``audit_checkpoints``), so neither rewriting the chain nor removing its
newest rows goes unnoticed by :func:`verify_database`.

Lookups (:func:`lookup_database`) use the ``(attribute, event_time)``
indexes: equality on the attribute, the time range, newest first, ``LIMIT``.

Imports: SQLAlchemy, the store's engine helpers and schema, :mod:`._integrity`,
:mod:`._lookup`, :mod:`._report`.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ..store import migrate
from ..store.engine import WRITE, postgres_async_engine, postgres_conninfo_from_url, unavailable
from ..store.schema import audit_checkpoints, audit_event_resources, audit_events
from ._event import AuditEvent
from ._integrity import GENESIS_HASH, SigningKey, row_hash
from ._lookup import (
    LookupKey,
    LookupQuery,
    first_value,
    lookup_response,
    parse_event_time,
    record_attributes,
)
from ._report import Problem, VerifyReport

__all__ = ["SqlAuditSink", "checkpoint_message", "lookup_database", "verify_database"]

_COLUMNS = {
    LookupKey.USERNAME: audit_events.c.user_name,
    LookupKey.EVENT_NAME: audit_events.c.event_name,
    LookupKey.ACCESS_KEY_ID: audit_events.c.access_key_id,
    LookupKey.EVENT_SOURCE: audit_events.c.event_source,
    LookupKey.EVENT_ID: audit_events.c.event_id,
}


def checkpoint_message(seq: int, head: str) -> bytes:
    """What a checkpoint signs: the chain position and its hash."""
    return f"sigv4kit-audit-checkpoint\n{seq}\n{head}".encode()


def _row(record: dict[str, Any], line: str) -> dict[str, Any]:
    attrs = record_attributes(record)
    return {
        "event_id": record["eventID"],
        "event_time": parse_event_time(record["eventTime"]),
        "event_source": record["eventSource"],
        "event_name": record["eventName"],
        "user_name": first_value(attrs, LookupKey.USERNAME),
        "access_key_id": first_value(attrs, LookupKey.ACCESS_KEY_ID),
        "read_only": bool(record.get("readOnly")),
        "record": line,
    }


def _serialize(events: Sequence[AuditEvent]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    records = [event.to_json() for event in events]
    lines = [json.dumps(r, separators=(",", ":"), ensure_ascii=False) for r in records]
    return records, [_row(record, line) for record, line in zip(records, lines, strict=True)]


class SqlAuditSink:
    """Append events to the ``audit_events`` chain of a store database."""

    def __init__(
        self, engine: AsyncEngine, *, schema: str | None = None, key: SigningKey | None = None
    ) -> None:
        self.engine = engine
        self.schema = schema
        self._key = key

    def __repr__(self) -> str:
        return f"SqlAuditSink(schema={self.schema!r}, key={self._key!r})"

    @classmethod
    async def open(
        cls, url: str, *, key: SigningKey | None = None, timeout: float = 5.0
    ) -> SqlAuditSink:
        """A sink on a ``postgresql://...?schema=`` store URL, migrated to head."""
        conninfo, schema = postgres_conninfo_from_url(url)
        engine = postgres_async_engine(conninfo, schema, timeout)
        with unavailable(timeout):
            async with engine.begin() as conn:
                await conn.run_sync(lambda sync: migrate.upgrade(sync, schema=schema))
        return cls(engine, schema=schema, key=key)

    async def write(self, events: Sequence[AuditEvent]) -> None:
        """Append ``events`` to the chain in one transaction."""
        if not events:
            return
        # Serialization in a worker thread: off the event loop, like the file sink's.
        records, rows = await asyncio.to_thread(_serialize, events)
        with unavailable():
            async with self.engine.connect() as conn:
                conn = await conn.execution_options(**{WRITE: True})
                async with conn.begin():
                    await self._append(conn, rows, records)

    async def _append(
        self, conn: AsyncConnection, rows: list[dict[str, Any]], records: list[dict[str, Any]]
    ) -> None:
        if conn.dialect.name == "postgresql":
            await conn.execute(
                sa.text("SELECT pg_advisory_xact_lock(hashtextextended(:name, 0))"),
                {"name": f"sigv4kit.audit.{self.schema}"},
            )
        head = (
            await conn.execute(
                sa.select(audit_events.c.seq, audit_events.c.row_hash)
                .order_by(audit_events.c.seq.desc())
                .limit(1)
            )
        ).first()
        seq, previous = (int(head[0]), str(head[1])) if head else (0, GENESIS_HASH)
        resources: list[dict[str, Any]] = []
        for row, record in zip(rows, records, strict=True):
            seq += 1
            row["seq"] = seq
            row["previous_hash"] = previous
            previous = row["row_hash"] = row_hash(previous, row["record"])
            names = {r["ARN"] for r in record.get("resources") or [] if r.get("ARN")}
            resources.extend({"seq": seq, "resource_name": name} for name in sorted(names))
        await conn.execute(sa.insert(audit_events), rows)
        if resources:
            await conn.execute(sa.insert(audit_event_resources), resources)
        if self._key is not None:
            signature = self._key.sign(checkpoint_message(seq, previous))
            await conn.execute(
                sa.insert(audit_checkpoints).values(
                    seq=seq,
                    row_hash=previous,
                    key_fingerprint=self._key.fingerprint,
                    signature=base64.b64encode(signature).decode("ascii"),
                    signed_at=datetime.now(UTC),
                )
            )

    async def aclose(self) -> None:
        await self.engine.dispose()


def lookup_statement(query: LookupQuery) -> sa.Select[Any]:
    """The SELECT for a lookup (exposed so tests can EXPLAIN it)."""
    statement = sa.select(audit_events.c.record)
    for key, value in query.attributes:
        if key is LookupKey.READ_ONLY:
            statement = statement.where(audit_events.c.read_only == (value == "true"))
        elif key is LookupKey.RESOURCE_NAME:
            statement = statement.where(
                audit_events.c.seq.in_(
                    sa.select(audit_event_resources.c.seq).where(
                        audit_event_resources.c.resource_name == value
                    )
                )
            )
        elif key in _COLUMNS:
            statement = statement.where(_COLUMNS[key] == value)
        else:  # ResourceType: not a column; filtered on the record
            statement = statement.where(
                audit_events.c.record.contains(f'"type":{json.dumps(value)}')
            )
    if query.start:
        statement = statement.where(audit_events.c.event_time >= query.start)
    if query.end:
        statement = statement.where(audit_events.c.event_time <= query.end)
    return statement.order_by(audit_events.c.event_time.desc()).limit(query.max_results)


async def lookup_database(conn: AsyncConnection, query: LookupQuery) -> dict[str, Any]:
    """``LookupEventsResponse`` for ``query`` from the ``audit_events`` table."""
    lines = (await conn.execute(lookup_statement(query))).scalars().all()
    return lookup_response([(json.loads(line), line) for line in lines])


async def verify_database(
    conn: AsyncConnection, public_key: Ed25519PublicKey | None
) -> VerifyReport:
    """Every break in the chain, and every checkpoint it contradicts."""
    report = VerifyReport(target="audit_events")
    expected_seq, previous = 1, GENESIS_HASH
    stream = await conn.stream(sa.select(audit_events).order_by(audit_events.c.seq))
    async for row in stream:
        seq = int(row.seq)
        linked = True
        if seq != expected_seq:
            report.add(
                Problem("deleted", f"rows {expected_seq}..{seq - 1}", "missing from the chain")
            )
            linked = False  # the row after a gap cannot link to a row that is gone
        if row_hash(row.previous_hash, row.record) != row.row_hash or not _columns_match(row):
            report.add(Problem("modified", f"row {seq}", "content differs from its hash"))
        elif linked and row.previous_hash != previous:
            await _misplaced(conn, report, seq, row.previous_hash)
        report.verified += 1
        report.last_sequence = seq
        report.last_event_time = row.event_time.strftime("%Y-%m-%dT%H:%M:%SZ")
        expected_seq, previous = seq + 1, row.row_hash
    await _check_checkpoints(conn, report, public_key)
    return report


def _columns_match(row: Any) -> bool:
    try:
        expected = _row(json.loads(row.record), row.record)
    except (ValueError, KeyError):
        return False
    return (
        all(
            getattr(row, name) == expected[name]
            for name in ("event_id", "event_source", "event_name", "user_name", "access_key_id")
        )
        and row.event_time == expected["event_time"]
        and row.read_only == expected["read_only"]
    )


async def _misplaced(conn: AsyncConnection, report: VerifyReport, seq: int, follows: str) -> None:
    other = (
        await conn.execute(sa.select(audit_events.c.seq).where(audit_events.c.row_hash == follows))
    ).scalar()
    if other is not None:
        report.add(Problem("reordered", f"row {seq}", f"follows row {other}, not row {seq - 1}"))
    else:
        report.add(Problem("inserted", f"row {seq}", "follows no row of the chain"))


async def _check_checkpoints(
    conn: AsyncConnection, report: VerifyReport, public_key: Ed25519PublicKey | None
) -> None:
    hashes: dict[int, str] = {}
    checkpoints = (await conn.execute(sa.select(audit_checkpoints))).all()
    wanted = [int(c.seq) for c in checkpoints]
    for start in range(0, len(wanted), 1000):
        chunk = wanted[start : start + 1000]
        result = await conn.execute(
            sa.select(audit_events.c.seq, audit_events.c.row_hash).where(
                audit_events.c.seq.in_(chunk)
            )
        )
        hashes.update({int(seq): str(h) for seq, h in result})
    for checkpoint in checkpoints:
        where = f"checkpoint {checkpoint.seq}"
        if public_key is not None:
            try:
                public_key.verify(
                    base64.b64decode(checkpoint.signature),
                    checkpoint_message(int(checkpoint.seq), checkpoint.row_hash),
                )
            except (InvalidSignature, ValueError):
                report.add(Problem("forged", where, "signature does not verify"))
                continue
        actual = hashes.get(int(checkpoint.seq))
        if actual is None:
            report.add(Problem("deleted", f"row {checkpoint.seq}", f"signed in {where}, missing"))
        elif actual != checkpoint.row_hash:
            report.add(Problem("modified", f"row {checkpoint.seq}", f"chain differs from {where}"))
