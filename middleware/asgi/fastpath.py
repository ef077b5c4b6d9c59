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

from sigv4kit import EMPTY_SHA256, Identity, KeyRecord, Verifier
from sigv4kit.verify._fast import FastVerifier

from ..store.errors import StoreUnavailableError
from ..store.protocols import AccessKeyStore

# Internal to SigV4Middleware: not public API.
__all__: list[str] = []


def _empty_body(scope: MutableMapping[str, Any]) -> bool:
    """True when HTTP/1 framing says the request has no body (RFC 9112 section 6.3)."""
    if scope.get("http_version") not in ("1.0", "1.1"):
        return False
    for name, value in scope.get("headers", ()):
        lname = name.lower()
        if lname == b"transfer-encoding" or (
            lname == b"content-length" and value.strip() != b"0"
        ):
            return False
    return True


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
    try:
        empty = _empty_body(scope)
    except (TypeError, ValueError, AttributeError):  # headers that are not byte pairs
        return None
    prepared = fast.prepare(
        method, raw_path, query_string, headers, now, EMPTY_SHA256 if empty else None
    )
    if prepared is None:
        return None
    try:
        key: KeyRecord | None = await store.get_key(prepared[0])
    except StoreUnavailableError:
        return None  # the verifier asks again and answers 503
    identity = fast.finish(prepared, key, now)
    return None if identity is None or key is None else (identity, key)
