"""Parsing AWS error responses (XML, JSON, the JSON services' prose) into typed errors,
and raising them: ``raise_for_aws_error`` and the httpx event hooks."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any
from xml.etree.ElementTree import Element

import httpx
from defusedxml import ElementTree as SafeElementTree
from defusedxml.common import DefusedXmlException

from .._exceptions import SigV4Error
from ._errors import AWSErrorDetails, AWSServiceError, error_class_for

__all__ = [
    "async_raise_for_aws_error_hook",
    "error_from_response",
    "parse_aws_error",
    "raise_for_aws_error",
    "raise_for_aws_error_hook",
]


# Bodies larger than this are not parsed for an error code: AWS error bodies
# are a few hundred bytes, and parsing an arbitrary large body is a DoS vector.
_MAX_ERROR_BODY = 1024 * 1024


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child_text(element: Element, name: str) -> str | None:
    for child in element:
        if _local(child.tag) == name:
            return (child.text or "").strip() if name not in _VERBATIM else (child.text or "")
    return None


# The service's canonical request must be compared byte for byte: no stripping.
_VERBATIM = frozenset({"CanonicalRequest", "StringToSign"})


def _find(element: Element, name: str) -> Element | None:
    for node in element.iter():
        if _local(node.tag) == name:
            return node
    return None


def _parse_xml(body: bytes) -> dict[str, str | None] | None:
    try:
        root = SafeElementTree.fromstring(body)
    except (SafeElementTree.ParseError, DefusedXmlException, ValueError):
        return None
    error = root if _local(root.tag) == "Error" else _find(root, "Error")
    if error is None:
        return None
    request_id = _child_text(error, "RequestId")
    if request_id is None:
        rid = _find(root, "RequestId")
        if rid is None:
            rid = _find(root, "RequestID")
        request_id = (rid.text or "").strip() if rid is not None else None
    return {
        "code": _child_text(error, "Code"),
        "message": _child_text(error, "Message"),
        "request_id": request_id or None,
        "host_id": _child_text(error, "HostId"),
        "server_time": _child_text(error, "ServerTime"),
        "canonical_request": _child_text(error, "CanonicalRequest"),
        "string_to_sign": _child_text(error, "StringToSign"),
    }


def _json_code(raw: str) -> str:
    # "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException" and
    # "ValidationException:http://internal.amazon.com/coral/..." both name
    # the code between the '#' and the ':' (botocore BaseJSONParser).
    code = raw.rsplit("#", 1)[-1]
    return code.split(":", 1)[0].strip()


def _parse_json(body: bytes) -> dict[str, str | None] | None:
    try:
        data: Any = json.loads(body)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict):
        return None
    code: str | None = None
    for key in ("__type", "code", "Code"):
        value = data.get(key)
        if isinstance(value, str) and value:
            code = _json_code(value)
            break
    message: str | None = None
    for key in ("message", "Message", "errorMessage"):
        value = data.get(key)
        if isinstance(value, str):
            message = value
            break
    return {"code": code, "message": message}


# JSON services (and some REST ones) explain a signature mismatch in prose.
_PROSE_CANONICAL = re.compile(
    r"The Canonical String for this request should have been\s*\n'(.*?)'\n", re.DOTALL
)


_PROSE_STS = re.compile(r"The String-to-Sign should have been\s*\n'(.*?)'\n?", re.DOTALL)


def parse_aws_error(
    status_code: int, headers: Mapping[str, str] | httpx.Headers, body: bytes
) -> AWSErrorDetails:
    """Parse an AWS error response of any protocol.

    A body that is empty, HTML, or not parseable yields the status code as
    the code and its reason phrase as the message (botocore does the same).
    Never raises on any input.
    """
    hdrs = headers if isinstance(headers, httpx.Headers) else httpx.Headers(dict(headers))
    fields: dict[str, str | None] = {}
    text = body[:_MAX_ERROR_BODY].lstrip() if len(body) <= _MAX_ERROR_BODY else b""
    if text.startswith(b"<"):
        fields = _parse_xml(text) or {}
    elif text.startswith(b"{"):
        fields = _parse_json(text) or {}

    code = fields.get("code")
    # rest-json puts the code in x-amzn-ErrorType ("Code:http://..."), which
    # wins over the body; awsQueryCompatible services send "Code;Sender" in
    # x-amzn-query-error for the legacy query code.
    header_type = hdrs.get("x-amzn-errortype")
    if header_type:
        code = _json_code(header_type) or code
    query_error = hdrs.get("x-amzn-query-error")
    if query_error and ";" in query_error:
        code = query_error.split(";", 1)[0].strip() or code
    message = fields.get("message")
    if not code:
        code = str(status_code)
        if message is None:
            try:
                message = HTTPStatus(status_code).phrase
            except ValueError:
                message = ""
    message = message or ""

    request_id = (
        fields.get("request_id")
        or hdrs.get("x-amzn-requestid")
        or hdrs.get("x-amz-request-id")
        or hdrs.get("x-amzn-request-id")
    )
    canonical = fields.get("canonical_request")
    sts = fields.get("string_to_sign")
    if canonical is None and message:
        match = _PROSE_CANONICAL.search(message)
        if match:
            canonical = match.group(1)
        match = _PROSE_STS.search(message)
        if match:
            sts = match.group(1)
    return AWSErrorDetails(
        code=code,
        message=message,
        status_code=status_code,
        request_id=request_id or None,
        host_id=fields.get("host_id") or hdrs.get("x-amz-id-2"),
        server_time=fields.get("server_time"),
        server_canonical_request=canonical,
        server_string_to_sign=sts,
    )


def error_from_response(response: httpx.Response) -> AWSServiceError:
    """The typed error an AWS error response stands for (the body must be read)."""
    details = parse_aws_error(response.status_code, response.headers, response.content)
    cls = error_class_for(details.code, details.status_code)
    return cls(
        details.code,
        details.message,
        details.status_code,
        details.request_id,
        response,
        details=details,
    )


def raise_for_aws_error(response: httpx.Response) -> httpx.Response:
    """Return ``response`` if it succeeded, else raise its typed error.

    ```python
    response = raise_for_aws_error(client.get(url))
    ```

    Reads a sync response's body if it was streamed; an async streamed
    response must be read (``await response.aread()``) first.

    Raises :class:`AWSServiceError` (a subclass by family) for status >= 400.
    """
    if response.status_code < 400:
        return response
    try:
        response.content  # noqa: B018 - probes whether the body was read
    except httpx.ResponseNotRead:
        if isinstance(response.stream, httpx.SyncByteStream):
            response.read()
        else:
            raise SigV4Error(
                "raise_for_aws_error needs the response body: call "
                "`await response.aread()` first, or use async_raise_for_aws_error_hook"
            ) from None
    raise error_from_response(response)


def raise_for_aws_error_hook(response: httpx.Response) -> None:
    """An httpx response event hook raising typed AWS errors (sync clients).

    ```python
    client = httpx.Client(auth=auth, event_hooks={"response": [raise_for_aws_error_hook]})
    ```
    """
    if response.status_code >= 400:
        response.read()
        raise_for_aws_error(response)


async def async_raise_for_aws_error_hook(response: httpx.Response) -> None:
    """The :func:`raise_for_aws_error_hook` of ``httpx.AsyncClient``."""
    if response.status_code >= 400:
        await response.aread()
        raise_for_aws_error(response)
