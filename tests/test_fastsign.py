"""The signing fast path signs exactly as sign() does, and as botocore does.

The fast path (sigv4kit.client._fastsign) returns None for anything but the common
request shape; whenever it signs, the request it leaves must be byte for
byte the one sign_httpx_request leaves (headers, URL), its result must equal
sign()'s, and for plain requests the signature must be botocore's.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest import mock

import httpx
import pytest
from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotoCredentials
from hypothesis import given, settings
from hypothesis import strategies as st

import sigv4kit
from sigv4kit import PayloadMode, SessionTokenMode, SigningResult, SigningSettings
from sigv4kit.client import SIGNING_RESULT_EXTENSION, sign_httpx_request
from sigv4kit.client._fastsign import FastSigner

NOW = datetime(2024, 2, 29, 23, 59, 58, 123456, tzinfo=UTC)
AKID = "AKIAFASTSIGN00000001"
SECRET = "fast/sign+secret/0123456789abcdefghijkl"
TOKEN = "FQoGZXIvYXdzEXAMPLE//token+value=="

PATH_ATOMS = st.sampled_from([*list("abcXYZ019-._~"), "/", "%20", "%2F", "+", "//", "/./", "é"])
QUERY_ATOMS = st.sampled_from([*list("abcXYZ019-._~"), "%20", "%2F", "%3D", "%41", "%7e", "+",
                               "/", "="])
VALUE_ATOMS = st.sampled_from([*list("abcXYZ 019;:,=\"'()/"), "  ", "\t", "é"])
NAMES = st.sampled_from(["x-test-a", "X-Test-B", "content-type", "accept", "user-agent",
                         "x-amz-meta-k", "Authorization", "x-amz-date", "expect"])
RULES = {
    "default": SigningSettings(),
    "s3": SigningSettings.s3(),
    "unsigned": SigningSettings().replace(payload=PayloadMode.UNSIGNED),
    "token-after": SigningSettings().replace(session_token_mode=SessionTokenMode.EXCLUDE),
}


@st.composite
def requests(draw: st.DrawFn) -> dict[str, Any]:
    path = "/" + draw(st.lists(PATH_ATOMS, max_size=6).map("".join))
    pairs = draw(st.lists(st.tuples(st.lists(QUERY_ATOMS, min_size=1, max_size=3).map("".join),
                                    st.lists(QUERY_ATOMS, max_size=3).map("".join)),
                          max_size=3))
    query = "&".join(f"{k}={v}" for k, v in pairs)
    host = draw(st.sampled_from(["example.com", "127.0.0.1:9000"]))
    return {
        "method": draw(st.sampled_from(["GET", "PUT", "POST", "DELETE", "HEAD"])),
        "url": f"https://{host}{path}" + (f"?{query}" if query else ""),
        "headers": draw(st.lists(st.tuples(NAMES, st.lists(VALUE_ATOMS, max_size=5)
                                           .map("".join)), max_size=3)),
        "content": draw(st.sampled_from([b"", b"{}", b"body bytes"])),
        "token": draw(st.sampled_from([None, TOKEN])),
        "rules": draw(st.sampled_from(sorted(RULES))),
        "payload_hash": draw(st.sampled_from([None, None, "UNSIGNED-PAYLOAD",
                                              hashlib.sha256(b"x").hexdigest()])),
        "now": NOW + timedelta(seconds=draw(st.integers(0, 3))),
    }


def _build(spec: dict[str, Any]) -> httpx.Request:
    headers = [(name, value.encode()) for name, value in spec["headers"]]
    return httpx.Request(spec["method"], spec["url"], headers=headers, content=spec["content"])


def _sign_both(spec: dict[str, Any], signer: FastSigner | None = None) -> tuple[
    httpx.Request, SigningResult | None, httpx.Request, SigningResult
]:
    fast_request, general_request = _build(spec), _build(spec)
    credentials = sigv4kit.Credentials(AKID, SECRET, spec["token"])
    arguments: dict[str, Any] = {
        "credentials": credentials, "region": "eu-west-3", "service": "svc",
        "settings": RULES[spec["rules"]], "now": spec["now"], "payload_hash": spec["payload_hash"],
    }
    fast = (signer or FastSigner()).sign(fast_request, **arguments)
    general = sign_httpx_request(general_request, **arguments)
    return fast_request, fast, general_request, general


def _plain(spec: dict[str, Any]) -> bool:
    """The common shape, judged independently of the code under test."""
    target = _build(spec).url.raw_path.decode()
    path, _, query = target.partition("?")
    values = [value for _, value in spec["headers"]]
    names = [name.lower() for name, _ in spec["headers"]]
    return (
        re.fullmatch(r"/|(/[A-Za-z0-9_~-][A-Za-z0-9._~-]*)+/?", path) is not None
        and re.fullmatch(r"([A-Za-z0-9._~-]+=[A-Za-z0-9._~-]*(&|$))*", query) is not None
        and all(v.isascii() and "  " not in v and "\t" not in v and v == v.strip(" ")
                for v in values)
        and len(set(names)) == len(names)
        and not {"authorization", "x-amz-date"} & set(names)
    )


@settings(max_examples=200, deadline=None)
@given(requests())
def test_fast_signature_is_sign_s(spec: dict[str, Any]) -> None:
    fast_request, fast, general_request, general = _sign_both(spec)
    if _plain(spec):
        assert fast is not None, spec  # the common shape takes the fast path
    if fast is None:
        return
    assert fast_request.headers.multi_items() == general_request.headers.multi_items()
    assert fast_request.url == general_request.url
    assert isinstance(fast, SigningResult)
    assert fast == general
    assert str(fast.canonical_request) == str(general.canonical_request)
    assert fast.authorization == general.authorization


@settings(max_examples=100, deadline=None)
@given(requests())
def test_fast_signature_is_botocore_s(spec: dict[str, Any]) -> None:
    if not _plain(spec) or spec["payload_hash"] is not None or spec["rules"] not in (
        "default", "s3"
    ):
        return
    fast_request, fast, _, _ = _sign_both(spec)
    assert fast is not None
    credentials = BotoCredentials(AKID, SECRET, spec["token"])
    signer: Any = (S3SigV4Auth if spec["rules"] == "s3" else SigV4Auth)(
        credentials, "svc", "eu-west-3")
    # What httpx sends (it adds Host and, for a body, Content-Length).
    headers = {k: v for k, v in _build(spec).headers.multi_items() if k != "host"}
    # The URL httpx sends (it removes dot segments, for one).
    boto = AWSRequest(method=spec["method"], url=str(_build(spec).url), headers=headers,
                      data=spec["content"])
    with mock.patch("botocore.auth.get_current_datetime",
                    return_value=spec["now"].replace(tzinfo=None, microsecond=0)):
        signer.add_auth(boto)
    assert fast_request.headers["authorization"] == boto.headers["Authorization"]


def test_one_signer_follows_changed_settings_and_seconds() -> None:
    signer = FastSigner()
    base = {"method": "GET", "url": "https://example.com/a?b=c", "headers": [],
            "content": b"", "token": None, "payload_hash": None}
    for rules in ("default", "s3", "default"):
        for seconds in (0, 0, 1, 61):
            spec = {**base, "rules": rules, "now": NOW + timedelta(seconds=seconds)}
            fast_request, fast, general_request, general = _sign_both(spec, signer)
            assert fast is not None
            assert fast_request.headers.multi_items() == general_request.headers.multi_items()
            assert fast == general


def test_auth_uses_the_fast_path_and_keeps_its_result_inspectable() -> None:
    auth = sigv4kit.SigV4Auth(sigv4kit.Credentials(AKID, SECRET, TOKEN), region="eu-west-3",
                              service="svc", clock=lambda: NOW)
    request = httpx.Request("GET", "https://example.com/items?limit=10")
    with mock.patch("sigv4kit.client._auth.sign_httpx_request") as general:
        result = auth.sign(request)
    general.assert_not_called()
    assert request.extensions[SIGNING_RESULT_EXTENSION] is result
    # The canonical request, written out by hand from SigV4's rules (with the
    # SDK attempt headers, amz-sdk-*, that versions of the auth add).
    sdk = sorted((k, v) for k, v in request.headers.items() if k.startswith("amz-sdk-"))
    assert str(result.canonical_request) == (
        "GET\n/items\nlimit=10\n" + "".join(f"{k}:{v}\n" for k, v in sdk)
        + "host:example.com\nx-amz-date:20240229T235958Z\n"
        f"x-amz-security-token:{TOKEN}\n\n" + "".join(f"{k};" for k, _ in sdk)
        + "host;x-amz-date;x-amz-security-token\n"
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )
    assert result.authorization == request.headers["authorization"]


@pytest.mark.parametrize("region", ["eu west", "a/b", ""])
def test_bad_region_is_left_to_sign(region: str) -> None:
    request = httpx.Request("GET", "https://example.com/")
    assert FastSigner().sign(
        request, credentials=sigv4kit.Credentials(AKID, SECRET), region=region, service="svc",
        settings=SigningSettings(), now=NOW, payload_hash=None,
    ) is None
    assert "authorization" not in request.headers


@pytest.mark.parametrize("value", [b"a\nb", b"a\rb", b"a\x00b"])
def test_unsendable_unsigned_header_is_left_to_sign(value: bytes) -> None:
    request = httpx.Request("GET", "https://example.com/", headers=[("User-Agent", value)])
    arguments: dict[str, Any] = {
        "credentials": sigv4kit.Credentials(AKID, SECRET), "region": "eu-west-3",
        "service": "svc", "settings": SigningSettings(), "now": NOW, "payload_hash": None,
    }
    assert FastSigner().sign(request, **arguments) is None
    with pytest.raises(sigv4kit.InvalidHeaderError):
        sign_httpx_request(request, **arguments)


@pytest.mark.parametrize("name", ["amz-sdk-invocation-id", "Amz-Sdk-Request"])
def test_auth_replaces_the_requests_own_sdk_header(name: str) -> None:
    """A request that already carries an amz-sdk-* header leaves the fast path
    (which appends them) and goes out with one copy: the auth's, signed."""
    auth = sigv4kit.SigV4Auth(sigv4kit.Credentials(AKID, SECRET), region="eu-west-3",
                              service="svc", clock=lambda: NOW,
                              invocation_id=lambda: "00000000-0000-4000-8000-000000000001")
    request = httpx.Request("GET", "https://example.com/items", headers=[(name, "mine")])
    result = auth.sign(request)
    pairs = [(k, v) for k, v in request.headers.multi_items() if k.startswith("amz-sdk-")]
    assert sorted(pairs) == [("amz-sdk-invocation-id", "00000000-0000-4000-8000-000000000001"),
                             ("amz-sdk-request", "attempt=1; max=3")]
    assert "amz-sdk-invocation-id;amz-sdk-request;host" in result.authorization
    assert result.authorization == request.headers["authorization"]


