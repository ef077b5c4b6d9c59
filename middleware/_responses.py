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
import re
import secrets
from enum import Enum
from xml.sax.saxutils import escape

from sigv4kit import VerificationError

__all__ = ["ErrorFormat", "ErrorResponse", "new_request_id", "render_error"]

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
    """A fresh request id, in S3's 16 upper-case hex characters."""
    return secrets.token_hex(8).upper()


def _text(value: str) -> str:
    return escape(_XML_INVALID.sub("\ufffd", value))


def render_error(
    error: VerificationError, error_format: ErrorFormat, *, request_id: str
) -> ErrorResponse:
    """Status, headers and body of the error response for ``error``."""
    headers: list[tuple[bytes, bytes]] = [(b"x-amz-request-id", request_id.encode("ascii"))]
    if error_format is ErrorFormat.JSON:
        body = json.dumps({"__type": error.code, "message": error.message}).encode("utf-8")
        headers += [
            (b"content-type", b"application/x-amz-json-1.1"),
            (b"x-amzn-requestid", request_id.encode("ascii")),
            (b"x-amzn-errortype", error.code.encode("ascii")),
        ]
    elif error_format is ErrorFormat.QUERY_XML:
        kind = "Receiver" if error.status >= 500 else "Sender"
        text = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<ErrorResponse><Error><Type>{kind}</Type><Code>{_text(error.code)}</Code>"
            f"<Message>{_text(error.message)}</Message></Error>"
            f"<RequestId>{_text(request_id)}</RequestId></ErrorResponse>"
        )
        body = text.encode("utf-8")
        headers += [
            (b"content-type", b"text/xml"),
            (b"x-amzn-requestid", request_id.encode("ascii")),
        ]
    else:
        host_id = base64.b64encode(secrets.token_bytes(24)).decode("ascii")
        extra = "".join(
            f"<{name}>{_text(value)}</{name}>" for name, value in error.fields
        )
        text = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{_text(error.code)}</Code><Message>{_text(error.message)}</Message>"
            f"{extra}<RequestId>{_text(request_id)}</RequestId>"
            f"<HostId>{host_id}</HostId></Error>"
        )
        body = text.encode("utf-8")
        headers += [
            (b"content-type", b"application/xml"),
            (b"x-amz-id-2", host_id.encode("ascii")),
        ]
    headers.append((b"content-length", str(len(body)).encode("ascii")))
    return error.status, headers, body
