"""``sigv4kit.explain._explain``: every cause it names, on hand-made AWS-format error bodies.

The service's side is written out by hand in the three AWS error formats
(S3's REST-XML with <CanonicalRequest>, query-XML, JSON with the
"should have been" prose); our side is a hand-written canonical request.
Real bodies from the middleware are in tests/test_cli_explain.py.
"""

from __future__ import annotations

import json
from xml.sax.saxutils import escape

import pytest

from sigv4kit import AWSErrorDetails, Cause, explain, parse_aws_error, render_explanation

EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
DATE = "20150830T123600Z"
SCOPE = "20150830/us-east-1/service/aws4_request"
BASE_HEADERS = (("host", "example.amazonaws.com"), ("x-amz-date", DATE))


def creq(
    *,
    method: str = "GET",
    uri: str = "/",
    query: str = "",
    headers: tuple[tuple[str, str], ...] = BASE_HEADERS,
    signed: str | None = None,
    payload: str = EMPTY,
) -> str:
    lines = "".join(f"{k}:{v}\n" for k, v in headers)
    names = signed if signed is not None else ";".join(k for k, _ in headers)
    return f"{method}\n{uri}\n{query}\n{lines}\n{names}\n{payload}"


def sts(*, date: str = DATE, scope: str = SCOPE, digest: str = "0" * 64) -> str:
    return f"AWS4-HMAC-SHA256\n{date}\n{scope}\n{digest}"


def s3_body(server_creq: str | None, server_sts: str | None) -> bytes:
    extra = ""
    if server_sts is not None:
        extra += f"<StringToSign>{escape(server_sts)}</StringToSign>"
    if server_creq is not None:
        extra += f"<CanonicalRequest>{escape(server_creq)}</CanonicalRequest>"
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SignatureDoesNotMatch</Code>'
        "<Message>The request signature we calculated does not match the signature you "
        "provided. Check your key and signing method.</Message>"
        f"<AWSAccessKeyId>AKIDEXAMPLE</AWSAccessKeyId>{extra}"
        "<RequestId>4442587FB7D0A2F9</RequestId></Error>"
    ).encode()


def json_body(server_creq: str | None, server_sts: str | None) -> bytes:
    message = (
        "The request signature we calculated does not match the signature you provided. "
        "Check your AWS Secret Access Key and signing method. Consult the service "
        "documentation for details."
    )
    if server_creq is not None:
        message += f"\n\nThe Canonical String for this request should have been\n'{server_creq}'\n"
    if server_sts is not None:
        message += f"\nThe String-to-Sign should have been\n'{server_sts}'\n"
    return json.dumps({"__type": "InvalidSignatureException", "message": message}).encode()


def query_body(code: str, message: str) -> bytes:
    return (
        "<ErrorResponse><Error><Type>Sender</Type>"
        f"<Code>{code}</Code><Message>{escape(message)}</Message></Error>"
        "<RequestId>a1b2</RequestId></ErrorResponse>"
    ).encode()


def causes(body: bytes, ours_creq: str | None, ours_sts: str | None) -> list[Cause]:
    details = parse_aws_error(403, {}, body)
    result = explain(details, canonical_request=ours_creq, string_to_sign=ours_sts)
    return [f.cause for f in result.findings]


