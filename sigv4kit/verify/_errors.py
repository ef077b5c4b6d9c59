"""Server-side verification errors: one class per AWS error code.

Each class carries the AWS error code, its HTTP status and the message AWS
sends, plus the extra elements AWS puts in the error body (``fields``)::

    SigV4Error
     └── VerificationError              a request failed verification (code, status, fields)
          ├── AccessDenied                     403 (unsigned x-amz-* headers, expired URL, no date)
          ├── AuthorizationHeaderMalformed     400 (credential scope of the Authorization header)
          ├── AuthorizationQueryParametersError 400 (presigned URL parameters)
          ├── EntityTooLarge                   413 (body over the configured hard limit)
          ├── ExpiredToken                     400 (temporary credentials past their expiry)
          ├── IncompleteSignature              400 (Authorization header missing a component)
          ├── InternalError                    500 (the verifier itself failed; fail closed)
          ├── InvalidAccessKeyId               403 (unknown or inactive key)
          ├── InvalidArgument                  400 (two auth mechanisms, bad payload hash value)
          ├── InvalidRequest                   400 (unsupported mechanism, missing content hash)
          ├── InvalidToken                     400 (wrong or missing session token)
          ├── InvalidURI                       400 (a path sent with '.', '..' or empty segments)
          ├── NotImplemented                   501 (an unknown STREAMING-* payload: event streams)
          ├── RequestTimeTooSkewed             403 (request time outside the allowed skew)
          ├── ServiceUnavailable               503 (the key store cannot answer)
          ├── SignatureDoesNotMatch            403 (with S3's diagnostics, switchable)
          └── XAmzContentSHA256Mismatch        400 (body does not hash to the signed value)

Messages are AWS's own where a public source quotes them (S3's error-code
table, error bodies recorded against real S3); see
``docs/middleware.md``. ``fields`` never hold a secret.
"""

from __future__ import annotations

from .._exceptions import SigV4Error

__all__ = [
    "AccessDenied",
    "AuthorizationHeaderMalformed",
    "AuthorizationQueryParametersError",
    "EntityTooLarge",
    "ExpiredToken",
    "IncompleteSignature",
    "InternalError",
    "InvalidAccessKeyId",
    "InvalidArgument",
    "InvalidRequest",
    "InvalidToken",
    "InvalidURI",
    "NotImplementedFeature",
    "RequestTimeTooSkewed",
    "ServiceUnavailable",
    "SignatureDoesNotMatch",
    "VerificationError",
    "XAmzContentSHA256Mismatch",
]

# An extra element of an error body: (element name, text).
Field = tuple[str, str]


class VerificationError(SigV4Error):
    """A request failed SigV4 verification; maps one-to-one to an AWS error code.

    ``code`` is the AWS error code, ``status`` the HTTP status, ``message``
    the human text and ``fields`` the extra ``(element, value)`` pairs of the
    error body, in the order AWS sends them.
    """

    code: str = "AccessDenied"
    status: int = 403
    default_message: str = "Access Denied"

    def __init__(self, message: str | None = None, *, fields: tuple[Field, ...] = ()) -> None:
        self.message = message if message is not None else self.default_message
        self.fields = fields
        super().__init__(self.message)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r})"


class AccessDenied(VerificationError):
    """403 AccessDenied: unsigned ``x-amz-*`` headers, an expired URL, no valid date."""

    code = "AccessDenied"
    status = 403
    default_message = "Access Denied"


class AuthorizationHeaderMalformed(VerificationError):
    """400: the Authorization header's credential or scope is malformed or not accepted."""

    code = "AuthorizationHeaderMalformed"
    status = 400
    default_message = "The authorization header you provided is invalid."


class AuthorizationQueryParametersError(VerificationError):
    """400: the ``X-Amz-*`` parameters of a presigned URL are missing or malformed."""

    code = "AuthorizationQueryParametersError"
    status = 400
    default_message = (
        "Query-string authentication version 4 requires the X-Amz-Algorithm, "
        "X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, "
        "and X-Amz-Expires parameters."
    )


class EntityTooLarge(VerificationError):
    """413: the body is larger than the verifier is configured to hash."""

    code = "EntityTooLarge"
    # S3 answers 400 for its own 5 GiB object limit; a configured request
    # size limit is the HTTP 413 case, which is what proxies and clients expect.
    status = 413
    default_message = "Your proposed upload exceeds the maximum allowed size"


class ExpiredToken(VerificationError):
    """400: temporary credentials past their expiry."""

    code = "ExpiredToken"
    status = 400
    default_message = "The provided token has expired."


class IncompleteSignature(VerificationError):
    """400: the Authorization header lacks a component, or ``host`` is not signed."""

    code = "IncompleteSignature"
    status = 400
    default_message = "The request signature does not conform to AWS standards."


class InternalError(VerificationError):
    """500: the verifier failed unexpectedly; the request is refused (fail closed)."""

    code = "InternalError"
    status = 500
    default_message = "We encountered an internal error. Please try again."


class InvalidAccessKeyId(VerificationError):
    """403: the access key does not exist or is inactive."""

    code = "InvalidAccessKeyId"
    status = 403
    default_message = "The AWS Access Key Id you provided does not exist in our records."


class InvalidArgument(VerificationError):
    """400: two authentication mechanisms, an unsupported scheme, a bad payload hash."""

    code = "InvalidArgument"
    status = 400
    default_message = "Invalid Argument"


class InvalidRequest(VerificationError):
    """400: an unsupported authorization mechanism or a missing required header."""

    code = "InvalidRequest"
    status = 400
    default_message = (
        "The authorization mechanism you have provided is not supported. "
        "Please use AWS4-HMAC-SHA256."
    )


class InvalidToken(VerificationError):
    """400: the session token is missing, wrong, or sent with a long-term key."""

    code = "InvalidToken"
    status = 400
    default_message = "The provided token is malformed or otherwise invalid."


class InvalidURI(VerificationError):
    """400: the request path cannot be checked as sent.

    Under path normalization (AWS service rules) the signature covers the
    normalized path; a path with ``.``, ``..`` or empty segments would reach
    the app differently from the path that was verified, so it is refused.
    """

    code = "InvalidURI"
    status = 400
    default_message = "Couldn't parse the specified URI."


class NotImplementedFeature(VerificationError):
    """501 NotImplemented: a header implies functionality the verifier lacks (event streams)."""

    code = "NotImplemented"
    status = 501
    default_message = "A header you provided implies functionality that is not implemented."


class RequestTimeTooSkewed(VerificationError):
    """403: the request time is too far from the server's clock."""

    code = "RequestTimeTooSkewed"
    status = 403
    default_message = (
        "The difference between the request time and the current time is too large."
    )


class ServiceUnavailable(VerificationError):
    """503: the access-key store cannot answer; the request is refused (fail closed)."""

    code = "ServiceUnavailable"
    status = 503
    default_message = "Service is unable to handle request."


class SignatureDoesNotMatch(VerificationError):
    """403: the signature is not the one the server computes for this request."""

    code = "SignatureDoesNotMatch"
    status = 403
    default_message = (
        "The request signature we calculated does not match the signature you provided. "
        "Check your key and signing method."
    )


class XAmzContentSHA256Mismatch(VerificationError):
    """400: the body does not hash to the signed ``x-amz-content-sha256`` value."""

    code = "XAmzContentSHA256Mismatch"
    status = 400
    default_message = (
        "The provided 'x-amz-content-sha256' header does not match what was computed."
    )
