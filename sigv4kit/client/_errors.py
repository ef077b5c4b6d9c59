"""Typed AWS error responses: parse any AWS protocol's error body, raise by family.

AWS services answer errors in one of three shapes (botocore ``parsers.py``
reads the same three):

* REST-XML (S3, CloudFront, Route 53): ``<Error><Code/><Message/><RequestId/></Error>``,
  S3 adding ``<CanonicalRequest>`` and ``<StringToSign>`` to ``SignatureDoesNotMatch``;
* query / EC2 (STS, IAM, SQS, EC2):
  ``<ErrorResponse><Error>...</Error><RequestId/></ErrorResponse>`` or
  ``<Response><Errors><Error>...</Error></Errors><RequestID/></Response>``;
* JSON (DynamoDB, Lambda, API Gateway, ...): ``{"__type": "ns#Code", "message": ...}``,
  ``{"code": ..., "Message": ...}`` or the ``x-amzn-ErrorType`` header.

:func:`parse_aws_error` turns any of them into an :class:`AWSErrorDetails`;
:func:`raise_for_aws_error` raises the matching :class:`AWSServiceError`
subclass::

    SigV4Error
     └── AWSServiceError            any error response (code, message, status, request id)
          ├── ThrottlingError           Throttling, SlowDown, TooManyRequestsException, 429
          ├── AuthenticationError       the request's credentials were not accepted
          │    ├── SignatureMismatchError   SignatureDoesNotMatch, InvalidSignatureException
          │    ├── ClockSkewError           RequestTimeTooSkewed, RequestExpired
          │    └── ExpiredTokenError        ExpiredToken, ExpiredTokenException
          ├── AccessDeniedError         AccessDenied, AccessDeniedException, 403
          ├── NotFoundError             NoSuchKey, ResourceNotFoundException, 404
          ├── ValidationError           ValidationException, InvalidParameterValue, ...
          └── ServiceUnavailableError   ServiceUnavailable, InternalError, 5xx

Untrusted XML is parsed with :mod:`defusedxml` (no entity expansion, no
DTDs); a body that does not parse gives an error named after the status code,
never a crash.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from .._exceptions import SigV4Error
from ..canonical._diagnostics import first_line_diff

__all__ = [
    "SIGNING_RESULT_EXTENSION",
    "AWSErrorDetails",
    "AWSServiceError",
    "AccessDeniedError",
    "AuthenticationError",
    "ClockSkewError",
    "ExpiredTokenError",
    "NotFoundError",
    "ServiceUnavailableError",
    "SignatureMismatchError",
    "ThrottlingError",
    "ValidationError",
    "error_class_for",
    "first_difference",
]

#: ``request.extensions`` key under which the httpx auth keeps the last
#: :class:`~sigv4kit.SigningResult` of a request (for error diagnostics).
SIGNING_RESULT_EXTENSION = "sigv4kit.signing_result"


@dataclass(frozen=True, slots=True, kw_only=True)
class AWSErrorDetails:
    """What an AWS error response says, whichever protocol it came in.

    ``server_canonical_request`` and ``server_string_to_sign`` are set when
    the service sent back what it expected us to sign (S3 does for
    ``SignatureDoesNotMatch``; JSON services put it in the message).
    """

    code: str
    message: str
    status_code: int
    request_id: str | None = None
    host_id: str | None = None
    server_time: str | None = None
    server_canonical_request: str | None = None
    server_string_to_sign: str | None = None


class AWSServiceError(SigV4Error):
    """An AWS-style error response.

    ``code`` is the service's error code (``NoSuchKey``, ``ThrottlingException``;
    the status code as text when the body carries none), ``message`` its
    message, ``request_id`` the request id to quote to support, and
    ``response`` the :class:`httpx.Response` it was parsed from.
    """

    def __init__(
        self,
        code: str,
        message: str,
        status_code: int,
        request_id: str | None = None,
        response: httpx.Response | None = None,
        *,
        details: AWSErrorDetails | None = None,
    ) -> None:
        self.code = code
        self.message = message
        self.status_code = status_code
        self.request_id = request_id
        self.response = response
        self.details = details or AWSErrorDetails(
            code=code, message=message, status_code=status_code, request_id=request_id
        )
        super().__init__(self._describe())

    def _describe(self) -> str:
        text = f"{self.code} (HTTP {self.status_code})"
        if self.message:
            text += f": {self.message}"
        if self.request_id:
            text += f" [request id {self.request_id}]"
        return text

    def __reduce__(self) -> tuple[Any, ...]:
        # Picklable (process pools, task queues); the live response is not.
        return (
            _rebuild_error,
            (type(self), self.code, self.message, self.status_code, self.request_id, self.details),
        )

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(code={self.code!r}, status_code={self.status_code}, "
            f"request_id={self.request_id!r})"
        )


def _rebuild_error(
    cls: type[AWSServiceError],
    code: str,
    message: str,
    status_code: int,
    request_id: str | None,
    details: AWSErrorDetails,
) -> AWSServiceError:
    return cls(code, message, status_code, request_id, None, details=details)


class ThrottlingError(AWSServiceError):
    """The service is rate-limiting this client; retry later, slower."""


class AuthenticationError(AWSServiceError):
    """The service did not accept the request's credentials or signature."""


