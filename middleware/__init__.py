"""sigv4kit.middleware: the server half (ASGI verification middleware, key stores).

Installed and imported as ``sigv4kit.middleware``. Modules here import each
other relatively and the protocol core as ``sigv4kit``; the core never
imports this package.
"""

from __future__ import annotations

from ._asgi import (
    DEFAULT_MAX_BODY_SIZE,
    DEFAULT_MEMORY_BODY_LIMIT,
    DEFAULT_REPLAY_CACHE_SIZE,
    AnonymousUser,
    SigV4Credentials,
    SigV4Middleware,
    SigV4User,
)
from ._errors import ErrorFormat, new_request_id, render_error
from ._memory import KeyUse, MemoryKeyStore
from ._store import AccessKeyStore, StoreError, StoreUnavailableError, open_store

__all__ = [
    "DEFAULT_MAX_BODY_SIZE",
    "DEFAULT_MEMORY_BODY_LIMIT",
    "DEFAULT_REPLAY_CACHE_SIZE",
    "AccessKeyStore",
    "AnonymousUser",
    "ErrorFormat",
    "KeyUse",
    "MemoryKeyStore",
    "SigV4Credentials",
    "SigV4Middleware",
    "SigV4User",
    "StoreError",
    "StoreUnavailableError",
    "new_request_id",
    "open_store",
    "render_error",
]
