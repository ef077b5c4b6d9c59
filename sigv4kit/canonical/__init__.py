"""Canonicalization: the request as bytes on the wire and its canonical form.

Holds percent-encoding, path normalization, the canonical query and headers, the canonical
request, the raw HTTP/1.1 request parser, and the diagnostics of canonical text (first
difference, line names, redaction). May import only ``sigv4kit._exceptions`` and
``sigv4kit._settings``; every other stage builds on it.
"""

from __future__ import annotations

from ._diagnostics import (
    REDACTED,
    LineDiff,
    first_line_diff,
    line_part,
    redact_line,
    redact_text,
    redact_values,
    same_line,
    split_lines,
)
from ._raw import (
    RawRequest,
    parse_raw_request,
)
from ._request import (
    EMPTY_SHA256,
    UNSIGNED_PAYLOAD,
    CanonicalRequest,
    canonical_header_value,
    canonical_headers,
    canonical_query,
    canonical_uri,
    canonicalize_query,
    encode_path_once,
    encode_query_pairs,
    is_normalized_path,
    normalize_path,
    payload_sha256,
    split_target,
    uri_encode,
)

__all__ = [
    "EMPTY_SHA256",
    "REDACTED",
    "UNSIGNED_PAYLOAD",
    "CanonicalRequest",
    "LineDiff",
    "RawRequest",
    "canonical_header_value",
    "canonical_headers",
    "canonical_query",
    "canonical_uri",
    "canonicalize_query",
    "encode_path_once",
    "encode_query_pairs",
    "first_line_diff",
    "is_normalized_path",
    "line_part",
    "normalize_path",
    "parse_raw_request",
    "payload_sha256",
    "redact_line",
    "redact_text",
    "redact_values",
    "same_line",
    "split_lines",
    "split_target",
    "uri_encode",
]
