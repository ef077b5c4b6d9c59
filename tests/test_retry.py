from __future__ import annotations

import asyncio
import contextlib
import itertools
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
import respx
from _fake_aws import FakeService, botocore_signature, run_service, xml_error
from hypothesis import given, settings
from hypothesis import strategies as st

from sigv4kit import (
    BodyNotReplayableError,
    Credentials,
    RetryMode,
    RetryPolicy,
    RetryTransport,
    SigV4Auth,
)
from sigv4kit.client import (
    RETRY_ATTEMPTS_EXTENSION,
    AdaptiveRateLimiter,
    backoff_delay,
    server_retry_delay,
)

URL = "https://sqs.us-east-1.amazonaws.com/123/queue"
NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)

    async def async_sleep(self, seconds: float) -> None:
        self.append(seconds)


def _transport(
    inner: httpx.BaseTransport | httpx.AsyncBaseTransport | None = None,
    policy: RetryPolicy | None = None,
    sleeps: Sleeps | None = None,
) -> RetryTransport:
    sleeps = sleeps if sleeps is not None else Sleeps()
    return RetryTransport(
        inner if inner is not None else httpx.HTTPTransport(),
        policy=policy,
        random=lambda: 0.5,
        sleep=sleeps,
        async_sleep=sleeps.async_sleep,
        now=lambda: NOW,
    )


def _client(route_transport: RetryTransport) -> httpx.Client:
    return httpx.Client(transport=route_transport)


# --- pure functions ---------------------------------------------------------


def test_backoff_is_full_jitter_exponential_with_cap() -> None:
    policy = RetryPolicy()
    # botocore standard: random() * min(2 ** (attempt - 1), 20)
    assert backoff_delay(1, policy=policy, random_value=1.0) == 1.0
    assert backoff_delay(2, policy=policy, random_value=1.0) == 2.0
    assert backoff_delay(3, policy=policy, random_value=0.5) == 2.0
    assert backoff_delay(10, policy=policy, random_value=1.0) == 20.0
    assert backoff_delay(10, policy=policy, random_value=0.0) == 0.0


def test_server_retry_delay_forms() -> None:
    assert server_retry_delay(httpx.Headers({"retry-after": "7"}), now=NOW) == 7.0
    later = format_datetime(NOW + timedelta(seconds=30), usegmt=True)
    assert server_retry_delay(httpx.Headers({"retry-after": later}), now=NOW) == 30.0
    assert server_retry_delay(httpx.Headers({"x-amz-retry-after": "1500"}), now=NOW) == 1.5
    assert server_retry_delay(httpx.Headers({"retry-after": "soon"}), now=NOW) is None
    assert server_retry_delay(httpx.Headers(), now=NOW) is None


def test_policy_validation() -> None:
    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError, match="base_delay"):
        RetryPolicy(base_delay=-1)


# --- respx sequences ----------------------------------------------------------


@respx.mock
def test_retries_5xx_then_succeeds_with_backoff() -> None:
    route = respx.get(URL).mock(
        side_effect=[httpx.Response(503), httpx.Response(500), httpx.Response(200, text="ok")]
    )
    sleeps = Sleeps()
    transport = _transport(sleeps=sleeps)
    with _client(transport) as client:
        response = client.get(URL)
    assert response.status_code == 200
    assert response.extensions[RETRY_ATTEMPTS_EXTENSION] == 2
    assert route.call_count == 3
    assert sleeps == [0.5, 1.0]
    # two retries cost 5 each; the success refunds the last one
    assert transport.quota.available == 500 - 10 + 5


