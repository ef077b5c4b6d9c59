"""The wire model of a signed request and the verifier's settings.

:class:`SignedRequest` (the request as received), :class:`ParsedAuth` (its parsed
authentication), :class:`Identity` (who signed it), :class:`VerifierConfig`, the
:class:`KeyLookup` protocol, and the header/query helpers every stage reads them with."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Protocol
from urllib.parse import unquote

from .._settings import (
    SigningAlgorithm,
    SigningSettings,
)
from ..canonical._raw import RawRequest
from ..canonical._request import (
    split_target,
)
from ..signing._chunked import StreamingMode
from ..signing._signer import (
    CredentialScope,
)
from ._errors import (
    InvalidRequest,
)
from ._keys import KeyRecord

__all__ = [
    "DEFAULT_MAX_SKEW",
    "DEFAULT_SERVICE_SETTINGS",
    "DEFAULT_UNSIGNED_AMZ_HEADERS",
    "Identity",
    "KeyLookup",
    "ParsedAuth",
    "SignedRequest",
    "VerifierConfig",
]


#: S3's (and most AWS services') allowed clock difference: 15 minutes
#: (``MaxAllowedSkewMilliseconds`` 900000 in S3's RequestTimeTooSkewed).
DEFAULT_MAX_SKEW = timedelta(minutes=15)


#: ``x-amz-*`` headers a client may send without signing them: the payload
#: hash (its value is in the canonical request's last line anyway) and the
#: aws-chunked streaming headers, which SDKs add outside the signature.
#: Any other unsigned ``x-amz-*`` header is refused: handlers act on them
#: (``x-amz-copy-source``...), so letting one through unsigned lets a captured
#: request be replayed with a different meaning (CVE-2026-54330 in Ceph RGW,
#: the same class of bug in RustFS and SeaweedFS).
DEFAULT_UNSIGNED_AMZ_HEADERS: frozenset[str] = frozenset(
    {"x-amz-content-sha256", "x-amz-decoded-content-length", "x-amz-trailer"}
)


#: Rules per service: S3 signs with single encoding, no path normalization,
#: and an ``x-amz-content-sha256`` header; every other service uses the AWS
#: defaults (``SigningSettings()``).
DEFAULT_SERVICE_SETTINGS: Mapping[str, SigningSettings] = MappingProxyType(
    {"s3": SigningSettings.s3()}
)


class KeyLookup(Protocol):
    """Anything that finds access keys (the middleware's stores satisfy it)."""

    async def get_key(self, access_key_id: str) -> KeyRecord | None:
        """The key (active or not), or None when it does not exist."""
        ...


def _decode(raw: bytes) -> str:
    # Clients sign text; UTF-8 is what every SDK encodes it as. Bytes that are
    # not UTF-8 cannot match any client's canonical request, so decoding them
    # as Latin-1 only makes the signature check fail, never crash.
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _decode_header_value(name: bytes, raw: bytes) -> str:
    # Strict UTF-8 and nothing else: a Latin-1 fallback would read the byte
    # E9 and the bytes C3 A9 as the same text, so one signature would cover
    # two different header values (and the app would see either).
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        shown = name.decode("ascii", "replace")
        raise InvalidRequest(
            f"The value of header {shown!r} is not valid UTF-8; header values are "
            "signed as UTF-8 text and must be sent as such."
        ) from None


@dataclass(frozen=True, slots=True, kw_only=True)
class SignedRequest:
    """A request to verify, in wire form.

    ``path`` is the raw path (percent-encoded as sent, no query), ``query``
    the raw query string (no ``?``, a literal ``+`` is a plus sign) and
    ``headers`` the header lines in arrival order, duplicates kept.
    """

    method: str
    path: str
    query: str = ""
    headers: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_wire(
        cls,
        method: str,
        raw_path: bytes,
        query_string: bytes,
        headers: Iterable[tuple[bytes, bytes]],
    ) -> SignedRequest:
        """Build from ASGI-style bytes (``raw_path``, ``query_string``, ``headers``).

        Raises :class:`~sigv4kit.InvalidRequest` for a header value that is
        not valid UTF-8 (it could not be compared as the bytes that were sent).
        """
        path_bytes, _, extra_query = raw_path.partition(b"?")
        if extra_query and not query_string:
            # httpx's ASGITransport leaves the query inside raw_path.
            query_string = extra_query
        return cls(
            method=method,
            path=_decode(path_bytes) or "/",
            query=_decode(query_string),
            headers=tuple(
                (_decode(name), _decode_header_value(name, value)) for name, value in headers
            ),
        )

    @classmethod
    def from_raw(cls, raw: RawRequest) -> SignedRequest:
        """Build from a parsed raw HTTP request (the test-suite text format)."""
        path, query = split_target(raw.target)
        return cls(method=raw.method, path=path, query=query, headers=raw.headers)


@dataclass(frozen=True, slots=True, kw_only=True)
class Identity:
    """Who signed a verified request.

    ``region`` is the credential-scope region (SigV4) or the signed region
    set (SigV4A).
    """

    principal: str
    access_key_id: str
    temporary: bool
    region: str
    service: str
    signed_headers: tuple[str, ...]
    algorithm: SigningAlgorithm
    presigned: bool
    request_time: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class ParsedAuth:
    """The authentication data of a request, parsed and time-checked.

    ``payload_hash`` is the payload line the signature covers when the
    request states it (``x-amz-content-sha256`` or ``UNSIGNED-PAYLOAD``);
    None means the line is the SHA-256 of the body, which must then be read
    before the signature can be checked (:attr:`needs_body_hash`).
    """

    algorithm: SigningAlgorithm
    presigned: bool
    access_key_id: str
    scope: CredentialScope
    region: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str
    amz_date: str
    request_time: datetime
    expires: int | None
    session_token: str | None = field(repr=False)
    settings: SigningSettings
    payload_hash: str | None
    query_pairs: tuple[tuple[str, str], ...] = field(repr=False)
    headers: Mapping[str, tuple[str, ...]] = field(repr=False)

    @property
    def needs_body_hash(self) -> bool:
        """True when the body's SHA-256 is part of the signed canonical request."""
        return self.payload_hash is None

    @property
    def streaming(self) -> StreamingMode | None:
        """The aws-chunked mode of the body, or None for a plain body."""
        if self.payload_hash is None or not self.payload_hash.startswith("STREAMING-"):
            return None
        return StreamingMode(self.payload_hash)

    @property
    def body_must_match(self) -> bool:
        """True when the body must hash to the stated ``x-amz-content-sha256``."""
        return self.payload_hash is not None and _HEX64.fullmatch(self.payload_hash) is not None


def _frozen_names(values: Iterable[str] | None) -> frozenset[str] | None:
    if values is None:
        return None
    if isinstance(values, str):
        return frozenset({values})
    return frozenset(values)


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifierConfig:
    """What a verifier accepts. Frozen; build one and share it.

    ``regions`` / ``services``: the accepted credential-scope regions and
    services, or None for any (keys are issued by your own store, so any
    scope a key holder signs is one of yours; restrict them when several
    services share one store, so a signature for one cannot be replayed
    against another). ``service_settings`` maps a service name to its
    signing rules (default: S3 rules for ``s3``); other services get
    ``default_settings``. ``max_skew`` is the allowed clock difference;
    ``signature_diagnostics`` puts the canonical request and string to sign
    into SignatureDoesNotMatch errors, as S3 does. ``normalized_paths_only``
    (on by default) refuses, under rules with path normalization, a path
    that is not already normalized (``InvalidURI``): the signature covers the
    normalized path while an app routes on the path as sent, so
    ``/secret/../public/x`` must not pass as ``/public/x``. Switch it off
    only where the path handed on is the normalized one.
    """

    regions: frozenset[str] | None = None
    services: frozenset[str] | None = None
    service_settings: Mapping[str, SigningSettings] = field(
        default_factory=lambda: DEFAULT_SERVICE_SETTINGS
    )
    default_settings: SigningSettings = field(default_factory=SigningSettings)
    max_skew: timedelta = DEFAULT_MAX_SKEW
    signature_diagnostics: bool = True
    unsigned_amz_headers: frozenset[str] = DEFAULT_UNSIGNED_AMZ_HEADERS
    algorithms: frozenset[SigningAlgorithm] = frozenset(SigningAlgorithm)
    normalized_paths_only: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "regions", _frozen_names(self.regions))
        object.__setattr__(self, "services", _frozen_names(self.services))
        object.__setattr__(
            self, "service_settings", MappingProxyType(dict(self.service_settings))
        )
        object.__setattr__(
            self,
            "unsigned_amz_headers",
            frozenset(name.lower() for name in self.unsigned_amz_headers),
        )
        object.__setattr__(self, "algorithms", frozenset(self.algorithms))
        if not isinstance(self.max_skew, timedelta) or self.max_skew < timedelta(0):
            raise ValueError("max_skew must be a non-negative timedelta")
        if self.regions is not None and not self.regions:
            raise ValueError("regions must be None (any) or a non-empty set")
        if self.services is not None and not self.services:
            raise ValueError("services must be None (any) or a non-empty set")

    def settings_for(self, service: str) -> SigningSettings:
        """The signing rules of ``service``."""
        return self.service_settings.get(service, self.default_settings)


