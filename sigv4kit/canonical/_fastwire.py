"""Wire-level helpers of the fast paths (``sigv4kit.verify._fast``, ``sigv4kit.client._fastsign``).

Each builds or checks a piece of a SigV4 canonical request as bytes, for the
request shapes the fast paths accept, and returns None where the general
code (:mod:`sigv4kit._canonical`, the verifier) must decide.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable

from .._settings import PathNormalization, PayloadChecksumKind, PayloadMode, SigningSettings
from ._request import UNSIGNED_PAYLOAD, canonical_uri

# Internal: shared by the fast paths, not public API.
__all__: list[str] = []

# A path of unreserved characters with no empty, '.' or '..' segment: its own
# canonical URI with and without normalization, single or double encoding.
PLAIN_PATH = re.compile(rb"/|(?:/[A-Za-z0-9\-_~][A-Za-z0-9\-._~]*)+/?")
_HEX64 = re.compile(rb"[0-9a-fA-F]{64}")
# Canonical header lines whose values might not canonicalize to themselves:
# a byte outside printable ASCII (bytes.translate deletes the allowed ones:
# whatever is left is not allowed), a space run or a trailing space (a leading
# one is checked per value). One regex with the three alternatives tried at
# every byte cost 9 us on a boto3 request's 700-byte block; these two, 0.8.
PRINTABLE_OR_NEWLINE = bytes(range(0x20, 0x7F)) + b"\n"
SPACE_RUN_OR_TRAILING = re.compile(rb" [ \n]")


def canonical_block(block: bytes) -> bool:
    """True when every line of ``block`` canonicalizes to itself (see above)."""
    return not block.translate(None, PRINTABLE_OR_NEWLINE) and not SPACE_RUN_OR_TRAILING.search(
        block
    )


def utf8_values(index: dict[bytes, bytes]) -> bool:
    """True when every header value is valid UTF-8 (a newline cannot complete a sequence)."""
    values = b"\n".join(index.values())
    if values.isascii():
        return True
    try:
        values.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def http1_empty_body(index: dict[bytes, bytes]) -> bool:
    """HTTP/1.x framing: no Transfer-Encoding and no Content-Length but 0 is no body
    (RFC 9112 section 6.3)."""
    return b"transfer-encoding" not in index and index.get(b"content-length", b"0").strip() == b"0"


def header_index(headers: Iterable[tuple[bytes, bytes]]) -> dict[bytes, bytes] | None:
    """Lower-case ASCII name -> value, or None when a name repeats or is not ASCII.

    Also None for headers that are not byte pairs (a server off the ASGI spec).
    """
    try:
        pairs = headers if isinstance(headers, list) else list(headers)
        index = dict(pairs)
        names = b"".join(index)
        b"".join(index.values())  # values are bytes too
        if len(index) == len(pairs) and names.isascii() and names.islower():
            return index  # what ASGI servers send: lower-case names, each once
        index = {}
        for name, value in pairs:
            lname = name.lower()
            if lname in index or not lname.isascii():
                return None
            index[lname] = value
    except (TypeError, ValueError):
        return None
    return index


def canonical_lines(index: dict[bytes, bytes], names: tuple[bytes, ...]) -> bytes | None:
    """The canonical header lines of ``names``, when each value canonicalizes to itself."""
    lines = []
    for name in names:
        value = index.get(name)
        if value is None or value[:1] == b" ":
            return None  # absent, or a value the verifier trims
        lines.append(name + b":" + value + b"\n")
    block = b"".join(lines)
    if block.count(b"\n") != len(names) or not canonical_block(block):
        return None
    return block


def canonical_request(
    method: str,
    raw_path: bytes,
    query: bytes,
    block: bytes,
    signed: bytes,
    payload_line: bytes,
    settings: SigningSettings,
) -> bytes | None:
    if PLAIN_PATH.fullmatch(raw_path):
        uri = raw_path  # what canonical_uri returns for it under any settings
    elif settings.path_normalization is PathNormalization.ENABLED:
        return None  # dot or empty segments: whether they pass is the verifier's call
    else:
        uri = canonical_uri(raw_path.decode("ascii"), settings).encode("ascii")
    return b"%s\n%s\n%s\n%s\n%s\n%s" % (
        method.upper().encode("ascii"),
        uri,
        query,
        block,
        signed,
        payload_line,
    )


def string_to_sign(amz_date: bytes, scope: bytes, canonical: bytes) -> bytes:
    return b"AWS4-HMAC-SHA256\n%s\n%s\n%s" % (
        amz_date,
        scope,
        hashlib.sha256(canonical).hexdigest().encode("ascii"),
    )


def stated_payload_line(
    stated: bytes | None, settings: SigningSettings, body_sha256: str | None
) -> bytes | None:
    """The payload line of a header-signed request, when no rule is in doubt."""
    if stated is None:
        if settings.payload_checksum is PayloadChecksumKind.X_AMZ_CONTENT_SHA256:
            return None  # the header is required: the verifier refuses
        if settings.payload is PayloadMode.UNSIGNED:
            return UNSIGNED_PAYLOAD.encode("ascii")
        return None if body_sha256 is None else body_sha256.encode("ascii")
    if stated == b"UNSIGNED-PAYLOAD":
        if (
            settings.payload is PayloadMode.UNSIGNED
            or settings.payload_checksum is PayloadChecksumKind.X_AMZ_CONTENT_SHA256
        ):
            return stated
        return None
    if (
        _HEX64.fullmatch(stated)
        and body_sha256 is not None
        and hmac.compare_digest(stated.lower(), body_sha256.lower().encode("ascii"))
    ):
        return stated
    return None


def presigned_payload_line(settings: SigningSettings, body_sha256: str | None) -> bytes | None:
    if settings.presigned_payload is PayloadMode.UNSIGNED:
        return UNSIGNED_PAYLOAD.encode("ascii")
    return None if body_sha256 is None else body_sha256.encode("ascii")
