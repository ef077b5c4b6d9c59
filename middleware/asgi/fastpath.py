"""The middleware's verification fast path (see :mod:`sigv4kit.verify._fast`).

For an HTTP request of the common shape, verify straight from the ASGI
scope's bytes; anything else, and every failure, returns None, and the
middleware runs the general :class:`~sigv4kit.Verifier`, which gives the
answer (and the error, with its diagnostics). The fast path covers requests
whose body needs no reading: HTTP/1 framing says there is none, or the
signature does not cover it (``UNSIGNED-PAYLOAD``).
"""

from __future__ import annotations

from collections.abc import MutableMapping
from datetime import datetime
from typing import Any

from sigv4kit import Identity, KeyRecord, Verifier
from sigv4kit.verify._fast import FastVerifier

from ..store.errors import StoreUnavailableError
from ..store.protocols import AccessKeyStore

# Internal to SigV4Middleware: not public API.
__all__: list[str] = []

# Versions whose framing tells an empty body by its headers (RFC 9112 section 6.3).
_HTTP1 = ("1.0", "1.1")


async def verify_fast(
    fast: FastVerifier,
    verifier: Verifier,
    store: AccessKeyStore,
    scope: MutableMapping[str, Any],
    now: datetime,
) -> tuple[Identity, KeyRecord] | None:
    """The identity and key of a request of the common shape, or None (ask ``verifier``)."""
    raw_path = scope.get("raw_path")
    method = scope.get("method")
    query_string = scope.get("query_string", b"")
    headers = scope.get("headers", ())
    # A scope off the ASGI spec (str where bytes belong) is the verifier's to answer;
    # the fast path's compiled build would raise TypeError on it.
    if (
        not raw_path
        or type(raw_path) is not bytes
        or type(query_string) is not bytes
        or type(method) is not str
        or fast.verifier is not verifier
    ):
        return None
    prepared = fast.prepare(
        method, raw_path, query_string, headers, now, None,
        http1_framing=scope.get("http_version") in _HTTP1,
    )
    if prepared is None:
        return None
    try:
        key: KeyRecord | None = await store.get_key(prepared[0])
    except StoreUnavailableError:
        return None  # the verifier asks again and answers 503
    identity = fast.finish(prepared, key, now)
    return None if identity is None or key is None else (identity, key)
