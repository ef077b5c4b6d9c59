"""render_error: the three wire formats, parsed back with independent parsers."""

from __future__ import annotations

import json

from defusedxml import ElementTree
from sigv4kit.middleware import ErrorFormat, render_error
from sigv4kit.middleware.asgi.responses import new_request_id

import sigv4kit


def test_s3_xml_escapes_and_drops_invalid_characters() -> None:
    error = sigv4kit.SignatureDoesNotMatch(
        fields=(("CanonicalRequest", "GET\n/<a>&b\x01\n"), ("AWSAccessKeyId", "AKIA"))
    )
    status, headers, body = render_error(error, ErrorFormat.S3_XML, request_id="REQ1")
    assert status == 403
    root = ElementTree.fromstring(body)
    assert root.findtext("Code") == "SignatureDoesNotMatch"
    assert root.findtext("CanonicalRequest") == "GET\n/<a>&b\ufffd\n"
    assert root.findtext("RequestId") == "REQ1"
    names = [name for name, _ in headers]
    assert (b"x-amz-request-id", b"REQ1") in headers
    assert b"x-amz-id-2" in names
    assert (b"content-length", str(len(body)).encode()) in headers


def test_query_xml_and_json() -> None:
    error = sigv4kit.InternalError()
    _, _, body = render_error(error, ErrorFormat.QUERY_XML, request_id="R")
    root = ElementTree.fromstring(body)
    assert root.findtext("Error/Type") == "Receiver"
    assert root.findtext("Error/Code") == "InternalError"
    status, headers, body = render_error(sigv4kit.ExpiredToken(), ErrorFormat.JSON, request_id="R")
    assert status == 400
    assert json.loads(body) == {
        "__type": "ExpiredToken",
        "message": "The provided token has expired.",
    }
    assert (b"x-amzn-errortype", b"ExpiredToken") in headers


def test_request_ids_are_unique_hex() -> None:
    ids = {new_request_id() for _ in range(100)}
    assert len(ids) == 100
    assert all(len(i) == 16 and i == i.upper() for i in ids)


# -- issue 12, item 10: echoed values are bounded ----------------------------------------------

BIG = "v" * 60_000  # a 60 KB header value, as a client can send


def test_echoed_values_and_the_body_are_bounded() -> None:
    canonical = f"GET\n/\n\nhost:example.com\nx-big:{BIG}\n\nhost;x-big\nUNSIGNED-PAYLOAD"
    error = sigv4kit.SignatureDoesNotMatch(fields=(
        ("AWSAccessKeyId", "AKIAEXAMPLE"),
        ("StringToSign", "AWS4-HMAC-SHA256\n..."),
        ("SignatureProvided", "0" * 64),
        ("StringToSignBytes", "41 57 53"),
        ("CanonicalRequest", canonical),
        ("CanonicalRequestBytes", " ".join(f"{b:02x}" for b in canonical.encode())),
    ))
    _, headers, body = render_error(error, ErrorFormat.S3_XML, request_id="R")
    assert len(body) <= 32 * 1024
    root = ElementTree.fromstring(body)  # still a well-formed document
    assert root.findtext("AWSAccessKeyId") == "AKIAEXAMPLE"  # short values untouched
    assert root.findtext("SignatureProvided") == "0" * 64
    echoed = root.findtext("CanonicalRequest") or ""
    assert echoed.startswith("GET\n/\n\nhost:example.com\nx-big:vvvv")
    assert echoed.endswith("...[truncated]")
    assert len(echoed.encode()) <= 8 * 1024
    assert (b"content-length", str(len(body)).encode()) in headers


def test_echoed_message_is_bounded_in_every_format() -> None:
    # IncompleteSignature quotes the whole Authorization header in its message.
    error = sigv4kit.IncompleteSignature(f"'{BIG}' not a valid key=value pair")
    for error_format in ErrorFormat:
        _, _, body = render_error(error, error_format, request_id="R")
        assert len(body) <= 10 * 1024, error_format
    _, _, body = render_error(error, ErrorFormat.JSON, request_id="R")
    message = json.loads(body)["message"]
    assert message.startswith("'vvvv")
    assert message.endswith("...[truncated]")
    # Characters that escaping expands still fit the bound.
    escaped = sigv4kit.IncompleteSignature("&" * 60_000)
    _, _, body = render_error(escaped, ErrorFormat.S3_XML, request_id="R")
    assert len(body) <= 10 * 1024
    assert (ElementTree.fromstring(body).findtext("Message") or "").startswith("&&&")
