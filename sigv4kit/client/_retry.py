"""Retries: :class:`RetryTransport`, the AWS "standard" (and "adaptive") retry mode.

httpx hands only responses to an auth flow; connection errors propagate
through it. Retrying therefore lives in a transport wrapper, *below* the
auth — and so every attempt must be signed again there: the auth leaves a
:class:`~sigv4kit.Resigner` in ``request.extensions`` and the transport calls
it before each retry (new ``X-Amz-Date``, new signature, current credentials).
Each attempt signs ``amz-sdk-request: attempt=N; max=M`` with this
transport's ``max_attempts`` and the operation's ``amz-sdk-invocation-id``,
so a retry within the same second as the failed attempt still has its own
signature (a server's replay guard accepts it).

```python
client = httpx.Client(auth=SigV4Auth(creds, region="us-east-1", service="sqs"),
                      transport=RetryTransport())
```

The numbers are botocore's standard mode (``botocore/retries/standard.py``,
``quota.py``; SIGNERS.md §d): 3 attempts, full-jitter exponential backoff
``random() * min(base * 2**(attempt-1), 20 s)``, a retry quota of 500 tokens
per transport (a retry costs 5, after a timeout 10; a success refunds what
its retry took, or 1). Retried: connection errors and timeouts, HTTP 500,
502, 503, 504, throttling codes and transient codes. Never retried:
authentication failures and expired tokens. ``Retry-After`` (seconds or an
HTTP date) and ``x-amz-retry-after`` (milliseconds) are honoured up to
:attr:`RetryPolicy.max_retry_after`.

Adaptive mode adds botocore's client-side rate limiter
(``retries/adaptive.py``): after the first throttling response, sends are
paced by a token bucket whose rate follows CUBIC (back off to 0.7 x on a
throttle, grow back along a cubic curve on success).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

import httpx

from .._exceptions import SigV4Error
from ._errors import THROTTLING_CODES
from ._httpx import DEFAULT_MAX_ATTEMPTS
from ._skew import parse_http_date

__all__ = [
    "RETRY_ATTEMPTS_EXTENSION",
    "AdaptiveRateLimiter",
    "BodyNotReplayableError",
    "RetryMode",
    "RetryPolicy",
    "RetryQuota",
    "backoff_delay",
    "server_retry_delay",
]

_log = logging.getLogger("sigv4kit.retry")

#: ``response.extensions`` key: how many retries the response took.
RETRY_ATTEMPTS_EXTENSION = "sigv4kit.retry_attempts"

#: botocore ``TransientRetryableChecker._TRANSIENT_ERROR_CODES``.
TRANSIENT_CODES: frozenset[str] = frozenset(
    {"RequestTimeout", "RequestTimeoutException", "PriorRequestNotComplete"}
)


class RetryMode(Enum):
    """Which AWS retry mode."""

    STANDARD = "standard"
    #: Standard plus client-side rate limiting after throttling.
    ADAPTIVE = "adaptive"


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    """Retry settings; the defaults are botocore's standard mode.

    ``max_attempts`` counts every attempt (3 = one try and two retries).
    HTTP 429 counts as throttling even without an error code (as in the
    JS SDK's ``isThrottlingError``; botocore standard mode ignores a bare 429).
    """

    mode: RetryMode = RetryMode.STANDARD
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    #: Full-jitter backoff: ``random() * min(base_delay * 2**(retry-1), max_backoff)``.
    base_delay: float = 1.0
    max_backoff: float = 20.0
    #: A server's ``Retry-After`` / ``x-amz-retry-after`` is waited out up to this.
    max_retry_after: float = 20.0
    quota_capacity: int = 500
    retry_cost: int = 5
    timeout_retry_cost: int = 10
    no_retry_increment: int = 1
    retryable_statuses: frozenset[int] = frozenset({500, 502, 503, 504})
    throttling_statuses: frozenset[int] = frozenset({429})
    throttling_codes: frozenset[str] = THROTTLING_CODES
    transient_codes: frozenset[str] = TRANSIENT_CODES

    def __post_init__(self) -> None:
        if isinstance(self.max_attempts, bool) or not isinstance(self.max_attempts, int):
            raise ValueError("max_attempts must be an int")
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        for name in ("base_delay", "max_backoff", "max_retry_after"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")
        if self.quota_capacity < 0 or self.retry_cost < 0 or self.timeout_retry_cost < 0:
            raise ValueError("quota capacity and costs must not be negative")


class BodyNotReplayableError(SigV4Error):
    """A retry was due but the request body was a one-shot stream.

    ``response`` is the (read) response that called for the retry, or None
    when a connection error did (then it is the ``__cause__``). Send the body
    as bytes to make the request retryable.
    """

    def __init__(self, message: str, *, response: httpx.Response | None = None) -> None:
        super().__init__(message)
        self.response = response


class RetryQuota:
    """The retry token bucket shared by every request of a transport.

    Thread-safe; its critical sections never await, so asyncio tasks share it
    safely too.
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._available = capacity
        self._lock = threading.Lock()

    @property
    def available(self) -> int:
        return self._available

    def acquire(self, amount: int) -> bool:
        """Take ``amount`` tokens for a retry; False when the quota cannot pay."""
        with self._lock:
            if amount > self._available:
                return False
            self._available -= amount
            return True

    def release(self, amount: int) -> None:
        """Give tokens back (after a success), never above capacity."""
        with self._lock:
            self._available = min(self.capacity, self._available + amount)


def backoff_delay(retry: int, *, policy: RetryPolicy, random_value: float) -> float:
    """Full-jitter exponential backoff before retry number ``retry`` (1-based)."""
    ceiling = min(policy.base_delay * (2.0 ** (retry - 1)), policy.max_backoff)
    return float(random_value * ceiling)


def server_retry_delay(headers: httpx.Headers, *, now: datetime) -> float | None:
    """Seconds the server asked us to wait, or None.

    ``x-amz-retry-after`` is integer milliseconds (botocore 2026); the HTTP
    ``Retry-After`` is seconds or an HTTP date (RFC 9110 §10.2.3).
    """
    amz = headers.get("x-amz-retry-after")
    if amz is not None and amz.strip().isdigit():
        return int(amz.strip()) / 1000.0
    value = headers.get("retry-after")
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(int(value))
    when = parse_http_date(value)
    if when is None:
        return None
    return max(0.0, (when - now).total_seconds())


class _TokenBucket:
    """Paces sends at ``rate`` per second; ``reserve`` returns the wait."""

    MIN_RATE = 0.5

    def __init__(self, now: float) -> None:
        self.rate = self.MIN_RATE
        self._capacity = 1.0
        self._tokens = 1.0
        self._last = now

    def _refill(self, now: float) -> None:
        elapsed = max(0.0, now - self._last)
        self._tokens = min(self._capacity, self._tokens + elapsed * self.rate)
        self._last = now

    def set_rate(self, rate: float, now: float) -> None:
        self._refill(now)
        self.rate = max(rate, self.MIN_RATE)
        self._capacity = max(self.rate, 1.0)
        self._tokens = min(self._tokens, self._capacity)

    def reserve(self, now: float) -> float:
        self._refill(now)
        self._tokens -= 1.0
        return 0.0 if self._tokens >= 0 else -self._tokens / self.rate


class AdaptiveRateLimiter:
    """botocore's adaptive client-side rate limiter (CUBIC, SIGNERS.md §d).

    Inactive until the first throttling response; then every send first
    waits for a token, the rate dropping to ``beta`` x on each throttle and
    growing back as ``scale * (t - K)**3 + w_max`` on success, never above
    twice the measured send rate.
    """

    _SCALE = 0.4
    _BETA = 0.7
    _SMOOTH = 0.8
    _BUCKET_SECONDS = 0.5
    _MAX_RATE_ADJUST = 2.0

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        now = clock()
        self.enabled = False
        self._bucket = _TokenBucket(now)
        self._w_max = 0.0
        self._k = 0.0
        self._last_throttle = now
        self._measured = 0.0
        self._count = 0
        self._last_tick = math.floor(now / self._BUCKET_SECONDS) * self._BUCKET_SECONDS

    @property
    def rate(self) -> float | None:
        """The paced send rate (per second), None while inactive."""
        return self._bucket.rate if self.enabled else None

    def before_send(self) -> float:
        """Seconds to wait before sending (0 while inactive)."""
        with self._lock:
            if not self.enabled:
                return 0.0
            return self._bucket.reserve(self._clock())

    def _measure(self, now: float) -> float:
        self._count += 1
        tick = math.floor(now / self._BUCKET_SECONDS) * self._BUCKET_SECONDS
        if tick > self._last_tick:
            current = self._count / (tick - self._last_tick)
            self._measured = current * self._SMOOTH + self._measured * (1 - self._SMOOTH)
            self._count = 0
            self._last_tick = tick
        return self._measured

    def after_response(self, *, throttled: bool) -> None:
        """Feed a response back: adjusts the rate."""
        with self._lock:
            now = self._clock()
            measured = self._measure(now)
            if throttled:
                base = measured if not self.enabled else min(measured, self._bucket.rate)
                self._w_max = base
                self._k = ((self._w_max * (1 - self._BETA)) / self._SCALE) ** (1 / 3)
                self._last_throttle = now
                new_rate = base * self._BETA
                self.enabled = True
            elif self.enabled:
                new_rate = self._SCALE * (now - self._last_throttle - self._k) ** 3 + self._w_max
            else:
                return
            self._bucket.set_rate(min(new_rate, self._MAX_RATE_ADJUST * measured), now)


