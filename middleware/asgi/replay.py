"""Replay protection: refuse a signature that was already accepted (optional, off by default).

A SigV4 signature stays valid for its whole window: ``max_skew`` around the
request time for a signed header, the ``X-Amz-Expires`` lifetime for a
presigned URL. Anyone who captures a request (a log, a proxy) can send it
again inside that window. With a :class:`ReplayGuard` configured, the
middleware records each accepted signature until its window closes and
refuses a second use with AccessDenied "Request replay detected".

Not to be confused with the middleware's ``verified_request_cache_size``
(:mod:`.verified`): that is a *speed-up* that skips recomputing the
signature of a byte-identical request already verified; it accepts
replays. This module refuses them.

Backends:

* :class:`MemoryReplayGuard` for a single process;
* :class:`RedisReplayGuard` for many processes or machines: one
  ``SET sigv4kit:replay:<signature> 1 NX EX <ttl>`` per request, so the first
  writer wins atomically and the entry expires with the window. A worker
  forked after the guard was used (gunicorn ``--preload``) gets Redis
  connections of its own.

A guard that cannot answer raises :class:`ReplayGuardUnavailableError`; the
middleware then answers 503 (fail closed: an unchecked request could be a
replay).

What the guard promises: a byte-identical signed request (the same
signature) is accepted once. ``X-Amz-Date`` has one-second resolution, so a
client that sends the same call twice within a second, or retries within the
second of the failed attempt, produces the same signature and is refused
unless something else it signs differs. To be compatible, a client signs
something unique per attempt: sigv4kit's :class:`~sigv4kit.SigV4Auth` and
the AWS SDKs sign a per-operation ``amz-sdk-invocation-id`` (UUID4) and
``amz-sdk-request: attempt=N; max=M`` on every attempt. A presigned URL is
usable once.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable
from urllib.parse import parse_qsl

from sigv4kit import Identity
from sigv4kit.verify import AccessDenied

from .._fork import at_fork
from ..store.errors import StoreError

if TYPE_CHECKING:
    from .types import Scope

__all__ = [
    "REPLAY_DETECTED_MESSAGE",
    "MemoryReplayGuard",
    "RedisReplayGuard",
    "ReplayDetected",
    "ReplayGuard",
    "ReplayGuardUnavailableError",
    "replay_ttl",
    "request_signature",
]

REPLAY_DETECTED_MESSAGE = "Request replay detected"


class ReplayDetected(AccessDenied):
    """403 AccessDenied: this signature was already accepted inside its validity window."""

    default_message = REPLAY_DETECTED_MESSAGE


class ReplayGuardUnavailableError(StoreError):
    """The replay guard's backend (Redis) cannot answer; the request is refused (503)."""


@runtime_checkable
class ReplayGuard(Protocol):
    """Remembers accepted signatures until their validity window closes."""

    async def first_use(self, signature: str, ttl_seconds: int) -> bool:
        """True the first time ``signature`` is seen within ``ttl_seconds``, False after.

        Raises :class:`ReplayGuardUnavailableError` when the backend cannot answer.
        """
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...


def request_signature(scope: Scope) -> str | None:
    """The signature of a (verified) request: from ``Authorization`` or ``X-Amz-Signature``."""
    headers: list[tuple[bytes, bytes]] = list(scope.get("headers", ()))
    for name, value in headers:
        if name.lower() == b"authorization":
            text = value.decode("latin-1")
            for part in text.replace(",", " ").split():
                if part.startswith("Signature="):
                    return part[len("Signature=") :]
    query: str = bytes(scope.get("query_string", b"")).decode("latin-1")
    for key, text_value in parse_qsl(query, keep_blank_values=True):
        if key == "X-Amz-Signature":
            return text_value
    return None


def _presign_expires(scope: Scope) -> int | None:
    query = scope.get("query_string", b"").decode("latin-1")
    for name, value in parse_qsl(query, keep_blank_values=True):
        if name == "X-Amz-Expires" and value.isdigit():
            return int(value)
    return None