def _index_headers(headers: Iterable[tuple[str, str]]) -> dict[str, tuple[str, ...]]:
    index: dict[str, list[str]] = {}
    for name, value in headers:
        index.setdefault(name.lower(), []).append(value)
    return {name: tuple(values) for name, values in index.items()}


def _header(index: Mapping[str, tuple[str, ...]], name: str) -> str | None:
    values = index.get(name)
    if values is None:
        return None
    # Repeated headers read as the canonical request sees them: joined with ','.
    return ",".join(value.strip() for value in values)


def _declares_aws_chunked(headers: Mapping[str, tuple[str, ...]]) -> bool:
    if "x-amz-decoded-content-length" in headers:
        return True
    encodings = _header(headers, "content-encoding") or ""
    return any(token.strip().lower() == "aws-chunked" for token in encodings.split(","))


def _query_params(query: str) -> list[tuple[str, str]]:
    """``(decoded name, raw value)`` pairs; values are decoded only when used."""
    params: list[tuple[str, str]] = []
    if not query:
        return params
    for piece in query.split("&"):
        if piece:
            key, _, value = piece.partition("=")
            if "%" in key:
                # unquote, not unquote_plus: a literal '+' is a plus sign.
                key = unquote(key, errors="replace")
            params.append((key, value))
    return params


def _hex_bytes(text: str) -> str:
    return " ".join(f"{byte:02x}" for byte in text.encode("utf-8"))


_HEX64 = re.compile(r"[0-9a-fA-F]{64}")


_NO_DATE = "AWS authentication requires a valid Date or x-amz-date header"