@respx.mock
def test_gives_up_after_max_attempts_and_returns_last_response() -> None:
    route = respx.get(URL).respond(503)
    with _client(_transport()) as client:
        response = client.get(URL)
    assert response.status_code == 503
    assert route.call_count == 3


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (400, b'{"__type": "com.amazonaws.sqs#ThrottlingException", "message": "slow"}'),
        (400, b"<Error><Code>RequestTimeout</Code></Error>"),
        (400, b"<ErrorResponse><Error><Code>Throttling</Code></Error></ErrorResponse>"),
        (503, b"<Error><Code>SlowDown</Code></Error>"),
        (429, b""),
        (502, b"<html>bad gateway</html>"),
        (504, b""),
    ],
)
@respx.mock
def test_retryable_responses(status: int, body: bytes) -> None:
    route = respx.post(URL).mock(
        side_effect=[httpx.Response(status, content=body), httpx.Response(200)]
    )
    with _client(_transport()) as client:
        assert client.post(URL, content=b"x").status_code == 200
    assert route.call_count == 2


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (403, b"<Error><Code>AccessDenied</Code></Error>"),
        (400, b"<ErrorResponse><Error><Code>ExpiredToken</Code></Error></ErrorResponse>"),
        (403, b'{"__type": "InvalidSignatureException", "message": "bad"}'),
        (403, b"<Error><Code>SignatureDoesNotMatch</Code></Error>"),
        (400, b'{"__type": "ValidationException"}'),
        (404, b""),
        (501, b""),
    ],
)
@respx.mock
def test_not_retried(status: int, body: bytes) -> None:
    route = respx.post(URL).respond(status, content=body)
    with _client(_transport()) as client:
        assert client.post(URL, content=b"x").status_code == status
    assert route.call_count == 1


@respx.mock
def test_retry_after_seconds_is_honoured_and_capped() -> None:
    respx.get(URL).mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "3"}),
            httpx.Response(503, headers={"Retry-After": "3600"}),
            httpx.Response(200),
        ]
    )
    sleeps = Sleeps()
    policy = RetryPolicy(max_retry_after=10.0)
    with _client(_transport(policy=policy, sleeps=sleeps)) as client:
        assert client.get(URL).status_code == 200
    assert sleeps == [3.0, 10.0]


@respx.mock
def test_retry_after_http_date_and_amz_milliseconds() -> None:
    later = format_datetime(NOW + timedelta(seconds=4), usegmt=True)
    respx.get(URL).mock(
        side_effect=[
            httpx.Response(503, headers={"Retry-After": later}),
            httpx.Response(503, headers={"x-amz-retry-after": "2500"}),
            httpx.Response(200),
        ]
    )
    sleeps = Sleeps()
    with _client(_transport(sleeps=sleeps)) as client:
        assert client.get(URL).status_code == 200
    assert sleeps == [4.0, 2.5]


@respx.mock
def test_backoff_wins_over_a_shorter_server_hint() -> None:
    respx.get(URL).mock(
        side_effect=[httpx.Response(503, headers={"x-amz-retry-after": "10"}), httpx.Response(200)]
    )
    sleeps = Sleeps()
    with _client(_transport(sleeps=sleeps)) as client:
        client.get(URL)
    assert sleeps == [0.5]


@respx.mock
def test_quota_exhaustion_stops_retrying_and_success_refunds() -> None:
    route = respx.get(URL).respond(503)
    policy = RetryPolicy(quota_capacity=12, retry_cost=5)
    transport = _transport(policy=policy)
    with _client(transport) as client:
        assert client.get(URL).status_code == 503
        assert route.call_count == 3  # two retries, 10 tokens
        assert transport.quota.available == 2
        assert client.get(URL).status_code == 503
        assert route.call_count == 4  # no tokens left: no retry
        route.respond(200)
        assert client.get(URL).status_code == 200
        assert transport.quota.available == 3  # a retry-free success refunds 1


@respx.mock
def test_connection_errors_are_retried_and_timeouts_cost_more() -> None:
    route = respx.get(URL).mock(
        side_effect=[httpx.ConnectError("refused"), httpx.ReadTimeout("slow"), httpx.Response(200)]
    )
    transport = _transport()
    with _client(transport) as client:
        assert client.get(URL).status_code == 200
    assert route.call_count == 3
    # 5 for the connect error, 10 for the timeout; the success refunds the last 10
    assert transport.quota.available == 500 - 15 + 10


