"""The verification fast path gives the general verifier's answer on every input.

The fast path (sigv4kit.verify._fast) only ever accepts; None means "ask the
verifier". The property: whenever it accepts, the general verifier accepts
the same request with an equal Identity. Inputs are the conformance suites'
signed requests (tests/vectors), requests signed by botocore (an independent
signer), and single-byte mutations, dropped or repeated headers, other
times and other keys of each. So that the property is not vacuous, the fast
path must also accept the unmutated requests of the common shape.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import urlsplit

import pytest
from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth, SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotoCredentials
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sigv4kit.middleware import MemoryKeyStore, SigV4Middleware

from sigv4kit import (
    Identity,
    KeyRecord,
    PathNormalization,
    SessionTokenMode,
    SignedRequest,
    SigningSettings,
    VerificationError,
    Verifier,
    VerifierConfig,
    parse_raw_request,
)
from sigv4kit.canonical import split_target
from sigv4kit.canonical._fastwire import canonical_block
from sigv4kit.verify._fast import FastVerifier

VECTORS = Path(__file__).parent / "vectors"
SUITE_TIME = datetime(2015, 8, 30, 12, 36, tzinfo=UTC)
SUITE_AKID = "AKIDEXAMPLE"
SUITE_SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
NOW = datetime(2024, 2, 29, 23, 59, 58, tzinfo=UTC)
AKID = "AKIAFASTPATH00000001"
SECRET = "fast/path+secret/0123456789abcdefghijkl"
TOKEN = "FQoGZXIvYXdzEXAMPLE//token+value=="

Headers = tuple[tuple[bytes, bytes], ...]


@dataclass(frozen=True)
class Wire:
    """A request as an ASGI server hands it over."""

    name: str
    method: str
    raw_path: bytes
    query: bytes
    headers: Headers
    body: bytes
    key: KeyRecord
    verifier: Verifier
    now: datetime


def _record(akid: str, secret: str, token: str | None, **extra: Any) -> KeyRecord:
    digest = None if token is None else hashlib.sha256(token.encode()).hexdigest()
    return KeyRecord(access_key_id=akid, secret_access_key=secret, principal="p",
                     session_token_sha256=digest, **extra)


def _general(wire: Wire, key: KeyRecord | None, now: datetime) -> Identity | str:
    try:
        # (Verifiers that read header values as strict UTF-8 refuse here.)
        request = SignedRequest.from_wire(wire.method, wire.raw_path, wire.query, wire.headers)
        return wire.verifier.verify_at(request, key=key, now=now, body=wire.body)
    except VerificationError as exc:
        return exc.code


def _fast(wire: Wire, key: KeyRecord | None, now: datetime) -> Identity | None:
    return FastVerifier(wire.verifier).verify_at(
        wire.method, wire.raw_path, wire.query, wire.headers, key=key, now=now,
        body_sha256=hashlib.sha256(wire.body).hexdigest(),
    )


def _same_answer(wire: Wire, key: KeyRecord | None = None, now: datetime | None = None) -> bool:
    """Assert the property; True when the fast path accepted."""
    key = wire.key if key is None else key
    now = wire.now if now is None else now
    fast = _fast(wire, key, now)
    general = _general(wire, key, now)
    if fast is not None:
        assert fast == general, (wire.name, general)
    return fast is not None


# -- the conformance suites -------------------------------------------------------------------


def _suite_verifier(*, normalize: bool = True, omit_token: bool = False) -> Verifier:
    rules = SigningSettings(
        path_normalization=PathNormalization.ENABLED if normalize else PathNormalization.DISABLED,
        session_token_mode=SessionTokenMode.EXCLUDE if omit_token else SessionTokenMode.INCLUDE,
    )
    return Verifier(VerifierConfig(default_settings=rules, service_settings={}))


def _from_text(name: str, text: bytes, token: str | None, verifier: Verifier) -> Wire:
    raw = parse_raw_request(text)
    path, query = split_target(raw.target)
    return Wire(
        name=name, method=raw.method, raw_path=path.encode(), query=query.encode(),
        headers=tuple((k.encode(), v.encode()) for k, v in raw.headers), body=raw.body,
        key=_record(SUITE_AKID, SUITE_SECRET, token), verifier=verifier, now=SUITE_TIME,
    )


def _suite_cases() -> list[Wire]:
    cases = []
    for version in ("v4", "v4a"):
        for folder in sorted((VECTORS / "aws-c-auth" / version).iterdir()):
            context = json.loads((folder / "context.json").read_text())
            for form in ("header", "query"):
                signed = folder / f"{form}-signed-request.txt"
                if signed.exists():
                    verifier = _suite_verifier(
                        normalize=context["normalize"],
                        omit_token=context.get("omit_session_token", False),
                    )
                    cases.append(_from_text(f"{version}/{folder.name}/{form}", signed.read_bytes(),
                                            context["credentials"].get("token"), verifier))
    for sreq in sorted((VECTORS / "botocore-aws4").rglob("*.sreq")):
        name = sreq.parent.relative_to(VECTORS / "botocore-aws4").as_posix()
        raw = parse_raw_request(sreq.read_bytes())
        cases.append(_from_text(f"botocore/{name}", sreq.read_bytes(),
                                raw.header("X-Amz-Security-Token"),
                                _suite_verifier(omit_token=name.endswith("post-sts-header-after"))))
    return cases


SUITE = _suite_cases()


@pytest.mark.parametrize("wire", SUITE, ids=lambda wire: wire.name)
def test_suite_requests_same_answer(wire: Wire) -> None:
    _same_answer(wire)


def test_fast_path_accepts_the_common_suite_requests() -> None:
    accepted = {wire.name for wire in SUITE if _same_answer(wire)}
    # The plain SigV4 shapes, header and presigned (hand-picked, not computed).
    for name in ("v4/get-vanilla/header", "v4/get-vanilla/query",
                 "v4/get-vanilla-query-order-key-case/header", "v4/post-vanilla/query",
                 "botocore/get-vanilla", "botocore/get-vanilla-query"):
        assert name in accepted
    # SigV4A and the awkward shapes are left to the verifier.
    assert not any(name.startswith("v4a/") for name in accepted)
    assert "v4/get-header-value-multiline/header" not in accepted
    assert "v4/get-header-key-duplicate/header" not in accepted


# -- mutations --------------------------------------------------------------------------------


@st.composite
def mutated(draw: st.DrawFn, wire: Wire) -> tuple[Wire, KeyRecord, datetime]:
    """One byte changed, a header dropped or repeated, another time or another key."""
    headers = list(wire.headers)
    raw_path, query = wire.raw_path, wire.query
    kind = draw(st.sampled_from(["path", "query", "name", "value", "drop", "repeat", "add",
                                 "query-repeat", "none"]))
    byte = draw(st.integers(0, 255))

    def flip(data: bytes) -> bytes:
        if not data:
            return bytes([byte])
        at = draw(st.integers(0, len(data) - 1))
        return data[:at] + bytes([byte]) + data[at + 1:]

    if kind == "add":
        headers.insert(draw(st.integers(0, len(headers))), (
            draw(st.sampled_from([b"x-amz-meta-evil", b"X-Amz-Copy-Source", b"x-amz-date",
                                  b"x-amz-security-token", b"x-amz-content-sha256", b"host",
                                  b"authorization", b"date", b"content-length"])),
            draw(st.sampled_from([b"", b"1", b"UNSIGNED-PAYLOAD", TOKEN.encode(),
                                  b"20240229T235958Z", b"example.com"])),
        ))
    elif kind == "query-repeat" and query:
        pieces = query.split(b"&")
        pieces.insert(draw(st.integers(0, len(pieces))), draw(st.sampled_from(pieces)))
        query = b"&".join(pieces)
    elif kind == "path":
        raw_path = flip(raw_path)
    elif kind == "query":
        query = flip(query)
    elif headers and kind in ("name", "value", "drop", "repeat"):
        at = draw(st.integers(0, len(headers) - 1))
        name, value = headers[at]
        if kind == "name":
            headers[at] = (flip(name), value)
        elif kind == "value":
            headers[at] = (name, flip(value))
        elif kind == "drop":
            del headers[at]
        else:
            headers.append((name, value))
    shift = draw(st.sampled_from([0, 0, 0, 1, -1, 899, 900, 901, -901, 3600, 3601, 604801]))
    key = draw(st.sampled_from([
        wire.key,
        _record(wire.key.access_key_id, wire.key.secret_access_key, None),
        _record(wire.key.access_key_id, wire.key.secret_access_key, TOKEN),
        _record(wire.key.access_key_id, "another secret", None),
        _record("AKIDOTHER", wire.key.secret_access_key, None),
        KeyRecord(access_key_id=wire.key.access_key_id,
                  secret_access_key=wire.key.secret_access_key, principal="p", active=False,
                  session_token_sha256=wire.key.session_token_sha256),
        KeyRecord(access_key_id=wire.key.access_key_id,
                  secret_access_key=wire.key.secret_access_key, principal="p",
                  session_token_sha256=wire.key.session_token_sha256,
                  expires_at=wire.now - timedelta(seconds=1)),
    ]))
    changed = Wire(name=f"{wire.name} {kind}", method=wire.method, raw_path=raw_path,
                   query=query, headers=tuple(headers), body=wire.body, key=wire.key,
                   verifier=wire.verifier, now=wire.now)
    return changed, key, wire.now + timedelta(seconds=shift)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(SUITE).flatmap(mutated))
def test_mutated_suite_requests_same_answer(case: tuple[Wire, KeyRecord, datetime]) -> None:
    wire, key, now = case
    _same_answer(wire, key, now)


# -- requests signed by botocore ---------------------------------------------------------------

PATH_ATOMS = st.sampled_from([*list("abcXYZ019-._~"), "/", "%20", "%2F", "%E1%88%B4", "+", "//",
                              "/./", "/../"])
QUERY_ATOMS = st.sampled_from([*list("abcXYZ019-._~"), "%20", "%2F", "%3D", "%7e", "+", "/"])
VALUE_ATOMS = st.sampled_from([*list("abcXYZ 019;:,=\"'()/"), "  ", "\t", "é"])


@st.composite
def botocore_signed(draw: st.DrawFn) -> Wire:
    """A random request signed by botocore, as headers or as a presigned URL."""
    s3 = draw(st.booleans())
    presigned = draw(st.booleans())
    service = "s3" if s3 else "svc"
    path = "/" + draw(st.lists(PATH_ATOMS, max_size=6).map("".join))
    pairs = draw(st.lists(st.tuples(st.lists(QUERY_ATOMS, min_size=1, max_size=4).map("".join),
                                    st.lists(QUERY_ATOMS, max_size=4).map("".join)),
                          max_size=3))
    query = "&".join(f"{k}={v}" for k, v in pairs)
    names = draw(st.lists(st.sampled_from(["x-test-a", "content-type", "x-amz-meta-k",
                                           "accept"]), unique=True, max_size=3))
    headers = {n: draw(st.lists(VALUE_ATOMS, max_size=5).map("".join)) for n in names}
    token = draw(st.sampled_from([None, TOKEN]))
    method = draw(st.sampled_from(["GET", "PUT", "DELETE", "HEAD"]))
    host = draw(st.sampled_from(["example.com", "127.0.0.1:9000"]))
    url = f"http://{host}{path}" + (f"?{query}" if query else "")
    credentials = BotoCredentials(AKID, SECRET, token)
    if presigned:
        signer: Any = (S3SigV4QueryAuth if s3 else SigV4QueryAuth)(
            credentials, service, "eu-west-3", expires=900)
    else:
        signer = (S3SigV4Auth if s3 else SigV4Auth)(credentials, service, "eu-west-3")
    request = AWSRequest(method=method, url=url, headers=headers, data=b"")
    with mock.patch("botocore.auth.get_current_datetime", return_value=NOW.replace(tzinfo=None)):
        signer.add_auth(request)
    prepared = request.prepare()
    parts = urlsplit(prepared.url)
    wire_headers = [(b"host", host.encode())] + [
        (k.encode(), v.encode()) for k, v in prepared.headers.items()
    ]
    return Wire(
        name=f"botocore {'presigned ' if presigned else ''}{service} {method} {prepared.url}",
        method=method, raw_path=(parts.path or "/").encode(), query=parts.query.encode(),
        headers=tuple(wire_headers), body=b"", key=_record(AKID, SECRET, token),
        verifier=Verifier(VerifierConfig(regions={"eu-west-3"}, services={"svc", "s3"})),
        now=NOW,
    )


@settings(max_examples=150, deadline=None)
@given(botocore_signed())
def test_botocore_signed_same_answer(wire: Wire) -> None:
    _same_answer(wire)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(botocore_signed().flatmap(mutated))
def test_mutated_botocore_signed_same_answer(case: tuple[Wire, KeyRecord, datetime]) -> None:
    wire, key, now = case
    _same_answer(wire, key, now)


def _plain(wire: Wire) -> bool:
    """The common shape: a plain path and query, headers printable without space runs."""
    values = [value for _, value in wire.headers]
    return (
        b"%" not in wire.raw_path and b"." not in wire.raw_path and b"//" not in wire.raw_path
        and b"+" not in wire.raw_path and re.fullmatch(rb"[A-Za-z0-9\-._~=&]*", wire.query)
        and all(v.isascii() and b"  " not in v and b"\t" not in v and v == v.strip()
                for v in values)
    )


@settings(max_examples=100, deadline=None)
@given(botocore_signed())
def test_fast_path_accepts_plain_botocore_requests(wire: Wire) -> None:
    if _plain(wire):
        assert isinstance(_general(wire, wire.key, wire.now), Identity), wire.name
        assert _same_answer(wire), wire.name


# -- through the middleware -------------------------------------------------------------------


def _status(app: SigV4Middleware, wire: Wire) -> tuple[int, bytes]:
    async def run() -> tuple[int, bytes]:
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        async def inner(scope: Any, receive: Any, send: Any) -> None:
            identity = scope["sigv4"]
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": repr(identity).encode()})

        app.app = inner
        scope = {"type": "http", "method": wire.method, "path": wire.raw_path.decode("latin-1"),
                 "raw_path": wire.raw_path, "query_string": wire.query,
                 "headers": list(wire.headers), "http_version": "1.1", "scheme": "http",
                 "client": ("127.0.0.1", 1), "root_path": ""}
        await app(scope, receive, send)
        body = b"".join(m.get("body", b"") for m in sent[1:])
        if b"<Code>" in body:
            # The error code only: request ids differ from call to call.
            body = body.split(b"<Code>")[1].split(b"</Code>")[0]
        return int(sent[0]["status"]), body

    return asyncio.run(run())


@settings(max_examples=75, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(botocore_signed().flatmap(mutated))
def test_middleware_answers_as_without_fast_path(case: tuple[Wire, KeyRecord, datetime]) -> None:
    wire, key, now = case
    config = VerifierConfig(regions={"eu-west-3"}, services={"svc", "s3"})
    apps = [SigV4Middleware(_ok, store=MemoryKeyStore([key]), config=config,
                            clock=lambda: now, verified_request_cache_size=0) for _ in range(2)]
    with mock.patch.object(FastVerifier, "prepare", return_value=None):
        general = _status(apps[1], wire)
    assert _status(apps[0], wire) == general


async def _ok(scope: Any, receive: Any, send: Any) -> None:  # pragma: no cover - replaced
    raise AssertionError("replaced in _status")


# -- signatures over text the verifier would canonicalize differently ------------------------


def _hand_signed(lines: list[tuple[bytes, bytes]], wire_headers: list[tuple[bytes, bytes]],
                 date: bytes = b"20240229T235958Z") -> Wire:
    """A GET whose signature covers ``lines`` verbatim (a signer that does not
    trim or join the way SigV4 says); the HMAC chain written out by hand."""
    names = b";".join(name for name, _ in lines)
    canonical = b"GET\n/\n\n" + b"".join(n + b":" + v + b"\n" for n, v in lines) + (
        b"\n" + names + b"\n" + hashlib.sha256(b"").hexdigest().encode()
    )
    scope = b"20240229/eu-west-3/svc/aws4_request"
    string_to_sign = b"AWS4-HMAC-SHA256\n" + date + b"\n" + scope + b"\n" + (
        hashlib.sha256(canonical).hexdigest().encode()
    )
    key = ("AWS4" + SECRET).encode()
    for part in (b"20240229", b"eu-west-3", b"svc", b"aws4_request"):
        key = hmac.digest(key, part, "sha256")
    signature = hmac.digest(key, string_to_sign, "sha256").hex().encode()
    authorization = (b"AWS4-HMAC-SHA256 Credential=" + AKID.encode() + b"/" + scope
                     + b", SignedHeaders=" + names + b", Signature=" + signature)
    return Wire(
        name=repr(lines), method="GET", raw_path=b"/", query=b"",
        headers=(*wire_headers, (b"x-amz-date", date), (b"authorization", authorization)),
        body=b"", key=_record(AKID, SECRET, None),
        verifier=Verifier(VerifierConfig(regions={"eu-west-3"})), now=NOW,
    )


HOST = (b"host", b"example.com")
DATE = (b"x-amz-date", b"20240229T235958Z")


@pytest.mark.parametrize("value", [b" a", b"a ", b"a  b", b"a\tb", b"\ta", b"a\nb", b"a\x00b"])
def test_untrimmed_value_signed_verbatim_is_left_to_the_verifier(value: bytes) -> None:
    wire = _hand_signed([HOST, DATE, (b"x-test", value)], [HOST, (b"x-test", value)])
    assert _fast(wire, wire.key, NOW) is None
    assert _general(wire, wire.key, NOW) in ("SignatureDoesNotMatch", "InvalidRequest")


@pytest.mark.parametrize("value", [b"a\x1f", b"\x1ca", b"\xc3\xa9", b"\xff"])
def test_unusual_value_bytes_are_left_to_the_verifier(value: bytes) -> None:
    # The verifier keeps these bytes as they are (or decodes them as Latin-1):
    # its answer, whatever it is, is the only one.
    wire = _hand_signed([HOST, DATE, (b"x-test", value)], [HOST, (b"x-test", value)])
    assert _fast(wire, wire.key, NOW) is None


@pytest.mark.parametrize("token", [b"", b"a b", b"a\x7f", b"a\x00", b"\xc3\xa9"])
def test_session_token_outside_visible_ascii_is_left_to_the_verifier(token: bytes) -> None:
    header = (b"x-amz-security-token", token)
    wire = _hand_signed([HOST, DATE, header], [HOST, header])
    # The key the token would belong to: only the token check stands in the way.
    key = _record(AKID, SECRET, token.decode("latin-1"))
    assert _fast(wire, key, NOW) is None


def test_repeated_header_signed_one_way_is_left_to_the_verifier() -> None:
    wire = _hand_signed([HOST, DATE, (b"x-test", b"a")], [HOST, (b"x-test", b"a"),
                                                          (b"x-test", b"b")])
    assert _fast(wire, wire.key, NOW) is None
    assert _general(wire, wire.key, NOW) == "SignatureDoesNotMatch"


def test_hand_signed_plain_request_is_accepted_by_both() -> None:
    # The oracle above is right: a plain request it signs passes both paths.
    wire = _hand_signed([HOST, DATE, (b"x-test", b"a b")], [HOST, (b"x-test", b"a b")])
    assert _same_answer(wire)


def test_repeated_presigned_signature_is_left_to_the_verifier() -> None:
    wire = botocore_signed_example(presigned=True)
    assert _same_answer(wire)
    signature = next(p for p in wire.query.split(b"&") if p.startswith(b"X-Amz-Signature="))
    repeated = Wire(**{**wire.__dict__, "query": wire.query + b"&" + signature})
    assert _fast(repeated, wire.key, NOW) is None
    assert _general(repeated, wire.key, NOW) == "AuthorizationQueryParametersError"


def botocore_signed_example(*, presigned: bool) -> Wire:
    credentials = BotoCredentials(AKID, SECRET)
    signer: Any = (SigV4QueryAuth(credentials, "svc", "eu-west-3", expires=900) if presigned
                   else SigV4Auth(credentials, "svc", "eu-west-3"))
    request = AWSRequest(method="GET", url="http://example.com/items?limit=10", data=b"")
    with mock.patch("botocore.auth.get_current_datetime", return_value=NOW.replace(tzinfo=None)):
        signer.add_auth(request)
    prepared = request.prepare()
    parts = urlsplit(prepared.url)
    return Wire(
        name="example", method="GET", raw_path=parts.path.encode(), query=parts.query.encode(),
        headers=((b"host", b"example.com"),
                 *((k.encode(), v.encode()) for k, v in prepared.headers.items())),
        body=b"", key=_record(AKID, SECRET, None),
        verifier=Verifier(VerifierConfig(regions={"eu-west-3"})), now=NOW,
    )


def test_date_of_another_day_than_the_scope_is_left_to_the_verifier() -> None:
    # Three seconds after NOW, inside the skew window, but on the next day.
    date = b"20240301T000001Z"
    wire = _hand_signed([HOST, (b"x-amz-date", date)], [HOST], date=date)
    assert _fast(wire, wire.key, NOW) is None
    assert _general(wire, wire.key, NOW) == "AuthorizationHeaderMalformed"


@pytest.mark.parametrize("presigned", [False, True])
def test_unsigned_amz_header_is_left_to_the_verifier(presigned: bool) -> None:
    wire = botocore_signed_example(presigned=presigned)
    added = Wire(**{**wire.__dict__, "headers": (*wire.headers, (b"x-amz-meta-evil", b"1"))})
    assert _fast(added, wire.key, NOW) is None
    assert _general(added, wire.key, NOW) == "AccessDenied"


@pytest.mark.parametrize("extra", [(b"user-agent", b"caf\xe9"), (b"user-agent", b"\xc3"),
                                   (b"content-encoding", b"aws-chunked"),
                                   (b"x-amz-decoded-content-length", b"0")])
def test_unusual_unsigned_headers_are_left_to_the_verifier(extra: tuple[bytes, bytes]) -> None:
    # Bytes that are not UTF-8, and aws-chunked declarations, are the verifier's
    # to judge (it refuses them under issue 12's rules), signed or not.
    wire = botocore_signed_example(presigned=False)
    added = Wire(**{**wire.__dict__, "headers": (*wire.headers, extra)})
    assert _fast(added, wire.key, NOW) is None


@pytest.mark.parametrize("path", [b"/a/../items", b"/a/./items", b"//items", b"/%2e%2e/items"])
def test_paths_with_dot_or_empty_segments_are_left_to_the_verifier(path: bytes) -> None:
    wire = botocore_signed_example(presigned=False)
    assert _fast(Wire(**{**wire.__dict__, "raw_path": path}), wire.key, NOW) is None


def test_a_verifier_configured_after_the_fact_is_not_bypassed() -> None:
    wire = botocore_signed_example(presigned=False)
    fast = FastVerifier(wire.verifier)
    assert fast.verify_at(wire.method, wire.raw_path, wire.query, wire.headers, key=wire.key,
                          now=NOW, body_sha256=hashlib.sha256(b"").hexdigest()) is not None
    wire.verifier.config = VerifierConfig(regions={"us-west-2"})
    assert fast.verify_at(wire.method, wire.raw_path, wire.query, wire.headers, key=wire.key,
                          now=NOW, body_sha256=hashlib.sha256(b"").hexdigest()) is None
    assert _general(wire, wire.key, NOW) == "AuthorizationHeaderMalformed"


def test_middleware_with_a_replaced_verifier_answers_by_it() -> None:
    wire = botocore_signed_example(presigned=False)
    app = SigV4Middleware(_ok, store=MemoryKeyStore([wire.key]), clock=lambda: NOW,
                          config=VerifierConfig(regions={"eu-west-3"}))
    assert _status(app, wire)[0] == 200
    app.verifier = Verifier(VerifierConfig(regions={"us-west-2"}))
    assert _status(app, wire) == (400, b"AuthorizationHeaderMalformed")


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from([b"a", b" ", b"\n", b"\t", b"\x00", b"\x7f", b"\xc3", b"~", b":"]),
                max_size=12).map(b"".join))
def test_canonical_block_check_is_the_rule(block: bytes) -> None:
    """A header block canonicalizes to itself when it holds only printable ASCII and
    newlines, no two spaces in a row and no space before a newline (the rule,
    written here as one regex, independently of the check's translate and search)."""
    rule = re.compile(rb"[^\x20-\x7e\n]|  | \n")
    assert canonical_block(block) is (rule.search(block) is None)
