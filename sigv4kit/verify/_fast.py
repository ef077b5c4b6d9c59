"""Verification fast path: the common request shape, checked straight from wire bytes.

:class:`~sigv4kit.Verifier` is the one source of truth: it parses every
request into inspectable objects, applies every rule and explains every
refusal. Most requests a server sees have one shape, though: SigV4 (HMAC) in
an ``Authorization`` header exactly as the SDKs write it, or in the
``X-Amz-*`` query parameters of a presigned URL; every header once; printable
ASCII header values that canonicalize to themselves; a payload line that
needs no body (or an empty one). :class:`FastVerifier` checks that shape from
the ASGI-style bytes (headers as byte pairs, raw path, raw query) with no
intermediate objects: the canonical request and the string to sign are
built as bytes and hashed once.

It only ever *accepts*. Anything it does not recognise, and every check
that fails, returns None, and the caller runs the general verifier, which
gives the answer and builds the diagnostics. So the fast path cannot refuse
a request the verifier accepts, and it accepts only what the verifier
accepts with the same :class:`~sigv4kit.Identity` (a property test drives
both over the conformance suites, botocore-signed requests and their
single-byte mutations). Where any rule is in doubt, it returns None.

Verification is split in two, like the verifier's, so a server can await its
key store in between, with the time passed in:

1. :meth:`FastVerifier.prepare` (pure, no key): every check that needs only
   the request and the time; returns the access key id and what the key
   check needs, or None.
2. :meth:`FastVerifier.finish` (pure): key status, session token, then the
   signature in constant time; returns the :class:`~sigv4kit.Identity`, or None.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote

from .._settings import SessionTokenMode, SigningAlgorithm, SigningSettings
from ..canonical._fastwire import (
    canonical_lines,
    canonical_request,
    header_index,
    http1_empty_body,
    presigned_payload_line,
    stated_payload_line,
    string_to_sign,
    utf8_values,
)
from ..canonical._request import EMPTY_SHA256, canonical_query, encode_query_pairs
from ..signing._signer import MAX_PRESIGN_EXPIRES, _cached_signing_mac
from ._keys import KeyRecord
from ._model import Identity
from ._parse import _QUERY_AUTH_PARAMS, _QUERY_SINGLETONS
from ._time import _parse_iso_basic
from ._verifier import Verifier

# Internal: the middleware's fast path, not public API (every failure must
# still go to the Verifier, which only the middleware's glue guarantees).
__all__: list[str] = []

#: What :meth:`FastVerifier.prepare` hands to :meth:`FastVerifier.finish`:
#: (access key id, string to sign, signature, scope date, region, service,
#: session token, signed header names, request time, presigned).
Prepared = tuple[str, bytes, bytes, str, str, str, str | None, bytes, datetime, bool]

# The Authorization header as every SDK writes it. Anything else (other
# spacing, another order, SigV4A, a fourth component) is the verifier's.
_AUTHORIZATION = re.compile(
    rb"AWS4-HMAC-SHA256 Credential=([\x21-\x2b\x2d-\x7e]+), ?"
    rb"SignedHeaders=([\x21-\x2b\x2d-\x7e]+), ?Signature=([0-9a-f]{64})"
)
_AMZ_DATE = re.compile(rb"\d{8}T\d{6}Z")
# A session token's bytes: visible ASCII (translate deletes them; nothing may be left).
_VISIBLE = bytes(range(0x21, 0x7F))
_SCOPE_PART = re.compile(r"[\x21-\x2e\x30-\x7e]+")
_SCOPE_DATE = re.compile(r"[0-9]{8}")
# Parameters that make a query an auth mechanism (SigV2's included).
_QUERY_AUTH_NAMES = frozenset({*_QUERY_SINGLETONS, "Signature", "AWSAccessKeyId"})
_QUERY_AUTH_BYTES = frozenset(name.encode("ascii") for name in _QUERY_AUTH_NAMES)
# A query of strictly encoded key=value pieces (no escapes, one '=' each).
_PLAIN_QUERY = re.compile(
    rb"[A-Za-z0-9\-._~]+=[A-Za-z0-9\-._~]*(?:&[A-Za-z0-9\-._~]+=[A-Za-z0-9\-._~]*)*"
)
_EXPIRES = re.compile(r"[1-9]\d{0,6}")
_SIGNATURE = re.compile(r"[0-9a-f]{64}")


# Parsed credentials, dates and signed-header lists repeat from request to
# request (one client, one second): each is checked once and remembered, in
# maps bounded by clearing them when full.
_MEMO_SIZE = 4096

#: A checked credential: (access key id, scope date, region, service, rules,
#: "date/region/service/aws4_request" as bytes).
_Scope = tuple[str, str, str, str, SigningSettings, bytes]


class FastVerifier:
    """Accept the common SigV4 request shape from wire bytes, or return None.

    Built over a :class:`~sigv4kit.Verifier` and applying its configuration;
    see the module docstring for what it covers. ``None`` never means
    "refused": it means "ask the verifier".
    """

    __slots__ = (
        "_config",
        "_dates",
        "_exempt",
        "_identities",
        "_max_skew",
        "_regions",
        "_scopes",
        "_services",
        "_settings_for",
        "_signed_lists",
        "_sigv4",
        "verifier",
    )

    def __init__(self, verifier: Verifier) -> None:
        self.verifier = verifier
        config = self._config = verifier.config
        self._max_skew: timedelta = config.max_skew
        self._regions = config.regions
        self._services = config.services
        self._settings_for = config.settings_for
        self._sigv4 = SigningAlgorithm.SIGV4 in config.algorithms
        self._exempt = frozenset(name.encode("latin-1") for name in config.unsigned_amz_headers)
        self._scopes: dict[str, _Scope | None] = {}
        self._dates: dict[bytes, datetime | None] = {}
        # Not "_signed": mypyc names the C field "__signed", a GCC keyword.
        self._signed_lists: dict[bytes, tuple[bytes, ...] | None] = {}
        self._identities: dict[tuple[object, ...], Identity] = {}

    # -- step 1: everything the request alone decides ------------------------------------

    def prepare(
        self,
        method: str,
        raw_path: bytes,
        query_string: bytes,
        headers: Iterable[tuple[bytes, bytes]],
        now: datetime,
        body_sha256: str | None,
        *,
        http1_framing: bool = False,
    ) -> Prepared | None:
        """Check a request of the common shape without its key.

        ``body_sha256`` is the hex SHA-256 of the body when it is known
        (an empty body), else None. ``http1_framing``: the request came over
        HTTP/1.x, so with neither ``Transfer-Encoding`` nor a
        ``Content-Length`` other than 0 its body is empty (RFC 9112 section
        6.3). Returns None whenever the general verifier must decide.
        """
        if (
            not self._sigv4
            or self.verifier.config is not self._config  # changed since: the verifier's
            or type(now) is not datetime
            or now.tzinfo is not UTC
            or not method.isascii()
            or not raw_path.isascii()
            or not query_string.isascii()
        ):
            return None
        # As SignedRequest.from_wire: a query left inside raw_path (httpx's
        # ASGITransport) is the query when query_string is empty.
        if b"?" in raw_path:
            raw_path, _, extra_query = raw_path.partition(b"?")
            if extra_query and not query_string:
                query_string = extra_query
        if not raw_path:
            return None
        index = header_index(headers)
        if (
            index is None  # repeated headers are joined by rules the verifier owns
            or not utf8_values(index)  # refused by verifiers that read values as UTF-8
            or b"x-amz-decoded-content-length" in index  # aws-chunked: the verifier's
            or b"aws-chunked" in index.get(b"content-encoding", b"").lower()
        ):
            return None
        if body_sha256 is None and http1_framing and http1_empty_body(index):
            body_sha256 = EMPTY_SHA256
        authorization = index.get(b"authorization")
        if authorization is None:
            pairs = encode_query_pairs(query_string.decode("ascii")) if query_string else []
            return self._prepare_query(method, raw_path, pairs, index, now, body_sha256)
        # Two mechanisms at once: the verifier refuses.
        if not query_string:
            query = b""
        elif _PLAIN_QUERY.fullmatch(query_string):
            # Already canonical pieces, one '=' each: sorting them is all there is to do.
            byte_pairs = [piece.partition(b"=")[::2] for piece in query_string.split(b"&")]
            if any(key in _QUERY_AUTH_BYTES for key, _ in byte_pairs):
                return None
            query = query_string if len(byte_pairs) == 1 else b"&".join(
                [key + b"=" + value for key, value in sorted(byte_pairs)]
            )
        else:
            pairs = encode_query_pairs(query_string.decode("ascii"))
            if any(key in _QUERY_AUTH_NAMES for key, _ in pairs):
                return None
            query = canonical_query(pairs).encode("ascii")
        return self._prepare_header(method, raw_path, query, index, authorization, now,
                                    body_sha256)

    def _prepare_header(
        self,
        method: str,
        raw_path: bytes,
        query: bytes,
        index: dict[bytes, bytes],
        authorization: bytes,
        now: datetime,
        body_sha256: str | None,
    ) -> Prepared | None:
        # The verifier strips the value too; what remains here is ASCII.
        match = _AUTHORIZATION.fullmatch(authorization.strip())
        amz_date = index.get(b"x-amz-date")
        if match is None or amz_date is None:
            return None
        credential, signed, signature = match.groups()
        scope = self._scope(credential.decode("ascii"))
        if scope is None:
            return None
        access_key_id, day, region, service, settings, scope_text = scope
        request_time = self._request_time(amz_date, day, now, None)
        if request_time is None:
            return None
        token = index.get(b"x-amz-security-token")
        if token is not None and (not token or token.translate(None, _VISIBLE)):
            return None
        stated = index.get(b"x-amz-content-sha256")
        payload_line = stated_payload_line(stated, settings, body_sha256)
        if payload_line is None:
            return None
        token_exempt = settings.session_token_mode is SessionTokenMode.EXCLUDE
        block = self._header_block(index, signed, token_exempt)
        if block is None:
            return None
        canonical = canonical_request(method, raw_path, query, block, signed, payload_line,
                                       settings)
        if canonical is None:
            return None
        return (
            access_key_id,
            string_to_sign(amz_date, scope_text, canonical),
            signature,
            day,
            region,
            service,
            None if token is None else token.decode("ascii"),
            signed,
            request_time,
            False,
        )

    def _prepare_query(
        self,
        method: str,
        raw_path: bytes,
        pairs: list[tuple[str, str]],
        index: dict[bytes, bytes],
        now: datetime,
        body_sha256: str | None,
    ) -> Prepared | None:
        auth: dict[str, str] = {}
        kept: list[tuple[str, str]] = []
        for name, value in pairs:
            if name in _QUERY_AUTH_NAMES:
                if name in auth:
                    return None  # repeated: the verifier refuses
                # The strictly encoded value decodes to what the raw one does.
                auth[name] = unquote(value) if "%" in value else value
            if name != "X-Amz-Signature":
                kept.append((name, value))
        if len(auth) != len(_QUERY_AUTH_PARAMS) + ("X-Amz-Security-Token" in auth):
            return None  # a parameter missing, SigV2, or SigV4A's region set
        if any(name not in auth for name in _QUERY_AUTH_PARAMS):
            return None
        expires = auth["X-Amz-Expires"]
        signature = auth["X-Amz-Signature"]
        date_text = auth["X-Amz-Date"]
        if (
            auth["X-Amz-Algorithm"] != SigningAlgorithm.SIGV4.value
            or not _EXPIRES.fullmatch(expires)
            or int(expires) > MAX_PRESIGN_EXPIRES
            or not _SIGNATURE.fullmatch(signature)
            or not date_text.isascii()
        ):
            return None
        scope = self._scope(auth["X-Amz-Credential"])
        if scope is None:
            return None
        access_key_id, day, region, service, settings, scope_text = scope
        amz_date = date_text.encode("ascii")
        request_time = self._request_time(amz_date, day, now, int(expires))
        if request_time is None:
            return None
        token = auth.get("X-Amz-Security-Token")
        if token is not None and settings.session_token_mode is SessionTokenMode.EXCLUDE:
            return None  # the token stays out of the canonical query: the verifier's
        if b"x-amz-content-sha256" in index:
            return None
        payload_line = presigned_payload_line(settings, body_sha256)
        if payload_line is None:
            return None
        signed = auth["X-Amz-SignedHeaders"].encode("utf-8")
        block = self._header_block(index, signed, False)
        if block is None:
            return None
        canonical = canonical_request(method, raw_path, canonical_query(kept).encode("ascii"),
                                       block, signed, payload_line, settings)
        if canonical is None:
            return None
        return (
            access_key_id,
            string_to_sign(amz_date, scope_text, canonical),
            signature.encode("ascii"),
            day,
            region,
            service,
            token,
            signed,
            request_time,
            True,
        )

    def _scope(self, credential: str) -> _Scope | None:
        """The parts of a credential the verifier accepts, or None."""
        scopes = self._scopes
        try:
            return scopes[credential]
        except KeyError:
            pass
        scope: _Scope | None = None
        parts = credential.split("/")
        if len(parts) == 5:
            access_key_id, day, region, service, terminal = parts
            if (
                access_key_id
                and terminal == "aws4_request"
                and _SCOPE_DATE.fullmatch(day)
                and _SCOPE_PART.fullmatch(region)
                and _SCOPE_PART.fullmatch(service)
                and (self._regions is None or region in self._regions)
                and (self._services is None or service in self._services)
            ):
                text = f"{day}/{region}/{service}/aws4_request".encode()
                scope = (access_key_id, day, region, service, self._settings_for(service), text)
        if len(scopes) >= _MEMO_SIZE:
            scopes.clear()
        scopes[credential] = scope
        return scope

    def _request_time(
        self, amz_date: bytes, day: str, now: datetime, expires: int | None
    ) -> datetime | None:
        """The request time, when the date is the scope's and within the time window."""
        dates = self._dates
        try:
            request_time = dates[amz_date]
        except KeyError:
            request_time = None
            if _AMZ_DATE.fullmatch(amz_date):
                request_time = _parse_iso_basic(amz_date.decode("ascii"))
            if len(dates) >= _MEMO_SIZE:
                dates.clear()
            dates[amz_date] = request_time
        if request_time is None or amz_date[:8] != day.encode("ascii"):
            return None
        if expires is None:
            if abs(now - request_time) > self._max_skew:
                return None
        elif request_time - now > self._max_skew or now > request_time + timedelta(
            seconds=expires
        ):
            return None
        return request_time

    def _signed_names(self, signed: bytes) -> tuple[bytes, ...] | None:
        """The signed names when sorted, unique, non-empty and including ``host``."""
        memo = self._signed_lists
        try:
            return memo[signed]
        except KeyError:
            pass
        names: tuple[bytes, ...] | None = tuple(signed.split(b";"))
        previous = b""
        for name in names or ():
            if name <= previous:
                names = None
                break
            previous = name
        if names is not None and b"host" not in names:
            names = None
        if len(memo) >= _MEMO_SIZE:
            memo.clear()
        memo[signed] = names
        return names

    def _header_block(
        self, index: dict[bytes, bytes], signed: bytes, token_exempt: bool
    ) -> bytes | None:
        """The canonical header lines, when every value canonicalizes to itself.

        The signed names must be sorted, unique and all present, include
        ``host``, and cover every ``x-amz-*`` header the verifier wants signed.
        """
        names = self._signed_names(signed)
        if names is None:
            return None
        exempt = self._exempt
        for name in index:
            if (
                name.startswith(b"x-amz-")
                and name not in names
                and name not in exempt
                and not (token_exempt and name == b"x-amz-security-token")
            ):
                return None
        return canonical_lines(index, names)

    # -- step 2: the key and the signature ---------------------------------------------------

    def finish(self, prepared: Prepared, key: KeyRecord | None, now: datetime) -> Identity | None:
        """The identity, when the key is valid and the signature matches; else None."""
        (access_key_id, string_to_sign, signature, day, region, service, token, signed,
         request_time, presigned) = prepared
        if (
            key is None
            or not key.active
            or not hmac.compare_digest(
                key.access_key_id.encode("utf-8"), access_key_id.encode("utf-8")
            )
        ):
            return None
        token_sha256 = key.session_token_sha256
        if token_sha256 is not None:
            if token is None:
                return None
            digest = hashlib.sha256(token.encode("utf-8")).hexdigest()
            if not hmac.compare_digest(digest, token_sha256.lower()):
                return None
            expires_at = key.expires_at
            if expires_at is not None:
                if expires_at.tzinfo is None:
                    expires_at = expires_at.replace(tzinfo=UTC)
                if now >= expires_at:
                    return None
        elif token is not None:
            return None
        mac = _cached_signing_mac(key.secret_access_key, day, region, service).copy()
        mac.update(string_to_sign)
        expected = mac.hexdigest().encode("ascii")
        if not hmac.compare_digest(expected, signature):
            return None
        # Identities are immutable and repeat (one client, one second): share them.
        temporary = token_sha256 is not None
        facts = (key.principal, key.access_key_id, temporary, region, service, signed,
                 request_time, presigned)
        identities = self._identities
        identity = identities.get(facts)
        if identity is None:
            identity = Identity(
                principal=key.principal,
                access_key_id=key.access_key_id,
                temporary=temporary,
                region=region,
                service=service,
                signed_headers=tuple(signed.decode("utf-8").split(";")),
                algorithm=SigningAlgorithm.SIGV4,
                presigned=presigned,
                request_time=request_time,
            )
            if len(identities) >= _MEMO_SIZE:
                identities.clear()
            identities[facts] = identity
        return identity

    def verify_at(
        self,
        method: str,
        raw_path: bytes,
        query_string: bytes,
        headers: Iterable[tuple[bytes, bytes]],
        *,
        key: KeyRecord | None,
        now: datetime,
        body_sha256: str | None,
    ) -> Identity | None:
        """Both steps with the key in hand: the identity, or None (ask the verifier)."""
        prepared = self.prepare(method, raw_path, query_string, headers, now, body_sha256)
        if prepared is None:
            return None
        return self.finish(prepared, key, now)
