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

import asyncio
import logging
import math
import random as _random
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum

import httpx

from .._exceptions import SigV4Error
from ._auth import DEFAULT_MAX_ATTEMPTS, RESIGN_EXTENSION, Resigner
from ._errors import THROTTLING_CODES, AuthenticationError, error_class_for, parse_aws_error
from ._skew import parse_http_date

__all__ = [
    "RETRY_ATTEMPTS_EXTENSION",
    "TRANSIENT_CODES",
    "AdaptiveRateLimiter",
    "BodyNotReplayableError",
    "RetryMode",
    "RetryPolicy",
    "RetryQuota",
    "RetryTransport",
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

# Error bodies beyond this are not read to find an error code.
_MAX_CLASSIFY_BODY = 1024 * 1024


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


@dataclass(frozen=True, slots=True)
class _Verdict:
    retry: bool
    throttled: bool
    cost: int
    server_delay: float | None = None


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _is_timeout(exc: Exception) -> bool:
    return isinstance(exc, httpx.TimeoutException)


def _is_retryable_exception(exc: Exception) -> bool:
    return isinstance(exc, httpx.TimeoutException | httpx.NetworkError | httpx.RemoteProtocolError)


def _is_replayable(request: httpx.Request) -> bool:
    return isinstance(request.stream, httpx.ByteStream)


def _describe(request: httpx.Request) -> str:
    # Method, host and path only: a presigned query carries credentials.
    return f"{request.method} {request.url.scheme}://{request.url.host}{request.url.path}"


class RetryTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """An httpx transport that retries like the AWS SDKs, re-signing every attempt.

    ```python
    auth = SigV4Auth(creds, region="us-east-1", service="dynamodb")
    with httpx.Client(auth=auth, transport=RetryTransport()) as client:
        ...
    async with httpx.AsyncClient(auth=auth, transport=RetryTransport()) as client:
        ...
    ```

    ``inner`` is the transport that does the I/O (default: a new
    ``httpx.HTTPTransport`` / ``httpx.AsyncHTTPTransport``); ``policy`` the
    :class:`RetryPolicy`. ``random``, ``sleep``, ``async_sleep``, ``monotonic``
    and ``now`` replace the randomness, sleeping and clocks (for tests).

    A retry whose request body is a one-shot stream raises
    :class:`BodyNotReplayableError` instead of resending a drained body.
    When attempts or the quota run out, the last response is returned (or the
    last connection error raised). Responses of retried attempts are closed.
    """

    def __init__(
        self,
        inner: httpx.BaseTransport | httpx.AsyncBaseTransport | None = None,
        *,
        policy: RetryPolicy | None = None,
        random: Callable[[], float] | None = None,
        sleep: Callable[[float], None] | None = None,
        async_sleep: Callable[[float], Awaitable[None]] | None = None,
        monotonic: Callable[[], float] | None = None,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self.policy = policy or RetryPolicy()
        self.quota = RetryQuota(self.policy.quota_capacity)
        self._inner = inner
        self._sync_inner: httpx.BaseTransport | None = (
            inner if isinstance(inner, httpx.BaseTransport) else None
        )
        self._async_inner: httpx.AsyncBaseTransport | None = (
            inner if isinstance(inner, httpx.AsyncBaseTransport) else None
        )
        self._owns_inner = inner is None
        self._random = _random.random if random is None else random
        self._sleep = time.sleep if sleep is None else sleep
        self._async_sleep = asyncio.sleep if async_sleep is None else async_sleep
        self._now = _utcnow if now is None else now
        self.limiter: AdaptiveRateLimiter | None = (
            AdaptiveRateLimiter(time.monotonic if monotonic is None else monotonic)
            if self.policy.mode is RetryMode.ADAPTIVE
            else None
        )
        self._init_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"RetryTransport(inner={self._inner!r}, policy={self.policy!r})"

    # -- decisions (shared by sync and async) ---------------------------------

    def _classify(self, response: httpx.Response) -> _Verdict:
        status = response.status_code
        if status < 400:
            return _Verdict(retry=False, throttled=False, cost=0)
        policy = self.policy
        try:
            body = response.content
        except httpx.ResponseNotRead:
            body = b""
        details = parse_aws_error(status, response.headers, body)
        code = details.code
        throttled = code in policy.throttling_codes or status in policy.throttling_statuses
        transient = code in policy.transient_codes or status in policy.retryable_statuses
        if issubclass(error_class_for(code, status), AuthenticationError) and not throttled:
            # Expired tokens and bad signatures fail the same way every time.
            transient = False
        delay = server_retry_delay(response.headers, now=self._now())
        return _Verdict(
            retry=throttled or transient,
            throttled=throttled,
            cost=policy.retry_cost,
            server_delay=delay,
        )

    def _exception_cost(self, exc: Exception) -> int:
        if _is_timeout(exc):
            return self.policy.timeout_retry_cost
        return self.policy.retry_cost

    def _delay(self, retry: int, verdict: _Verdict | None) -> float:
        delay = backoff_delay(retry, policy=self.policy, random_value=self._random())
        if verdict is not None and verdict.server_delay is not None:
            delay = max(delay, min(verdict.server_delay, self.policy.max_retry_after))
        return delay

    def _finish(self, response: httpx.Response, attempt: int, acquired: int) -> httpx.Response:
        if response.status_code < 400:
            self.quota.release(acquired if acquired else self.policy.no_retry_increment)
        response.extensions[RETRY_ATTEMPTS_EXTENSION] = attempt - 1
        return response

    def _wants_body(self, response: httpx.Response) -> bool:
        if response.status_code < 400:
            return False
        length = response.headers.get("content-length", "")
        return not (length.isdigit() and int(length) > _MAX_CLASSIFY_BODY)

    def _not_replayable(
        self, request: httpx.Request, response: httpx.Response | None
    ) -> BodyNotReplayableError:
        cause = f"HTTP {response.status_code}" if response is not None else "a connection error"
        return BodyNotReplayableError(
            f"{_describe(request)} failed with {cause} and should be retried, but its body "
            "was a one-shot stream that has been consumed; pass the body as bytes "
            "(content=...) to make the request retryable",
            response=response,
        )

    def _log_retry(self, request: httpx.Request, reason: str, attempt: int, delay: float) -> None:
        _log.debug(
            "retrying %s after %s (attempt %d of %d) in %.3f s",
            _describe(request),
            reason,
            attempt + 1,
            self.policy.max_attempts,
            delay,
        )

    # -- sync ----------------------------------------------------------------

    def _sync_transport(self) -> httpx.BaseTransport:
        if self._sync_inner is None:
            if not self._owns_inner:
                raise TypeError(f"{self._inner!r} is not a sync transport (httpx.BaseTransport)")
            with self._init_lock:
                if self._sync_inner is None:
                    self._sync_inner = httpx.HTTPTransport()
        return self._sync_inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        inner = self._sync_transport()
        resigner = request.extensions.get(RESIGN_EXTENSION)
        if isinstance(resigner, Resigner):
            # Signed before this transport was known: state its max_attempts.
            resigner.set_max_attempts(request, self.policy.max_attempts)
        attempt, acquired = 1, 0
        while True:
            if self.limiter is not None:
                wait = self.limiter.before_send()
                if wait > 0:
                    self._sleep(wait)
            try:
                response = inner.handle_request(request)
            except Exception as exc:
                if not _is_retryable_exception(exc) or attempt >= self.policy.max_attempts:
                    raise
                cost = (
                    self.policy.timeout_retry_cost if _is_timeout(exc) else self.policy.retry_cost
                )
                if not _is_replayable(request):
                    raise self._not_replayable(request, None) from exc
                if not self.quota.acquire(cost):
                    raise
                acquired = cost
                delay = self._delay(attempt, None)
                self._log_retry(request, type(exc).__name__, attempt, delay)
                self._sleep(delay)
                self._resign(request)
                attempt += 1
                continue
            if self._wants_body(response):
                response.read()
            verdict = self._classify(response)
            if self.limiter is not None:
                self.limiter.after_response(throttled=verdict.throttled)
            if not verdict.retry or attempt >= self.policy.max_attempts:
                return self._finish(response, attempt, acquired)
            if not _is_replayable(request):
                response.read()
                raise self._not_replayable(request, response)
            if not self.quota.acquire(verdict.cost):
                return self._finish(response, attempt, acquired)
            acquired = verdict.cost
            response.close()
            delay = self._delay(attempt, verdict)
            self._log_retry(request, f"HTTP {response.status_code}", attempt, delay)
            self._sleep(delay)
            self._resign(request)
            attempt += 1

    @staticmethod
    def _resign(request: httpx.Request) -> None:
        resigner = request.extensions.get(RESIGN_EXTENSION)
        if isinstance(resigner, Resigner):
            resigner(request)

    def close(self) -> None:
        if self._sync_inner is not None:
            self._sync_inner.close()

    # -- async ---------------------------------------------------------------

    def _async_transport(self) -> httpx.AsyncBaseTransport:
        if self._async_inner is None:
            if not self._owns_inner:
                raise TypeError(
                    f"{self._inner!r} is not an async transport (httpx.AsyncBaseTransport)"
                )
            with self._init_lock:
                if self._async_inner is None:
                    self._async_inner = httpx.AsyncHTTPTransport()
        return self._async_inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        inner = self._async_transport()
        resigner = request.extensions.get(RESIGN_EXTENSION)
        if isinstance(resigner, Resigner):
            await resigner.async_set_max_attempts(request, self.policy.max_attempts)
        attempt, acquired = 1, 0
        while True:
            if self.limiter is not None:
                wait = self.limiter.before_send()
                if wait > 0:
                    await self._async_sleep(wait)
            try:
                response = await inner.handle_async_request(request)
            except Exception as exc:
                if not _is_retryable_exception(exc) or attempt >= self.policy.max_attempts:
                    raise
                cost = (
                    self.policy.timeout_retry_cost if _is_timeout(exc) else self.policy.retry_cost
                )
                if not _is_replayable(request):
                    raise self._not_replayable(request, None) from exc
                if not self.quota.acquire(cost):
                    raise
                acquired = cost
                delay = self._delay(attempt, None)
                self._log_retry(request, type(exc).__name__, attempt, delay)
                await self._async_sleep(delay)
                await self._aresign(request)
                attempt += 1
                continue
            if self._wants_body(response):
                await response.aread()
            verdict = self._classify(response)
            if self.limiter is not None:
                self.limiter.after_response(throttled=verdict.throttled)
            if not verdict.retry or attempt >= self.policy.max_attempts:
                return self._finish(response, attempt, acquired)
            if not _is_replayable(request):
                await response.aread()
                raise self._not_replayable(request, response)
            if not self.quota.acquire(verdict.cost):
                return self._finish(response, attempt, acquired)
            acquired = verdict.cost
            await response.aclose()
            delay = self._delay(attempt, verdict)
            self._log_retry(request, f"HTTP {response.status_code}", attempt, delay)
            await self._async_sleep(delay)
            await self._aresign(request)
            attempt += 1

    @staticmethod
    async def _aresign(request: httpx.Request) -> None:
        resigner = request.extensions.get(RESIGN_EXTENSION)
        if isinstance(resigner, Resigner):
            await resigner.async_resign(request)

    async def aclose(self) -> None:
        if self._async_inner is not None:
            await self._async_inner.aclose()
