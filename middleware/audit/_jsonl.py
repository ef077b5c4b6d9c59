"""The JSON-lines file sink: segments, daily and size rotation, signed digests.

Layout of the audit directory (one writer process per directory)::

    audit-20261203-000001.jsonl        a closed segment: one record per line
    audit-20261203-000001.digest.json  its signed digest (see :mod:`._integrity`)
    audit-20261203-000002.jsonl        the open segment (no digest yet)

The sequence number (the last six digits) runs on across days. A segment is
closed, and its digest written, when the next event falls on another UTC
day (by ``eventTime``), when it reaches ``max_bytes``, and at
:meth:`JsonLinesSink.aclose`. Opening a directory closes any segment a
crashed process left open (a torn last line is cut off first), so every
segment but the current one always has a digest.

Each write appends whole lines and flushes them to the OS, so a killed
process loses only what was still queued; ``fsync=True`` also survives
power loss, at a cost per batch.

Imports: the standard library, :mod:`._event`, :mod:`._integrity`, :mod:`._lookup`.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from ._event import AuditEvent, _cached_time
from ._integrity import (
    GENESIS_HASH,
    AuditIntegrityError,
    SigningKey,
    digest_bytes,
    sign_digest,
)
from ._lookup import LookupKey, event_attributes, record_attributes

__all__ = [
    "DEFAULT_MAX_SEGMENT_BYTES",
    "FileSinkSettings",
    "JsonLinesSink",
]

DEFAULT_MAX_SEGMENT_BYTES = 64 * 1024 * 1024
DIGEST_VERSION = 1
#: Events serialized and written between two turns of the event loop.
WRITE_SLICE = 256
_SEGMENT_RE = re.compile(r"audit-(\d{8})-(\d{6,})\.jsonl")
# The per-segment index: every lookup attribute but the (unique) event id.
_INDEXED = tuple(key for key in LookupKey if key is not LookupKey.EVENT_ID)


@dataclass(frozen=True, slots=True, kw_only=True)
class FileSinkSettings:
    """Rotation and durability of the file sink."""

    max_bytes: int = DEFAULT_MAX_SEGMENT_BYTES
    daily: bool = True
    fsync: bool = False

    def __post_init__(self) -> None:
        if self.max_bytes < 1024:
            raise ValueError("max_bytes must be at least 1024")


def segment_sequence(name: str) -> int | None:
    """The sequence number in a segment file name, or None for another file."""
    match = _SEGMENT_RE.fullmatch(name)
    return int(match.group(2)) if match else None


def digest_name(segment: str) -> str:
    """``audit-D-N.jsonl`` -> ``audit-D-N.digest.json``."""
    return segment.removesuffix(".jsonl") + ".digest.json"


def read_digests(directory: Path) -> list[tuple[Path, bytes, dict[str, Any] | None]]:
    """Every digest file: ``(path, bytes, parsed JSON or None when unreadable)``."""
    found = []
    for path in sorted(directory.glob("audit-*.digest.json")):
        data = path.read_bytes()
        try:
            parsed = json.loads(data)
        except ValueError:
            parsed = None
        found.append((path, data, parsed if isinstance(parsed, dict) else None))
    return found


class _Segment:
    """The open segment: file handle, running hash and index."""

    def __init__(self, path: Path, sequence: int, handle: IO[bytes]) -> None:
        self.path = path
        self.sequence = sequence
        self.handle = handle
        self.hasher = hashlib.sha256()
        self.size = 0
        self.count = 0
        self.first: str | None = None
        self.last: str | None = None
        # By the key's value; a LookupKey (a StrEnum) finds its entry as it is.
        self.index: dict[str, set[str]] = {key.value: set() for key in _INDEXED}

    def add(self, when: str, attributes: dict[LookupKey, list[str]], line: bytes) -> None:
        self.hasher.update(line)
        self.size += len(line)
        self.count += 1
        if self.first is None or when < self.first:
            self.first = when
        if self.last is None or when > self.last:
            self.last = when
        index = self.index
        for key, values in attributes.items():
            if key is not LookupKey.EVENT_ID:
                index[key].update(values)


class JsonLinesSink:
    """Append events to segment files in ``directory``; sign each closed segment."""

    def __init__(
        self, directory: Path, *, key: SigningKey, settings: FileSinkSettings | None = None
    ) -> None:
        self.directory = directory
        self.settings = settings or FileSinkSettings()
        self._key = key
        self._segment: _Segment | None = None
        self._day: str | None = None
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._next_sequence, self._previous = self._last_digest()
        self._recover()

    def __repr__(self) -> str:
        return f"JsonLinesSink({str(self.directory)!r}, key={self._key!r})"

    # -- opening ------------------------------------------------------------------------

    def _last_digest(self) -> tuple[int, tuple[str, str | None]]:
        last: tuple[int, bytes, dict[str, Any]] | None = None
        for _path, data, parsed in read_digests(self.directory):
            sequence = parsed.get("sequence") if parsed else None
            if parsed and isinstance(sequence, int) and (last is None or sequence > last[0]):
                last = (sequence, data, parsed)
        if last is None:
            return 1, (GENESIS_HASH, None)
        return last[0] + 1, (hashlib.sha256(last[1]).hexdigest(), last[2].get("signature"))

    def _recover(self) -> None:
        """Close segments a killed process left open (oldest first)."""
        orphans = sorted(
            (seq, path)
            for path in self.directory.glob("audit-*.jsonl")
            if (seq := segment_sequence(path.name)) is not None and seq >= self._next_sequence
        )
        for seq, path in orphans:
            _cut_torn_line(path)
            segment = _Segment(path, seq, path.open("rb"))
            with segment.handle:
                for number, line in enumerate(segment.handle, 1):
                    try:
                        record = json.loads(line)
                        str(record["eventTime"])
                    except (ValueError, KeyError, TypeError):
                        raise AuditIntegrityError(
                            f"cannot close {path.name}: line {number} is not an audit record"
                        ) from None
                    segment.add(str(record["eventTime"]), record_attributes(record), line)
            if segment.count:
                self._write_digest(segment)
            else:
                path.unlink()
            self._next_sequence = seq + 1

    # -- writing ------------------------------------------------------------------------

    async def write(self, events: Sequence[AuditEvent]) -> None:
        """Append ``events``, in slices of :data:`WRITE_SLICE` with the event loop let run
        between them.

        On the loop's own thread, not a worker thread: the work is Python (the
        GIL), so a thread would not run it in parallel, and handing the GIL back
        and forth with the loop costs the service throughput
        (benchmarks/bench_audit.py).
        """
        for start in range(0, len(events), WRITE_SLICE):
            self.write_events(events[start : start + WRITE_SLICE])
            await asyncio.sleep(0)

    def write_events(self, events: Sequence[AuditEvent]) -> None:
        """Append events, rotating by day and size; flushed to the OS on return."""
        self._append(
            (_cached_time(e.event_time), event_attributes(e), e.to_line()) for e in events
        )

    def write_records(self, records: Sequence[dict[str, Any]]) -> None:
        """Append records (``AuditEvent.to_json()`` dicts), as :meth:`write_events`."""
        self._append(
            (
                str(record["eventTime"]),
                record_attributes(record),
                json.dumps(record, separators=(",", ":"), ensure_ascii=False),
            )
            for record in records
        )

    def _append(self, items: Iterable[tuple[str, dict[LookupKey, list[str]], str]]) -> None:
        pending: list[bytes] = []
        for when, attributes, text in items:
            day = when[:10].replace("-", "")
            # Only forward: an event that completed just before midnight but
            # arrives after a later one stays in the open segment.
            if self._segment and self.settings.daily and self._day and day > self._day:
                self._flush(pending)
                self._close_segment()
            if self._segment is None:
                self._open_segment(day)
            assert self._segment is not None
            line = (text + "\n").encode()
            self._segment.add(when, attributes, line)
            pending.append(line)
            if self._segment.size >= self.settings.max_bytes:
                self._flush(pending)
                self._close_segment()
        self._flush(pending)

    def _open_segment(self, day: str) -> None:
        name = f"audit-{day}-{self._next_sequence:06d}.jsonl"
        path = self.directory / name
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_EXCL, 0o600)
        self._segment = _Segment(path, self._next_sequence, os.fdopen(fd, "ab"))
        self._day = day
        self._next_sequence += 1

    def _flush(self, pending: list[bytes]) -> None:
        if not pending or self._segment is None:
            return
        handle = self._segment.handle
        handle.write(b"".join(pending))
        handle.flush()
        if self.settings.fsync:
            os.fsync(handle.fileno())
        pending.clear()

    def _close_segment(self) -> None:
        segment = self._segment
        if segment is None:
            return
        self._segment = None
        segment.handle.flush()
        os.fsync(segment.handle.fileno())
        segment.handle.close()
        self._write_digest(segment)

    def _write_digest(self, segment: _Segment) -> None:
        previous_hash, previous_signature = self._previous
        body = {
            "digestVersion": DIGEST_VERSION,
            "sequence": segment.sequence,
            "segment": segment.path.name,
            "segmentSHA256": segment.hasher.hexdigest(),
            "segmentBytes": segment.size,
            "eventCount": segment.count,
            "firstEventTime": segment.first,
            "lastEventTime": segment.last,
            "index": {key: sorted(values) for key, values in segment.index.items() if values},
            "previousDigestSHA256": previous_hash,
            "previousSignature": previous_signature,
        }
        digest = sign_digest(body, self._key)
        data = digest_bytes(digest)
        target = self.directory / digest_name(segment.path.name)
        temporary = target.with_suffix(".tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        temporary.replace(target)
        self._previous = (hashlib.sha256(data).hexdigest(), digest["signature"])

    def close_segment(self) -> None:
        """Close the open segment now (its digest is written)."""
        self._close_segment()

    async def aclose(self) -> None:
        """Close the open segment: after a clean shutdown every segment has a digest."""
        await asyncio.to_thread(self._close_segment)


def _cut_torn_line(path: Path) -> None:
    """Drop a last line without its newline (a write cut short by a crash)."""
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        with path.open("r+b") as handle:
            handle.truncate(data.rfind(b"\n") + 1)
