"""The checks after parsing: the key and its session token, the signed headers, the
signature (with the canonical request and string to sign it covers), and the payload."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from functools import lru_cache

from cryptography.hazmat.primitives.asymmetric import ec

from .._exceptions import InvalidHeaderError
from .._settings import (
    SessionTokenMode,
    SigningAlgorithm,
)
from ..canonical._diagnostics import redact_values
from ..canonical._request import (
    CanonicalRequest,
)
from ..signing._signer import (
    StringToSign,
    _cached_signing_key,
    calculate_signature,
    derive_sigv4a_private_key,
    verify_sigv4a,
)
from ._errors import (
    AccessDenied,
    ExpiredToken,
    InvalidAccessKeyId,
    InvalidRequest,
    InvalidToken,
    SignatureDoesNotMatch,
    XAmzContentSHA256Mismatch,
)
from ._keys import KeyRecord
from ._model import Identity, ParsedAuth, SignedRequest, VerifierConfig, _hex_bytes
from ._time import _check_now

__all__ = [
    "authenticate",
    "canonical_request",
    "check_key",
    "check_payload",
    "check_signed_headers",
]


_NOT_SIGNED = "There were headers present in the request which were not signed"




def _derive_public_key(access_key_id: str, secret: str) -> ec.EllipticCurvePublicKey:
    return derive_sigv4a_private_key(access_key_id, secret).public_key()


def check_key(
    config: VerifierConfig, parsed: ParsedAuth, key: KeyRecord | None, now: datetime
) -> KeyRecord:
    """See :meth:`Verifier.check_key_at`."""
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


def check_signed_headers(config: VerifierConfig, parsed: ParsedAuth) -> None:
    """See :meth:`Verifier.check_signed_headers`."""
    signed = set(parsed.signed_headers)
    exempt = config.unsigned_amz_headers
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
    config: VerifierConfig,
    parsed: ParsedAuth,
    key: KeyRecord | None,
    request: SignedRequest,
    *,
    now: datetime,
    body_sha256: str | None = None,
) -> Identity:
    """See :meth:`Verifier.authenticate`."""
    key = check_key(config, parsed, key, now)
    check_signed_headers(config, parsed)
    payload_line = parsed.payload_hash if parsed.payload_hash is not None else body_sha256
    if payload_line is None:
        raise ValueError("this request signs its body: pass body_sha256")
    creq, string_to_sign = canonical_request(parsed, request, payload_line)
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
        raise SignatureDoesNotMatch(fields=_diagnostics(config, parsed, str(creq), sts))
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


def canonical_request(
    parsed: ParsedAuth, request: SignedRequest, payload_line: str
) -> tuple[CanonicalRequest, StringToSign]:
    """See :meth:`Verifier.canonical_request`."""
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
    config: VerifierConfig, parsed: ParsedAuth, canonical: str, string_to_sign: str
) -> tuple[tuple[str, str], ...]:
    fields: list[tuple[str, str]] = [("AWSAccessKeyId", parsed.access_key_id)]
    if not config.signature_diagnostics:
        return tuple(fields)
    token = parsed.session_token
    if token:
        # The session token is a credential: never echo it in an error body.
        encoded = [v for k, v in parsed.query_pairs if k == "X-Amz-Security-Token"]
        canonical = redact_values(canonical, [token, *encoded])
    fields += [
        ("StringToSign", string_to_sign),
        ("SignatureProvided", parsed.signature),
        ("StringToSignBytes", _hex_bytes(string_to_sign)),
        ("CanonicalRequest", canonical),
        ("CanonicalRequestBytes", _hex_bytes(canonical)),
    ]
    return tuple(fields)


def check_payload(config: VerifierConfig, parsed: ParsedAuth, body_sha256: str) -> None:
    """See :meth:`Verifier.check_payload`."""
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


# Deriving the SigV4A key costs a scalar multiplication: do it once per key.
_cached_public_key = lru_cache(maxsize=256)(_derive_public_key)
