"""The verified-request cache: a speed-up for byte-identical requests (it *accepts* them).

A SigV4 signature is a pure function of the request bytes and the secret.
When the exact same bytes arrive again (a client polling within the
second ``X-Amz-Date`` allows), the middleware skips recomputing the HMAC and
re-checks everything else: time, key status and secret, token, body.
Only successful verifications go in, so a forged request can never hit.

Not replay *protection*: that is :mod:`.replay`, which refuses a signature
already accepted. The two are independent options of the middleware
(``verified_request_cache_size`` and ``replay_guard``).

Imports: the core (``sigv4kit``), :mod:`.identity`, :mod:`.types`.
"""

from __future__ import annotations

from typing import Any

from sigv4kit.verify import ParsedAuth

from .identity import CallerIdentity
from .types import Scope

__all__ = ["Verified", "VerifiedCache", "request_key"]

RequestKey = tuple[Any, ...]


class Verified:
    """A verification that succeeded, for an exact replay of the same request bytes."""

    __slots__ = ("body_sha256", "caller", "parsed", "secret")

    def __init__(
        self, parsed: ParsedAuth, caller: CallerIdentity, secret: str, body_sha256: str | None
    ) -> None:
        self.parsed = parsed
        self.caller = caller
        self.secret = secret
        self.body_sha256 = body_sha256

    def __repr__(self) -> str:
        return f"Verified(access_key_id={self.caller.access_key_id!r})"


def request_key(scope: Scope, trusted: bool) -> RequestKey:
    """What makes two requests byte-identical for verification (``trusted``: behind a proxy)."""
    return (
        scope.get("method"),
        scope.get("raw_path"),
        scope.get("path"),
        scope.get("query_string"),
        tuple(scope.get("headers", ())),
        trusted,
    )


class VerifiedCache:
    """At most ``size`` verifications, oldest evicted first; ``size`` 0 remembers nothing."""

    __slots__ = ("_entries", "size")

    def __init__(self, size: int) -> None:
        if size < 0:
            raise ValueError("verified_request_cache_size must be non-negative")
        self.size = size
        self._entries: dict[RequestKey, Verified] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: RequestKey) -> Verified | None:
        return self._entries.get(key)

    def remember(self, key: RequestKey, verified: Verified) -> None:
        entries = self._entries
        if not self.size:
            return
        if len(entries) >= self.size:
            # Oldest first (dicts keep insertion order): bounded memory.
            del entries[next(iter(entries))]
        entries[key] = verified
