"""Canonicalization: each step of building a SigV4 canonical request.

Every function here is pure and works on the *wire* form of a request: the
path and query exactly as they travel in the request line, and the headers in
the order they were sent, duplicates included. The signer and the verifier
both call these functions, so a request signed by one is checked by exactly
the same rules by the other.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import quote, quote_from_bytes, unquote, unquote_to_bytes

from .._exceptions import InvalidHeaderError
from .._settings import PathNormalization, PercentEncoding, SigningSettings

__all__ = [
    "EMPTY_SHA256",
    "UNSIGNED_PAYLOAD",
    "CanonicalRequest",
    "canonical_header_value",
    "canonical_headers",
    "canonical_query",
    "canonical_uri",
    "canonicalize_query",
    "encode_path_once",
    "encode_query_pairs",
    "is_normalized_path",
    "normalize_path",
    "payload_sha256",
    "split_target",
    "uri_encode",
]

EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"

# RFC 3986 unreserved characters: the only ones SigV4 leaves unencoded.
_UNRESERVED = re.compile(r"[A-Za-z0-9\-._~]*")
_UNRESERVED_PATH = re.compile(r"[A-Za-z0-9\-._~/]*")
# Quick screens for a query already in canonical (strict) encoding: only
# unreserved characters, '=', '&' and '%XX' escapes, where each escape is
# upper-case hex of a byte outside the unreserved set (an escaped 'A' would be
# decoded and sent as 'A', so it is not canonical).
_SIMPLE_QUERY = re.compile(r"[A-Za-z0-9\-._~=&%]*")
_NON_STRICT_ESCAPE = re.compile(
    r"%(?![0-9A-F]{2})|%(?:2[DE]|3[0-9]|4[1-9A-F]|5[0-9AF]|6[1-9A-F]|7[0-9AE])"
)
# ASCII whitespace, the set aws-c-auth trims (botocore's str.split() agrees on it
# for every value that can be sent in an HTTP/1.1 header).
_WS_CHARS = " \t\n\r\f\v"
_WS_RUN = re.compile(r"[ \t\n\r\f\v]+")
_NEEDS_TRIM = re.compile(r"[\t\n\r\f\v]| {2}")
# Obs-fold (a line break followed by a space or tab) is the only line break a
# header value may carry; a bare CR or LF would split the header on the wire.
_BAD_VALUE = re.compile(r"[\r\n](?![ \t])|\x00")


def uri_encode(value: str | bytes, *, keep_slash: bool = False) -> str:
    """Percent-encode every byte outside the unreserved set, in upper-case hex.

    ``keep_slash`` leaves ``/`` alone (for paths). Text is encoded as UTF-8.
    """
    return quote(value, safe="/" if keep_slash else "")


def split_target(target: str) -> tuple[str, str]:
    """Split a request target into its raw path and raw query (no ``?``).

    A fragment never travels on the wire, but if a caller passes one it is
    dropped rather than signed.
    """
    path, _, query = target.partition("?")
    query = query.partition("#")[0]
    if not path.startswith("/") and path != "*":
        # An absolute-form target (proxy requests) carries scheme and authority.
        scheme_sep = path.find("://")
        if scheme_sep != -1:
            slash = path.find("/", scheme_sep + 3)
            path = "/" if slash == -1 else path[slash:]
    return path or "/", query


def normalize_path(path: str) -> str:
    """Remove ``.``/``..`` segments and empty segments, as AWS services do.

    A trailing slash is kept when the input ends in one and something remains
    (``//example//`` becomes ``/example/``), matching botocore and aws-c-auth.
    """
    if not path:
        return "/"
    if "//" not in path and "/." not in path and path.startswith("/"):
        return path
    out: list[str] = []
    for segment in path.split("/"):
        if not segment or segment == ".":
            continue
        if segment == "..":
            if out:
                out.pop()
            continue
        out.append(segment)
    trailing = "/" if path.endswith("/") and out else ""
    return "/" + "/".join(out) + trailing


def is_normalized_path(path: str) -> bool:
    """True when ``path`` has no ``.``, ``..`` or empty segments, as sent and decoded.

    The path must start with ``/``; a trailing ``/`` is allowed (it survives
    :func:`normalize_path`). The check also runs on the percent-decoded path,
    which is what an ASGI app routes on (``scope["path"]``), so ``%2e%2e``
    and ``%2F..%2F`` count as dot segments.
    """
    if not path.startswith("/"):
        return False
    if "//" not in path and "/." not in path and "%" not in path:
        return True
    decoded = unquote(path, errors="replace")
    segments = decoded[1:].split("/")
    if segments[-1] == "":
        segments.pop()  # a trailing slash (or the root path)
    return not any(segment in ("", ".", "..") for segment in segments)


def encode_path_once(path: str) -> str:
    """Decode each ``/``-separated segment and encode it strictly, once.

    Idempotent: a strictly encoded path comes back unchanged. A ``%2F`` inside
    a segment stays ``%2F``; lower-case escapes become upper-case.
    """
    if _UNRESERVED_PATH.fullmatch(path):
        return path
    return "/".join(_encode_component(segment) for segment in path.split("/"))


def canonical_uri(path: str, settings: SigningSettings) -> str:
    """The canonical URI of a wire path under ``settings``.

    Double encoding (AWS services): normalize the path as sent, then encode it
    again, so ``%20`` on the wire is ``%2520`` in the canonical request.
    Single encoding (S3): decode each segment and encode it strictly once, so
    ``%2F`` inside a key stays a key character and ``+`` becomes ``%2B``.
    """
    if settings.path_normalization is PathNormalization.ENABLED:
        path = normalize_path(path)
    elif not path:
        path = "/"
    if settings.percent_encoding is PercentEncoding.DOUBLE:
        if _UNRESERVED_PATH.fullmatch(path):
            return path
        return quote(path, safe="/")
    return encode_path_once(path)


def _encode_component(component: str) -> str:
    if _UNRESERVED.fullmatch(component):
        return component
    # Decode %XX escapes only (a literal '+' is a plus sign, not a space),
    # then encode every byte outside the unreserved set.
    return quote_from_bytes(unquote_to_bytes(component), safe="")


def encode_query_pairs(query: str) -> list[tuple[str, str]]:
    """Parse a raw query into strictly encoded ``(key, value)`` pairs, in wire order.

    Duplicates are kept; ``k`` with no ``=`` is ``("k", "")``; empty pieces
    (``a=1&&b=2``) are dropped.
    """
    return canonicalize_query(query)[0]


def canonicalize_query(query: str) -> tuple[list[tuple[str, str]], str]:
    """Strictly encoded ``(key, value)`` pairs, and the query to send.

    The query to send keeps the order and form of the original pieces (a
    ``k`` without ``=`` stays so) but in strict encoding: a literal ``+`` is
    sent as ``%2B``, a raw ``/`` as ``%2F``. Empty pieces are dropped. When
    the query is already strict, it comes back unchanged.
    """
    if not query:
        return [], ""
    if _SIMPLE_QUERY.fullmatch(query) and not (
        "%" in query and _NON_STRICT_ESCAPE.search(query)
    ):
        fast: list[tuple[str, str]] = []
        for piece in query.split("&"):
            key, _, value = piece.partition("=")
            if not key or "=" in value:
                break  # an empty piece or a second '=': take the general path
            fast.append((key, value))
        else:
            return fast, query
    pairs: list[tuple[str, str]] = []
    wire: list[str] = []
    for piece in query.split("&"):
        if not piece:
            continue
        key, eq, value = piece.partition("=")
        key, value = _encode_component(key), _encode_component(value)
        pairs.append((key, value))
        wire.append(f"{key}={value}" if eq else key)
    return pairs, "&".join(wire)


def canonical_query(pairs: Iterable[tuple[str, str]]) -> str:
    """Sort encoded pairs by key, then value, and join them as ``k=v&...``."""
    return "&".join([f"{key}={value}" for key, value in sorted(pairs)])


def canonical_header_value(value: str) -> str:
    """Trim a header value and collapse inner whitespace runs to one space.

    Raises :class:`~sigv4kit.InvalidHeaderError` for a value that would split
    the header on the wire (a bare CR/LF or a NUL byte).
    """
    if value.isprintable() and "  " not in value:
        # No control characters and no space runs: only the ends may need trimming.
        return value.strip(" ") if value[:1] == " " or value[-1:] == " " else value
    if _BAD_VALUE.search(value):
        raise InvalidHeaderError(f"header value {value!r} contains a line break or NUL byte")
    if _NEEDS_TRIM.search(value):
        value = _WS_RUN.sub(" ", value)
    return value.strip(_WS_CHARS)


def canonical_headers(
    headers: Iterable[tuple[str, str]], signed: Iterable[str]
) -> tuple[tuple[str, str], ...]:
    """The ``(name, value)`` lines for the headers named in ``signed``.

    Names are lower-cased and sorted; repeated headers are joined with ``,``
    in the order they were sent.
    """
    wanted = set(signed)
    grouped: dict[str, list[str]] = {}
    for name, value in headers:
        lname = name.lower()
        if lname in wanted:
            grouped.setdefault(lname, []).append(canonical_header_value(value))
    return tuple((name, ",".join(grouped[name])) for name in sorted(grouped))


def payload_sha256(body: bytes) -> str:
    """Lower-case hex SHA-256 of a request body."""
    if not body:
        return EMPTY_SHA256
    return hashlib.sha256(body).hexdigest()


@dataclass(frozen=True, slots=True)
class CanonicalRequest:
    """A SigV4 canonical request; ``str()`` is its exact text."""

    method: str
    uri: str
    query: str
    headers: tuple[tuple[str, str], ...]
    signed_headers: str
    payload_hash: str

    def __str__(self) -> str:
        header_lines = "".join([f"{name}:{value}\n" for name, value in self.headers])
        return (
            f"{self.method}\n{self.uri}\n{self.query}\n{header_lines}\n"
            f"{self.signed_headers}\n{self.payload_hash}"
        )

    def sha256(self) -> str:
        """Lower-case hex SHA-256 of the canonical request text."""
        return hashlib.sha256(str(self).encode("utf-8")).hexdigest()

    @classmethod
    def build(
        cls,
        *,
        method: str,
        path: str,
        query_pairs: Sequence[tuple[str, str]],
        headers: Iterable[tuple[str, str]],
        signed_headers: Sequence[str],
        payload_hash: str,
        settings: SigningSettings,
    ) -> CanonicalRequest:
        """Canonicalize a request from its wire parts and the names to sign."""
        names = sorted(set(signed_headers))
        return cls(
            method=method.upper(),
            uri=canonical_uri(path, settings),
            query=canonical_query(query_pairs),
            headers=canonical_headers(headers, names),
            signed_headers=";".join(names),
            payload_hash=payload_hash,
        )
