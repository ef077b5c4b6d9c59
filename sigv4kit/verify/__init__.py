"""Verification: the wire model of a signed request, parsing of the Authorization header and
query authentication, time checks, the key lookup protocol, signature and payload checks,
the orchestrating :class:`Verifier`, the aws-chunked decoder, and the errors (one class per
AWS error code).

May import ``sigv4kit.canonical``, ``sigv4kit.signing`` and the shared base modules; never
``client``, ``explain``, ``cli`` or the server (``sigv4kit.middleware``).
"""

from __future__ import annotations

from ._checks import (
    authenticate,
    canonical_request,
    check_key,
    check_payload,
    check_signed_headers,
)
from ._chunked import (
    WORKER_MIN_BYTES,
    AwsChunkedDecoder,
    ChunkedBodyError,
)
from ._errors import (
    AccessDenied,
    AuthorizationHeaderMalformed,
    AuthorizationQueryParametersError,
    EntityTooLarge,
    ExpiredToken,
    IncompleteSignature,
    InternalError,
    InvalidAccessKeyId,
    InvalidArgument,
    InvalidRequest,
    InvalidToken,
    InvalidURI,
    NotImplementedFeature,
    RequestTimeTooSkewed,
    ServiceUnavailable,
    SignatureDoesNotMatch,
    VerificationError,
    XAmzContentSHA256Mismatch,
)
from ._keys import (
    KeyRecord,
)
from ._model import (
    DEFAULT_MAX_SKEW,
    DEFAULT_SERVICE_SETTINGS,
    DEFAULT_UNSIGNED_AMZ_HEADERS,
    Identity,
    KeyLookup,
    ParsedAuth,
    SignedRequest,
    VerifierConfig,
)
from ._parse import (
    parse,
)
from ._time import (
    check_time,
)
from ._verifier import (
    Verifier,
)

__all__ = [
    "DEFAULT_MAX_SKEW",
    "DEFAULT_SERVICE_SETTINGS",
    "DEFAULT_UNSIGNED_AMZ_HEADERS",
    "WORKER_MIN_BYTES",
    "AccessDenied",
    "AuthorizationHeaderMalformed",
    "AuthorizationQueryParametersError",
    "AwsChunkedDecoder",
    "ChunkedBodyError",
    "EntityTooLarge",
    "ExpiredToken",
    "Identity",
    "IncompleteSignature",
    "InternalError",
    "InvalidAccessKeyId",
    "InvalidArgument",
    "InvalidRequest",
    "InvalidToken",
    "InvalidURI",
    "KeyLookup",
    "KeyRecord",
    "NotImplementedFeature",
    "ParsedAuth",
    "RequestTimeTooSkewed",
    "ServiceUnavailable",
    "SignatureDoesNotMatch",
    "SignedRequest",
    "VerificationError",
    "Verifier",
    "VerifierConfig",
    "XAmzContentSHA256Mismatch",
    "authenticate",
    "canonical_request",
    "check_key",
    "check_payload",
    "check_signed_headers",
    "check_time",
    "parse",
]