# (cause, server canonical request, our canonical request)
CANONICAL_CASES = [
    (Cause.METHOD, creq(method="POST"), creq(method="GET")),
    (Cause.PATH_ENCODING, creq(uri="/a%2520b"), creq(uri="/a%20b")),
    (Cause.PATH_ENCODING, creq(uri="/a%20b"), creq(uri="/a%2520b")),
    (Cause.PATH_ENCODING, creq(uri="/doc%21"), creq(uri="/doc!")),
    (Cause.PATH_NORMALIZATION, creq(uri="/a/b"), creq(uri="/a/./b")),
    (Cause.PATH_NORMALIZATION, creq(uri="/a/b"), creq(uri="//a/b")),
    (Cause.PATH_CHANGED, creq(uri="/prod/items"), creq(uri="/items")),
    (Cause.QUERY_PLUS, creq(query="q=a%20b"), creq(query="q=a%2Bb")),
    (Cause.QUERY_PLUS, creq(query="q=a%2Bb"), creq(query="q=a%20b")),
    (Cause.QUERY_ENCODING, creq(query="p=a%2Fb"), creq(query="p=a/b")),
    (Cause.QUERY_ENCODING, creq(query="t=%3A"), creq(query="t=:")),
    (Cause.QUERY_ORDER, creq(query="id=1&id-type=2"), creq(query="id-type=2&id=1")),
    (Cause.QUERY_DUPLICATES, creq(query="k=1&k=2"), creq(query="k=2")),
    (Cause.QUERY_CHANGED, creq(query="a=1&extra=2"), creq(query="a=1")),
    (
        Cause.HEADER_WHITESPACE,
        creq(headers=(*BASE_HEADERS, ("x-custom", "a  b"))),
        creq(headers=(*BASE_HEADERS, ("x-custom", "a b"))),
    ),
    (
        Cause.HEADER_DUPLICATES,
        creq(headers=(*BASE_HEADERS, ("x-custom", "a,b"))),
        creq(headers=(*BASE_HEADERS, ("x-custom", "a"))),
    ),
    (
        Cause.HEADER_REMOVED,
        creq(headers=(*BASE_HEADERS, ("x-custom", ""))),
        creq(headers=(*BASE_HEADERS, ("x-custom", "v"))),
    ),
    (
        Cause.HEADER_ADDED,
        creq(headers=(*BASE_HEADERS, ("x-amzn-trace-id", "Root=1"))),
        creq(headers=BASE_HEADERS),
    ),
    (
        Cause.HEADER_CHANGED,
        creq(headers=(("content-type", "text/plain; charset=utf-8"), *BASE_HEADERS)),
        creq(headers=(("content-type", "text/plain"), *BASE_HEADERS)),
    ),
    (
        Cause.HOST,
        creq(headers=(("host", "example.amazonaws.com:8443"), BASE_HEADERS[1])),
        creq(headers=BASE_HEADERS),
    ),
    (
        Cause.CLOCK,
        creq(headers=(BASE_HEADERS[0], ("x-amz-date", "20150830T123700Z"))),
        creq(headers=BASE_HEADERS),
    ),
    (
        Cause.SESSION_TOKEN,
        creq(headers=(*BASE_HEADERS, ("x-amz-security-token", "OLDTOKEN"))),
        creq(headers=(*BASE_HEADERS, ("x-amz-security-token", "NEWTOKEN"))),
    ),
    (Cause.BODY_HASH, creq(payload="a" * 64), creq(payload=EMPTY)),
    (
        Cause.BODY_HASH,
        creq(headers=(*BASE_HEADERS, ("x-amz-content-sha256", "UNSIGNED-PAYLOAD"))),
        creq(headers=(*BASE_HEADERS, ("x-amz-content-sha256", EMPTY))),
    ),
]


@pytest.mark.parametrize("body", [s3_body, json_body], ids=["rest-xml", "json"])
@pytest.mark.parametrize(
    ("cause", "server", "ours"),
    CANONICAL_CASES,
    ids=[f"{c[0].value}-{i}" for i, c in enumerate(CANONICAL_CASES)],
)
def test_each_cause_from_the_canonical_request(cause, server, ours, body) -> None:
    found = causes(body(server, sts()), ours, sts(digest="1" * 64))
    assert found[0] is cause, found


def test_first_difference_is_marked() -> None:
    details = parse_aws_error(403, {}, s3_body(creq(uri="/a%2520b"), sts()))
    result = explain(details, canonical_request=creq(uri="/a%20b"), string_to_sign=sts())
    assert result.canonical_diff is not None
    assert (result.canonical_diff.line, result.canonical_diff.part) == (2, "canonical URI")
    assert (result.canonical_diff.server, result.canonical_diff.ours) == ("/a%2520b", "/a%20b")
    text = render_explanation(result)
    assert "> /a%2520b" in text
    assert "line 2 (canonical URI)" in text
    assert "twice" in text


