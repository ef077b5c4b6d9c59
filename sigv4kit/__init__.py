"""sigv4kit: AWS Signature Version 4 and 4A, byte-identical to the AWS SDKs.

The names here are what a user needs: the httpx auth and presigning, credentials and
their providers, retries, the client's AWS error family, the signer and its settings,
the verifier's entry points and ``explain``. Everything else stays importable from the
pipeline subpackages, for experts and tests: :mod:`sigv4kit.canonical`,
:mod:`sigv4kit.signing`, :mod:`sigv4kit.verify` (including the server-side errors, one
class per AWS error code), :mod:`sigv4kit.client`, :mod:`sigv4kit.explain`.
"""

from __future__ import annotations

# First: it decides which build of the fast paths the imports below load.
from . import _build as _build
from ._exceptions import (
    BodyNotReadableError,
    CredentialsError,
    InvalidExpiryError,
    InvalidHeaderError,
    InvalidRequestError,
    InvalidTimeError,
    SigningError,
    SigV4Error,
)
from ._settings import (
    PathNormalization,
    PayloadChecksumKind,
    PayloadMode,
    PercentEncoding,
    SessionTokenMode,
    SignatureLocation,
    SigningAlgorithm,
    SigningSettings,
)
from .canonical import (
    EMPTY_SHA256,
    UNSIGNED_PAYLOAD,
    CanonicalRequest,
    RawRequest,
    parse_raw_request,
)
from .client import (
    AccessDeniedError,
    AuthenticationError,
    AWSErrorDetails,
    AWSServiceError,
    BodyNotReplayableError,
    BodyTooLargeError,
    BotocoreCredentialsProvider,
    ChainCredentialsProvider,
    ClockSkewError,
    CredentialsNotFoundError,
    CredentialsProvider,
    EndpointInferenceError,
    EnvironmentCredentialsProvider,
    ExpiredTokenError,
    ExpiringCredentials,
    NotFoundError,
    RefreshableCredentialsProvider,
    RetryMode,
    RetryPolicy,
    RetryTransport,
    ServiceUnavailableError,
    SharedFilesCredentialsProvider,
    SignatureMismatchError,
    SigV4AAuth,
    SigV4Auth,
    StaticCredentialsProvider,
    ThrottlingError,
    ValidationError,
    async_raise_for_aws_error_hook,
    default_credentials_provider,
    error_from_response,
    infer_region_service,
    parse_aws_error,
    presign,
    raise_for_aws_error,
    raise_for_aws_error_hook,
)
from .explain import (
    Cause,
    Explanation,
    Finding,
    explain,
    render_explanation,
)
from .signing import (
    Checksum,
    ChecksumAlgorithm,
    ChunkedEncoding,
    Credentials,
    SigningResult,
    StreamingMode,
    StringToSign,
    sign,
)

# Deprecated aliases: the server-side verification errors (one class per AWS error
# code) live in sigv4kit.verify, so that sigv4kit.AccessDenied (the verifier's) and
# sigv4kit.AccessDeniedError (a parsed AWS response) no longer sit side by side.
# These names keep existing imports and ``except`` clauses working; they are not in
# __all__. Import them from sigv4kit.verify.
from .verify import (
    AccessDenied as AccessDenied,
)
from .verify import (
    AuthorizationHeaderMalformed as AuthorizationHeaderMalformed,
)
from .verify import (
    AuthorizationQueryParametersError as AuthorizationQueryParametersError,
)
from .verify import (
    ChunkedBodyError as ChunkedBodyError,
)
from .verify import (
    EntityTooLarge as EntityTooLarge,
)
from .verify import (
    ExpiredToken as ExpiredToken,
)
from .verify import (
    Identity,
    KeyLookup,
    KeyRecord,
    SignedRequest,
    VerificationError,
    Verifier,
    VerifierConfig,
)
from .verify import (
    IncompleteSignature as IncompleteSignature,
)
from .verify import (
    InternalError as InternalError,
)
from .verify import (
    InvalidAccessKeyId as InvalidAccessKeyId,
)
from .verify import (
    InvalidArgument as InvalidArgument,
)
from .verify import (
    InvalidRequest as InvalidRequest,
)
from .verify import (
    InvalidToken as InvalidToken,
)
from .verify import (
    InvalidURI as InvalidURI,
)
from .verify import (
    NotImplementedFeature as NotImplementedFeature,
)
from .verify import (
    RequestTimeTooSkewed as RequestTimeTooSkewed,
)
from .verify import (
    ServiceUnavailable as ServiceUnavailable,
)
from .verify import (
    SignatureDoesNotMatch as SignatureDoesNotMatch,
)
from .verify import (
    XAmzContentSHA256Mismatch as XAmzContentSHA256Mismatch,
)

__version__ = "0.1.0"

__all__ = [
    "EMPTY_SHA256",
    "UNSIGNED_PAYLOAD",
    "AWSErrorDetails",
    "AWSServiceError",
    "AccessDeniedError",
    "AuthenticationError",
    "BodyNotReadableError",
    "BodyNotReplayableError",
    "BodyTooLargeError",
    "BotocoreCredentialsProvider",
    "CanonicalRequest",
    "Cause",
    "ChainCredentialsProvider",
    "Checksum",
    "ChecksumAlgorithm",
    "ChunkedEncoding",
    "ClockSkewError",
    "Credentials",
    "CredentialsError",
    "CredentialsNotFoundError",
    "CredentialsProvider",
    "EndpointInferenceError",
    "EnvironmentCredentialsProvider",
    "ExpiredTokenError",
    "ExpiringCredentials",
    "Explanation",
    "Finding",
    "Identity",
    "InvalidExpiryError",
    "InvalidHeaderError",
    "InvalidRequestError",
    "InvalidTimeError",
    "KeyLookup",
    "KeyRecord",
    "NotFoundError",
    "PathNormalization",
    "PayloadChecksumKind",
    "PayloadMode",
    "PercentEncoding",
    "RawRequest",
    "RefreshableCredentialsProvider",
    "RetryMode",
    "RetryPolicy",
    "RetryTransport",
    "ServiceUnavailableError",
    "SessionTokenMode",
    "SharedFilesCredentialsProvider",
    "SigV4AAuth",
    "SigV4Auth",
    "SigV4Error",
    "SignatureLocation",
    "SignatureMismatchError",
    "SignedRequest",
    "SigningAlgorithm",
    "SigningError",
    "SigningResult",
    "SigningSettings",
    "StaticCredentialsProvider",
    "StreamingMode",
    "StringToSign",
    "ThrottlingError",
    "ValidationError",
    "VerificationError",
    "Verifier",
    "VerifierConfig",
    "async_raise_for_aws_error_hook",
    "default_credentials_provider",
    "error_from_response",
    "explain",
    "infer_region_service",
    "parse_aws_error",
    "parse_raw_request",
    "presign",
    "raise_for_aws_error",
    "raise_for_aws_error_hook",
    "render_explanation",
    "sign",
]
