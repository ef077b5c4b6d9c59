"""The access-key store protocol and :func:`open_store`.

A store answers one question on the request path, ``await
store.get_key(access_key_id)``, and records key use off the request path.
Backends: ``sqlite:///path`` (embedded default); ``postgresql://...`` for
services on many machines comes in its own module.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol, runtime_checkable

from sigv4kit import KeyRecord, SigV4Error

__all__ = ["AccessKeyStore", "StoreError", "StoreUnavailableError", "open_store"]


class StoreError(SigV4Error):
    """A store operation failed (bad URL, unknown principal, key limit, ...)."""


class StoreUnavailableError(StoreError):
    """The backing database cannot be reached; verification must fail closed."""


@runtime_checkable
class AccessKeyStore(Protocol):
    """What the verification middleware needs from a key store."""

    async def get_key(self, access_key_id: str) -> KeyRecord | None:
        """The key with this id (active or not), or None when it does not exist.

        Raises :class:`StoreUnavailableError` when the backend cannot answer.
        """
        ...

    def record_use(self, access_key_id: str, *, at: datetime, region: str, service: str) -> None:
        """Note that a key was used; must not block (writes are batched)."""
        ...

    async def aclose(self) -> None:
        """Flush pending writes and release connections."""
        ...


def open_store(url: str) -> AccessKeyStore:
    """Open a store from its URL (``sqlite:///path/to/keys.db``).

    Raises :class:`StoreError` for a URL whose scheme no backend handles.
    """
    raise StoreError(f"no access-key store backend handles {url!r}")
