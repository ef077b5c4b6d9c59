"""The verifier against the official signed requests, byte flips and the error table.

Inputs are the signed requests published with the AWS signing test suites
(tests/vectors, see INDEX.md): aws-c-auth v4/v4a ``*-signed-request.txt``
and botocore ``.sreq``. They are fed to the verification core (not through
an HTTP parser: some targets hold raw spaces and UTF-8, INDEX.md note 5),
with the clock frozen at the suite's time.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sigv4kit
from sigv4kit import (
    KeyRecord,
    PathNormalization,
    SessionTokenMode,
    SignedRequest,
    SigningSettings,
    Verifier,
    VerifierConfig,
    parse_raw_request,
)
from sigv4kit.canonical import is_normalized_path

VECTORS = Path(__file__).parent / "vectors"
WHEN = datetime(2015, 8, 30, 12, 36, tzinfo=UTC)
AKID = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"


@dataclass(frozen=True)
class Case:
    name: str
    request: SignedRequest
    body: bytes
    key: KeyRecord
    verifier: Verifier


def _record(token: str | None) -> KeyRecord:
    return KeyRecord(
        access_key_id=AKID,
        secret_access_key=SECRET,
        principal="suite",
        session_token_sha256=None if token is None else hashlib.sha256(token.encode()).hexdigest(),
    )


def _verifier(*, normalize: bool = True, omit_token: bool = False) -> Verifier:
    settings = SigningSettings(
        path_normalization=PathNormalization.ENABLED if normalize else PathNormalization.DISABLED,
        session_token_mode=SessionTokenMode.EXCLUDE if omit_token else SessionTokenMode.INCLUDE,
    )
    # The suites sign paths with '.', '..' and '//' to test canonicalization;
    # a middleware refuses such paths (normalized_paths_only), tested apart.
    return Verifier(VerifierConfig(default_settings=settings, service_settings={},
                                   normalized_paths_only=False))


def _c_auth_cases() -> list[Case]:
    cases = []
    for version in ("v4", "v4a"):
        for folder in sorted((VECTORS / "aws-c-auth" / version).iterdir()):
            context = json.loads((folder / "context.json").read_text())
            for form in ("header", "query"):
                signed = folder / f"{form}-signed-request.txt"
                if not signed.exists():
                    continue  # the two v4a stubs have no expected output (INDEX.md)
                raw = parse_raw_request(signed.read_bytes())
                cases.append(
                    Case(
                        name=f"{version}/{folder.name}/{form}",
                        request=SignedRequest.from_raw(raw),
                        body=raw.body,
                        key=_record(context["credentials"].get("token")),
                        verifier=_verifier(
                            normalize=context["normalize"],
                            omit_token=context.get("omit_session_token", False),
                        ),
                    )
                )
    return cases


def _botocore_cases() -> list[Case]:
    cases = []
    for sreq in sorted((VECTORS / "botocore-aws4").rglob("*.sreq")):
        name = sreq.parent.relative_to(VECTORS / "botocore-aws4").as_posix()
        if name == "get-vanilla-with-session-token":
            # INDEX.md, botocore notes: this .sreq carries get-vanilla's
            # signature (a known upstream defect); the .authz is the right one.
            continue
        raw = parse_raw_request(sreq.read_bytes())
        token = raw.header("X-Amz-Security-Token")
        cases.append(
            Case(
                name=f"botocore/{name}",
                request=SignedRequest.from_raw(raw),
                body=raw.body,
                key=_record(token),
                verifier=_verifier(omit_token=name.endswith("post-sts-header-after")),
            )
        )
    return cases


C_AUTH = _c_auth_cases()
BOTOCORE = _botocore_cases()
ALL = C_AUTH + BOTOCORE


def test_case_counts() -> None:
    # 38 v4 + 38 complete v4a cases, header and query; 33 botocore (one skipped).
    assert len(C_AUTH) == 152
    assert len(BOTOCORE) == 33


@pytest.mark.parametrize("case", ALL, ids=lambda c: c.name)
def test_signed_request_verifies(case: Case) -> None:
    identity = case.verifier.verify_at(case.request, key=case.key, now=WHEN, body=case.body)
    assert identity.principal == "suite"
    assert identity.access_key_id == AKID
    assert identity.service == "service"
    assert "host" in identity.signed_headers
    expected_alg = "AWS4-ECDSA-P256-SHA256" if case.name.startswith("v4a/") else "AWS4-HMAC-SHA256"
    assert identity.algorithm.value == expected_alg
    assert identity.presigned == case.name.endswith("/query")
    assert identity.temporary == (case.key.session_token_sha256 is not None)


@pytest.mark.parametrize("case", ALL, ids=lambda c: c.name)
def test_signed_request_verifies_within_skew(case: Case) -> None:
    later = WHEN + timedelta(minutes=14, seconds=59)
    case.verifier.verify_at(case.request, key=case.key, now=later, body=case.body)


# -- single-byte changes -------------------------------------------------------------------


def _flip(text: str, index: int) -> str:
    char = text[index]
    if char.isdigit():
        new = str((int(char) + 1) % 10)
    elif char.isalpha():
        new = "q" if char.lower() != "q" else "z"
    else:
        new = "q"
    return text[:index] + new + text[index + 1 :]


def _with_header(request: SignedRequest, name: str, value: str) -> SignedRequest:
    headers = tuple((n, value if n.lower() == name else v) for n, v in request.headers)
    return SignedRequest(
        method=request.method, path=request.path, query=request.query, headers=headers
    )


def _authorization(request: SignedRequest) -> str | None:
    for name, value in request.headers:
        if name.lower() == "authorization":
            return value
    return None


def _signed_names(case: Case) -> list[str]:
    auth = _authorization(case.request)
    if auth is not None:
        match = re.search(r"SignedHeaders=([^,]+)", auth)
        assert match
        return match.group(1).strip().split(";")
    match = re.search(r"X-Amz-SignedHeaders=([^&]+)", case.request.query)
    assert match
    return match.group(1).replace("%3B", ";").split(";")


def _expect(case: Case, request: SignedRequest, code: str, body: bytes | None = None) -> None:
    with pytest.raises(sigv4kit.VerificationError) as info:
        case.verifier.verify_at(
            request, key=case.key, now=WHEN, body=case.body if body is None else body
        )
    assert info.value.code == code, (info.value.code, info.value.message)


def _header_flip_expectation(name: str, new_value: str) -> str:
    if re.search(r"[\r\n](?![ \t])", new_value):
        return "InvalidRequest"  # a bare line break: no such header can exist on the wire
    if name == "x-amz-security-token":
        return "InvalidToken"
    if name == "x-amz-content-sha256" and not re.fullmatch(r"[0-9a-f]{64}", new_value):
        return "InvalidArgument"
    return "SignatureDoesNotMatch"


@pytest.mark.parametrize("case", ALL, ids=lambda c: c.name)
def test_every_signed_header_value_change_is_rejected(case: Case) -> None:
    values = {n.lower(): v for n, v in case.request.headers}
    checked = 0
    for name in _signed_names(case):
        if name not in values or name == "x-amz-date":
            continue
        value = values[name]
        for index in range(len(value)):
            new_value = _flip(value, index)
            changed = _with_header(case.request, name, new_value)
            _expect(case, changed, _header_flip_expectation(name, new_value))
            checked += 1
    assert checked > 0


@pytest.mark.parametrize("case", ALL, ids=lambda c: c.name)
def test_signature_change_is_rejected(case: Case) -> None:
    auth = _authorization(case.request)
    if auth is not None:
        start = auth.index("Signature=") + len("Signature=")
        for index in range(start, len(auth), 7):
            changed = _with_header(case.request, "authorization", _flip(auth, index))
            _expect(case, changed, "SignatureDoesNotMatch")
    else:
        query = case.request.query
        start = query.index("X-Amz-Signature=") + len("X-Amz-Signature=")
        end = query.find("&", start)
        end = len(query) if end == -1 else end
        for index in range(start, end, 7):
            changed = SignedRequest(
                method=case.request.method,
                path=case.request.path,
                query=_flip(query, index),
                headers=case.request.headers,
            )
            _expect(case, changed, "SignatureDoesNotMatch")


def _date_of(case: Case) -> tuple[str, str]:
    """Where the date is ('header' or 'query') and its text."""
    for name, value in case.request.headers:
        if name.lower() == "x-amz-date":
            return "header", value
    match = re.search(r"X-Amz-Date=([0-9TZ]+)", case.request.query)
    assert match
    return "query", match.group(1)


def _replace_date(case: Case, new: str) -> SignedRequest:
    where, old = _date_of(case)
    if where == "header":
        return _with_header(case.request, "x-amz-date", new)
    return SignedRequest(
        method=case.request.method,
        path=case.request.path,
        query=case.request.query.replace(f"X-Amz-Date={old}", f"X-Amz-Date={new}"),
        headers=case.request.headers,
    )


@pytest.mark.parametrize("case", ALL, ids=lambda c: c.name)
def test_date_changes_are_rejected_with_their_code(case: Case) -> None:
    # One second later: inside the skew, same day -> the signature no longer matches.
    _expect(case, _replace_date(case, "20150830T123601Z"), "SignatureDoesNotMatch")
    # Another day: the credential scope date is no longer the request date.
    malformed = (
        "AuthorizationQueryParametersError"
        if case.name.endswith("/query")
        else ("AuthorizationHeaderMalformed")
    )
    _expect(case, _replace_date(case, "20150831T123600Z"), malformed)
    # Not a date at all.
    unparseable = (
        "AuthorizationQueryParametersError" if case.name.endswith("/query") else ("AccessDenied")
    )
    _expect(case, _replace_date(case, "20150830X123600Z"), unparseable)


def _plain_path(path: str) -> bool:
    # Paths that normalization leaves alone: there every byte is significant.
    return not re.search(r"//|/\.\.?(/|$)", path)


@pytest.mark.parametrize(
    "case", [c for c in ALL if _plain_path(c.request.path)], ids=lambda c: c.name
)
def test_every_path_byte_change_is_rejected(case: Case) -> None:
    path = case.request.path
    for index in range(len(path)):
        if path[index] == "/":
            continue
        changed = SignedRequest(
            method=case.request.method,
            path=_flip(path, index),
            query=case.request.query,
            headers=case.request.headers,
        )
        _expect(case, changed, "SignatureDoesNotMatch")


@pytest.mark.parametrize("case", ALL, ids=lambda c: c.name)
def test_every_query_byte_change_is_rejected(case: Case) -> None:
    query = case.request.query
    if not query:
        return
    for piece_start, piece in _pieces(query):
        key = piece.partition("=")[0]
        if key in {"X-Amz-Signature", "X-Amz-Date", "X-Amz-Security-Token"}:
            continue  # covered by their own tests
        for offset in range(len(piece)):
            if piece[offset] in "=%&":
                continue
            index = piece_start + offset
            changed = SignedRequest(
                method=case.request.method,
                path=case.request.path,
                query=_flip(query, index),
                headers=case.request.headers,
            )
            with pytest.raises(sigv4kit.VerificationError):
                case.verifier.verify_at(changed, key=case.key, now=WHEN, body=case.body)


def _pieces(query: str) -> list[tuple[int, str]]:
    out, start = [], 0
    for piece in query.split("&"):
        out.append((start, piece))
        start += len(piece) + 1
    return out


@pytest.mark.parametrize("case", [c for c in ALL if c.body], ids=lambda c: c.name)
def test_body_change_is_rejected(case: Case) -> None:
    body = b"Param1=value2"
    signed_hash = any(n.lower() == "x-amz-content-sha256" for n, _ in case.request.headers)
    code = "XAmzContentSHA256Mismatch" if signed_hash else "SignatureDoesNotMatch"
    _expect(case, case.request, code, body=body)


def test_query_auth_params_change_codes() -> None:
    case = next(c for c in C_AUTH if c.name == "v4/get-vanilla/query")
    query = case.request.query

    def q(new: str) -> SignedRequest:
        return SignedRequest(method="GET", path="/", query=new, headers=case.request.headers)

    _expect(
        case, q(query.replace("X-Amz-Expires=3600", "X-Amz-Expires=3601")), "SignatureDoesNotMatch"
    )
    _expect(
        case,
        q(query.replace("X-Amz-SignedHeaders=host", "X-Amz-SignedHeaders=hosu")),
        "AccessDenied",
    )
    _expect(case, q(query.replace("AKIDEXAMPLE", "AKIDEXAMPLF")), "InvalidAccessKeyId")
    _expect(
        case, q(query.replace("aws4_request", "aws4_requesu")), "AuthorizationQueryParametersError"
    )
    _expect(
        case,
        q(query.replace("AWS4-HMAC-SHA256", "AWS4-HMAC-SHA257")),
        "AuthorizationQueryParametersError",
    )


# -- fuzzing the parsers -------------------------------------------------------------------


_PRINTABLE = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=40)
_SCOPE_PART = (
    st.sampled_from(
        [
            "AKIDEXAMPLE",
            "20150830",
            "20150831",
            "2015083",
            "us-east-1",
            "service",
            "s3",
            "aws4_request",
            "",
            "*",
            "%2F",
            "\u1234",
        ]
    )
    | _PRINTABLE
)
_CREDENTIAL = st.lists(_SCOPE_PART, max_size=7).map("/".join)
_COMPONENT = st.one_of(
    _CREDENTIAL.map(lambda c: f"Credential={c}"),
    st.lists(
        st.sampled_from(["host", "x-amz-date", "", "Host", "x-amz-security-token"]), max_size=4
    ).map(lambda n: "SignedHeaders=" + ";".join(n)),
    st.text("0123456789abcdefg", max_size=70).map(lambda s: f"Signature={s}"),
    _PRINTABLE,
)
_AUTHORIZATION = st.tuples(
    st.sampled_from(["AWS4-HMAC-SHA256", "AWS4-ECDSA-P256-SHA256", "AWS", "AWS4-X", "Bearer", ""]),
    st.lists(_COMPONENT, max_size=5),
    st.sampled_from([", ", ",", " , ", ""]),
).map(lambda t: t[0] + " " + t[2].join(t[1]))
_DATE = (
    st.sampled_from(
        [
            "20150830T123600Z",
            "20150830T123601Z",
            "20150830T993600Z",
            "2015-08-30T12:36:00Z",
            "Sun, 30 Aug 2015 12:36:00 GMT",
            "",
        ]
    )
    | _PRINTABLE
)


def _fuzz_status(request: SignedRequest) -> int:
    """The status a verification error maps to; any other exception fails the test."""
    verifier = Verifier(VerifierConfig(regions={"us-east-1"}))
    try:
        verifier.verify_at(request, key=_record(None), now=WHEN, body=b"")
    except sigv4kit.VerificationError as exc:
        return exc.status
    return 200  # a random request that verifies would be a finding in itself


@settings(max_examples=200, deadline=None)
@given(
    authorization=_AUTHORIZATION,
    date=_DATE,
    token=st.none() | _PRINTABLE,
    sha=st.none() | st.sampled_from(["UNSIGNED-PAYLOAD", "STREAMING-X", "00", "e" * 64]),
)
def test_fuzz_authorization_header(
    authorization: str, date: str, token: str | None, sha: str | None
) -> None:
    headers = [
        ("Host", "example.amazonaws.com"),
        ("Authorization", authorization),
        ("X-Amz-Date", date),
    ]
    if token is not None:
        headers.append(("X-Amz-Security-Token", token))
    if sha is not None:
        headers.append(("x-amz-content-sha256", sha))
    request = SignedRequest(method="GET", path="/", query="", headers=tuple(headers))
    assert _fuzz_status(request) in range(400, 502)


_PARAM_NAMES = st.sampled_from(
    [
        "X-Amz-Algorithm",
        "X-Amz-Credential",
        "X-Amz-Date",
        "X-Amz-Expires",
        "X-Amz-SignedHeaders",
        "X-Amz-Signature",
        "X-Amz-Security-Token",
        "X-Amz-Region-Set",
        "Signature",
        "AWSAccessKeyId",
        "x",
        "",
    ]
)
_PARAM_VALUES = st.one_of(
    _CREDENTIAL,
    _DATE,
    st.sampled_from(
        [
            "AWS4-HMAC-SHA256",
            "AWS4-ECDSA-P256-SHA256",
            "3600",
            "0",
            "-1",
            "604801",
            "1e3",
            "99999999999999999999999",
            "host",
            "%",
            "%zz",
            "+",
        ]
    ),
    _PRINTABLE,
)


@settings(max_examples=200, deadline=None)
@given(params=st.lists(st.tuples(_PARAM_NAMES, _PARAM_VALUES), max_size=8))
def test_fuzz_presigned_query(params: list[tuple[str, str]]) -> None:
    query = "&".join(f"{k}={v}" for k, v in params)
    request = SignedRequest(
        method="GET", path="/", query=query, headers=(("Host", "example.amazonaws.com"),)
    )
    assert _fuzz_status(request) in range(400, 500)


def test_time_must_be_aware() -> None:
    case = C_AUTH[0]
    with pytest.raises(sigv4kit.InvalidTimeError):
        case.verifier.parse_at(case.request, datetime(2015, 8, 30, 12, 36))


def test_presigned_future_and_expiry_bounds() -> None:
    case = next(c for c in C_AUTH if c.name == "v4/get-vanilla/query")
    # Valid for its whole hour, expired one second after.
    case.verifier.verify_at(case.request, key=case.key, now=WHEN + timedelta(seconds=3600))
    with pytest.raises(sigv4kit.AccessDenied) as info:
        case.verifier.verify_at(case.request, key=case.key, now=WHEN + timedelta(seconds=3601))
    assert info.value.message == "Request has expired"
    assert dict(info.value.fields)["Expires"] == "2015-08-30T13:36:00Z"
    with pytest.raises(sigv4kit.RequestTimeTooSkewed):
        case.verifier.verify_at(case.request, key=case.key, now=WHEN - timedelta(minutes=16))
    for expires, message in [
        ("0", "greater than 0"),
        ("604801", "less than a week"),
        ("-5", "non-negative"),
        ("ten", "should be a number"),
    ]:
        changed = SignedRequest(
            method="GET",
            path="/",
            headers=case.request.headers,
            query=case.request.query.replace("X-Amz-Expires=3600", f"X-Amz-Expires={expires}"),
        )
        with pytest.raises(sigv4kit.AuthorizationQueryParametersError) as q_info:
            case.verifier.verify_at(changed, key=case.key, now=WHEN)
        assert message in q_info.value.message


def test_header_skew_fields() -> None:
    case = next(c for c in C_AUTH if c.name == "v4/get-vanilla/header")
    later = WHEN + timedelta(minutes=15, seconds=1)
    with pytest.raises(sigv4kit.RequestTimeTooSkewed) as info:
        case.verifier.verify_at(case.request, key=case.key, now=later)
    assert dict(info.value.fields) == {
        "RequestTime": "20150830T123600Z",
        "ServerTime": "2015-08-30T12:51:01Z",
        "MaxAllowedSkewMilliseconds": "900000",
    }


def test_diagnostics_switch_and_token_redaction() -> None:
    case = next(c for c in C_AUTH if c.name == "v4/get-vanilla-with-session-token/header")
    wrong = KeyRecord(
        access_key_id=AKID,
        secret_access_key="other",
        principal="p",
        session_token_sha256=case.key.session_token_sha256,
    )
    with pytest.raises(sigv4kit.SignatureDoesNotMatch) as info:
        case.verifier.verify_at(case.request, key=wrong, now=WHEN)
    fields = dict(info.value.fields)
    token = "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267"
    assert token not in fields["CanonicalRequest"]
    assert "x-amz-security-token:** REDACTED **" in fields["CanonicalRequest"]
    quiet = Verifier(VerifierConfig(signature_diagnostics=False))
    with pytest.raises(sigv4kit.SignatureDoesNotMatch) as info:
        quiet.verify_at(case.request, key=wrong, now=WHEN)
    assert dict(info.value.fields) == {"AWSAccessKeyId": AKID}


def test_inactive_key_and_token_rules() -> None:
    plain = next(c for c in C_AUTH if c.name == "v4/get-vanilla/header")
    inactive = KeyRecord(access_key_id=AKID, secret_access_key=SECRET, principal="p", active=False)
    with pytest.raises(sigv4kit.InvalidAccessKeyId):
        plain.verifier.verify_at(plain.request, key=inactive, now=WHEN)
    temporary = next(c for c in C_AUTH if c.name == "v4/get-vanilla-with-session-token/header")
    # A long-term key must not come with a token; a temporary key needs its token.
    with pytest.raises(sigv4kit.InvalidToken):
        temporary.verifier.verify_at(temporary.request, key=_record(None), now=WHEN)
    with pytest.raises(sigv4kit.InvalidToken):
        plain.verifier.verify_at(plain.request, key=temporary.key, now=WHEN)
    expired = KeyRecord(
        access_key_id=AKID,
        secret_access_key=SECRET,
        principal="p",
        session_token_sha256=temporary.key.session_token_sha256,
        expires_at=WHEN,
    )
    with pytest.raises(sigv4kit.ExpiredToken):
        temporary.verifier.verify_at(temporary.request, key=expired, now=WHEN)


def test_restricted_scope_and_v4a_region_set() -> None:
    case = next(c for c in C_AUTH if c.name == "v4a/get-vanilla/header")
    strict = Verifier(VerifierConfig(regions={"eu-west-1"}, service_settings={}))
    with pytest.raises(sigv4kit.AuthorizationHeaderMalformed) as info:
        strict.verify_at(case.request, key=case.key, now=WHEN)
    assert dict(info.value.fields) == {"Region": "eu-west-1"}
    wildcard = Verifier(VerifierConfig(regions={"us-east-1", "eu-west-1"}, service_settings={}))
    assert wildcard.verify_at(case.request, key=case.key, now=WHEN).region == "us-east-1"
    v4 = next(c for c in C_AUTH if c.name == "v4/get-vanilla/header")
    only_s3 = Verifier(VerifierConfig(services={"s3"}))
    with pytest.raises(sigv4kit.AuthorizationHeaderMalformed) as info:
        only_s3.verify_at(v4.request, key=v4.key, now=WHEN)
    assert 'incorrect service "service"' in info.value.message
    no_v4a = Verifier(VerifierConfig(algorithms={sigv4kit.SigningAlgorithm.SIGV4}))
    with pytest.raises(sigv4kit.InvalidRequest):
        no_v4a.verify_at(case.request, key=case.key, now=WHEN)


def test_date_header_instead_of_x_amz_date() -> None:
    # SigV4 accepts the HTTP Date header; its ISO 8601 basic form is signed.
    result = sigv4kit.sign(
        "GET",
        "/",
        [("Host", "example.amazonaws.com")],
        credentials=sigv4kit.Credentials(AKID, SECRET),
        region="us-east-1",
        service="service",
        now=WHEN,
    )
    assert result.authorization is not None
    request = SignedRequest(
        method="GET",
        path="/",
        headers=(
            ("Host", "example.amazonaws.com"),
            ("Date", "Sun, 30 Aug 2015 12:36:00 GMT"),
            ("Authorization", result.authorization.replace("host;x-amz-date", "date;host")),
        ),
    )
    with pytest.raises(sigv4kit.SignatureDoesNotMatch) as info:
        _verifier().verify_at(request, key=_record(None), now=WHEN)
    # The date was accepted (the failure is the signature, over date;host).
    assert "20150830T123600Z" in dict(info.value.fields)["StringToSign"]


def test_literal_plus_in_query_is_a_plus_sign() -> None:
    # AWS canonicalizes a raw '+' in the query as %2B (not a space): a client
    # that signs a=b%2Bc may send a=b+c on the wire.
    creds = sigv4kit.Credentials(AKID, SECRET)
    signed = sigv4kit.sign(
        "GET",
        "/?a=b%2Bc&a=x",
        [("Host", "example.amazonaws.com")],
        credentials=creds,
        region="us-east-1",
        service="service",
        now=WHEN,
    )
    assert signed.canonical_request.query == "a=b%2Bc&a=x"
    request = SignedRequest(method="GET", path="/", query="a=b+c&a=x", headers=signed.headers)
    _verifier().verify_at(request, key=_record(None), now=WHEN)
    as_space = SignedRequest(method="GET", path="/", query="a=b%20c&a=x", headers=signed.headers)
    with pytest.raises(sigv4kit.SignatureDoesNotMatch):
        _verifier().verify_at(as_space, key=_record(None), now=WHEN)


def test_naive_key_expiry_is_read_as_utc() -> None:
    case = next(c for c in C_AUTH if c.name == "v4/get-vanilla-with-session-token/header")
    token_hash = case.key.session_token_sha256
    later = KeyRecord(
        access_key_id=AKID,
        secret_access_key=SECRET,
        principal="p",
        session_token_sha256=token_hash,
        expires_at=datetime(2015, 8, 30, 13, 0),
    )
    assert case.verifier.verify_at(case.request, key=later, now=WHEN).temporary
    past = KeyRecord(
        access_key_id=AKID,
        secret_access_key=SECRET,
        principal="p",
        session_token_sha256=token_hash,
        expires_at=datetime(2015, 8, 30, 12, 0),
    )
    with pytest.raises(sigv4kit.ExpiredToken):
        case.verifier.verify_at(case.request, key=past, now=WHEN)


# -- issue 12, item 1: only a path already normalized passes under normalization --------------


@pytest.mark.parametrize(("path", "normal"), [
    ("/", True), ("/a/b", True), ("/a/b/", True), ("/a%20b/c~d", True), ("/a%2Fb", True),
    ("/a/./b", False), ("/a/../b", False), ("//a", False), ("/a//b", False), ("/a/.", False),
    ("/a/..", False), ("/a/%2e%2e/b", False), ("/a/%2E/b", False), ("/a%2F..%2Fb", False),
    ("/a%2F%2Fb", False), ("a/b", False), ("*", False), ("/.hidden/x..y/...", True),
])
def test_is_normalized_path(path: str, normal: bool) -> None:
    assert is_normalized_path(path) is normal


def test_verifier_refuses_a_path_that_only_normalizes_to_the_signed_one() -> None:
    signed = sigv4kit.sign("GET", "/public/report.csv", [("Host", "svc.local")],
                           credentials=sigv4kit.Credentials(AKID, SECRET), region="us-east-1",
                           service="execute-api", now=WHEN)
    sent = SignedRequest(method="GET", path="/secret/../public/report.csv",
                         headers=tuple(signed.headers))
    with pytest.raises(sigv4kit.InvalidURI) as caught:
        Verifier().verify_at(sent, key=_record(None), now=WHEN)
    assert (caught.value.status, caught.value.code) == (400, "InvalidURI")
    # Code that hands on the normalized path itself may opt out.
    lenient = Verifier(VerifierConfig(normalized_paths_only=False))
    assert lenient.verify_at(sent, key=_record(None), now=WHEN).principal == "suite"
