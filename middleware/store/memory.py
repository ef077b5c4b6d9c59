"""An in-memory access-key store, for tests and for services that load keys at start."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sigv4kit import KeyRecord

from .cache import KeyUse

__all__ = ["MemoryKeyStore"]


class MemoryKeyStore:
    """A dict-backed :class:`~sigv4kit.middleware.AccessKeyStore`.

    ```python
    store = MemoryKeyStore()
    store.add(KeyRecord(access_key_id="AKIA...", secret_access_key="...", principal="alice"))
    app = SigV4Middleware(app, store=store)
    ```

    Nothing is persisted. ``last_used`` keeps the latest use of each key;
    ``service_last_used`` the latest use per ``(principal, service)``, which
    outlives :meth:`remove` (what the SQL stores keep in ``service_last_used``).
    """

    def __init__(self, records: Iterable[KeyRecord] = ()) -> None:
        self._keys: dict[str, KeyRecord] = {}
        self.last_used: dict[str, KeyUse] = {}
        self.service_last_used: dict[tuple[str, str], KeyUse] = {}
        for record in records:
            self.add(record)

    def __repr__(self) -> str:
        return f"MemoryKeyStore(keys={len(self._keys)})"

    def add(self, record: KeyRecord) -> None:
        """Add or replace a key."""
        if not isinstance(record, KeyRecord):
            raise TypeError(f"expected a KeyRecord, not {type(record).__name__}")
        self._keys[record.access_key_id] = record

    def remove(self, access_key_id: str) -> None:
        """Forget a key (no error when it is unknown)."""
        self._keys.pop(access_key_id, None)

    async def get_key(self, access_key_id: str) -> KeyRecord | None:
        """The key with this id (active or not), or None."""
        return self._keys.get(access_key_id)

    def record_use(self, access_key_id: str, *, at: datetime, region: str, service: str) -> None:
        """Remember the last use of a key, and of its principal with ``service``.

        Uses arrive in order on one event loop, so the key's last use is the
        latest note; the per-service record keeps the later of two times all
        the same, like the SQL stores' upsert.
        """
        use = KeyUse(at=at, region=region, service=service)
        self.last_used[access_key_id] = use
        record = self._keys.get(access_key_id)
        if record is None:
            return
        slot = (record.principal, service)
        seen = self.service_last_used.get(slot)
        if seen is None or seen.at < at:
            self.service_last_used[slot] = use

    async def aclose(self) -> None:
        """Nothing to release."""