@respx.mock
def test_connection_error_raised_when_attempts_run_out() -> None:
    respx.get(URL).mock(side_effect=httpx.ConnectError("refused"))
    with _client(_transport()) as client, pytest.raises(httpx.ConnectError):
        client.get(URL)


@respx.mock
def test_non_transport_errors_are_not_retried() -> None:
    route = respx.get(URL).mock(side_effect=httpx.UnsupportedProtocol("nope"))
    with _client(_transport()) as client, pytest.raises(httpx.UnsupportedProtocol):
        client.get(URL)
    assert route.call_count == 1


def _one_shot() -> Iterator[bytes]:
    yield b"part-1"
    yield b"part-2"


@respx.mock
def test_non_replayable_body_fails_clearly_on_response_retry() -> None:
    route = respx.put(URL).respond(503, content=b"<Error><Code>ServiceUnavailable</Code></Error>")
    with _client(_transport()) as client, pytest.raises(BodyNotReplayableError) as info:
        client.put(URL, content=_one_shot())
    assert route.call_count == 1
    assert info.value.response is not None
    assert info.value.response.status_code == 503
    assert "content=" in str(info.value)


@respx.mock
def test_non_replayable_body_fails_clearly_on_connection_error() -> None:
    respx.put(URL).mock(side_effect=httpx.ReadError("reset"))
    with _client(_transport()) as client, pytest.raises(BodyNotReplayableError) as info:
        client.put(URL, content=_one_shot())
    assert isinstance(info.value.__cause__, httpx.ReadError)


class _TrackedStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    def __init__(self, log: list[str], name: str) -> None:
        self.log, self.name = log, name

    def __iter__(self) -> Iterator[bytes]:
        yield b""

    async def __aiter__(self):  # type: ignore[no-untyped-def]
        yield b""

    def close(self) -> None:
        self.log.append(self.name)

    async def aclose(self) -> None:
        self.log.append(self.name)


def test_retried_responses_are_closed() -> None:
    closed: list[str] = []
    counter = itertools.count(1)

    def handler(request: httpx.Request) -> httpx.Response:
        n = next(counter)
        status = 503 if n < 3 else 200
        return httpx.Response(status, stream=_TrackedStream(closed, f"r{n}"))

    with (
        httpx.Client(transport=_transport(httpx.MockTransport(handler))) as client,
        client.stream("GET", URL) as response,
    ):
        assert response.status_code == 200
        assert closed == ["r1", "r2"]
    assert closed == ["r1", "r2", "r3"]


async def test_async_retried_responses_are_closed() -> None:
    closed: list[str] = []
    counter = itertools.count(1)

    def handler(request: httpx.Request) -> httpx.Response:
        n = next(counter)
        return httpx.Response(503 if n < 2 else 200, stream=_TrackedStream(closed, f"r{n}"))

    async with (
        httpx.AsyncClient(transport=_transport(httpx.MockTransport(handler))) as client,
        client.stream("GET", URL) as response,
    ):
        assert response.status_code == 200
        assert closed == ["r1"]
    assert closed == ["r1", "r2"]


@respx.mock
async def test_async_sequence_with_retry_after() -> None:
    route = respx.post(URL).mock(
        side_effect=[
            httpx.ConnectTimeout("slow"),
            httpx.Response(
                400, json={"__type": "ThrottlingException"}, headers={"Retry-After": "2"}
            ),
            httpx.Response(200, json={"ok": True}),
        ]
    )
    sleeps = Sleeps()
    transport = RetryTransport(
        httpx.AsyncHTTPTransport(),
        random=lambda: 0.5,
        sleep=sleeps,
        async_sleep=sleeps.async_sleep,
    )
    async with httpx.AsyncClient(transport=transport) as client:
        response = await client.post(URL, content=b"{}")
    assert response.json() == {"ok": True}
    assert route.call_count == 3
    assert sleeps == [0.5, 2.0]


def test_close_and_aclose_delegate() -> None:
    events: list[str] = []

    class Inner(httpx.BaseTransport, httpx.AsyncBaseTransport):
        def close(self) -> None:
            events.append("close")

        async def aclose(self) -> None:
            events.append("aclose")

    transport = RetryTransport(Inner())
    transport.close()
    asyncio.run(transport.aclose())
    assert events == ["close", "aclose"]


