"""A per-process cache of authorization snapshots, current within ``max_age`` seconds.

How it stays current (every IAM write bumps ``iam_generation`` in its own
transaction):

* at most once per ``max_age`` seconds (default 1 s) a lookup reads the
  generation (one single-row query); when it moved, the whole cache is
  dropped. A change made by any process (another uvicorn worker, another
  machine on PostgreSQL, the CLI) is therefore seen by every request that
  starts ``max_age`` seconds after the change committed;
* a change made in this process through any :class:`IAMStore` on the same
  key store object is seen at once (``local_generation`` is ahead of the
  cache's).

Snapshots are loaded with :meth:`IAMStore.load_authorization` (two
queries) and kept only if read at the generation the cache trusts.

Single flight: requests that find the generation due for a check while one
is running wait for that one (under load, every request arriving during the
query would otherwise start its own: a herd that grew with the query's
latency); requests that miss the same key at once share one load.

Imports: the standard library, :mod:`._model`.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING

from ._model import AuthorizationSnapshot

if TYPE_CHECKING:
    from ._store import IAMStore

__all__ = ["SnapshotCache"]


class SnapshotCache:
    """``await cache.get(access_key_id)``: the key's snapshot, from memory when current.

    ```python
    cache = SnapshotCache(iam)                 # max_age=1.0, size=10_000
    snapshot = await cache.get(access_key_id)  # None: no such key
    ```

    One per process (or per event loop); not thread-safe.
    """

    def __init__(
        self,
        iam: IAMStore,
        *,
        max_age: float = 1.0,
        size: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_age < 0 or size < 1:
            raise ValueError("max_age must be >= 0 and size >= 1")
        self._iam = iam
        self._max_age = max_age
        self._size = size
        self._clock = clock
        self._entries: OrderedDict[str, AuthorizationSnapshot] = OrderedDict()
        self._generation = -1
        self._checked = float("-inf")
        self._checking: asyncio.Future[None] | None = None
        self._loading: dict[str, asyncio.Future[AuthorizationSnapshot | None]] = {}

    @property
    def generation(self) -> int:
        """The IAM generation the cached snapshots were read at (-1 before the first check)."""
        return self._generation

    def _due(self) -> bool:
        stale = self._clock() - self._checked >= self._max_age
        return stale or self._iam.local_generation > self._generation

    async def _check(self) -> None:
        # At most two rounds: a check that started before this request's own
        # local write may have read the older generation.
        for _round in range(2):
            if not self._due():
                return
            checking = self._checking
            if checking is None:
                checking = self._checking = asyncio.ensure_future(self._refresh())
            # shield: a cancelled request must not cancel the check others wait for.
            await asyncio.shield(checking)

    async def _refresh(self) -> None:
        started = self._clock()
        try:
            generation = await self._iam.current_generation()
        finally:
            self._checking = None
        self._checked = started
        if generation != self._generation:
            self._entries.clear()
            self._loading.clear()
            self._generation = generation

    async def get(self, access_key_id: str) -> AuthorizationSnapshot | None:
        """The snapshot of the principal behind ``access_key_id``, or None for no such key."""
        if self._due():
            await self._check()
        cached = self._entries.get(access_key_id)
        if cached is not None:
            self._entries.move_to_end(access_key_id)
            return cached
        loading = self._loading.get(access_key_id)
        if loading is None:
            loading = asyncio.ensure_future(self._load(access_key_id))
            self._loading[access_key_id] = loading
        return await asyncio.shield(loading)

    async def _load(self, access_key_id: str) -> AuthorizationSnapshot | None:
        try:
            snapshot = await self._iam.load_authorization(access_key_id)
        finally:
            if self._loading.get(access_key_id) is asyncio.current_task():
                del self._loading[access_key_id]
        if snapshot is not None and snapshot.generation == self._generation:
            self._entries[access_key_id] = snapshot
            if len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return snapshot

    def clear(self) -> None:
        """Forget every snapshot (the next lookup re-reads the generation)."""
        self._entries.clear()
        self._loading.clear()
        self._checked = float("-inf")
