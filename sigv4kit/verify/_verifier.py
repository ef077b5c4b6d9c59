"""Verification: check a SigV4 / SigV4A signed request the way AWS does.

The verifier is transport-independent: a request is its method, the raw path
and raw query as they travelled on the wire, and its headers in order with
duplicates (:class:`SignedRequest`). Verification is split so a server can
await its key store in the middle, with the time always passed in:

1. :meth:`Verifier.parse_at` (pure): one auth mechanism, the algorithm, the
   Authorization header or the presigned ``X-Amz-*`` parameters, the
   credential scope against the accepted regions and services, the date, the
   clock skew and the presigned expiry. Returns a :class:`ParsedAuth`.
2. The caller looks up ``parsed.access_key_id`` (a :class:`KeyLookup`).
3. :meth:`Verifier.authenticate` (pure): key status, session token, signed
   headers, then the signature in constant time. Returns an :class:`Identity`.
4. :meth:`Verifier.check_payload` (pure): the body hashes to the signed
   ``x-amz-content-sha256`` value.

:meth:`Verifier.verify_at` runs all of it when the key is already in hand;
:meth:`Verifier.verify` awaits a key lookup and reads the clock. The checks
run in AWS's order and fail with AWS's codes (see :mod:`sigv4kit.verify._errors`).
The canonical request is built by :mod:`sigv4kit.canonical._request`, the very
functions the signer uses, so signer and verifier cannot disagree.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from fnmatch import fnmatchcase
from functools import lru_cache
from types import MappingProxyType
from typing import Protocol
from urllib.parse import unquote

from cryptography.hazmat.primitives.asymmetric import ec

from .._exceptions import InvalidHeaderError, InvalidTimeError
from .._settings import (
    PathNormalization,
    PayloadChecksumKind,
    PayloadMode,
    SessionTokenMode,
    SigningAlgorithm,
    SigningSettings,
)
from ..canonical._raw import RawRequest
from ..canonical._request import (
    UNSIGNED_PAYLOAD,
    CanonicalRequest,
    encode_query_pairs,
    is_normalized_path,
    payload_sha256,
    split_target,
)
from ..signing._chunked import StreamingMode
from ..signing._signer import (
    MAX_PRESIGN_EXPIRES,
    CredentialScope,
    StringToSign,
    _cached_signing_key,
    calculate_signature,
    derive_sigv4a_private_key,
    verify_sigv4a,
)
from ._errors import (
    AccessDenied,
    AuthorizationHeaderMalformed,
    AuthorizationQueryParametersError,
    ExpiredToken,
    IncompleteSignature,
    InvalidAccessKeyId,
    InvalidArgument,
    InvalidRequest,
    InvalidToken,
    InvalidURI,
    NotImplementedFeature,
    RequestTimeTooSkewed,
    SignatureDoesNotMatch,
    VerificationError,
    XAmzContentSHA256Mismatch,
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
    "Verifier",
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

_ISO_BASIC = re.compile(r"(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z")
_SCOPE_DATE = re.compile(r"\d{8}")
_HEX64 = re.compile(r"[0-9a-fA-F]{64}")
_INTEGER = re.compile(r"[+-]?\d{1,20}")

_HEADER_PREFIX = "The authorization header is malformed; "
_QUERY_PREFIX = "Error parsing the X-Amz-Credential parameter; "
_THREE_COMPONENTS = (
    _HEADER_PREFIX + "the authorization header requires three components: "
    "Credential, SignedHeaders, and Signature."
)
_ONLY_ONE_MECHANISM = (
    "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, "
    "Signature query string parameter or the Authorization header should be specified"
)
_NO_DATE = "AWS authentication requires a valid Date or x-amz-date header"
_NOT_SIGNED = "There were headers present in the request which were not signed"
_REDACTED = "** REDACTED **"

_COMPONENTS = ("Credential", "SignedHeaders", "Signature")
_ALGORITHMS = {algorithm.value: algorithm for algorithm in SigningAlgorithm}
_QUERY_AUTH_PARAMS = (
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Signature",
    "X-Amz-Date",
    "X-Amz-SignedHeaders",
    "X-Amz-Expires",
)
_QUERY_SINGLETONS = frozenset(
    {*_QUERY_AUTH_PARAMS, "X-Amz-Security-Token", "X-Amz-Region-Set"}
)


def _derive_public_key(access_key_id: str, secret: str) -> ec.EllipticCurvePublicKey:
    return derive_sigv4a_private_key(access_key_id, secret).public_key()


# Deriving the SigV4A key costs a scalar multiplication: do it once per key.
_cached_public_key = lru_cache(maxsize=256)(_derive_public_key)


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


def _check_now(now: datetime) -> datetime:
    if type(now) is datetime and now.tzinfo is UTC:
        return now
    if not isinstance(now, datetime) or now.tzinfo is None or now.utcoffset() is None:
        raise InvalidTimeError("the verification time must be a timezone-aware datetime")
    return now.astimezone(UTC)


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@lru_cache(maxsize=256)
def _parse_iso_basic(text: str) -> datetime | None:
    # Cached: every request signed in the same second carries the same text.
    match = _ISO_BASIC.fullmatch(text)
    if match is None:
        return None
    year, month, day, hour, minute, second = (int(part) for part in match.groups())
    try:
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError:
        return None


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


class Verifier:
    """Verify SigV4 and SigV4A signed requests against access keys.

    ```python
    verifier = Verifier(VerifierConfig(services={"s3"}))
    request = SignedRequest.from_wire("GET", b"/bucket/key", b"", headers)
    identity = verifier.verify_at(request, key=record, now=datetime.now(UTC), body=b"")
    identity.principal
    ```

    Every failure raises a :class:`~sigv4kit.VerificationError` subclass
    named after the AWS error code; nothing returns a bool.
    """

    __slots__ = ("config",)

    def __init__(self, config: VerifierConfig | None = None) -> None:
        self.config = config or VerifierConfig()

    def __repr__(self) -> str:
        return f"Verifier({self.config!r})"

    # -- step 1: parse and time checks -------------------------------------------------

    def parse_at(self, request: SignedRequest, now: datetime) -> ParsedAuth:
        """Parse the request's authentication and check its time against ``now``.

        Raises (in this order): :class:`InvalidArgument` (two mechanisms or an
        unknown scheme), :class:`InvalidRequest` (SigV2 or a disabled
        algorithm), :class:`AccessDenied` (no authentication at all),
        :class:`IncompleteSignature` / :class:`AuthorizationHeaderMalformed` /
        :class:`AuthorizationQueryParametersError` (malformed parameters, a
        region, service or terminal not accepted, a credential date that is
        not the request date), :class:`AccessDenied` (no valid date),
        :class:`RequestTimeTooSkewed`, :class:`AccessDenied` ("Request has
        expired"), then the payload-hash checks (:class:`InvalidRequest`,
        :class:`InvalidArgument`, :class:`NotImplementedFeature`).
        """
        now = _check_now(now)
        headers = _index_headers(request.headers)
        params = _query_params(request.query)
        names = {key for key, _ in params}
        authorization = headers.get("authorization")
        query_v4 = any(name in names for name in _QUERY_AUTH_PARAMS)
        query_v2 = "Signature" in names
        if authorization is not None and (query_v4 or query_v2):
            raise InvalidArgument(
                _ONLY_ONE_MECHANISM,
                fields=(("ArgumentName", "Authorization"), ("ArgumentValue", authorization[0])),
            )
        if query_v4 and query_v2:
            raise InvalidArgument(
                _ONLY_ONE_MECHANISM,
                fields=(("ArgumentName", "Signature"), ("ArgumentValue", "")),
            )
        if authorization is not None:
            parsed = self._parse_header_auth(request, headers, authorization, now)
        elif query_v4:
            parsed = self._parse_query_auth(request, headers, params, now)
        elif query_v2 or "AWSAccessKeyId" in names:
            raise InvalidRequest()
        else:
            raise AccessDenied()
        return parsed

    def _parse_header_auth(
        self,
        request: SignedRequest,
        headers: Mapping[str, tuple[str, ...]],
        values: tuple[str, ...],
        now: datetime,
    ) -> ParsedAuth:
        if len(values) > 1:
            raise AuthorizationHeaderMalformed(
                _HEADER_PREFIX + "only one Authorization header is allowed."
            )
        value = values[0].strip()
        scheme, _, rest = value.partition(" ")
        algorithm = self._header_algorithm(scheme, value)
        components: dict[str, str] = {}
        for raw_component in rest.split(","):
            component = raw_component.strip()
            if not component:
                continue
            name, equals, component_value = component.partition("=")
            name = name.strip()
            if not equals:
                raise IncompleteSignature(
                    f"'{component}' not a valid key=value pair (missing equal-sign) "
                    f"in Authorization header: '{value}'"
                )
            if name not in _COMPONENTS or name in components:
                raise AuthorizationHeaderMalformed(_THREE_COMPONENTS)
            components[name] = component_value.strip()
        if any(not components.get(name) for name in _COMPONENTS):
            raise AuthorizationHeaderMalformed(_THREE_COMPONENTS)
        return self._finish_parse(
            request=request,
            headers=headers,
            algorithm=algorithm,
            credential=components["Credential"],
            signed_headers=components["SignedHeaders"],
            signature=components["Signature"],
            date_text=None,
            expires=None,
            session_token=_header(headers, "x-amz-security-token"),
            region_set=_header(headers, "x-amz-region-set"),
            presigned=False,
            now=now,
        )

    def _header_algorithm(self, scheme: str, value: str) -> SigningAlgorithm:
        algorithm = _ALGORITHMS.get(scheme)
        if algorithm is None:
            if scheme == "AWS" or scheme.startswith("AWS4-"):
                raise InvalidRequest()
            raise InvalidArgument(
                "Unsupported Authorization Type",
                fields=(("ArgumentName", "Authorization"), ("ArgumentValue", value)),
            )
        if algorithm not in self.config.algorithms:
            raise InvalidRequest()
        return algorithm

    def _parse_query_auth(
        self,
        request: SignedRequest,
        headers: Mapping[str, tuple[str, ...]],
        params: list[tuple[str, str]],
        now: datetime,
    ) -> ParsedAuth:
        auth: dict[str, str] = {}
        for key, value in params:
            if key in _QUERY_SINGLETONS:
                if key in auth:
                    raise AuthorizationQueryParametersError(
                        f"{key} must be given only once."
                    )
                auth[key] = unquote(value, errors="replace") if "%" in value else value
        if any(not auth.get(name) for name in _QUERY_AUTH_PARAMS):
            raise AuthorizationQueryParametersError()
        algorithm = _ALGORITHMS.get(auth["X-Amz-Algorithm"])
        if algorithm is None or algorithm not in self.config.algorithms:
            supported = " and ".join(
                f'"{alg.value}"' for alg in SigningAlgorithm if alg in self.config.algorithms
            )
            raise AuthorizationQueryParametersError(f"X-Amz-Algorithm only supports {supported}")
        expires_text = auth["X-Amz-Expires"]
        if not _INTEGER.fullmatch(expires_text):
            raise AuthorizationQueryParametersError("X-Amz-Expires should be a number")
        expires = int(expires_text)
        if expires < 0:
            raise AuthorizationQueryParametersError("X-Amz-Expires must be non-negative")
        if expires == 0:
            raise AuthorizationQueryParametersError("X-Amz-Expires must be greater than 0")
        if expires > MAX_PRESIGN_EXPIRES:
            raise AuthorizationQueryParametersError(
                "X-Amz-Expires must be less than a week (in seconds); that is, the given "
                f"X-Amz-Expires must be less than {MAX_PRESIGN_EXPIRES} seconds"
            )
        return self._finish_parse(
            request=request,
            headers=headers,
            algorithm=algorithm,
            credential=auth["X-Amz-Credential"],
            signed_headers=auth["X-Amz-SignedHeaders"],
            signature=auth["X-Amz-Signature"],
            date_text=auth["X-Amz-Date"],
            expires=expires,
            session_token=auth.get("X-Amz-Security-Token"),
            region_set=auth.get("X-Amz-Region-Set"),
            presigned=True,
            now=now,
        )

    def _finish_parse(
        self,
        *,
        request: SignedRequest,
        headers: Mapping[str, tuple[str, ...]],
        algorithm: SigningAlgorithm,
        credential: str,
        signed_headers: str,
        signature: str,
        date_text: str | None,
        expires: int | None,
        session_token: str | None,
        region_set: str | None,
        presigned: bool,
        now: datetime,
    ) -> ParsedAuth:
        error: type[VerificationError] = (
            AuthorizationQueryParametersError if presigned else AuthorizationHeaderMalformed
        )
        prefix = _QUERY_PREFIX if presigned else _HEADER_PREFIX
        is_v4a = algorithm is SigningAlgorithm.SIGV4A

        # Credential: <akid>/<date>[/<region>]/<service>/aws4_request. The key
        # id is everything before the scope (it may itself contain '/').
        scope_parts = 3 if is_v4a else 4
        parts = credential.split("/")
        if (
            len(parts) <= scope_parts
            or not all(parts[-scope_parts:])
            or not all(parts[:-scope_parts])
            or not _SCOPE_DATE.fullmatch(parts[-scope_parts])
        ):
            raise error(
                prefix + "the Credential is mal-formed; expecting "
                '"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".'
            )
        access_key_id = "/".join(parts[:-scope_parts])
        scope_date = parts[-scope_parts]
        service, terminal = parts[-2], parts[-1]
        config = self.config
        if is_v4a:
            region = self._check_region_set(region_set, error, prefix, presigned)
            scope = CredentialScope(scope_date, None, service)
        else:
            region = parts[-3]
            if config.regions is not None and region not in config.regions:
                expected = min(config.regions)
                raise error(
                    prefix + f"the region '{region}' is wrong; expecting '{expected}'",
                    fields=(("Region", expected),),
                )
            scope = CredentialScope(scope_date, region, service)
        if config.services is not None and service not in config.services:
            raise error(
                prefix + f'incorrect service "{service}". This endpoint belongs to '
                f'"{min(config.services)}".'
            )
        if terminal != "aws4_request":
            raise error(
                prefix + f'incorrect terminal "{terminal}". This endpoint uses "aws4_request".'
            )

        settings = config.settings_for(service)
        if config.normalized_paths_only:
            self._check_path(request.path, settings)

        amz_date_text, request_time = self._request_date(headers, date_text)
        if amz_date_text[:8] != scope_date:
            raise error(prefix + "Invalid credential date. Date is not the same as X-Amz-Date.")
        self._check_time(request_time, amz_date_text, expires, now)

        query_pairs = encode_query_pairs(request.query)
        if presigned:
            excluded = {"X-Amz-Signature"}
            if settings.session_token_mode is SessionTokenMode.EXCLUDE:
                excluded.add("X-Amz-Security-Token")
            query_pairs = [(k, v) for k, v in query_pairs if k not in excluded]
        return ParsedAuth(
            algorithm=algorithm,
            presigned=presigned,
            access_key_id=access_key_id,
            scope=scope,
            region=region,
            service=service,
            signed_headers=tuple(signed_headers.split(";")),
            signature=signature,
            amz_date=amz_date_text,
            request_time=request_time,
            expires=expires,
            session_token=session_token,
            settings=settings,
            payload_hash=self._payload_hash(headers, settings, presigned),
            query_pairs=tuple(query_pairs),
            headers=headers,
        )

    @staticmethod
    def _check_path(path: str, settings: SigningSettings) -> None:
        """Under path normalization, only a path already in normalized form is accepted.

        The signature covers the normalized path, but the app routes on the
        path as sent: ``/secret/../public/x`` would verify as ``/public/x``
        and reach the app as ``/secret/...``. SDKs, the AWS CLI and curl never
        send dot or empty segments, so such a path is refused rather than
        rewritten. S3 rules sign the raw path itself and skip this check.
        """
        if settings.path_normalization is not PathNormalization.ENABLED:
            return
        if not is_normalized_path(path):
            raise InvalidURI(
                "Couldn't parse the specified URI. Under this service's signing rules the "
                "path is normalized before it is signed, so it must be sent normalized: "
                "no '.', '..' or empty segments (encoded or not).",
                fields=(("URI", path),),
            )

    def _check_region_set(
        self,
        region_set: str | None,
        error: type[VerificationError],
        prefix: str,
        presigned: bool,
    ) -> str:
        if not region_set:
            where = "X-Amz-Region-Set parameter" if presigned else "X-Amz-Region-Set header"
            raise error(prefix + f"the {where} is required for AWS4-ECDSA-P256-SHA256.")
        regions = self.config.regions
        if regions is not None:
            patterns = [pattern.strip() for pattern in region_set.split(",")]
            if not any(fnmatchcase(region, p) for p in patterns for region in regions):
                expected = min(regions)
                raise error(
                    prefix + f"the region set '{region_set}' is wrong; expecting '{expected}'",
                    fields=(("Region", expected),),
                )
        return region_set

    @staticmethod
    def _request_date(
        headers: Mapping[str, tuple[str, ...]], query_date: str | None
    ) -> tuple[str, datetime]:
        if query_date is not None:
            when = _parse_iso_basic(query_date)
            if when is None:
                raise AuthorizationQueryParametersError(
                    "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\""
                )
            return query_date, when
        text = _header(headers, "x-amz-date")
        if text is not None:
            when = _parse_iso_basic(text)
            if when is None:
                raise AccessDenied(_NO_DATE)
            return text, when
        text = _header(headers, "date")
        if text is None:
            raise AccessDenied(_NO_DATE)
        when = _parse_iso_basic(text)
        if when is None:
            # SigV4 allows the HTTP Date header instead of X-Amz-Date; its
            # ISO 8601 basic form is what goes into the string to sign.
            try:
                parsed = parsedate_to_datetime(text)
            except (TypeError, ValueError, IndexError):
                raise AccessDenied(_NO_DATE) from None
            if parsed.tzinfo is None:
                raise AccessDenied(_NO_DATE)
            when = parsed.astimezone(UTC).replace(microsecond=0)
            text = when.strftime("%Y%m%dT%H%M%SZ")
        return text, when

    def check_time_at(self, parsed: ParsedAuth, now: datetime) -> None:
        """Re-run the time checks of :meth:`parse_at` for ``now``.

        For servers that reuse a :class:`ParsedAuth` (a replayed request):
        raises :class:`RequestTimeTooSkewed` or :class:`AccessDenied`
        ("Request has expired").
        """
        self._check_time(parsed.request_time, parsed.amz_date, parsed.expires, _check_now(now))

    def _check_time(
        self, request_time: datetime, amz_date_text: str, expires: int | None, now: datetime
    ) -> None:
        max_skew = self.config.max_skew
        if expires is None:
            if abs(now - request_time) > max_skew:
                raise self._skewed(amz_date_text, now)
            return
        # A presigned URL is valid from its date for `expires` seconds; one
        # dated too far in the future is a clock problem, not a long validity.
        if request_time - now > max_skew:
            raise self._skewed(amz_date_text, now)
        expiry = request_time + timedelta(seconds=expires)
        if now > expiry:
            raise AccessDenied(
                "Request has expired",
                fields=(
                    ("X-Amz-Expires", str(expires)),
                    ("Expires", _iso(expiry)),
                    ("ServerTime", _iso(now)),
                ),
            )

    def _skewed(self, amz_date_text: str, now: datetime) -> RequestTimeTooSkewed:
        milliseconds = int(self.config.max_skew.total_seconds() * 1000)
        return RequestTimeTooSkewed(
            fields=(
                ("RequestTime", amz_date_text),
                ("ServerTime", _iso(now)),
                ("MaxAllowedSkewMilliseconds", str(milliseconds)),
            )
        )

    @staticmethod
    def _payload_hash(
        headers: Mapping[str, tuple[str, ...]], settings: SigningSettings, presigned: bool
    ) -> str | None:
        if (
            settings.payload_checksum is not PayloadChecksumKind.X_AMZ_CONTENT_SHA256
            and _declares_aws_chunked(headers)
        ):
            # aws-chunked is S3's: its mode travels in x-amz-content-sha256,
            # which these rules do not use. Refused plainly, rather than
            # failing the signature or handing the app a framed body.
            raise InvalidArgument(
                "aws-chunked payloads (Content-Encoding: aws-chunked, "
                "x-amz-decoded-content-length) are accepted only under S3 rules; "
                "this service's rules sign the body's SHA-256: send a plain body.",
                fields=(
                    ("ArgumentName", "Content-Encoding"),
                    ("ArgumentValue", _header(headers, "content-encoding") or ""),
                ),
            )
        stated = _header(headers, "x-amz-content-sha256")
        if stated is None:
            if presigned:
                unsigned = settings.presigned_payload is PayloadMode.UNSIGNED
                return UNSIGNED_PAYLOAD if unsigned else None
            if settings.payload_checksum is PayloadChecksumKind.X_AMZ_CONTENT_SHA256:
                raise InvalidRequest(
                    "Missing required header for this request: x-amz-content-sha256"
                )
            return UNSIGNED_PAYLOAD if settings.payload is PayloadMode.UNSIGNED else None
        if stated.startswith("STREAMING-"):
            return Verifier._streaming_payload(headers, settings, stated)
        if stated == UNSIGNED_PAYLOAD:
            allowed = (
                settings.payload is PayloadMode.UNSIGNED
                or settings.payload_checksum is PayloadChecksumKind.X_AMZ_CONTENT_SHA256
                or (presigned and settings.presigned_payload is PayloadMode.UNSIGNED)
            )
            if not allowed:
                raise InvalidArgument(
                    "UNSIGNED-PAYLOAD is not accepted by this service; "
                    "x-amz-content-sha256 must be a valid sha256 value.",
                    fields=(
                        ("ArgumentName", "x-amz-content-sha256"),
                        ("ArgumentValue", stated),
                    ),
                )
            return stated
        if not _HEX64.fullmatch(stated):
            raise InvalidArgument(
                "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, "
                "STREAMING-AWS4-HMAC-SHA256-PAYLOAD, or a valid sha256 value.",
                fields=(("ArgumentName", "x-amz-content-sha256"), ("ArgumentValue", stated)),
            )
        return stated

    @staticmethod
    def _streaming_payload(
        headers: Mapping[str, tuple[str, ...]], settings: SigningSettings, stated: str
    ) -> str:
        """Accept an aws-chunked payload mode where the service's rules allow it."""
        try:
            mode = StreamingMode(stated)
        except ValueError:
            raise NotImplementedFeature(
                "A header you provided implies functionality that is not implemented. "
                f"The streaming payload {stated} is not supported; send "
                "STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER], "
                "STREAMING-UNSIGNED-PAYLOAD-TRAILER or a sha256 of the body.",
                fields=(("Header", "x-amz-content-sha256"),),
            ) from None
        # aws-chunked is S3's: accepted where the settings are S3's (the
        # payload hash travels in x-amz-content-sha256).
        if settings.payload_checksum is not PayloadChecksumKind.X_AMZ_CONTENT_SHA256:
            raise InvalidArgument(
                f"{stated} is not accepted by this service; "
                "x-amz-content-sha256 must be a valid sha256 value.",
                fields=(("ArgumentName", "x-amz-content-sha256"), ("ArgumentValue", stated)),
            )
        decoded = _header(headers, "x-amz-decoded-content-length")
        if decoded is None:
            raise InvalidRequest(
                "Missing required header for this request: x-amz-decoded-content-length"
            )
        # ASCII digits only: str.isdigit() also accepts '²' and other digits int() refuses.
        if not (decoded.isascii() and decoded.isdigit()):
            raise InvalidArgument(
                "x-amz-decoded-content-length must be the decoded body length, a "
                "whole number of bytes.",
                fields=(
                    ("ArgumentName", "x-amz-decoded-content-length"),
                    ("ArgumentValue", decoded),
                ),
            )
        if mode.has_trailer and not _header(headers, "x-amz-trailer"):
            raise InvalidRequest("Missing required header for this request: x-amz-trailer")
        return stated

    # -- step 3: key, signed headers, signature -------------------------------------------

    def check_key_at(self, parsed: ParsedAuth, key: KeyRecord | None, now: datetime) -> KeyRecord:
        """Check the key's status and the session token; returns the key.

        Raises :class:`InvalidAccessKeyId` (unknown or inactive key),
        :class:`InvalidToken` (temporary key with a missing or wrong token, or
        a token sent with a long-term key), :class:`ExpiredToken`.
        """
        now = _check_now(now)
        if (
            key is None
            or not key.active
            or not hmac.compare_digest(
                key.access_key_id.encode("utf-8"), parsed.access_key_id.encode("utf-8")
            )
        ):
            raise InvalidAccessKeyId(fields=(("AWSAccessKeyId", parsed.access_key_id),))
        token = parsed.session_token
        if key.session_token_sha256 is not None:
            if token is None:
                raise InvalidToken()
            digest = hashlib.sha256(token.encode("utf-8")).hexdigest()
            if not hmac.compare_digest(digest, key.session_token_sha256.lower()):
                raise InvalidToken()
            expires_at = key.expires_at
            if expires_at is not None:
                if expires_at.tzinfo is None:
                    # A store that keeps naive timestamps keeps them in UTC.
                    expires_at = expires_at.replace(tzinfo=UTC)
                if now >= expires_at:
                    raise ExpiredToken()
        elif token is not None:
            raise InvalidToken()
        return key

    def check_signed_headers(self, parsed: ParsedAuth) -> None:
        """``host`` and every ``x-amz-*`` header present must be signed.

        Raises :class:`AccessDenied` naming the unsigned headers in ``HeadersNotSigned``.
        """
        signed = set(parsed.signed_headers)
        exempt = self.config.unsigned_amz_headers
        token_exempt = parsed.settings.session_token_mode is SessionTokenMode.EXCLUDE
        missing = [] if "host" in signed else ["host"]
        for name in parsed.headers:
            if (
                name.startswith("x-amz-")
                and name not in signed
                and name not in exempt
                and not (token_exempt and name == "x-amz-security-token")
            ):
                missing.append(name)
        if missing:
            raise AccessDenied(_NOT_SIGNED, fields=(("HeadersNotSigned", ", ".join(missing)),))

    def authenticate(
        self,
        parsed: ParsedAuth,
        key: KeyRecord | None,
        request: SignedRequest,
        *,
        now: datetime,
        body_sha256: str | None = None,
    ) -> Identity:
        """Check the key, the signed headers and the signature.

        ``body_sha256`` (hex SHA-256 of the body) is required when
        ``parsed.needs_body_hash``. Afterwards call :meth:`check_payload` when
        ``parsed.body_must_match``.

        Raises the errors of :meth:`check_key_at` and
        :meth:`check_signed_headers`, then :class:`SignatureDoesNotMatch`.
        """
        key = self.check_key_at(parsed, key, now)
        self.check_signed_headers(parsed)
        payload_line = parsed.payload_hash if parsed.payload_hash is not None else body_sha256
        if payload_line is None:
            raise ValueError("this request signs its body: pass body_sha256")
        creq, string_to_sign = self.canonical_request(parsed, request, payload_line)
        sts = str(string_to_sign)
        if parsed.algorithm is SigningAlgorithm.SIGV4A:
            public_key = _cached_public_key(key.access_key_id, key.secret_access_key)
            valid = verify_sigv4a(public_key, sts, parsed.signature)
        else:
            assert parsed.scope.region is not None
            signing_key = _cached_signing_key(
                key.secret_access_key, parsed.scope.date, parsed.scope.region, parsed.service
            )
            expected = calculate_signature(signing_key, sts)
            valid = hmac.compare_digest(
                expected.encode("ascii"), parsed.signature.encode("utf-8", "replace")
            )
        if not valid:
            raise SignatureDoesNotMatch(fields=self._diagnostics(parsed, str(creq), sts))
        return Identity(
            principal=key.principal,
            access_key_id=key.access_key_id,
            temporary=key.is_temporary,
            region=parsed.region,
            service=parsed.service,
            signed_headers=parsed.signed_headers,
            algorithm=parsed.algorithm,
            presigned=parsed.presigned,
            request_time=parsed.request_time,
        )

    @staticmethod
    def canonical_request(
        parsed: ParsedAuth, request: SignedRequest, payload_line: str
    ) -> tuple[CanonicalRequest, StringToSign]:
        """The canonical request and string to sign the signature must cover.

        ``payload_line`` is the payload hash line (the stated hash, or the
        body's SHA-256). Raises :class:`InvalidRequest` for a header value
        with a line break or NUL byte.
        """
        try:
            creq = CanonicalRequest.build(
                method=request.method,
                path=request.path,
                query_pairs=parsed.query_pairs,
                headers=request.headers,
                signed_headers=parsed.signed_headers,
                payload_hash=payload_line,
                settings=parsed.settings,
            )
        except InvalidHeaderError:
            raise InvalidRequest("A header value contains a line break or a NUL byte.") from None
        return creq, StringToSign(parsed.algorithm, parsed.amz_date, parsed.scope, creq.sha256())

    def _diagnostics(
        self, parsed: ParsedAuth, canonical: str, string_to_sign: str
    ) -> tuple[tuple[str, str], ...]:
        fields: list[tuple[str, str]] = [("AWSAccessKeyId", parsed.access_key_id)]
        if not self.config.signature_diagnostics:
            return tuple(fields)
        token = parsed.session_token
        if token:
            # The session token is a credential: never echo it in an error body.
            canonical = canonical.replace(token, _REDACTED)
            encoded = [v for k, v in parsed.query_pairs if k == "X-Amz-Security-Token"]
            for value in encoded:
                if value:
                    canonical = canonical.replace(value, _REDACTED)
        fields += [
            ("StringToSign", string_to_sign),
            ("SignatureProvided", parsed.signature),
            ("StringToSignBytes", _hex_bytes(string_to_sign)),
            ("CanonicalRequest", canonical),
            ("CanonicalRequestBytes", _hex_bytes(canonical)),
        ]
        return tuple(fields)

    def check_payload(self, parsed: ParsedAuth, body_sha256: str) -> None:
        """The body must hash to the signed ``x-amz-content-sha256`` value.

        Raises :class:`XAmzContentSHA256Mismatch`.
        """
        stated = parsed.payload_hash
        if stated is None or not parsed.body_must_match:
            return
        if not hmac.compare_digest(stated.lower().encode(), body_sha256.lower().encode()):
            raise XAmzContentSHA256Mismatch(
                fields=(
                    ("ClientComputedContentSHA256", stated),
                    ("S3ComputedContentSHA256", body_sha256),
                )
            )

    # -- all at once ----------------------------------------------------------------------

    def verify_at(
        self,
        request: SignedRequest,
        *,
        key: KeyRecord | None,
        now: datetime,
        body: bytes | None = None,
        body_sha256: str | None = None,
    ) -> Identity:
        """Verify a request with its key in hand at time ``now``.

        ``body`` (or its hex SHA-256 as ``body_sha256``) defaults to empty.
        Raises the :class:`~sigv4kit.VerificationError` subclass of the first
        failed check, in AWS's order.
        """
        if body_sha256 is None:
            body_sha256 = payload_sha256(body or b"")
        parsed = self.parse_at(request, now)
        identity = self.authenticate(parsed, key, request, now=now, body_sha256=body_sha256)
        self.check_payload(parsed, body_sha256)
        return identity

    async def verify(
        self,
        request: SignedRequest,
        *,
        keys: KeyLookup,
        body: bytes | None = None,
        now: datetime | None = None,
    ) -> Identity:
        """Verify a request, looking its key up in ``keys``; ``now`` defaults to the clock.

        Raises like :meth:`verify_at`, and whatever ``keys.get_key`` raises.
        """
        when = now if now is not None else datetime.now(UTC)
        parsed = self.parse_at(request, when)
        key = await keys.get_key(parsed.access_key_id)
        body_sha256 = payload_sha256(body or b"")
        identity = self.authenticate(parsed, key, request, now=when, body_sha256=body_sha256)
        self.check_payload(parsed, body_sha256)
        return identity
