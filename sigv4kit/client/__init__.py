"""The client: httpx auth, presigning, the retry transport, credential providers, clock skew,
AWS error parsing, endpoint inference.

May import ``sigv4kit.canonical``, ``sigv4kit.signing`` and the shared base modules; never
``verify``, ``explain``, ``cli`` or the server.
"""

from __future__ import annotations

from ._auth import (
    Clock,
    Resigner,
    SigV4AAuth,
    SigV4Auth,
)
from ._chain import (
    BotocoreCredentialsProvider,
    ChainCredentialsProvider,
    default_credentials_provider,
)
from ._endpoints import (
    EndpointInferenceError,
    infer_region_service,
)
from ._errors import (
    SIGNING_RESULT_EXTENSION,
    AccessDeniedError,
    AuthenticationError,
    AWSErrorDetails,
    AWSServiceError,
    ClockSkewError,
    ExpiredTokenError,
    NotFoundError,
    ServiceUnavailableError,
    SignatureMismatchError,
    ThrottlingError,
    ValidationError,
    error_class_for,
    first_difference,
)
from ._httpx import (
    DEFAULT_MAX_BODY_BUFFER,
    INVOCATION_ID_HEADER,
    RESIGN_EXTENSION,
    SDK_REQUEST_HEADER,
    BodyTooLargeError,
    sign_httpx_request,
)
from ._parse import (
    async_raise_for_aws_error_hook,
    error_from_response,
    parse_aws_error,
    raise_for_aws_error,
    raise_for_aws_error_hook,
)
from ._presign import (
    presign,
)
from ._providers import (
    ADVISORY_REFRESH_WINDOW,
    MANDATORY_REFRESH_WINDOW,
    CredentialsNotFoundError,
    CredentialsProvider,
    EnvironmentCredentialsProvider,
    ExpiringCredentials,
    RefreshableCredentialsProvider,
    StaticCredentialsProvider,
)
from ._retry import (
    RETRY_ATTEMPTS_EXTENSION,
    AdaptiveRateLimiter,
    BodyNotReplayableError,
    RetryMode,
    RetryPolicy,
    RetryQuota,
    backoff_delay,
    server_retry_delay,
)
from ._shared_files import (
    SharedFilesCredentialsProvider,
    run_credential_process,
)
from ._skew import (
    SKEW_THRESHOLD,
    ClockOffset,
    parse_http_date,
    skew_offset,
)
from ._transport import (
    RetryTransport,
)

__all__ = [
    "ADVISORY_REFRESH_WINDOW",
    "DEFAULT_MAX_BODY_BUFFER",
    "INVOCATION_ID_HEADER",
    "MANDATORY_REFRESH_WINDOW",
    "RESIGN_EXTENSION",
    "RETRY_ATTEMPTS_EXTENSION",
    "SDK_REQUEST_HEADER",
    "SIGNING_RESULT_EXTENSION",
    "SKEW_THRESHOLD",
    "AWSErrorDetails",
    "AWSServiceError",
    "AccessDeniedError",
    "AdaptiveRateLimiter",
    "AuthenticationError",
    "BodyNotReplayableError",
    "BodyTooLargeError",
    "BotocoreCredentialsProvider",
    "ChainCredentialsProvider",
    "Clock",
    "ClockOffset",
    "ClockSkewError",
    "CredentialsNotFoundError",
    "CredentialsProvider",
    "EndpointInferenceError",
    "EnvironmentCredentialsProvider",
    "ExpiredTokenError",
    "ExpiringCredentials",
    "NotFoundError",
    "RefreshableCredentialsProvider",
    "Resigner",
    "RetryMode",
    "RetryPolicy",
    "RetryQuota",
    "RetryTransport",
    "ServiceUnavailableError",
    "SharedFilesCredentialsProvider",
    "SigV4AAuth",
    "SigV4Auth",
    "SignatureMismatchError",
    "StaticCredentialsProvider",
    "ThrottlingError",
    "ValidationError",
    "async_raise_for_aws_error_hook",
    "backoff_delay",
    "default_credentials_provider",
    "error_class_for",
    "error_from_response",
    "first_difference",
    "infer_region_service",
    "parse_aws_error",
    "parse_http_date",
    "presign",
    "raise_for_aws_error",
    "raise_for_aws_error_hook",
    "run_credential_process",
    "server_retry_delay",
    "sign_httpx_request",
    "skew_offset",
]