@pytest.mark.parametrize(
    ("cause", "server_scope", "our_scope"),
    [
        (Cause.REGION, "20150830/eu-west-1/service/aws4_request", SCOPE),
        (Cause.SERVICE, "20150830/us-east-1/execute-api/aws4_request", SCOPE),
        (Cause.CLOCK, "20150831/us-east-1/service/aws4_request", SCOPE),
    ],
)
@pytest.mark.parametrize("body", [s3_body, json_body], ids=["rest-xml", "json"])
def test_scope_causes_from_the_string_to_sign(cause, server_scope, our_scope, body) -> None:
    same = creq()
    found = causes(body(same, sts(scope=server_scope)), same, sts(scope=our_scope))
    assert found == [cause]


def test_json_string_to_sign_only_names_the_region() -> None:
    body = json_body(None, sts(scope="20150830/eu-west-1/service/aws4_request"))
    found = causes(body, creq(), sts())
    assert Cause.REGION in found


def test_json_string_to_sign_only_says_what_can_be_concluded() -> None:
    body = json_body(None, sts(digest="a" * 64))
    details = parse_aws_error(403, {}, body)
    result = explain(details, canonical_request=creq(), string_to_sign=sts(digest="b" * 64))
    assert result.server_canonical_request is None
    assert result.string_to_sign_diff is not None
    assert result.string_to_sign_diff.part == "canonical request hash"
    assert [f.cause for f in result.findings] == [Cause.UNKNOWN]
    assert "did not send its canonical request" in result.findings[0].text


def test_identical_texts_mean_the_secret_is_wrong() -> None:
    same = creq()
    assert causes(s3_body(same, sts()), same, sts()) == [Cause.SECRET_KEY]


@pytest.mark.parametrize(
    ("code", "message", "cause"),
    [
        (
            "SignatureDoesNotMatch",
            "Signature expired: 20150830T123600Z is now earlier than 20150830T130600Z "
            "(20150830T132600Z - 15 min.)",
            Cause.CLOCK,
        ),
        (
            "RequestTimeTooSkewed",
            "The difference between the request time and the current time is too large.",
            Cause.CLOCK,
        ),
        (
            "InvalidClientTokenId",
            "The security token included in the request is invalid.",
            Cause.SESSION_TOKEN,
        ),
        (
            "ExpiredToken",
            "The security token included in the request is expired",
            Cause.SESSION_TOKEN,
        ),
        ("SignatureDoesNotMatch", "Credential should be scoped to a valid region.", Cause.REGION),
        (
            "SignatureDoesNotMatch",
            "Credential should be scoped to correct service: 'sts'.",
            Cause.SERVICE,
        ),
        (
            "XAmzContentSHA256Mismatch",
            "The provided 'x-amz-content-sha256' header does not match what was computed.",
            Cause.BODY_HASH,
        ),
        (
            "InvalidAccessKeyId",
            "The AWS Access Key Id you provided does not exist in our records.",
            Cause.ACCESS_KEY,
        ),
    ],
)
def test_message_only_errors(code: str, message: str, cause: Cause) -> None:
    assert causes(query_body(code, message), None, None) == [cause]


def test_no_request_and_no_diagnostics() -> None:
    found = causes(
        query_body(
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided.",
        ),
        None,
        None,
    )
    assert found == [Cause.UNKNOWN]


def test_not_a_signature_error() -> None:
    details = AWSErrorDetails(code="NoSuchKey", message="The key does not exist", status_code=404)
    result = explain(details, canonical_request=None, string_to_sign=None)
    assert [f.cause for f in result.findings] == [Cause.UNKNOWN]


