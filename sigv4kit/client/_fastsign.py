"""Signing fast path: the common httpx request, signed straight from its bytes.

:func:`~sigv4kit.sign` is the one source of truth: it validates every
input, canonicalizes any request and returns inspectable objects (the
canonical request and string to sign print as their wire text). Most
requests an httpx client signs have one shape, though: SigV4 in headers, a
path and query already in canonical encoding, each header once with a
printable ASCII value that canonicalizes to itself, no earlier signature.
:class:`FastSigner` signs that shape from httpx's raw URL and raw headers,
building the canonical request and the string to sign as bytes, with the
date strings derived once per second and no per-call dataclasses.

Anything else returns None and the caller runs :func:`~sigv4kit.sign`. What
the fast path returns is a :class:`~sigv4kit.SigningResult` whose fields are
built by :func:`~sigv4kit.sign` itself from the same inputs the first time
one is read (error diagnostics, the CLI, debug logging): the headers it puts
on the request are those ``sign()`` computes (a property test compares both,
and botocore).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import cache

import httpx

from .._exceptions import SigningError
from .._settings import (
    PayloadChecksumKind,
    PayloadMode,
    SessionTokenMode,
    SignatureLocation,
    SigningSettings,
)
from ..canonical._fastwire import PLAIN_PATH, canonical_block
from ..canonical._request import EMPTY_SHA256, UNSIGNED_PAYLOAD
from ..signing._credentials import Credentials
from ..signing._signer import SigningResult, _cached_signing_mac, _check_scope_part, amz_date
from ._lazyresult import Arguments, LazySigningResult

# Internal: the httpx auth's fast path, not public API.
__all__: list[str] = []

_AUTH_HEADERS = frozenset(
    {b"authorization", b"x-amz-date", b"x-amz-security-token", b"x-amz-region-set"}
)
# A query of key=value pieces in strict encoding (unreserved characters and
# upper-case escapes of the others): canonicalize_query sends it unchanged.
# Checked in two steps, each a character class or a rare branch (one
# alternation per character costs twice as much): the shape, then any escape.
_QUERY_CHAR = rb"[A-Za-z0-9\-._~%]"
_PLAIN_QUERY = re.compile(rb"%s+=%s*(?:&%s+=%s*)*" % ((_QUERY_CHAR,) * 4))
# An escape that is not two upper-case hex digits, or that escapes an
# unreserved character (not strict: canonicalize_query sends it decoded).
_NOT_STRICT_ESCAPE = re.compile(
    rb"%(?![0-9A-F]{2})|%(?:2[DE]|3[0-9]|4[1-9A-F]|5[0-9AF]|6[1-9A-F]|7[0-9AE])"
)
# Sorting "key=value" pieces as (key, value) pairs: '=' becomes NUL, which
# sorts below every byte a key may hold, and back (a strict piece holds one '=').
_SWAP_EQUALS_NUL = bytes.maketrans(b"=\0", b"\0=")
_COMMON_METHODS = frozenset({"GET", "HEAD", "PUT", "POST", "DELETE", "PATCH", "OPTIONS"})
_METHOD = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


#: (region, service, settings, enabled, add x-amz-content-sha256, sign the
#: token, headers an earlier signature left, unsigned header names).
_Config = tuple[str, str, SigningSettings, bool, bool, bool, frozenset[bytes], frozenset[bytes]]


def _configure(region: str, service: str, settings: SigningSettings) -> _Config:
    """Check region, service and settings once, when they change."""
    try:
        _check_scope_part("region", region)
        _check_scope_part("service", service)
        enabled = region.isascii() and service.isascii()
    except SigningError:  # sign() raises it for every request
        enabled = False
    add_content_sha = settings.payload_checksum is PayloadChecksumKind.X_AMZ_CONTENT_SHA256
    return (
        region,
        service,
        settings,
        enabled and settings.signature_location is SignatureLocation.HEADERS,
        add_content_sha,
        settings.session_token_mode is SessionTokenMode.INCLUDE,
        _AUTH_HEADERS | ({b"x-amz-content-sha256"} if add_content_sha else set()),
        frozenset(name.encode("ascii") for name in settings.unsigned_headers),
    )


class FastSigner:
    """Sign the common httpx request shape with SigV4 in headers, or return None.

    One per auth object: region, service and settings are checked when they
    change, not per request. ``None`` means "use :func:`~sigv4kit.sign`".
    """

    __slots__ = ("_config", "_second")

    def __init__(self) -> None:
        self._config = _configure("", "", SigningSettings())
        # (whole second, region, service, X-Amz-Date, scope date, scope).
        self._second: tuple[int, str, str, bytes, str, bytes] = (-1, "", "", b"", "", b"")

    def _date(self, now: datetime, region: str, service: str) -> tuple[bytes, str, bytes]:
        """X-Amz-Date, the scope date and the credential scope, derived once per second."""
        second = int(now.timestamp())
        cached = self._second
        if cached[0] == second and cached[1] is region and cached[2] is service:
            return cached[3], cached[4], cached[5]
        text = amz_date(now)
        day = text[:8]
        scope = f"{day}/{region}/{service}/aws4_request".encode("ascii")
        # One tuple, replaced whole (threads sharing the auth).
        self._second = (second, region, service, text.encode("ascii"), day, scope)
        return self._second[3], day, scope

    def sign(
        self,
        request: httpx.Request,
        *,
        credentials: Credentials,
        region: object,
        service: object,
        settings: SigningSettings,
        now: object,
        payload_hash: str | None,
        added: Sequence[tuple[bytes, bytes]] = (),
    ) -> SigningResult | None:
        """Sign ``request`` in place and return its result, or None (use ``sign()``).

        ``region``, ``service`` and ``now`` are what the user gave the auth
        (or its clock returned): of the wrong type, ``sign()`` explains with
        the library's own error. (Annotated ``str``/``datetime``, the compiled
        build would raise a bare TypeError at the call instead.)

        ``added`` are headers to add and sign (lower-case names the request
        does not have, printable ASCII values: the auth's ``amz-sdk-*``
        headers): they are appended only when the request is signed here, so
        on None the request is untouched.
        """
        if type(region) is not str or type(service) is not str or type(now) is not datetime:
            return None
        config = self._config
        if region is not config[0] or service is not config[1] or settings is not config[2]:
            # One tuple, replaced whole: threads sharing the auth see one or the other.
            self._config = config = _configure(region, service, settings)
        _, _, _, enabled, add_content_sha, include_token, removed, unsigned = config
        if not enabled or now.tzinfo is not UTC:
            return None
        method = request.method
        raw_target = request.url.raw_path
        path, _, query = raw_target.partition(b"?")
        if (
            method not in _COMMON_METHODS and not _METHOD.fullmatch(method)
        ) or not PLAIN_PATH.fullmatch(path):
            return None
        if query:
            if not _PLAIN_QUERY.fullmatch(query) or (
                b"%" in query and _NOT_STRICT_ESCAPE.search(query)
            ):
                return None
            pieces = query.translate(_SWAP_EQUALS_NUL).split(b"&")
            pieces.sort()
            query = b"&".join(pieces).translate(_SWAP_EQUALS_NUL)
        access_key_id = credentials.access_key_id
        token = credentials.session_token
        if not access_key_id.isascii():
            return None
        headers = request.headers
        triples = _header_triples(headers)
        lines: dict[bytes, bytes] = {}
        for _, lname, value in triples:
            if lname in removed:
                return None  # an earlier signature: sign() replaces it
            if lname in unsigned:
                if b"\r" in value or b"\n" in value or b"\x00" in value:
                    return None  # sign_httpx_request refuses it
            elif lname in lines or value[:1] == b" ":
                return None  # repeated (sign() joins them) or to be trimmed
            else:
                lines[lname] = value
        if b"host" not in lines:
            return None  # sign() explains
        for name, value in added:
            if name in lines or name in unsigned or name in removed:
                return None  # sign() replaces (or leaves unsigned) the request's own
            lines[name] = value
        payload = _payload(request, payload_hash, settings)
        if payload is None:
            return None
        date, day, scope = self._date(now, region, service)
        lines[b"x-amz-date"] = date
        token_bytes = b"" if token is None else token.encode("utf-8")
        if token is not None and include_token:
            lines[b"x-amz-security-token"] = token_bytes
        if add_content_sha:
            lines[b"x-amz-content-sha256"] = payload.encode("ascii")
        names = sorted(lines)
        block = b"".join([name + b":" + lines[name] + b"\n" for name in names])
        if block.count(b"\n") != len(names) or not canonical_block(block):
            return None
        signed = b";".join(names)
        canonical = b"%s\n%s\n%s\n%s\n%s\n%s" % (
            method.encode("ascii"), path, query, block, signed, payload.encode("ascii"),
        )
        string_to_sign = b"AWS4-HMAC-SHA256\n%s\n%s\n%s" % (
            date, scope, hashlib.sha256(canonical).hexdigest().encode("ascii")
        )
        mac = _cached_signing_mac(credentials.secret_access_key, day, region, service).copy()
        mac.update(string_to_sign)
        signature = mac.hexdigest()
        new = [(name, name, value) for name, value in added]
        arguments: Arguments = (
            method,
            raw_target.decode("ascii"),
            (*triples, *new),
            credentials,
            region,
            service,
            now,
            payload,
            settings,
        )
        new.append((b"X-Amz-Date", b"x-amz-date", date))
        if token is not None and include_token:
            new.append((b"X-Amz-Security-Token", b"x-amz-security-token", token_bytes))
        if add_content_sha:
            new.append((b"x-amz-content-sha256", b"x-amz-content-sha256",
                        payload.encode("ascii")))
        if token is not None and not include_token:
            new.append((b"X-Amz-Security-Token", b"x-amz-security-token", token_bytes))
        new.append((b"Authorization", b"authorization",
                    b"AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s"
                    % (access_key_id.encode("ascii"), scope, signed, signature.encode("ascii"))))
        _append_headers(headers, new)
        return LazySigningResult(arguments)


def _header_triples(headers: httpx.Headers) -> Sequence[tuple[bytes, bytes, bytes]]:
    """The request's headers as (raw name, lower-case name, value), in order.

    httpx keeps exactly these triples in ``Headers._list`` (``raw`` copies
    them into pairs and each name would be lower-cased again); should that
    ever change, they are built from the public ``raw``.
    """
    if _headers_are_triples():
        return tuple(headers._list)
    return tuple([(name, name.lower(), value) for name, value in headers.raw])


def _append_headers(headers: httpx.Headers, new: list[tuple[bytes, bytes, bytes]]) -> None:
    """Add headers known to be absent, as ``headers[name] = value`` would.

    ``__setitem__`` scans the whole list for each name to replace earlier
    copies; these names were checked absent, so appending is the same change.
    """
    if _headers_are_triples():
        headers._list.extend(new)
        return
    for name, _, value in new:  # pragma: no cover - other httpx internals
        headers[name.decode("ascii")] = value.decode("utf-8")


@cache
def _headers_are_triples() -> bool:
    """True when httpx.Headers keeps (raw name, lower-case name, value) in ``_list``."""
    sample = httpx.Headers([(b"X-A", b"1")])
    return getattr(sample, "_list", None) == [(b"X-A", b"x-a", b"1")]



def _payload(
    request: httpx.Request, payload_hash: str | None, settings: SigningSettings
) -> str | None:
    """The payload line, as sign() would choose it; None to leave it to sign()."""
    if payload_hash is not None:
        if not payload_hash.isascii() or not payload_hash or any(
            c.isspace() for c in payload_hash
        ):
            return None
        return payload_hash
    if settings.payload is PayloadMode.UNSIGNED:
        return UNSIGNED_PAYLOAD
    try:
        body = request.content
    except httpx.RequestNotRead:
        return None  # sign_httpx_request explains
    return hashlib.sha256(body).hexdigest() if body else EMPTY_SHA256
