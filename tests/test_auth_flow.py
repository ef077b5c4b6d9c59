"""SigV4Auth's flow: stream bodies, the re-sign hook, clock skew, expired tokens."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import logging
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
from _fake_aws import FakeService, run_service
from botocore.auth import S3SigV4Auth
from botocore.auth import SigV4Auth as BotoSigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotoCredentials
from hypothesis import given, settings
from hypothesis import strategies as st

from sigv4kit import (
    BodyNotReadableError,
    BodyTooLargeError,
    Credentials,
    ExpiringCredentials,
    PayloadMode,
    RefreshableCredentialsProvider,
    RetryTransport,
    SigningResult,
    SigningSettings,
    SigV4AAuth,
    SigV4Auth,
    StaticCredentialsProvider,
    presign,
)
from sigv4kit.client import RESIGN_EXTENSION, SIGNING_RESULT_EXTENSION, Resigner

CREDS = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
T0 = datetime(2026, 5, 4, 10, 0, 0, tzinfo=UTC)


def _capture() -> tuple[list[httpx.Request], httpx.MockTransport]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        request.read()
        seen.append(request)
        return httpx.Response(200)

    return seen, httpx.MockTransport(handler)


def _gen(*parts: bytes) -> Iterator[bytes]:
    yield from parts


async def _agen(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


# --- bodies --------------------------------------------------------------------


def test_bytes_body_is_hashed() -> None:
    seen, transport = _capture()
    auth = SigV4Auth(CREDS, region="us-east-1", service="s3", settings=SigningSettings.s3())
    with httpx.Client(auth=auth, transport=transport) as client:
        client.put("https://b.s3.amazonaws.com/k", content=b"hello world")
    assert seen[0].headers["x-amz-content-sha256"] == hashlib.sha256(b"hello world").hexdigest()


def _botocore_s3_signature(request: httpx.Request, body: bytes) -> str:
    headers = dict(request.headers)
    signed = headers["authorization"].split("SignedHeaders=")[1].split(",")[0].split(";")
    aws = AWSRequest(
        method=request.method,
        url=str(request.url),
        data=body,
        headers={name: headers[name] for name in signed},
    )
    aws.context["timestamp"] = headers["x-amz-date"]
    boto = S3SigV4Auth(
        BotoCredentials(CREDS.access_key_id, CREDS.secret_access_key), "s3", "us-east-1"
    )
    return str(boto.signature(boto.string_to_sign(aws, boto.canonical_request(aws)), aws))


def test_s3_stream_goes_unsigned_and_unbuffered() -> None:
    consumed: list[bytes] = []

    def body() -> Iterator[bytes]:
        for part in (b"a" * 10, b"b" * 10):
            consumed.append(part)
            yield part

    seen, transport = _capture()
    auth = SigV4Auth(
        CREDS, region="us-east-1", service="s3", settings=SigningSettings.s3(), max_body_buffer=5
    )
    flow = auth.sync_auth_flow(httpx.Request("PUT", "https://b.s3.amazonaws.com/k", content=body()))
    signed = next(flow)
    assert consumed == []  # signing did not read the stream
    assert signed.headers["x-amz-content-sha256"] == "UNSIGNED-PAYLOAD"
    with httpx.Client(auth=auth, transport=transport) as client:
        client.put("https://b.s3.amazonaws.com/k", content=body())
    request = seen[0]
    assert request.content == b"a" * 10 + b"b" * 10
    assert request.headers["x-amz-content-sha256"] == "UNSIGNED-PAYLOAD"
    assert (
        _botocore_s3_signature(request, b"")
        == request.headers["authorization"].split("Signature=")[1]
    )


def test_stream_buffered_and_hashed_under_service_rules() -> None:
    seen, transport = _capture()
    auth = SigV4Auth(CREDS, region="us-east-1", service="execute-api")
    with httpx.Client(auth=auth, transport=transport) as client:
        client.post("https://api.example.com/items", content=_gen(b"chunk1", b"chunk2"))
    result = seen[0].extensions[SIGNING_RESULT_EXTENSION]
    assert result.canonical_request.payload_hash == hashlib.sha256(b"chunk1chunk2").hexdigest()
    assert seen[0].content == b"chunk1chunk2"


async def test_async_stream_buffered_and_hashed() -> None:
    seen, transport = _capture()
    auth = SigV4Auth(CREDS, region="us-east-1", service="execute-api")
    async with httpx.AsyncClient(auth=auth, transport=transport) as client:
        await client.post("https://api.example.com/items", content=_agen(b"x" * 3, b"y" * 4))
    result = seen[0].extensions[SIGNING_RESULT_EXTENSION]
    assert result.canonical_request.payload_hash == hashlib.sha256(b"xxxyyyy").hexdigest()


async def test_async_s3_stream_goes_unsigned() -> None:
    seen, transport = _capture()
    auth = SigV4Auth(CREDS, region="us-east-1", service="s3", settings=SigningSettings.s3())
    async with httpx.AsyncClient(auth=auth, transport=transport) as client:
        await client.put("https://b.s3.amazonaws.com/k", content=_agen(b"p1", b"p2"))
    assert seen[0].headers["x-amz-content-sha256"] == "UNSIGNED-PAYLOAD"
    assert seen[0].content == b"p1p2"


def test_stream_over_the_limit_names_the_options() -> None:
    auth = SigV4Auth(CREDS, region="us-east-1", service="execute-api", max_body_buffer=8)
    _, transport = _capture()
    with (
        httpx.Client(auth=auth, transport=transport) as client,
        pytest.raises(BodyTooLargeError) as info,
    ):
        client.post("https://api.example.com/", content=_gen(b"12345", b"67890"))
    message = str(info.value)
    assert "max_body_buffer=8" in message
    assert "content=" in message
    assert "PayloadMode.UNSIGNED" in message
    assert "SigningSettings.s3()" in message
    assert isinstance(info.value, BodyNotReadableError)


async def test_async_stream_over_the_limit() -> None:
    auth = SigV4Auth(CREDS, region="us-east-1", service="execute-api", max_body_buffer=4)
    _, transport = _capture()
    async with httpx.AsyncClient(auth=auth, transport=transport) as client:
        with pytest.raises(BodyTooLargeError):
            await client.post("https://api.example.com/", content=_agen(b"123", b"456"))


def test_declared_length_over_the_limit_fails_before_reading() -> None:
    consumed: list[bytes] = []

    def body() -> Iterator[bytes]:
        consumed.append(b"x")
        yield b"x"

    auth = SigV4Auth(CREDS, region="us-east-1", service="execute-api", max_body_buffer=10)
    request = httpx.Request(
        "POST", "https://api.example.com/", content=body(), headers={"Content-Length": "11"}
    )
    with pytest.raises(BodyTooLargeError, match="11 bytes"):
        next(auth.sync_auth_flow(request))
    assert consumed == []


def test_unsigned_payload_settings_leave_a_stream_alone() -> None:
    settings = SigningSettings().replace(payload=PayloadMode.UNSIGNED)
    auth = SigV4Auth(CREDS, region="us-east-1", service="svc", settings=settings, max_body_buffer=0)
    request = httpx.Request("POST", "https://svc.example.com/", content=_gen(b"abc"))
    signed = next(auth.sync_auth_flow(request))
    result = signed.extensions[SIGNING_RESULT_EXTENSION]
    assert result.canonical_request.payload_hash == "UNSIGNED-PAYLOAD"


def test_public_sign_refuses_unread_stream() -> None:
    auth = SigV4Auth(CREDS, region="us-east-1", service="svc")
    with pytest.raises(BodyNotReadableError, match="as bytes"):
        auth.sign(httpx.Request("POST", "https://svc.example.com/", content=_gen(b"abc")))


def test_max_body_buffer_is_validated() -> None:
    with pytest.raises(ValueError, match="max_body_buffer"):
        SigV4Auth(CREDS, region="us-east-1", service="svc", max_body_buffer=-1)


# --- the re-sign hook ------------------------------------------------------------


def test_resigner_signs_again_with_a_fresh_time() -> None:
    ticks = itertools.count()
    auth = SigV4Auth(
        CREDS, region="us-east-1", service="svc", clock=lambda: T0 + timedelta(seconds=next(ticks))
    )
    request = httpx.Request("GET", "https://svc.example.com/a?b=c")
    signed = next(auth.sync_auth_flow(request))
    first = signed.extensions[SIGNING_RESULT_EXTENSION]
    resigner = signed.extensions[RESIGN_EXTENSION]
    assert isinstance(resigner, Resigner)
    second = resigner(signed)
    assert isinstance(second, SigningResult)
    assert second.string_to_sign.amz_date != first.string_to_sign.amz_date
    assert signed.headers["x-amz-date"] == second.string_to_sign.amz_date
    assert signed.headers["authorization"] == second.authorization
    assert len(signed.headers.get_list("authorization")) == 1
    assert signed.extensions[SIGNING_RESULT_EXTENSION] is second


async def test_async_resigner() -> None:
    ticks = itertools.count()
    auth = SigV4Auth(
        CREDS, region="us-east-1", service="svc", clock=lambda: T0 + timedelta(seconds=next(ticks))
    )
    request = httpx.Request("GET", "https://svc.example.com/")
    flow = auth.async_auth_flow(request)
    signed = await flow.__anext__()
    before = signed.headers["authorization"]
    await signed.extensions[RESIGN_EXTENSION].async_resign(signed)
    assert signed.headers["authorization"] != before
    await flow.aclose()


def test_existing_behaviour_host_raw_path_and_query_rewrite() -> None:
    auth = SigV4Auth(CREDS, region="us-east-1", service="svc", clock=lambda: T0)
    request = httpx.Request("GET", "http://svc.example.com:8080/a%20b?z=1&a=x+y")
    signed = next(auth.sync_auth_flow(request))
    result = signed.extensions[SIGNING_RESULT_EXTENSION]
    assert "host:svc.example.com:8080" in str(result.canonical_request)
    assert signed.url.raw_path == b"/a%20b?z=1&a=x%2By"


def test_provider_and_repr_without_secrets() -> None:
    auth = SigV4Auth(StaticCredentialsProvider(CREDS), region="us-east-1", service="svc")
    assert CREDS.secret_access_key not in repr(auth)
    signed = next(auth.sync_auth_flow(httpx.Request("GET", "https://svc.example.com/")))
    assert f"Credential={CREDS.access_key_id}/" in signed.headers["authorization"]


def test_sigv4a_keeps_working() -> None:
    auth = SigV4AAuth(CREDS, region_set=["us-east-1", "us-west-2"], service="svc")
    signed = next(auth.sync_auth_flow(httpx.Request("GET", "https://svc.example.com/")))
    assert signed.headers["x-amz-region-set"] == "us-east-1,us-west-2"
    assert signed.headers["authorization"].startswith("AWS4-ECDSA-P256-SHA256 ")


def test_presign_still_works() -> None:
    url = presign(
        "GET",
        "https://b.s3.amazonaws.com/k",
        credentials=CREDS,
        region="us-east-1",
        service="s3",
        settings=SigningSettings.s3(),
        now=T0,
    )
    assert "X-Amz-Signature=" in url
    assert "X-Amz-Date=20260504T100000Z" in url


# --- clock skew (respx-free: a MockTransport with a server clock) ----------------


def _skew_server(
    server_time: datetime, replies: list[tuple[int, bytes]]
) -> tuple[list[httpx.Request], httpx.MockTransport]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        status, body = replies.pop(0) if replies else (200, b"")
        return httpx.Response(
            status, content=body, headers={"Date": format_datetime(server_time, usegmt=True)}
        )

    return seen, httpx.MockTransport(handler)


SKEWED = b"<Error><Code>RequestTimeTooSkewed</Code><Message>too skewed</Message></Error>"


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (403, SKEWED),
        (400, b"<Response><Errors><Error><Code>RequestExpired</Code></Error></Errors></Response>"),
        (403, b'{"__type": "InvalidSignatureException", "message": "Signature expired: x"}'),
        (403, b'{"__type": "InvalidSignatureException", "message": "Signature not yet current"}'),
        (403, b"<Error><Code>SignatureDoesNotMatch</Code></Error>"),
    ],
)
def test_skew_is_learned_and_retried_once(status: int, body: bytes) -> None:
    server_time = T0 + timedelta(minutes=20)
    seen, transport = _skew_server(server_time, [(status, body)])
    auth = SigV4Auth(CREDS, region="us-east-1", service="svc", clock=lambda: T0)
    with httpx.Client(auth=auth, transport=transport) as client:
        response = client.get("https://svc.example.com/")
    assert response.status_code == 200
    assert len(seen) == 2
    assert auth.clock_offset == timedelta(minutes=20)
    assert seen[1].headers["x-amz-date"] == "20260504T102000Z"


def test_signature_error_with_a_close_date_is_not_skew() -> None:
    seen, transport = _skew_server(
        T0 + timedelta(minutes=3), [(403, b"<Error><Code>SignatureDoesNotMatch</Code></Error>")]
    )
    auth = SigV4Auth(CREDS, region="us-east-1", service="svc", clock=lambda: T0)
    with httpx.Client(auth=auth, transport=transport) as client:
        assert client.get("https://svc.example.com/").status_code == 403
    assert len(seen) == 1
    assert auth.clock_offset == timedelta(0)


def test_skew_retry_happens_once_only() -> None:
    seen, transport = _skew_server(T0 + timedelta(hours=1), [(403, SKEWED)] * 5)
    auth = SigV4Auth(CREDS, region="us-east-1", service="svc", clock=lambda: T0)
    with httpx.Client(auth=auth, transport=transport) as client:
        assert client.get("https://svc.example.com/").status_code == 403
    assert len(seen) == 2


def test_skew_correction_can_be_disabled() -> None:
    seen, transport = _skew_server(T0 + timedelta(hours=1), [(403, SKEWED)])
    auth = SigV4Auth(
        CREDS, region="us-east-1", service="svc", clock=lambda: T0, correct_clock_skew=False
    )
    with httpx.Client(auth=auth, transport=transport) as client:
        assert client.get("https://svc.example.com/").status_code == 403
    assert len(seen) == 1


def test_skew_without_date_is_not_retried() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(403, content=SKEWED)

    auth = SigV4Auth(CREDS, region="us-east-1", service="svc", clock=lambda: T0)
    with httpx.Client(auth=auth, transport=httpx.MockTransport(handler)) as client:
        assert client.get("https://svc.example.com/").status_code == 403
    assert auth.clock_offset == timedelta(0)


def test_s3_server_time_is_used_when_date_is_missing() -> None:
    body = (
        b"<Error><Code>RequestTimeTooSkewed</Code><RequestTime>20260504T100000Z</RequestTime>"
        b"<ServerTime>2026-05-04T10:30:00Z</ServerTime></Error>"
    )
    replies = [httpx.Response(403, content=body), httpx.Response(200)]
    transport = httpx.MockTransport(lambda request: replies.pop(0))
    auth = SigV4Auth(CREDS, region="us-east-1", service="s3", clock=lambda: T0)
    with httpx.Client(auth=auth, transport=transport) as client:
        assert client.get("https://b.s3.amazonaws.com/k").status_code == 200
    assert auth.clock_offset == timedelta(minutes=30)


class _StreamingTransport(httpx.BaseTransport):
    """Consumes the body as a network transport does (MockTransport buffers it)."""

    def __init__(self) -> None:
        self.calls = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        b"".join(request.stream)  # type: ignore[arg-type]
        date = format_datetime(T0 + timedelta(hours=1), usegmt=True)
        return httpx.Response(403, content=SKEWED, headers={"Date": date})


def test_one_shot_stream_is_not_resent_for_skew() -> None:
    transport = _StreamingTransport()
    auth = SigV4Auth(
        CREDS, region="us-east-1", service="s3", settings=SigningSettings.s3(), clock=lambda: T0
    )
    with httpx.Client(auth=auth, transport=transport) as client:
        assert client.put("https://b.s3.amazonaws.com/k", content=_gen(b"x")).status_code == 403
    assert transport.calls == 1
    assert auth.clock_offset == timedelta(hours=1)  # learned for the next request


# --- a real service and a client clock 20 minutes off --------------------------


@pytest.fixture
def service() -> Iterator[tuple[FakeService, str]]:
    svc = FakeService()
    with run_service(svc) as base:
        yield svc, base


def _late_clock() -> datetime:
    return datetime.now(UTC) - timedelta(minutes=20)


@pytest.mark.parametrize("reply", ["skew", "signature"])
def test_twenty_minutes_off_succeeds_on_second_attempt_then_first(
    service: tuple[FakeService, str], reply: str
) -> None:
    svc, base = service
    svc.skew_reply = reply
    auth = SigV4Auth(
        Credentials(svc.access_key, svc.secret_key),
        region=svc.region,
        service=svc.service,
        clock=_late_clock,
    )
    with httpx.Client(auth=auth, transport=RetryTransport(sleep=lambda s: None)) as client:
        assert client.get(f"{base}/first").status_code == 200
        assert len(svc.attempts) == 2
        assert client.get(f"{base}/second").status_code == 200
        assert len(svc.attempts) == 3
    assert all(a.valid for a in svc.attempts)
    assert abs(auth.clock_offset - timedelta(minutes=20)) < timedelta(seconds=5)


async def test_async_twenty_minutes_off(service: tuple[FakeService, str]) -> None:
    svc, base = service
    auth = SigV4Auth(
        Credentials(svc.access_key, svc.secret_key),
        region=svc.region,
        service=svc.service,
        clock=_late_clock,
    )
    async with httpx.AsyncClient(auth=auth, transport=RetryTransport()) as client:
        assert (await client.post(f"{base}/a", content=b"1")).status_code == 200
        assert (await client.post(f"{base}/b", content=b"2")).status_code == 200
    assert len(svc.attempts) == 3
    assert [a.valid for a in svc.attempts] == [True, True, True]


# --- expired session tokens -----------------------------------------------------


def _token_checking_transport() -> tuple[list[str], httpx.MockTransport]:
    tokens: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        token = request.headers["x-amz-security-token"]
        tokens.append(token)
        if token == "token-1":
            body = (
                b"<ErrorResponse><Error><Code>ExpiredToken</Code><Message>The security token "
                b"included in the request is expired</Message></Error></ErrorResponse>"
            )
            return httpx.Response(400, content=body)
        return httpx.Response(200)

    return tokens, httpx.MockTransport(handler)


def _refreshing_provider() -> tuple[list[int], RefreshableCredentialsProvider]:
    calls: list[int] = []

    def refresh() -> ExpiringCredentials:
        calls.append(1)
        n = len(calls)
        return ExpiringCredentials(
            Credentials("AKIDTMP", "secret", f"token-{n}"), datetime.now(UTC) + timedelta(hours=1)
        )

    return calls, RefreshableCredentialsProvider(refresh)


def test_expired_token_refreshes_and_resends_once() -> None:
    tokens, transport = _token_checking_transport()
    calls, provider = _refreshing_provider()
    auth = SigV4Auth(provider, region="us-east-1", service="sts")
    with httpx.Client(auth=auth, transport=transport) as client:
        assert client.get("https://sts.amazonaws.com/").status_code == 200
        assert client.get("https://sts.amazonaws.com/").status_code == 200
    assert tokens == ["token-1", "token-2", "token-2"]
    assert len(calls) == 2


async def test_async_expired_token_refreshes_and_resends_once() -> None:
    tokens, transport = _token_checking_transport()
    calls, provider = _refreshing_provider()
    auth = SigV4Auth(provider, region="us-east-1", service="sts")
    async with httpx.AsyncClient(auth=auth, transport=transport) as client:
        results = await asyncio.gather(
            *(client.get("https://sts.amazonaws.com/") for _ in range(5))
        )
    assert [r.status_code for r in results] == [200] * 5
    assert len(calls) == 2  # one refresh for all five expired requests
    # every request that went out with the expired token went out once more
    assert tokens.count("token-1") >= 1
    assert tokens.count("token-2") == 5


def test_expired_token_with_fixed_keys_is_returned() -> None:
    tokens, transport = _token_checking_transport()
    auth = SigV4Auth(Credentials("AKID", "s", "token-1"), region="us-east-1", service="sts")
    with httpx.Client(auth=auth, transport=transport) as client:
        assert client.get("https://sts.amazonaws.com/").status_code == 400
    assert tokens == ["token-1"]


# --- differential: whatever httpx sends after SigV4Auth verifies with botocore ----

_TOKEN = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=8)
_VALUE = st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=12)


@settings(max_examples=150, deadline=None)
@given(
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE"]),
    segments=st.lists(_TOKEN, max_size=3),
    query=st.lists(st.tuples(_TOKEN, _VALUE), max_size=4),
    headers=st.dictionaries(_TOKEN.map(lambda t: "x-test-" + t), _VALUE, max_size=3),
    body=st.binary(max_size=64),
    token=st.one_of(st.none(), _VALUE.filter(bool)),
)
def test_signed_requests_verify_with_botocore(
    method: str,
    segments: list[str],
    query: list[tuple[str, str]],
    headers: dict[str, str],
    body: bytes,
    token: str | None,
) -> None:
    creds = Credentials("AKIDPROP", "secret/prop+key", token)
    auth = SigV4Auth(creds, region="eu-west-1", service="svc", clock=lambda: T0)
    seen, transport = _capture()
    url = "https://svc.example.com/" + "/".join(segments)
    with httpx.Client(auth=auth, transport=transport) as client:
        client.request(method, url, params=query, headers=headers, content=body)
    sent = seen[0]
    wire = {k.decode().lower(): v.decode() for k, v in sent.headers.raw}
    signed = wire["authorization"].split("SignedHeaders=")[1].split(",")[0].split(";")
    aws = AWSRequest(
        method=method,
        url=f"https://svc.example.com{sent.url.raw_path.decode()}",
        data=body,
        headers={name: wire[name] for name in signed},
    )
    aws.context["timestamp"] = wire["x-amz-date"]
    boto = BotoSigV4Auth(BotoCredentials("AKIDPROP", "secret/prop+key", token), "svc", "eu-west-1")
    expected = boto.signature(boto.string_to_sign(aws, boto.canonical_request(aws)), aws)
    assert wire["authorization"].endswith(f"Signature={expected}")


def test_debug_log_shows_canonical_request_without_secrets(
    caplog: pytest.LogCaptureFixture,
) -> None:
    creds = Credentials("AKIDLOG", "very-secret-key", "very-secret-token")
    auth = SigV4Auth(creds, region="us-east-1", service="svc", clock=lambda: T0)
    with caplog.at_level(logging.DEBUG, logger="sigv4kit.auth"):
        next(auth.sync_auth_flow(httpx.Request("GET", "https://svc.example.com/a?b=1")))
    assert "CanonicalRequest:\nGET\n/a\nb=1\n" in caplog.text
    assert "x-amz-security-token:** REDACTED **" in caplog.text
    assert "StringToSign:\nAWS4-HMAC-SHA256\n20260504T100000Z\n" in caplog.text
    assert "very-secret" not in caplog.text
