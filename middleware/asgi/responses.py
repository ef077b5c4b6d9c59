"""Error responses in the three AWS wire formats.

* ``S3_XML`` (REST-XML, S3): ``<Error><Code/><Message/>…extra…<RequestId/><HostId/></Error>``
  with ``x-amz-request-id`` / ``x-amz-id-2`` headers.
* ``QUERY_XML`` (STS, IAM, EC2-style):
  ``<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>``.
* ``JSON`` (JSON 1.0/1.1 services): ``{"__type": code, "message": text}`` with
  an ``x-amzn-ErrorType`` header.
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
from collections.abc import Callable
from enum import Enum
from xml.sax.saxutils import escape

from sigv4kit import VerificationError

__all__ = [
    "MAX_ECHOED_VALUE",
    "MAX_ERROR_BODY",
    "ErrorFormat",
    "ErrorResponse",
    "new_request_id",
    "render_error",
]

#: The most bytes one echoed value (the message, each extra element) takes in
#: an error body, after escaping; longer values are cut and end in
#: ``...[truncated]``. A client controls what is echoed (a header value lands
#: in ``CanonicalRequest`` and again, tripled, in ``CanonicalRequestBytes``),
#: so without a bound a 60 KB header made a 180 KB answer; S3 truncates too.
MAX_ECHOED_VALUE = 8 * 1024
#: The most bytes of a whole error body: extra elements that would go past
#: it are cut, then left out.
MAX_ERROR_BODY = 32 * 1024
_TRUNCATED = "...[truncated]"
# An element shorter than this is left out rather than cut to nothing.
_MIN_ELEMENT = 64

# Characters XML 1.0 cannot carry even as references.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class ErrorFormat(Enum):
    """How error bodies are written."""

    #: S3's REST-XML ``<Error>`` document (the default: boto3's S3 client,
    #: the AWS CLI and most S3 tools parse it).
    S3_XML = "s3-xml"
    #: The query protocol's ``<ErrorResponse>`` (STS, IAM, SQS, EC2-style).
    QUERY_XML = "query-xml"
    #: JSON protocol: ``__type`` and ``message`` plus ``x-amzn-ErrorType``.
    JSON = "json"


ErrorResponse = tuple[int, list[tuple[bytes, bytes]], bytes]


def new_request_id() -> str:
    """A fresh request id, in S3's 16 upper-case hex characters (``os.urandom``, as
    :func:`secrets.token_hex` reads it, without its three calls)."""
    return os.urandom(8).hex().upper()


def _text(value: str) -> str:
    return escape(_XML_INVALID.sub("\ufffd", value))


def _bounded(value: str, limit: int, render: Callable[[str], str]) -> str:
    """``render(value)``, or of a cut of it marked as truncated, in ``limit`` UTF-8 bytes."""
    out = render(value)
    if len(out.encode("utf-8")) <= limit:
        return out
    cut = value[:limit]
    while True:
        out = render(cut + _TRUNCATED)
        size = len(out.encode("utf-8"))
        if size <= limit or not cut:
            return out
        # Shrink in proportion to the overshoot (escaping may expand some
        # characters more than others), by at least one character.
        cut = cut[: min(len(cut) - 1, len(cut) * limit // size)]


def _extra_elements(fields: tuple[tuple[str, str], ...], budget: int) -> str:
    parts: list[str] = []
    for name, value in fields:
        room = min(MAX_ECHOED_VALUE, budget - 2 * len(name) - 5)
        if room < _MIN_ELEMENT:
            break
        part = f"<{name}>{_bounded(value, room, _text)}</{name}>"
        budget -= len(part.encode("utf-8"))
        parts.append(part)
    return "".join(parts)


#: Query-protocol services (STS, IAM) word some refusals differently from S3
#: (STS and IAM answer expired session credentials with this text).
_QUERY_MESSAGES = {"ExpiredToken": "The security token included in the request is expired"}


def render_error(
    error: VerificationError, error_format: ErrorFormat, *, request_id: str
) -> ErrorResponse:
    """Status, headers and body of the error response for ``error``.

    Echoed values are cut to :data:`MAX_ECHOED_VALUE` bytes and the body to
    :data:`MAX_ERROR_BODY` bytes.
    """
    headers: list[tuple[bytes, bytes]] = [(b"x-amz-request-id", request_id.encode("ascii"))]
    message = _bounded(error.message, MAX_ECHOED_VALUE, _text)
    if error_format is ErrorFormat.JSON:
        body = (
            f'{{"__type": {json.dumps(error.code)}, '
            f'"message": {_bounded(error.message, MAX_ECHOED_VALUE, json.dumps)}}}'
        ).encode()
        headers += [
            (b"content-type", b"application/x-amz-json-1.1"),
            (b"x-amzn-requestid", request_id.encode("ascii")),
            (b"x-amzn-errortype", error.code.encode("ascii")),
        ]
    elif error_format is ErrorFormat.QUERY_XML:
        kind = "Receiver" if error.status >= 500 else "Sender"
        message = _text(_QUERY_MESSAGES.get(error.code, "")) or message
        text = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<ErrorResponse><Error><Type>{kind}</Type><Code>{_text(error.code)}</Code>"
            f"<Message>{message}</Message></Error>"
            f"<RequestId>{_text(request_id)}</RequestId></ErrorResponse>"
        )
        body = text.encode("utf-8")
        headers += [
            (b"content-type", b"text/xml"),
            (b"x-amzn-requestid", request_id.encode("ascii")),
        ]
    else:
        host_id = base64.b64encode(secrets.token_bytes(24)).decode("ascii")
        head = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{_text(error.code)}</Code><Message>{message}</Message>"
        )
        tail = f"<RequestId>{_text(request_id)}</RequestId><HostId>{host_id}</HostId></Error>"
        budget = MAX_ERROR_BODY - len(head.encode("utf-8")) - len(tail.encode("utf-8"))
        text = head + _extra_elements(error.fields, budget) + tail
        body = text.encode("utf-8")
        headers += [
            (b"content-type", b"application/xml"),
            (b"x-amz-id-2", host_id.encode("ascii")),
        ]
    headers.append((b"content-length", str(len(body)).encode("ascii")))
    return error.status, headers, body