def replay_ttl(identity: Identity, scope: Scope, *, max_skew: timedelta, now: datetime) -> int:
    """Seconds until the signature stops being accepted (at least 1).

    Header auth: until ``request_time + max_skew``. Presigned URLs: until
    ``request_time + X-Amz-Expires`` (or the skew bound, whichever is later,
    since a URL dated slightly in the future is accepted too).
    """
    end = identity.request_time + max_skew
    if identity.presigned:
        expires = _presign_expires(scope)
        if expires is not None:
            end = max(end, identity.request_time + timedelta(seconds=expires))
    return max(1, math.ceil((end - now).total_seconds()) + 1)


class MemoryReplayGuard:
    """One process's accepted signatures, bounded (oldest forgotten first).

    With several processes, use :class:`RedisReplayGuard`: a replay sent to
    another worker would not be caught here.
    """

    def __init__(
        self, *, max_entries: int = 1_000_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._max = max_entries
        self._clock = clock
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    async def first_use(self, signature: str, ttl_seconds: int) -> bool:
        """True the first time ``signature`` is seen while unexpired."""
        now = self._clock()
        with self._lock:
            seen = self._seen
            # Entries are appended in time order with similar TTLs; drop
            # expired ones from the front.
            while seen:
                oldest_sig, deadline = next(iter(seen.items()))
                if deadline > now:
                    break
                del seen[oldest_sig]
            previous = seen.get(signature)
            if previous is not None and previous > now:
                return False
            seen[signature] = now + ttl_seconds
            while len(seen) > self._max:
                seen.popitem(last=False)
            return True

    async def aclose(self) -> None:
        """Nothing to release."""

    def __len__(self) -> int:
        return len(self._seen)


class RedisReplayGuard:
    """Accepted signatures in Redis, shared by every worker and machine.

    ```python
    guard = RedisReplayGuard("redis://127.0.0.1:6379/0")
    app = SigV4Middleware(app, store=..., replay_guard=guard)
    ```

    ``prefix`` namespaces the keys (several services on one Redis);
    ``timeout`` bounds each round trip. Raises
    :class:`ReplayGuardUnavailableError` from :meth:`first_use` when Redis
    cannot answer.
    """

    def __init__(self, url: str, *, prefix: str = "sigv4kit:replay:", timeout: float = 1.0) -> None:
        self.prefix = prefix
        self._url = url
        self._timeout = timeout
        self._client: Any = self._new_client()
        # Clients a forked child inherited: kept, never closed nor collected
        # (collecting closes their connections, which over TLS ends the parent's).
        self._parents_clients: list[Any] = []
        at_fork(self, after_in_child=RedisReplayGuard._after_fork)

    def _new_client(self) -> Any:
        try:
            import redis.asyncio as aioredis
        except ImportError:  # pragma: no cover - the extra is installed in dev
            raise StoreError(
                "RedisReplayGuard needs redis: pip install 'sigv4kit[redis]'"
            ) from None
        return aioredis.Redis.from_url(
            self._url, socket_timeout=self._timeout, socket_connect_timeout=self._timeout
        )

    def _after_fork(self) -> None:
        # redis.asyncio's pool, unlike the synchronous one, does not check the
        # pid: a forked child would send on the parent's connections (each
        # process reading the other's replies, or failing on the parent's
        # event loop). The child gets a client of its own.
        self._parents_clients.append(self._client)
        self._client = self._new_client()

    def __repr__(self) -> str:
        return f"RedisReplayGuard(prefix={self.prefix!r})"

    async def first_use(self, signature: str, ttl_seconds: int) -> bool:
        """``SET prefix+signature 1 NX EX ttl``: True when this call set it."""
        from redis.exceptions import RedisError

        try:
            created = await self._client.set(self.prefix + signature, b"1", nx=True, ex=ttl_seconds)
        except (RedisError, OSError) as exc:
            raise ReplayGuardUnavailableError(
                f"the replay guard cannot reach Redis: {type(exc).__name__}"
            ) from None
        return bool(created)

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()
