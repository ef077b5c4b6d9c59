"""The sigv4kit exception tree.

Every exception sigv4kit raises derives from :class:`SigV4Error`::

    SigV4Error
     ├── SigningError            bad input to the signer (also a ValueError)
     │    ├── InvalidTimeError         naive or out-of-range signing time
     │    ├── InvalidExpiryError       presign expiry outside 1..604800 s
     │    ├── InvalidHeaderError       a header value that cannot be sent or signed
     │    ├── InvalidRequestError      a malformed request target or raw request
     │    └── BodyNotReadableError     a body the signer cannot hash
     └── CredentialsError        credentials missing or malformed (also a ValueError)

     ├── AWSServiceError         an AWS error response, parsed (client side; sigv4kit.client)
     │    ├── ThrottlingError, AccessDeniedError, NotFoundError, ValidationError,
     │    │   ServiceUnavailableError
     │    └── AuthenticationError
     │         └── SignatureMismatchError, ClockSkewError, ExpiredTokenError
     └── VerificationError       a request the verifier refuses (server side; sigv4kit.verify)
          └── one class per AWS error code, with AWS's name: AccessDenied,
              ExpiredToken, SignatureDoesNotMatch, RequestTimeTooSkewed, ...

The two families are told apart by namespace and name: the client's parsed errors end
in ``Error`` and are exported by ``sigv4kit``; the verifier's carry the AWS code as
their name and live in ``sigv4kit.verify`` (``sigv4kit.AccessDenied`` and its siblings
remain as aliases of the same classes for code written before, outside ``__all__``).
"""

from __future__ import annotations

__all__ = [
    "BodyNotReadableError",
    "CredentialsError",
    "InvalidExpiryError",
    "InvalidHeaderError",
    "InvalidRequestError",
    "InvalidTimeError",
    "SigV4Error",
    "SigningError",
]


class SigV4Error(Exception):
    """Root of every error raised by sigv4kit."""


class SigningError(SigV4Error, ValueError):
    """The request or the signing parameters cannot be signed as given."""


class InvalidTimeError(SigningError):
    """The signing time is naive (no tzinfo) or otherwise unusable."""


class InvalidExpiryError(SigningError):
    """A presigned URL expiry outside the 1..604800 second range AWS accepts."""


class InvalidHeaderError(SigningError):
    """A header name or value that cannot go on the wire or into a signature."""


class InvalidRequestError(SigningError):
    """A request target or raw HTTP request that cannot be parsed."""


class BodyNotReadableError(SigningError):
    """The request body cannot be read to compute its payload hash."""


class CredentialsError(SigV4Error, ValueError):
    """Credentials are missing, incomplete or malformed."""