def test_session_token_is_redacted_in_the_rendering() -> None:
    token = "IQoJb3JpZ2luX2VjEXAMPLETOKEN"
    server = creq(headers=(*BASE_HEADERS, ("x-amz-security-token", token)), uri="/x")
    ours = creq(headers=(*BASE_HEADERS, ("x-amz-security-token", token)))
    details = parse_aws_error(403, {}, s3_body(server, sts()))
    result = explain(details, canonical_request=ours, string_to_sign=sts())
    text = render_explanation(result)
    assert token not in text
    assert token not in json.dumps(result.to_dict()).replace(json.dumps(server)[1:-1], "").replace(
        json.dumps(ours)[1:-1], ""
    )


def test_redacted_token_on_the_server_side_is_not_a_difference() -> None:
    server = creq(headers=(*BASE_HEADERS, ("x-amz-security-token", "** REDACTED **")))
    ours = creq(headers=(*BASE_HEADERS, ("x-amz-security-token", "REAL")))
    assert causes(s3_body(server, sts()), ours, sts()) == [Cause.SECRET_KEY]


@pytest.mark.parametrize(
    "body",
    [b"", b"<html>502 Bad Gateway</html>", b"{", b"<Error><Code>X</Code>", b"\x00\xff" * 10],
)
def test_any_body_never_crashes(body: bytes) -> None:
    details = parse_aws_error(403, {}, body)
    result = explain(details, canonical_request=creq(), string_to_sign=sts())
    assert result.findings
    assert render_explanation(result)


def test_recompute_signed_on_the_official_vectors() -> None:
    from pathlib import Path

    from sigv4kit import parse_raw_request
    from sigv4kit.explain import recompute_signed

    base = Path(__file__).parent / "vectors" / "aws-c-auth" / "v4" / "get-vanilla-query"
    for kind in ("header", "query"):
        raw = parse_raw_request((base / f"{kind}-signed-request.txt").read_bytes())
        canonical, string_to_sign = recompute_signed(raw)
        assert canonical == (base / f"{kind}-canonical-request.txt").read_text()
        assert string_to_sign == (base / f"{kind}-string-to-sign.txt").read_text()


def test_api_gateway_body_without_a_code() -> None:
    # API Gateway sends only {"message": ...}; the code is in x-amzn-ErrorType,
    # which a saved body has lost.
    prose = (
        "The request signature we calculated does not match the signature you provided. "
        "Check your AWS Secret Access Key and signing method. Consult the service "
        "documentation for details.\n\nThe Canonical String for this request should have "
        f"been\n'{creq(uri='/prod/a%2520b')}'\n\nThe String-to-Sign should have been\n"
        f"'{sts()}'\n"
    )
    body = json.dumps({"message": prose}).encode()
    details = parse_aws_error(403, {}, body)
    assert details.code == "403"
    result = explain(details, canonical_request=creq(uri="/prod/a%20b"), string_to_sign=sts())
    assert result.findings[0].cause is Cause.PATH_ENCODING
    same = explain(details, canonical_request=creq(uri="/prod/a%2520b"), string_to_sign=sts())
    assert [f.cause for f in same.findings] == [Cause.SECRET_KEY]


@pytest.mark.parametrize("body", [s3_body, json_body])
def test_the_error_body_alone_never_blames_the_secret(body) -> None:  # type: ignore[no-untyped-def]
    # The service's canonical request double-encodes a path our signer may have
    # encoded once: from the body alone that is indistinguishable from a wrong key.
    details = parse_aws_error(403, {}, body(creq(uri="/a%2520b"), sts()))
    result = explain(details, canonical_request=None, string_to_sign=None)
    assert [f.cause for f in result.findings] == [Cause.UNKNOWN]
    assert "--request" in result.findings[0].text
    text = render_explanation(result)
    assert "Canonical request (service):\n  GET\n  /a%2520b\n" in text
    assert f"String to sign (service):\n  AWS4-HMAC-SHA256\n  {DATE}\n" in text


def test_only_the_string_to_sign_and_no_request() -> None:
    details = parse_aws_error(403, {}, s3_body(None, sts()))
    result = explain(details, canonical_request=None, string_to_sign=None)
    assert [f.cause for f in result.findings] == [Cause.UNKNOWN]
    assert "string to sign the service computed" in result.findings[0].text
