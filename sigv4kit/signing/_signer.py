"""Signing: credential scope, string to sign, key derivation and :func:`sign`.

:func:`sign` is transport-independent: it takes a request as method, raw
target and headers, and returns what to put on the wire (a
:class:`SigningResult`) without touching any HTTP object. The httpx auth
classes, :func:`~sigv4kit.presign` and the CLI are thin adapters over it.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from .._exceptions import InvalidExpiryError, InvalidRequestError, InvalidTimeError, SigningError
from .._settings import (
    PayloadChecksumKind,
    PayloadMode,
    PercentEncoding,
    SessionTokenMode,
    SignatureLocation,
    SigningAlgorithm,
    SigningSettings,
)
from ..canonical._request import (
    EMPTY_SHA256,
    UNSIGNED_PAYLOAD,
    CanonicalRequest,
    canonical_header_value,
    canonical_uri,
    canonicalize_query,
    encode_path_once,
    payload_sha256,
    split_target,
    uri_encode,
)
from ._credentials import Credentials

__all__ = [
    "MAX_PRESIGN_EXPIRES",
    "CredentialScope",
    "SigningResult",
    "StringToSign",
    "amz_date",
    "calculate_signature",
    "derive_signing_key",
    "derive_sigv4a_private_key",
    "sign",
    "sign_sigv4a",
    "verify_sigv4a",
]

#: AWS refuses presigned URLs valid for longer than seven days.
MAX_PRESIGN_EXPIRES = 604800

# Headers and query parameters the signer owns: an earlier signature's copies
# are removed before signing again, so a retry replaces the old signature.
_AUTH_HEADERS = frozenset(
    {"authorization", "x-amz-date", "x-amz-security-token", "x-amz-region-set"}
)
_AUTH_QUERY = frozenset(
    {
        "X-Amz-Algorithm",
        "X-Amz-Credential",
        "X-Amz-Date",
        "X-Amz-Expires",
        "X-Amz-SignedHeaders",
        "X-Amz-Signature",
        "X-Amz-Security-Token",
        "X-Amz-Region-Set",
    }
)

_DEFAULT_SETTINGS = SigningSettings()

# NIST P-256 group order, for the SigV4A key derivation.
_P256_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def amz_date(now: datetime) -> str:
    """``X-Amz-Date`` text (``20150830T123600Z``) of an aware datetime.

    Raises :class:`~sigv4kit.InvalidTimeError` for a naive datetime.
    """
    if not isinstance(now, datetime):
        raise InvalidTimeError(f"signing time must be a datetime, not {type(now).__name__}")
    if now.tzinfo is UTC:
        # Fast path: isoformat() is C code; 'YYYY-MM-DDTHH:MM:SS...' is sliced.
        text = now.isoformat()
        return f"{text[0:4]}{text[5:7]}{text[8:10]}T{text[11:13]}{text[14:16]}{text[17:19]}Z"
    if now.tzinfo is None or now.utcoffset() is None:
        raise InvalidTimeError(
            "signing time must be timezone-aware (use datetime.now(timezone.utc)); "
            f"got naive {now.isoformat()}"
        )
    t = now.astimezone(UTC)
    return (
        f"{t.year:04d}{t.month:02d}{t.day:02d}T{t.hour:02d}{t.minute:02d}{t.second:02d}Z"
    )


@dataclass(frozen=True, slots=True)
class CredentialScope:
    """``date/region/service/aws4_request``; SigV4A scopes have no region."""

    date: str
    region: str | None
    service: str
    _text: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        region = "" if self.region is None else f"{self.region}/"
        object.__setattr__(self, "_text", f"{self.date}/{region}{self.service}/aws4_request")

    def __str__(self) -> str:
        return self._text


# Scopes repeat for every request of a day: build each once.
_cached_scope = lru_cache(maxsize=512)(CredentialScope)


@dataclass(frozen=True, slots=True)
class StringToSign:
    """The SigV4 string to sign; ``str()`` is its exact text."""

    algorithm: SigningAlgorithm
    amz_date: str
    scope: CredentialScope
    canonical_request_hash: str

    def __str__(self) -> str:
        return (
            f"{self.algorithm.value}\n{self.amz_date}\n{self.scope}\n"
            f"{self.canonical_request_hash}"
        )


def derive_signing_key(secret_access_key: str, date: str, region: str, service: str) -> bytes:
    """The SigV4 signing key: HMAC chain over date, region, service, ``aws4_request``."""
    k_date = hmac.digest(("AWS4" + secret_access_key).encode("utf-8"), date.encode(), "sha256")
    k_region = hmac.digest(k_date, region.encode("utf-8"), "sha256")
    k_service = hmac.digest(k_region, service.encode("utf-8"), "sha256")
    return hmac.digest(k_service, b"aws4_request", "sha256")


# One signing key per (secret, day, region, service): derived once, reused for
# every request of the day. Bounded so a multi-tenant process cannot grow it.
_cached_signing_key = lru_cache(maxsize=512)(derive_signing_key)


def _keyed_signing_mac(secret_access_key: str, date: str, region: str, service: str) -> hmac.HMAC:
    """HMAC-SHA256 keyed with the signing key: ``copy()`` it per signature.

    A copy skips what ``hmac.digest`` does on every call (the key's two
    SHA-256 blocks and OpenSSL's digest lookup): 1.4 instead of 2.3 µs here.
    """
    key = _cached_signing_key(secret_access_key, date, region, service)
    return hmac.new(key, digestmod="sha256")


# Bounded as the signing keys are (the fast paths sign and verify with it).
_cached_signing_mac = lru_cache(maxsize=512)(_keyed_signing_mac)


def calculate_signature(signing_key: bytes, string_to_sign: str) -> str:
    """Lower-case hex HMAC-SHA256 of the string to sign."""
    return hmac.digest(signing_key, string_to_sign.encode("utf-8"), "sha256").hex()


def derive_sigv4a_private_key(
    access_key_id: str, secret_access_key: str
) -> ec.EllipticCurvePrivateKey:
    """AWS's SigV4A key derivation: HMAC-SHA256 in counter mode (NIST SP 800-108).

    The candidate ``k0`` is retried with the next counter while it exceeds
    ``n - 2``; the private scalar is ``k0 + 1``.
    """
    key = ("AWS4A" + secret_access_key).encode("utf-8")
    label = b"AWS4-ECDSA-P256-SHA256"
    for counter in range(1, 255):
        fixed = (
            b"\x00\x00\x00\x01"
            + label
            + b"\x00"
            + access_key_id.encode("utf-8")
            + bytes([counter])
            + b"\x00\x00\x01\x00"
        )
        k0 = int.from_bytes(hmac.digest(key, fixed, "sha256"), "big")
        if k0 <= _P256_N - 2:
            return ec.derive_private_key(k0 + 1, ec.SECP256R1())
    raise SigningError("SigV4A key derivation exhausted its counter")  # pragma: no cover


_cached_sigv4a_key = lru_cache(maxsize=64)(derive_sigv4a_private_key)


def sign_sigv4a(private_key: ec.EllipticCurvePrivateKey, string_to_sign: str) -> str:
    """Hex DER ECDSA-P256/SHA-256 signature of the string to sign."""
    der = private_key.sign(string_to_sign.encode("utf-8"), ec.ECDSA(hashes.SHA256()))
    return der.hex()


def verify_sigv4a(
    public_key: ec.EllipticCurvePublicKey, string_to_sign: str, signature_hex: str
) -> bool:
    """True when ``signature_hex`` is a valid SigV4A signature of the string to sign."""
    from cryptography.exceptions import InvalidSignature

    try:
        der = bytes.fromhex(signature_hex)
        public_key.verify(der, string_to_sign.encode("utf-8"), ec.ECDSA(hashes.SHA256()))
    except (ValueError, InvalidSignature):
        return False
    return True


@dataclass(frozen=True, slots=True)
class SigningResult:
    """What signing produced, and what to put on the wire.

    ``target`` is the request target to send (the query re-encoded to its
    canonical encoding, plus the ``X-Amz-*`` parameters when presigning),
    ``headers`` the complete header list of the signed request, and
    ``added_headers`` / ``removed_headers`` the same change expressed as a
    patch for adapters that edit a request in place.
    """

    canonical_request: CanonicalRequest
    string_to_sign: StringToSign
    signature: str
    target: str
    headers: tuple[tuple[str, str], ...]
    added_headers: tuple[tuple[str, str], ...]
    removed_headers: frozenset[str]
    authorization: str | None


_SCOPE_PART = re.compile(r"[^/\s]+")
# RFC 9110 token characters.
_METHOD = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")

# Which earlier auth headers a new signature replaces, by mode.
_REMOVED_HEADERS_MODE = frozenset(_AUTH_HEADERS)
_REMOVED_HEADERS_MODE_SHA = frozenset(_AUTH_HEADERS | {"x-amz-content-sha256"})
_REMOVED_QUERY_MODE: frozenset[str] = frozenset()


def _check_scope_part(name: str, value: str) -> None:
    if not isinstance(value, str) or not _SCOPE_PART.fullmatch(value):
        raise SigningError(f"{name} {value!r} must be non-empty, without '/' or whitespace")


def _check_expires(expires_in: int) -> None:
    if isinstance(expires_in, bool) or not isinstance(expires_in, int):
        raise InvalidExpiryError(f"expires_in must be an int, not {type(expires_in).__name__}")
    if not 1 <= expires_in <= MAX_PRESIGN_EXPIRES:
        raise InvalidExpiryError(
            f"expires_in must be between 1 and {MAX_PRESIGN_EXPIRES} seconds, got {expires_in}"
        )


def _choose_payload_hash(
    body: bytes | None,
    payload_hash: str | None,
    settings: SigningSettings,
    presigned: bool,
) -> str:
    if payload_hash is not None:
        if not payload_hash or any(c.isspace() for c in payload_hash):
            raise SigningError(f"payload_hash {payload_hash!r} is not a valid payload hash")
        return payload_hash
    mode = settings.presigned_payload if presigned else settings.payload
    if mode is PayloadMode.UNSIGNED:
        return UNSIGNED_PAYLOAD
    if body is None:
        return EMPTY_SHA256
    if not isinstance(body, bytes | bytearray | memoryview):
        raise SigningError(f"body must be bytes, not {type(body).__name__}")
    return payload_sha256(bytes(body))


def sign(
    method: str,
    target: str,
    headers: Sequence[tuple[str, str]],
    *,
    credentials: Credentials,
    region: str,
    service: str,
    now: datetime,
    body: bytes | None = None,
    payload_hash: str | None = None,
    settings: SigningSettings | None = None,
    algorithm: SigningAlgorithm = SigningAlgorithm.SIGV4,
    expires_in: int = 3600,
) -> SigningResult:
    """Sign a request given as method, raw target and headers.

    ``target`` is the request target as it goes on the wire (``/path?query``);
    ``headers`` must include ``Host``. The payload hash is ``payload_hash``
    when given (a precomputed hash or a literal such as ``UNSIGNED-PAYLOAD``),
    else what ``settings`` say of ``body``. For SigV4A, ``region`` is the
    region set (``"us-east-1,us-west-2"`` or ``"*"``). ``expires_in`` applies
    when ``settings.signature_location`` is ``QUERY``.

    ```python
    result = sign("GET", "/?Param1=value1", [("Host", "example.amazonaws.com")],
                  credentials=creds, region="us-east-1", service="service",
                  now=datetime(2015, 8, 30, 12, 36, tzinfo=timezone.utc))
    result.authorization  # 'AWS4-HMAC-SHA256 Credential=...'
    ```

    Raises :class:`~sigv4kit.SigningError` (or a subclass) for a naive time,
    an expiry out of range, a missing Host header, or a header value that
    cannot be sent.
    """
    if settings is None:
        settings = _DEFAULT_SETTINGS
    date_time = amz_date(now)
    _check_scope_part("region", region)
    _check_scope_part("service", service)
    if not isinstance(method, str) or not _METHOD.fullmatch(method):
        raise InvalidRequestError(f"invalid HTTP method {method!r}")
    presigned = settings.signature_location is SignatureLocation.QUERY
    if presigned:
        _check_expires(expires_in)

    path, raw_query = split_target(target)
    if settings.percent_encoding is PercentEncoding.SINGLE:
        # S3 decodes the path and re-encodes it strictly: send that form, so
        # what is signed and what is sent cannot differ.
        path = encode_path_once(path)
    pairs, wire_query = canonicalize_query(raw_query)
    if presigned and any(k in _AUTH_QUERY for k, _ in pairs):
        # An earlier presignature's parameters are replaced, not signed.
        kept_pieces = [p for p in wire_query.split("&") if p.partition("=")[0] not in _AUTH_QUERY]
        pairs = [(k, v) for k, v in pairs if k not in _AUTH_QUERY]
        wire_query = "&".join(kept_pieces)

    is_v4a = algorithm is SigningAlgorithm.SIGV4A
    scope = _cached_scope(date_time[:8], None if is_v4a else region, service)
    token = credentials.session_token
    include_token = token is not None and settings.session_token_mode is SessionTokenMode.INCLUDE
    hashed_payload = _choose_payload_hash(body, payload_hash, settings, presigned)

    # The signer owns the auth headers: drop earlier copies (this may be a retry).
    add_content_sha = (
        not presigned and settings.payload_checksum is PayloadChecksumKind.X_AMZ_CONTENT_SHA256
    )
    if presigned:
        removed = _REMOVED_QUERY_MODE
    elif add_content_sha:
        removed = _REMOVED_HEADERS_MODE_SHA
    else:
        removed = _REMOVED_HEADERS_MODE
    unsigned = settings.unsigned_headers
    kept: list[tuple[str, str]] = []
    grouped: dict[str, list[str]] = {}
    for name, value in headers:
        lname = name.lower()
        if lname in removed:
            continue
        kept.append((name, value))
        if lname not in unsigned:
            canonical = canonical_header_value(value)
            if lname in grouped:
                grouped[lname].append(canonical)
            else:
                grouped[lname] = [canonical]
    if "host" not in grouped:
        raise InvalidRequestError("the request has no Host header; SigV4 always signs host")

    added: list[tuple[str, str]] = []
    if not presigned:
        added.append(("X-Amz-Date", date_time))
        if include_token:
            assert token is not None
            added.append(("X-Amz-Security-Token", token))
        if is_v4a:
            added.append(("X-Amz-Region-Set", region))
        if add_content_sha:
            added.append(("x-amz-content-sha256", hashed_payload))
        for name, value in added:
            grouped[name.lower()] = [canonical_header_value(value)]

    signed_names = sorted(grouped)
    signed_headers = ";".join(signed_names)

    auth_params: list[tuple[str, str]] = []
    if presigned:
        auth_params = [
            ("X-Amz-Algorithm", algorithm.value),
            ("X-Amz-Credential", uri_encode(f"{credentials.access_key_id}/{scope}")),
            ("X-Amz-Date", date_time),
            ("X-Amz-SignedHeaders", uri_encode(signed_headers)),
            ("X-Amz-Expires", str(expires_in)),
        ]
        if include_token:
            assert token is not None
            auth_params.append(("X-Amz-Security-Token", uri_encode(token)))
        if is_v4a:
            auth_params.append(("X-Amz-Region-Set", uri_encode(region)))
        canonical_pairs = pairs + auth_params
    else:
        canonical_pairs = pairs

    creq = CanonicalRequest(
        method=method.upper(),
        uri=canonical_uri(path, settings),
        query="&".join([f"{k}={v}" for k, v in sorted(canonical_pairs)]),
        headers=tuple([(name, ",".join(grouped[name])) for name in signed_names]),
        signed_headers=signed_headers,
        payload_hash=hashed_payload,
    )
    sts = StringToSign(algorithm, date_time, scope, creq.sha256())
    sts_text = str(sts)
    if is_v4a:
        private_key = _cached_sigv4a_key(credentials.access_key_id, credentials.secret_access_key)
        signature = sign_sigv4a(private_key, sts_text)
    else:
        key = _cached_signing_key(credentials.secret_access_key, scope.date, region, service)
        signature = calculate_signature(key, sts_text)

    authorization: str | None = None
    if presigned:
        extra = auth_params
        if token is not None and not include_token:
            extra = [*extra, ("X-Amz-Security-Token", uri_encode(token))]
        extra = [*extra, ("X-Amz-Signature", signature)]
        auth_query = "&".join([f"{k}={v}" for k, v in extra])
        wire_query = f"{wire_query}&{auth_query}" if wire_query else auth_query
    else:
        authorization = (
            f"{algorithm.value} Credential={credentials.access_key_id}/{scope}, "
            f"SignedHeaders={signed_headers}, Signature={signature}"
        )
        if token is not None and not include_token:
            added.append(("X-Amz-Security-Token", token))
        added.append(("Authorization", authorization))
    new_target = f"{path}?{wire_query}" if wire_query else path

    return SigningResult(
        canonical_request=creq,
        string_to_sign=sts,
        signature=signature,
        target=new_target,
        headers=(*kept, *added),
        added_headers=tuple(added),
        removed_headers=removed,
        authorization=authorization,
    )
