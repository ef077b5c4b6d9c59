"""The retry transport: wraps an httpx transport, classifies each failure and re-sends
(re-signed) under the retry policy, quota and rate limiter."""

from __future__ import annotations

import asyncio
import random as _random
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

from ._auth import Resigner
from ._errors import AuthenticationError, error_class_for
from ._httpx import RESIGN_EXTENSION
from ._parse import parse_aws_error
from ._providers import _log
from ._retry import (
    RETRY_ATTEMPTS_EXTENSION,
    AdaptiveRateLimiter,
    BodyNotReplayableError,
    RetryMode,
    RetryPolicy,
    RetryQuota,
    backoff_delay,
    server_retry_delay,
)

__all__ = [
    "RetryTransport",
]


# Error bodies beyond this are not read to find an error code.
_MAX_CLASSIFY_BODY = 1024 * 1024


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
