"""Writing events off the request path: a bounded queue and one background writer.

The request path calls :meth:`AuditLog.emit`, which never waits: it puts the
event in a bounded queue and returns an :class:`Offer`. When the queue is
full the configured :class:`Overflow` decides:

* ``SHED`` (default): the event is *not* taken and ``emit`` returns
  ``Offer.SHED``; the caller must refuse the request (503 ``SlowDown`` /
  ``ServiceUnavailable``), so nothing the service did goes unrecorded;
* ``DROP``: the event is dropped, counted in :attr:`AuditStats.dropped`, and
  the request goes on.

The writer wakes every ``flush_interval`` seconds (default 1 s), or sooner
when the queue is half full, and hands everything queued to the sink in one
batch; the sink has written it to the OS (file) or committed it (database)
when the call returns. **A crash (SIGKILL, power loss aside) therefore loses
at most the events of the last flush interval.** A sink failure keeps the
batch and retries it (with backoff): the queue then fills and the overflow
policy applies, so a broken sink sheds load instead of losing records.
:meth:`AuditLog.aclose` writes everything still queued.

Imports: the standard library, :mod:`._event`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from ._event import AuditEvent

__all__ = [
    "DEFAULT_FLUSH_INTERVAL",
    "DEFAULT_QUEUE_SIZE",
    "AuditLog",
    "AuditSettings",
    "AuditSink",
    "AuditStats",
    "Offer",
    "Overflow",
]

DEFAULT_FLUSH_INTERVAL = 1.0
DEFAULT_QUEUE_SIZE = 10_000
_MAX_RETRY_DELAY = 5.0

logger = logging.getLogger("sigv4kit.audit")


class Overflow(StrEnum):
    """What a full queue does with one more event."""

    SHED = "shed"  # refuse the request (503): nothing lost
    DROP = "drop"  # drop the event and count it


class Offer(StrEnum):
    """What :meth:`AuditLog.emit` did with an event."""

    ACCEPTED = "accepted"
    #: Not recorded: the caller answers 503 and the app never runs.
    SHED = "shed"
    #: Not recorded, counted; the request goes on (``Overflow.DROP``).
    DROPPED = "dropped"


class AuditSink(Protocol):
    """Where batches go. ``write`` returns once the batch is durable to the OS."""

    async def write(self, events: Sequence[AuditEvent]) -> None: ...

    async def aclose(self) -> None: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditSettings:
    """How events are queued and written."""

    queue_size: int = DEFAULT_QUEUE_SIZE
    flush_interval: float = DEFAULT_FLUSH_INTERVAL
    overflow: Overflow = Overflow.SHED

    def __post_init__(self) -> None:
        if self.queue_size < 1:
            raise ValueError("queue_size must be at least 1")
        if not 0 < self.flush_interval <= 3600:
            raise ValueError("flush_interval must be in (0, 3600] seconds")


@dataclass(slots=True)
class AuditStats:
    """Counters since start (read them; never reset)."""

    accepted: int = 0
    written: int = 0
    shed: int = 0
    dropped: int = 0
    write_errors: int = 0
    batches: int = 0


class AuditLog:
    """The queue and its writer task: ``emit`` on the request path, a sink behind.

    ```python
    log = AuditLog(JsonLinesSink(directory, signer=key))
    await log.start()
    if log.emit(event) is Offer.SHED:
        ...  # answer 503
    await log.aclose()  # writes everything queued
    ```
    """

    def __init__(self, sink: AuditSink, settings: AuditSettings | None = None) -> None:
        self.sink = sink
        self.settings = settings or AuditSettings()
        self.stats = AuditStats()
        self._queue: list[AuditEvent] = []
        self._reserved = 0  # places held by reserve() for events still to come
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._high_water = max(1, self.settings.queue_size // 2)
        self._writing = asyncio.Lock()  # one batch at a time, writer task or flush()

    async def start(self) -> None:
        """Start the writer task (in the running loop); the first ``emit`` also does."""
        if self._task is None:
            self._start_writer()

    def _start_writer(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop yet (a test emitting synchronously): flush() writes
        self._task = loop.create_task(self._run(), name="audit-writer")

    def emit(self, event: AuditEvent, *, reserved: bool = False) -> Offer:
        """Queue ``event`` without waiting; see :class:`Offer` for what the caller does.

        ``reserved=True`` places an event whose place :meth:`reserve` held: it
        is always accepted.
        """
        if reserved:
            self._reserved -= 1
        elif self._full():
            return self._overflow()
        if self._task is None:
            self._start_writer()
        self._queue.append(event)
        self.stats.accepted += 1
        if len(self._queue) >= self._high_water:
            self._wake.set()
        return Offer.ACCEPTED

    def reserve(self) -> Offer:
        """Hold a place for an event emitted after the work it records.

        For a call that must not run unrecorded (an IAM API call that changes
        something): ``ACCEPTED`` holds a place that ``emit(event,
        reserved=True)`` fills; ``SHED`` means answer 503 without running it;
        ``DROPPED`` (``Overflow.DROP``) means run it, the event is already
        counted as dropped and is not emitted.
        """
        if self._full():
            return self._overflow()
        self._reserved += 1
        return Offer.ACCEPTED

    def _full(self) -> bool:
        return self._closing or len(self._queue) + self._reserved >= self.settings.queue_size

    def _overflow(self) -> Offer:
        if self.settings.overflow is Overflow.DROP:
            self.stats.dropped += 1
            return Offer.DROPPED
        self.stats.shed += 1
        return Offer.SHED

    @property
    def pending(self) -> int:
        """Events queued and not yet written."""
        return len(self._queue)

    async def _run(self) -> None:
        delay = self.settings.flush_interval
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=delay)
            self._wake.clear()
            written = await self._write_pending()
            if self._closing:
                return  # aclose writes what is left (and raises if it cannot)
            delay = self.settings.flush_interval if written else min(_MAX_RETRY_DELAY, delay * 2)

    async def _write_pending(self) -> bool:
        try:
            await self.flush()
        except Exception:
            self.stats.write_errors += 1
            # The batch stays queued (nothing lost); the queue filling up
            # makes the overflow policy refuse new work.
            logger.exception("audit sink write failed; %d events kept for retry", self.pending)
            return False
        return True

    async def flush(self) -> None:
        """Write everything queued now (raises the sink's error if it fails)."""
        async with self._writing:
            batch = self._queue[:]
            if batch:
                await self.sink.write(batch)
                del self._queue[: len(batch)]
                self.stats.written += len(batch)
                self.stats.batches += 1

    async def aclose(self) -> None:
        """Refuse new events, write everything queued, stop the writer, close the sink."""
        self._closing = True
        if self._task is not None:
            # Let a write in progress finish (cancelling it could write a batch twice).
            self._wake.set()
            await self._task
            self._task = None
        try:
            await self.flush()
        finally:
            await self.sink.aclose()
