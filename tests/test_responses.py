"""render_error: the three wire formats, parsed back with independent parsers."""

from __future__ import annotations

import json

from defusedxml import ElementTree
from sigv4kit.middleware import ErrorFormat, new_request_id, render_error

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
