"""The httpx adapters: SigV4Auth, SigV4AAuth and presign."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta, timezone
from unittest import mock
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotoCredentials

import sigv4kit
from sigv4kit.canonical import payload_sha256
from sigv4kit.signing import derive_sigv4a_private_key, verify_sigv4a

NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
CREDS = sigv4kit.Credentials("AKIAEXAMPLE", "secret/key+value", "session-token")


def clock() -> datetime:
    return NOW


def botocore_authorization(request: httpx.Request, s3: bool = False) -> str:
    """Re-sign what httpx would send with botocore, for comparison."""
    skip = {"authorization", "x-amz-date", "x-amz-security-token", "x-amz-content-sha256"}
    aws = AWSRequest(method=request.method, url=str(request.url), data=request.content)
    for name, value in request.headers.multi_items():
        if name.lower() not in skip:
            aws.headers[name] = value
    cls = S3SigV4Auth if s3 else SigV4Auth
    signer = cls(
        BotoCredentials("AKIAEXAMPLE", "secret/key+value", "session-token"), "svc", "us-east-1"
    )
    with mock.patch("botocore.auth.get_current_datetime", return_value=NOW.replace(tzinfo=None)):
        signer.add_auth(aws)
    return str(aws.headers["Authorization"])


def test_sync_flow_signs_what_httpx_sends() -> None:
    auth = sigv4kit.SigV4Auth(CREDS, region="us-east-1", service="svc", clock=clock)
    request = httpx.Request(
        "POST",
        "https://example.com:8443/a b/c?z=1&y=a+b&x=%2f",
        content=b"hello",
        headers={"X-Custom": "  two   spaces "},
    )
    signed = next(auth.sync_auth_flow(request))
    # A literal '+' is a plus sign: it goes out as %2B, as it was signed.
    assert signed.url.raw_path == b"/a%20b/c?z=1&y=a%2Bb&x=%2F"
    assert signed.headers["host"] == "example.com:8443"
    assert signed.headers["x-amz-date"] == "20240501T120000Z"
    assert signed.headers["x-amz-security-token"] == "session-token"
    assert signed.headers["authorization"] == botocore_authorization(signed)


async def test_async_flow() -> None:
    auth = sigv4kit.SigV4Auth(CREDS, region="us-east-1", service="svc", clock=clock)
    seen: list[httpx.Request] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler), auth=auth) as client:
        response = await client.put("https://example.com/k", content=b"data")
    assert response.status_code == 204
    assert seen[0].headers["authorization"] == botocore_authorization(seen[0])


def test_s3_settings_match_botocore_s3_signer() -> None:
    auth = sigv4kit.SigV4Auth(
        CREDS,
        region="us-east-1",
        service="svc",
        settings=sigv4kit.SigningSettings.s3(),
        clock=clock,
    )
    request = httpx.Request(
        "PUT", "http://bucket.example.com/dir//key%2Fpart+1.txt", content=b"body"
    )
    signed = next(auth.sync_auth_flow(request))
    # S3 rules: no normalization ('//' kept), the key encoded strictly once.
    assert signed.url.raw_path == b"/dir//key%2Fpart%2B1.txt"
    assert signed.headers["x-amz-content-sha256"] == payload_sha256(b"body")
    assert signed.headers["authorization"] == botocore_authorization(signed, s3=True)


def test_resigning_replaces_the_earlier_signature() -> None:
    times = iter([NOW, NOW + timedelta(seconds=5)])
    auth = sigv4kit.SigV4Auth(CREDS, region="us-east-1", service="svc", clock=lambda: next(times))
    request = httpx.Request("GET", "https://example.com/")
    auth.sign(request)
    first = request.headers["authorization"]
    auth.sign(request)
    assert request.headers.get_list("authorization") == [request.headers["authorization"]]
    assert request.headers.get_list("x-amz-date") == ["20240501T120005Z"]
    assert request.headers.get_list("x-amz-security-token") == ["session-token"]
    assert request.headers["authorization"] != first


def test_sigv4a_auth_verifies() -> None:
    auth = sigv4kit.SigV4AAuth(
        CREDS, region_set=["us-east-1", "eu-west-1"], service="svc", clock=clock
    )
    request = httpx.Request("GET", "https://example.com/x?a=1")
    result = auth.sign(request)
    assert request.headers["x-amz-region-set"] == "us-east-1,eu-west-1"
    assert request.headers["authorization"].startswith(
        "AWS4-ECDSA-P256-SHA256 Credential=AKIAEXAMPLE/20240501/svc/aws4_request, "
    )
    key = derive_sigv4a_private_key(CREDS.access_key_id, CREDS.secret_access_key)
    assert verify_sigv4a(key.public_key(), str(result.string_to_sign), result.signature)


def test_presign_matches_botocore_s3_query_signer() -> None:
    url = sigv4kit.presign(
        "GET",
        "https://bucket.s3.amazonaws.com/reports/q3 2024.csv",
        credentials=CREDS,
        region="us-east-1",
        service="s3",
        settings=sigv4kit.SigningSettings.s3(),
        expires_in=600,
        now=NOW,
    )
    query = parse_qs(urlsplit(url).query)
    assert query["X-Amz-Expires"] == ["600"]
    assert query["X-Amz-Security-Token"] == ["session-token"]
    aws = AWSRequest(method="GET", url="https://bucket.s3.amazonaws.com/reports/q3%202024.csv")
    signer = S3SigV4QueryAuth(
        BotoCredentials("AKIAEXAMPLE", "secret/key+value", "session-token"), "s3", "us-east-1", 600
    )
    with mock.patch("botocore.auth.get_current_datetime", return_value=NOW.replace(tzinfo=None)):
        signer.add_auth(aws)
    assert query["X-Amz-Signature"] == parse_qs(urlsplit(aws.url).query)["X-Amz-Signature"]


def test_presign_accepts_other_timezones() -> None:
    paris = timezone(timedelta(hours=2))
    a = sigv4kit.presign(
        "GET", "https://h/", credentials=CREDS, region="r", service="s", now=NOW.astimezone(paris)
    )
    b = sigv4kit.presign("GET", "https://h/", credentials=CREDS, region="r", service="s", now=NOW)
    assert a == b


@pytest.mark.parametrize("expires", [0, -1, 604801, 3.5, True])
def test_presign_expiry_out_of_range(expires: object) -> None:
    with pytest.raises(sigv4kit.InvalidExpiryError, match="expires_in"):
        sigv4kit.presign(
            "GET",
            "https://h/",
            credentials=CREDS,
            region="r",
            service="s",
            expires_in=expires,
            now=NOW,
        )  # type: ignore[arg-type]


def test_presign_limits_are_inclusive() -> None:
    for expires in (1, 604800):
        url = sigv4kit.presign(
            "GET",
            "https://h/",
            credentials=CREDS,
            region="r",
            service="s",
            expires_in=expires,
            now=NOW,
        )
        assert f"X-Amz-Expires={expires}&" in url


def test_naive_datetime_is_refused() -> None:
    with pytest.raises(sigv4kit.InvalidTimeError, match="timezone-aware"):
        sigv4kit.presign(
            "GET",
            "https://h/",
            credentials=CREDS,
            region="r",
            service="s",
            now=datetime(2024, 1, 1),
        )
    auth = sigv4kit.SigV4Auth(CREDS, region="r", service="s", clock=lambda: datetime(2024, 1, 1))
    with pytest.raises(sigv4kit.InvalidTimeError):
        auth.sign(httpx.Request("GET", "https://h/"))


@pytest.mark.parametrize("value", ["a\r\nInjected: 1", "a\nb", "nul\x00"])
def test_unsendable_header_values_are_refused(value: str) -> None:
    auth = sigv4kit.SigV4Auth(CREDS, region="r", service="s", clock=clock)
    request = httpx.Request("GET", "https://h/", headers={"X-Bad": value})
    with pytest.raises(sigv4kit.InvalidHeaderError, match="X-Bad"):
        auth.sign(request)


def test_unread_stream_body_is_refused_with_the_options() -> None:
    def chunks() -> Iterator[bytes]:
        yield b"abc"

    auth = sigv4kit.SigV4Auth(CREDS, region="r", service="s", clock=clock)
    request = httpx.Request("POST", "https://h/", content=chunks())
    with pytest.raises(sigv4kit.BodyNotReadableError, match="UNSIGNED"):
        auth.sign(request)


async def test_unread_async_stream_body_is_refused() -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b"abc"

    auth = sigv4kit.SigV4Auth(CREDS, region="r", service="s", clock=clock)
    request = httpx.Request("POST", "https://h/", content=chunks())
    with pytest.raises(sigv4kit.BodyNotReadableError):
        auth.sign(request)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"region": ""}, "region"),
        ({"region": "us east"}, "region"),
        ({"service": "a/b"}, "service"),
    ],
)
def test_bad_scope_parts(kwargs: dict[str, str], message: str) -> None:
    params = {"region": "us-east-1", "service": "svc", **kwargs}
    with pytest.raises(sigv4kit.SigningError, match=message):
        sigv4kit.sign("GET", "/", [("Host", "h")], credentials=CREDS, now=NOW, **params)


def test_missing_host_is_refused() -> None:
    with pytest.raises(sigv4kit.InvalidRequestError, match="Host"):
        sigv4kit.sign("GET", "/", [], credentials=CREDS, region="r", service="s", now=NOW)


def test_non_bytes_body_is_refused() -> None:
    with pytest.raises(sigv4kit.SigningError, match="body must be bytes"):
        sigv4kit.sign(
            "GET",
            "/",
            [("Host", "h")],
            credentials=CREDS,
            region="r",
            service="s",
            now=NOW,
            body="text",
        )  # type: ignore[arg-type]


def test_credentials_redact_secrets() -> None:
    text = repr(CREDS)
    assert "secret/key+value" not in text
    assert "session-token" not in text
    assert "AKIAEXAMPLE" in text
    assert "secret" not in repr(sigv4kit.SigV4Auth(CREDS, region="r", service="s"))


@pytest.mark.parametrize("args", [("", "s"), ("AKID", ""), ("AK/ID", "s"), ("AKID", "s", "")])
def test_bad_credentials(args: tuple[str, ...]) -> None:
    with pytest.raises(sigv4kit.CredentialsError):
        sigv4kit.Credentials(*args)


def test_settings_refuse_unsigning_host() -> None:
    with pytest.raises(ValueError, match="host"):
        sigv4kit.SigningSettings(unsigned_headers=frozenset({"Host"}))


def test_unsigned_headers_are_not_signed_but_sent() -> None:
    result = sigv4kit.sign(
        "GET",
        "/",
        [("Host", "h"), ("User-Agent", "x/1"), ("X-Amzn-Trace-Id", "Root=1")],
        credentials=CREDS,
        region="r",
        service="s",
        now=NOW,
    )
    assert result.canonical_request.signed_headers == "host;x-amz-date;x-amz-security-token"
    assert ("User-Agent", "x/1") in result.headers


def test_default_port_dropped_and_ipv6_kept() -> None:
    auth = sigv4kit.SigV4Auth(CREDS, region="r", service="s", clock=clock)
    for url, host in [
        ("https://example.com:443/", "example.com"),
        ("http://[::1]:8080/", "[::1]:8080"),
        ("http://example.com:80/", "example.com"),
    ]:
        request = httpx.Request("GET", url)
        result = auth.sign(request)
        assert dict(result.canonical_request.headers)["host"] == host
