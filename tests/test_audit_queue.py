"""The bounded queue and its writer: shedding, dropping, retries, shutdown, a real crash."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest
from _audit_util import event
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sigv4kit.middleware.audit import (
    AuditEvent,
    AuditLog,
    AuditSettings,
    JsonLinesSink,
    LoggingSink,
    Offer,
    Overflow,
    SigningKey,
    verify_directory,
)

KEY = SigningKey(Ed25519PrivateKey.generate())
HERE = Path(__file__).parent


class GatedSink:
    """Holds every write until the gate opens; remembers what it wrote."""

    def __init__(self, failures: int = 0) -> None:
        self.gate = asyncio.Event()
        self.written: list[str] = []
        self.failures = failures
        self.closed = False

    async def write(self, events: Sequence[AuditEvent]) -> None:
        await self.gate.wait()
        if self.failures:
            self.failures -= 1
            raise OSError("disk full")
        self.written.extend(e.request_id for e in events)

    async def aclose(self) -> None:
        self.closed = True


async def test_a_full_queue_sheds_by_default() -> None:
    sink = GatedSink()
    log = AuditLog(sink, AuditSettings(queue_size=3))
    await log.start()
    assert [log.emit(event(i)) for i in range(4)] == [Offer.ACCEPTED] * 3 + [Offer.SHED]
    assert log.stats.shed == 1
    sink.gate.set()
    await log.aclose()
    assert sink.written == ["req-0", "req-1", "req-2"]
    assert sink.closed


async def test_a_full_queue_drops_and_counts_when_configured() -> None:
    sink = GatedSink()
    sink.gate.set()
    log = AuditLog(sink, AuditSettings(queue_size=2, overflow=Overflow.DROP))
    offers = [log.emit(event(i)) for i in range(5)]  # writer not started: nothing drains
    assert offers == [Offer.ACCEPTED, Offer.ACCEPTED, Offer.DROPPED, Offer.DROPPED, Offer.DROPPED]
    assert log.stats.dropped == 3
    await log.aclose()
    assert sink.written == ["req-0", "req-1"]


async def test_a_failing_sink_keeps_the_batch_and_retries() -> None:
    sink = GatedSink(failures=1)
    sink.gate.set()
    log = AuditLog(sink, AuditSettings(flush_interval=0.01))
    await log.start()
    for i in range(3):
        log.emit(event(i))
    for _ in range(500):
        if sink.written:
            break
        await asyncio.sleep(0.01)
    await log.aclose()
    assert sink.written == ["req-0", "req-1", "req-2"]  # once each, in order
    assert log.stats.write_errors == 1


async def test_events_are_written_without_shutdown() -> None:
    sink = GatedSink()
    sink.gate.set()
    log = AuditLog(sink, AuditSettings(flush_interval=0.05))
    await log.start()
    log.emit(event(0))
    for _ in range(500):
        if sink.written:
            break
        await asyncio.sleep(0.01)
    assert sink.written == ["req-0"]
    assert log.pending == 0
    await log.aclose()


async def test_a_half_full_queue_is_written_before_the_interval() -> None:
    sink = GatedSink()
    sink.gate.set()
    log = AuditLog(sink, AuditSettings(queue_size=10, flush_interval=3600))
    await log.start()
    for i in range(5):  # half of 10: the writer wakes now, not in an hour
        log.emit(event(i))
    for _ in range(500):
        if len(sink.written) == 5:
            break
        await asyncio.sleep(0.01)
    assert sink.written == [f"req-{i}" for i in range(5)]
    await log.aclose()


async def test_clean_shutdown_writes_everything_and_closes_the_segment(tmp_path: Path) -> None:
    log = AuditLog(JsonLinesSink(tmp_path, key=KEY), AuditSettings(flush_interval=60))
    await log.start()
    for i in range(250):
        assert log.emit(event(i)) is Offer.ACCEPTED
    await log.aclose()
    lines = [ln for p in sorted(tmp_path.glob("*.jsonl")) for ln in p.read_text().splitlines()]
    assert len(lines) == 250
    report = verify_directory(tmp_path, KEY.public_key)
    assert report.ok
    assert report.open_segments == []
    assert log.emit(event(999)) is Offer.SHED  # closed: refused, never lost silently


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="queue_size"):
        AuditSettings(queue_size=0)
    with pytest.raises(ValueError, match="flush_interval"):
        AuditSettings(flush_interval=0)


async def test_logging_sink_writes_one_json_record_per_event(
    caplog: pytest.LogCaptureFixture,
) -> None:
    log = AuditLog(LoggingSink("sigv4kit.audit.test"))
    with caplog.at_level(logging.INFO, logger="sigv4kit.audit.test"):
        log.emit(event(0))
        log.emit(event(1, allowed=False))
        await log.aclose()
    records = [r for r in caplog.records if r.name == "sigv4kit.audit.test"]
    assert [json.loads(r.getMessage()) for r in records] == [
        event(0).to_json(),
        event(1, allowed=False).to_json(),
    ]
    assert records[1].audit_event["errorCode"] == "AccessDenied"  # type: ignore[attr-defined]


def test_sigkill_loses_at_most_the_unflushed_tail(tmp_path: Path) -> None:
    """A real process killed mid-stream: everything it reported written survives, in order."""
    child = subprocess.Popen(
        [sys.executable, str(HERE / "_audit_crash_child.py"), str(tmp_path)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert child.stdout is not None
    acknowledged = 0
    reports = 0
    try:
        for line in child.stdout:
            acknowledged = int(line.split()[1])
            reports += 1
            if reports == 4:
                break
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
        child.stdout.close()
    assert child.returncode == -signal.SIGKILL
    assert acknowledged > 0
    segments = sorted(tmp_path.glob("*.jsonl"))
    assert len(segments) == 1
    assert not list(tmp_path.glob("*.digest.json"))
    ids = [json.loads(ln)["requestID"] for ln in segments[0].read_text().splitlines()]
    # A prefix of what was emitted, at least all that was acknowledged as written.
    assert ids == [f"req-{i}" for i in range(len(ids))]
    assert len(ids) >= acknowledged
    # The next process closes the orphan into a signed segment.
    JsonLinesSink(tmp_path, key=KEY)
    report = verify_directory(tmp_path, KEY.public_key)
    assert report.ok
    assert report.verified == 1