def test_fast_path_declines_an_added_header_the_request_has() -> None:
    request = httpx.Request("GET", "https://example.com/", headers=[("amz-sdk-request", "x")])
    before = request.headers.multi_items()
    assert FastSigner().sign(
        request, credentials=sigv4kit.Credentials(AKID, SECRET), region="eu-west-3",
        service="svc", settings=SigningSettings(), now=NOW, payload_hash=None,
        added=[(b"amz-sdk-request", b"attempt=1; max=3")],
    ) is None
    assert request.headers.multi_items() == before


@pytest.mark.parametrize("query", [
    "a=1&a0=2", "a0=2&a=1", "a-=1&a=2", "b=&a=", "k=%2F&k=%3A", "k=%41", "k=%2f", "k=%2", "=1",
    "a=b=c", "a=1&&b=2", "a=1&", "k%3D=v",
])
def test_fast_query_order_is_sign_s(query: str) -> None:
    """Keys that share a prefix sort by key first ('a' before 'a0' and 'a-'), as
    sign() sorts (key, value) pairs; non-strict queries are left to sign()."""
    spec = {"method": "GET", "url": f"https://example.com/p?{query}", "headers": [],
            "content": b"", "token": None, "payload_hash": None, "rules": "default",
            "now": NOW}
    fast_request, fast, general_request, general = _sign_both(spec)
    if fast is not None:
        assert fast_request.headers.multi_items() == general_request.headers.multi_items()
        assert str(fast.canonical_request) == str(general.canonical_request)
    strict = query in ("a=1&a0=2", "a0=2&a=1", "a-=1&a=2", "b=&a=", "k=%2F&k=%3A", "k%3D=v")
    assert (fast is not None) == strict, query
