"""A worker thread that runs one job at a time for one owner: a hand-off of depth one.

The aws-chunked decoder (:mod:`sigv4kit.verify._chunked`) gives it the trailing
checksum of a large feed while its own thread hashes the chunks: ``hashlib``
and ``zlib`` release the GIL on large buffers, so the two run on two cores.
The owner submits a job and waits for it before submitting the next, so jobs
run in order and at most one is in flight.

The thread holds the two queues only, never its owner, so an owner that is
dropped can be garbage-collected; the owner registers :meth:`Offload.stop`
with :func:`weakref.finalize` for that case.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable

__all__ = ["Offload"]

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
