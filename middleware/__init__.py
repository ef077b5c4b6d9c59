"""sigv4kit.middleware: the server half (ASGI verification middleware, key stores).

Installed and imported as ``sigv4kit.middleware``. Modules here import each
other relatively and the protocol core as ``sigv4kit``; the core never
imports this package.
"""

from __future__ import annotations

from ._store import AccessKeyStore, StoreError, StoreUnavailableError, open_store

__all__ = ["AccessKeyStore", "StoreError", "StoreUnavailableError", "open_store"]