class SignatureMismatchError(AuthenticationError):
    """The signature the service computed differs from ours.

    ``server_canonical_request`` / ``server_string_to_sign`` hold what the
    service computed (when it says), ``our_canonical_request`` /
    ``our_string_to_sign`` what we signed (when the request was signed by
    :class:`~sigv4kit.SigV4Auth`), and the message names the first line that
    differs.
    """

    def __init__(
        self,
        code: str,
        message: str,
        status_code: int,
        request_id: str | None = None,
        response: httpx.Response | None = None,
        *,
        details: AWSErrorDetails | None = None,
    ) -> None:
        self.server_canonical_request = details.server_canonical_request if details else None
        self.server_string_to_sign = details.server_string_to_sign if details else None
        self.our_canonical_request: str | None = None
        self.our_string_to_sign: str | None = None
        result = None
        if response is not None:
            try:
                result = response.request.extensions.get(SIGNING_RESULT_EXTENSION)
            except RuntimeError:  # a response built without a request
                result = None
        if result is not None:
            self.our_canonical_request = str(result.canonical_request)
            self.our_string_to_sign = str(result.string_to_sign)
        super().__init__(code, message, status_code, request_id, response, details=details)

    def _describe(self) -> str:
        text = super()._describe()
        diff = first_difference(self.server_canonical_request, self.our_canonical_request)
        if diff is not None:
            return f"{text}\ncanonical request {diff}"
        diff = first_difference(
            self.server_string_to_sign, self.our_string_to_sign, string_to_sign=True
        )
        if diff is not None:
            return f"{text}\nstring to sign {diff}"
        return text


class ClockSkewError(AuthenticationError):
    """The request time is too far from the service's clock."""


class ExpiredTokenError(AuthenticationError):
    """The session token (temporary credentials) has expired; refresh them."""


class AccessDeniedError(AWSServiceError):
    """Authenticated, but not allowed to do this."""


class NotFoundError(AWSServiceError):
    """The bucket, key, table or resource does not exist."""


class ValidationError(AWSServiceError):
    """The request's parameters were rejected."""


class ServiceUnavailableError(AWSServiceError):
    """The service failed or is unavailable (5xx); usually worth retrying."""


_FAMILIES: dict[str, type[AWSServiceError]] = {}


def _register(cls: type[AWSServiceError], *codes: str) -> None:
    for code in codes:
        _FAMILIES[code] = cls


# Throttling codes: botocore retries/standard.py ThrottledRetryableChecker.
THROTTLING_CODES: frozenset[str] = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "LimitExceededException",
        "RequestThrottled",
        "SlowDown",
        "PriorRequestNotComplete",
        "EC2ThrottledException",
    }
)
_register(ThrottlingError, *sorted(THROTTLING_CODES))
_register(
    SignatureMismatchError,
    "SignatureDoesNotMatch",
    "InvalidSignatureException",
    "InvalidSignature",
)
_register(ClockSkewError, "RequestTimeTooSkewed", "RequestExpired", "RequestInTheFuture")
_register(
    ExpiredTokenError,
    "ExpiredToken",
    "ExpiredTokenException",
    "TokenRefreshRequired",
)
_register(
    AuthenticationError,
    "InvalidAccessKeyId",
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "AuthFailure",
    "MissingAuthenticationToken",
    "MissingAuthenticationTokenException",
    "IncompleteSignature",
    "IncompleteSignatureException",
    "InvalidToken",
    "AuthorizationHeaderMalformed",
    "NotAuthorized",
    "NotAuthorizedException",
    "UnauthorizedException",
)
_register(
    AccessDeniedError,
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "Forbidden",
    "AllAccessDisabled",
)
_register(
    NotFoundError,
    "NoSuchKey",
    "NoSuchBucket",
    "NoSuchUpload",
    "NoSuchVersion",
    "NotFound",
    "NotFoundException",
    "ResourceNotFoundException",
    "NoSuchEntity",
)
_register(
    ValidationError,
    "ValidationException",
    "ValidationError",
    "InvalidParameterValue",
    "InvalidParameterValueException",
    "InvalidParameterCombination",
    "InvalidParameterException",
    "InvalidArgument",
    "MissingParameter",
    "MalformedXML",
    "MalformedQueryString",
    "SerializationException",
    "InvalidRequest",
    "InvalidInput",
)
_register(
    ServiceUnavailableError,
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "InternalError",
    "InternalFailure",
    "InternalServerError",
    "InternalServiceError",
    "InternalServerException",
)

_STATUS_FAMILIES: dict[int, type[AWSServiceError]] = {
    401: AuthenticationError,
    403: AccessDeniedError,
    404: NotFoundError,
    429: ThrottlingError,
}


def error_class_for(code: str, status_code: int) -> type[AWSServiceError]:
    """The exception class for an error code, falling back on the status code."""
    cls = _FAMILIES.get(code)
    if cls is not None:
        return cls
    if code.endswith("NotFound") or code.endswith("NotFoundException"):
        return NotFoundError
    cls = _STATUS_FAMILIES.get(status_code)
    if cls is not None:
        return cls
    if status_code >= 500:
        return ServiceUnavailableError
    return AWSServiceError


def first_difference(
    server: str | None, ours: str | None, *, string_to_sign: bool = False
) -> str | None:
    """Describe the first line where two canonical texts differ, or None.

    Session tokens are redacted from the description (:func:`sigv4kit.first_line_diff`
    finds the line).
    """
    if server is None or ours is None:
        return None
    diff = first_line_diff(server, ours, string_to_sign=string_to_sign)
    if diff is None:
        return None
    return (
        f"differs first at line {diff.line} ({diff.part}): "
        f"service has {diff.server!r}, we signed {diff.ours!r}"
    )


