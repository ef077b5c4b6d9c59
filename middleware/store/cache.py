"""The request-path helpers every store backend shares.

* :class:`KeyCache`: an in-process cache of key lookups, with a TTL for
  known keys, a shorter one for unknown ids (negative caching), each tier
  bounded in size (LRU), and an *epoch* so a lookup that raced with an
  invalidation is not cached.
* :class:`ServiceUseBatch`: last-used notes collected in memory (the latest
  per key and service, bounded in count) for a background writer to take in
  batches; :class:`UseBatch` keeps the latest per key only.

Both are thread-safe: lookups run on the event loop, invalidations and
flushes in worker threads.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from sigv4kit import KeyRecord

S = TypeVar("S", str, tuple[str, str])

__all__ = ["KeyCache", "KeyUse", "ServiceUseBatch", "UseBatch"]


class _LRU:
    """A bounded LRU of ``id -> (deadline, record)``; callers hold the lock."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: OrderedDict[str, tuple[float, KeyRecord | None]] = OrderedDict()

    def get(self, key: str, now: float) -> tuple[bool, KeyRecord | None]:
        entry = self._entries.get(key)
        if entry is None:
            return False, None
        if entry[0] <= now:
            del self._entries[key]
            return False, None
        self._entries.move_to_end(key)
        return True, entry[1]

    def put(self, key: str, deadline: float, record: KeyRecord | None) -> None:
        if self._size <= 0:
            return
        self._entries[key] = (deadline, record)
        self._entries.move_to_end(key)
        while len(self._entries) > self._size:
            self._entries.popitem(last=False)

    def discard(self, key: str) -> None:
        self._entries.pop(key, None)

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


class KeyCache:
    """Cached answers of ``get_key``: records for ``ttl`` s, unknown ids for ``negative_ttl`` s.

    The two tiers are bounded separately, so a flood of made-up ids cannot
    evict the keys in use. Usage::

        hit, record, epoch = cache.lookup(kid, now)
        if not hit:
            record = load(kid)
            cache.remember(kid, record, epoch, now)
    """

    def __init__(self, *, ttl: float, negative_ttl: float, size: int, negative_size: int) -> None:
        self._ttl = ttl
        self._negative_ttl = negative_ttl
        self._positive = _LRU(size)
        self._negative = _LRU(negative_size)
        self._epoch = 0
        self._lock = threading.Lock()

    def after_fork(self) -> None:
        """In a forked child: a new lock (another thread of the parent may have held the old
        one at the fork, and no thread here will release it). The entries stay."""
        self._lock = threading.Lock()

    def lookup(self, access_key_id: str, now: float) -> tuple[bool, KeyRecord | None, int]:
        """``(hit, record, epoch)``; pass ``epoch`` to :meth:`remember` after a miss."""
        with self._lock:
            hit, record = self._positive.get(access_key_id, now)
            if not hit:
                hit, record = self._negative.get(access_key_id, now)
            return hit, record, self._epoch

    def remember(
        self, access_key_id: str, record: KeyRecord | None, epoch: int, now: float
    ) -> None:
        """Cache a loaded answer, unless an invalidation happened since ``epoch``."""
        with self._lock:
            if epoch != self._epoch:
                return
            if record is None:
                self._negative.put(access_key_id, now + self._negative_ttl, None)
            else:
                self._positive.put(access_key_id, now + self._ttl, record)

    def evict(self, access_key_ids: list[str] | tuple[str, ...]) -> None:
        """Forget these ids (known or unknown)."""
        with self._lock:
            self._epoch += 1
            for access_key_id in access_key_ids:
                self._positive.discard(access_key_id)
                self._negative.discard(access_key_id)

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._epoch += 1
            self._positive.clear()
            self._negative.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._positive) + len(self._negative)


@dataclass(frozen=True, slots=True)
class KeyUse:
    """One last-used note."""

    at: datetime
    region: str
    service: str


class _Batch(Generic[S]):
    """Notes waiting to be written, the latest per slot (``slot(key id, use)``, see the
    subclasses).

    At most ``limit`` slots are held; notes for further slots are counted as
    dropped (reported by :meth:`take`) rather than growing memory without
    bound when the database is unreachable for long.
    """

    def __init__(self, slot: Callable[[str, KeyUse], S], limit: int) -> None:
        self._slot: Callable[[str, KeyUse], S] = slot
        self._limit = limit
        self._notes: dict[S, KeyUse] = {}
        self._dropped = 0
        self._lock = threading.Lock()

    def after_fork(self) -> None:
        """In a forked child: nothing pending (the parent writes its notes) and a new lock
        (another thread of the parent may have held the old one at the fork)."""
        self._lock = threading.Lock()
        self._notes = {}
        self._dropped = 0

    def add(self, access_key_id: str, use: KeyUse) -> None:
        """Keep ``use`` if it is the latest for its slot. Never blocks on I/O."""
        self._keep(self._slot(access_key_id, use), use)

    def _keep(self, slot: S, use: KeyUse) -> None:
        with self._lock:
            previous = self._notes.get(slot)
            if previous is None:
                if len(self._notes) >= self._limit:
                    self._dropped += 1
                    return
                self._notes[slot] = use
            elif previous.at < use.at:
                self._notes[slot] = use

    def take(self) -> tuple[dict[S, KeyUse], int]:
        """Everything pending, and how many notes were dropped since the last take."""
        with self._lock:
            notes, self._notes = self._notes, {}
            dropped, self._dropped = self._dropped, 0
        return notes, dropped

    def put_back(self, notes: dict[S, KeyUse]) -> None:
        """Return a batch that could not be written, keeping newer notes."""
        for slot, use in notes.items():
            self._keep(slot, use)

    def __len__(self) -> int:
        with self._lock:
            return len(self._notes)


class UseBatch(_Batch[str]):
    """The latest use of each key, waiting to be written (slots: access key ids)."""

    def __init__(self, limit: int = 100_000) -> None:
        super().__init__(lambda access_key_id, _use: access_key_id, limit)


class ServiceUseBatch(_Batch[tuple[str, str]]):
    """The latest use of each key with each service (slots: ``(key id, service)``).

    What the SQL stores collect: a key used with two services between
    flushes leaves two notes, so the per-service record
    (``service_last_used``) sees both; the key's own last use is the latest
    of its notes (:meth:`latest_per_key`).
    """

    def __init__(self, limit: int = 100_000) -> None:
        super().__init__(lambda access_key_id, use: (access_key_id, use.service), limit)

    @staticmethod
    def latest_per_key(notes: dict[tuple[str, str], KeyUse]) -> dict[str, KeyUse]:
        """The latest note of each key in a taken batch (the key's own last use)."""
        latest: dict[str, KeyUse] = {}
        for (access_key_id, _service), use in notes.items():
            seen = latest.get(access_key_id)
            if seen is None or seen.at < use.at:
                latest[access_key_id] = use
        return latest