def test_sync_only_inner_refuses_async_use() -> None:
    class SyncOnly(httpx.BaseTransport):
        pass

    transport = RetryTransport(SyncOnly())
    with pytest.raises(TypeError, match="not an async transport"):
        asyncio.run(transport.handle_async_request(httpx.Request("GET", URL)))


def test_quota_is_thread_safe() -> None:
    policy = RetryPolicy(quota_capacity=500, retry_cost=5)
    transport = RetryTransport(httpx.MockTransport(lambda r: httpx.Response(200)), policy=policy)
    taken = []

    def take() -> None:
        for _ in range(20):
            taken.append(transport.quota.acquire(5))

    threads = [threading.Thread(target=take) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert taken.count(True) == 100
    assert transport.quota.available == 0


# --- adaptive mode --------------------------------------------------------------


def test_adaptive_limiter_cubic() -> None:
    clock = [100.0]
    limiter = AdaptiveRateLimiter(lambda: clock[0])
    assert limiter.before_send() == 0.0
    assert limiter.rate is None
    # 10 successful sends a second for 3 s: the measured rate settles near 10/s
    for _ in range(30):
        clock[0] += 0.1
        limiter.after_response(throttled=False)
    assert limiter.rate is None
    limiter.after_response(throttled=True)
    rate = limiter.rate
    assert rate is not None
    # CUBIC: on a throttle the rate drops to beta (0.7) times the measured rate
    assert 0.7 * 8 < rate < 0.7 * 10.5
    waits = [limiter.before_send() for _ in range(5)]
    assert waits[0] == 0.0
    assert waits[-1] > 0.0
    # and grows back along the cubic curve while successes keep coming at 10/s
    for _ in range(50):
        clock[0] += 0.1
        limiter.after_response(throttled=False)
    assert limiter.rate is not None
    assert limiter.rate > rate


@respx.mock
def test_adaptive_transport_paces_after_throttling() -> None:
    respx.get(URL).mock(
        side_effect=[httpx.Response(400, json={"__type": "ThrottlingException"})] * 2
        + [httpx.Response(200)] * 5
    )
    sleeps = Sleeps()
    clock = [0.0]
    transport = RetryTransport(
        httpx.HTTPTransport(),
        policy=RetryPolicy(mode=RetryMode.ADAPTIVE),
        random=lambda: 0.0,
        sleep=sleeps,
        monotonic=lambda: clock[0],
    )
    with httpx.Client(transport=transport) as client:
        for _ in range(5):
            client.get(URL)
    assert transport.limiter is not None
    assert transport.limiter.enabled
    assert any(s > 0 for s in sleeps)  # the token bucket made sends wait


# --- a real service: every attempt freshly signed -----------------------------


def _ticking_clock(start: datetime) -> object:
    ticks = itertools.count()
    return lambda: start + timedelta(seconds=next(ticks))


@pytest.fixture
def service() -> Iterator[tuple[FakeService, str]]:
    svc = FakeService()
    with run_service(svc) as base:
        yield svc, base


def _auth(svc: FakeService, **kwargs: object) -> SigV4Auth:
    return SigV4Auth(
        Credentials(svc.access_key, svc.secret_key, "tok/en+1"),
        region=svc.region,
        service=svc.service,
        clock=_ticking_clock(datetime.now(UTC)),  # type: ignore[arg-type]
        **kwargs,  # type: ignore[arg-type]
    )


def _assert_fresh(svc: FakeService, expected: int) -> None:
    assert len(svc.attempts) == expected
    assert all(attempt.valid for attempt in svc.attempts)
    assert len({a.amz_date for a in svc.attempts}) == expected
    assert len({a.signature for a in svc.attempts}) == expected


def test_every_response_retry_is_freshly_signed(service: tuple[FakeService, str]) -> None:
    svc, base = service
    svc.script = [(503, {}, b""), xml_error("ThrottlingException")]
    transport = RetryTransport(sleep=lambda s: None)
    with httpx.Client(auth=_auth(svc), transport=transport) as client:
        response = client.post(f"{base}/items/1?b=2&a=1", content=b'{"k": "v"}')
    assert response.status_code == 200
    _assert_fresh(svc, 3)
    assert all(a.body == b'{"k": "v"}' for a in svc.attempts)


def test_every_connection_error_retry_is_freshly_signed(
    service: tuple[FakeService, str],
) -> None:
    svc, base = service
    seen: list[tuple[str, str]] = []

    class Flaky(httpx.BaseTransport):
        def __init__(self) -> None:
            self.real = httpx.HTTPTransport()
            self.calls = 0

        def handle_request(self, request: httpx.Request) -> httpx.Response:
            self.calls += 1
            seen.append((request.headers["x-amz-date"], request.headers["authorization"]))
            if self.calls == 1:
                raise httpx.ConnectError("connection refused")
            return self.real.handle_request(request)

        def close(self) -> None:
            self.real.close()

    with httpx.Client(
        auth=_auth(svc), transport=RetryTransport(Flaky(), sleep=lambda s: None)
    ) as client:
        assert client.get(f"{base}/q").status_code == 200
    assert len(seen) == 2
    assert seen[0] != seen[1]
    assert len(svc.attempts) == 1
    assert svc.attempts[0].valid
    assert svc.attempts[0].amz_date == seen[1][0]


async def test_async_every_retry_is_freshly_signed(service: tuple[FakeService, str]) -> None:
    svc, base = service
    svc.script = [(500, {}, b""), (503, {"retry-after": "1"}, b"")]
    sleeps = Sleeps()
    transport = RetryTransport(async_sleep=sleeps.async_sleep)
    async with httpx.AsyncClient(auth=_auth(svc), transport=transport) as client:
        response = await client.put(f"{base}/obj", content=b"payload")
    assert response.status_code == 200
    _assert_fresh(svc, 3)
    assert sleeps[1] >= 1.0


def test_botocore_oracle_rejects_a_tampered_signature(service: tuple[FakeService, str]) -> None:
    # The oracle is not a rubber stamp: a request altered after signing fails.
    svc, base = service

    def tamper(request: httpx.Request) -> None:
        request.headers["x-amz-date"] = "20200101T000000Z"

    with httpx.Client(auth=_auth(svc), event_hooks={"request": [tamper]}) as client:
        assert client.get(f"{base}/q").status_code == 403
    assert not svc.attempts[0].valid
    headers = dict(svc.attempts[0].headers)
    headers["x-amz-date"] = "20200101T000000Z"
    assert (
        botocore_signature(
            "GET",
            f"{base}/q",
            headers,
            b"",
            access_key=svc.access_key,
            secret_key=svc.secret_key,
            token="tok/en+1",
            region=svc.region,
            service=svc.service,
        )
        != svc.attempts[0].signature
    )


@settings(max_examples=100, deadline=None)
@given(
    outcomes=st.lists(
        st.sampled_from([200, 400, 403, 429, 500, 503, "connect", "timeout"]),
        min_size=1,
        max_size=12,
    ),
    max_attempts=st.integers(1, 4),
    capacity=st.integers(0, 40),
)
def test_retry_invariants(outcomes: list[object], max_attempts: int, capacity: int) -> None:
    script = list(outcomes)
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        outcome = script.pop(0) if script else 200
        if outcome == "connect":
            raise httpx.ConnectError("refused")
        if outcome == "timeout":
            raise httpx.ReadTimeout("slow")
        assert isinstance(outcome, int)
        return httpx.Response(outcome)

    policy = RetryPolicy(max_attempts=max_attempts, quota_capacity=capacity)
    transport = RetryTransport(httpx.MockTransport(handler), policy=policy, sleep=lambda s: None)
    with httpx.Client(transport=transport) as client:
        for _ in range(3):
            before = calls
            with contextlib.suppress(httpx.TransportError):
                client.get(URL)
            assert 1 <= calls - before <= max_attempts
            assert 0 <= transport.quota.available <= capacity
