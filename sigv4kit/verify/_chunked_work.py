"""How the aws-chunked decoder shares a large feed's hashing with a worker thread.

:class:`Offload` is the thread: it runs one job at a time for one owner (a
hand-off of depth one: the owner submits a job and waits for it before the
next, so jobs run in order and at most one is in flight). :class:`SharedFeed`
is the job for one feed of :mod:`sigv4kit.verify._chunked`: the trailing
checksum and the chunks' SHA-256, claimed by the two threads (``hashlib`` and
``zlib`` release the GIL on large buffers, so the two run on two cores).

The thread holds the two queues only, never its owner, so an owner that is
dropped can be garbage-collected; the owner registers :meth:`Offload.stop`
with :func:`weakref.finalize` for that case.
"""

from __future__ import annotations

import hashlib
import queue
import threading
from collections.abc import Callable

from ..signing._checksums import Checksum

# Machinery of the decoder, not API: nothing here is re-exported.
__all__: list[str] = []

_Job = Callable[[], None]


def _serve(
    jobs: queue.SimpleQueue[_Job | None], results: queue.SimpleQueue[BaseException | None]
) -> None:
    while (job := jobs.get()) is not None:
        try:
            job()
        except BaseException as exc:  # handed to the owner, which re-raises it
            results.put(exc)
        else:
            results.put(None)


class Offload:
    """One daemon thread, started on construction, running the jobs it is given."""

    __slots__ = ("_busy", "_jobs", "_results", "_thread")

    def __init__(self, name: str) -> None:
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._results: queue.SimpleQueue[BaseException | None] = queue.SimpleQueue()
        self._busy = False
        self._thread = threading.Thread(
            target=_serve, args=(self._jobs, self._results), name=name, daemon=True
        )
        self._thread.start()

    def submit(self, job: _Job) -> None:
        """Start ``job`` on the thread; :meth:`wait` for it before the next one."""
        if self._busy:
            raise RuntimeError("Offload.submit: the previous job was not waited for")
        self._busy = True
        self._jobs.put(job)

    def wait(self) -> None:
        """Wait for the job submitted last, if any; re-raise what it raised."""
        if not self._busy:
            return
        error = self._results.get()
        self._busy = False
        if error is not None:
            raise error

    def stop(self) -> None:
        """Let the job in flight finish, then end the thread and join it. Idempotent."""
        if not self._thread.is_alive():
            return
        self._jobs.put(None)
        if self._thread is not threading.current_thread():
            self._thread.join()


def update_checksums(checksums: list[Checksum], spans: list[memoryview]) -> None:
    """Run each checksum over the spans, in order."""
    for span in spans:
        for checksum in checksums:
            checksum.update(span)


def sha256_hex(parts: list[bytes | memoryview]) -> str:
    """The hex SHA-256 of the parts joined, without joining them."""
    digest = hashlib.sha256(parts[0])
    for part in parts[1:]:
        digest.update(part)
    return digest.hexdigest()


class SharedFeed:
    """The work of one feed, shared by two threads through claims.

    The checksum over all the feed's data is one claim: the worker takes it
    first, but the decoder's own thread takes it if it runs out of chunks
    before the worker began (a worker kept off the CPU by other load then
    costs next to nothing). The chunks are hashed from both ends: the
    decoder's thread from the front, the worker from the back, until the two
    meet.
    """

    __slots__ = ("_back", "_front", "_lock", "_summed", "checksums", "chunks", "digests", "spans")

    def __init__(
        self,
        checksums: list[Checksum],
        spans: list[memoryview],
        chunks: list[list[bytes | memoryview]],
    ) -> None:
        self.checksums = checksums
        self.spans = spans
        self.chunks = chunks
        self.digests = [""] * len(chunks)
        self._lock = threading.Lock()
        self._summed = False
        self._front = 0
        self._back = len(chunks)

    def take_front(self) -> bool:
        """Claim the next chunk from the front; False once the two ends met."""
        with self._lock:
            if self._front < self._back:
                self._front += 1
                return True
            return False

    def _take_back(self) -> int:
        with self._lock:
            if self._front < self._back:
                self._back -= 1
                return self._back
            return -1

    def checksum(self) -> None:
        """Run the checksum here, unless the other thread claimed it."""
        with self._lock:
            if self._summed:
                return
            self._summed = True
        update_checksums(self.checksums, self.spans)

    def stop(self) -> None:
        """Leave everything not yet claimed unclaimed for good (after an error)."""
        with self._lock:
            self._back = self._front
            self._summed = True

    def work(self) -> None:
        """The worker's share: the checksum, then chunks from the back."""
        self.checksum()
        while (index := self._take_back()) >= 0:
            self.digests[index] = sha256_hex(self.chunks[index])
