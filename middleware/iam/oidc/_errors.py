"""STS's errors for ``AssumeRoleWithWebIdentity``: one class per STS error code.

::

    SigV4Error
     └── WebIdentityError                 code, status, message (str(exc) == message)
          ├── InvalidIdentityToken        400  the token could not be validated
          ├── IDPRejectedClaim            403  a claim the provider's settings refuse
          ├── IDPCommunicationError       400  the provider's discovery or JWKS unreachable
          ├── ExpiredTokenException       400  the token's exp has passed
          └── WebIdentityValidationError  400  ValidationError: the token breaks 4..20000 chars

Codes and statuses: botocore ``sts/2011-06-15/service-2.json`` error shapes
(``InvalidIdentityTokenException`` code ``InvalidIdentityToken`` 400,
``IDPRejectedClaimException`` code ``IDPRejectedClaim`` 403,
``IDPCommunicationErrorException`` code ``IDPCommunicationError`` 400,
``ExpiredTokenException`` 400). Messages never quote the token.
"""

from __future__ import annotations

from sigv4kit import SigV4Error

__all__ = [
    "ExpiredTokenException",
    "IDPCommunicationError",
    "IDPRejectedClaim",
    "InvalidIdentityToken",
    "WebIdentityError",
    "WebIdentityValidationError",
]


class WebIdentityError(SigV4Error):
    """A web-identity token refused; ``code``/``status`` are what STS answers."""

    code: str = "InvalidIdentityToken"
    status: int = 400

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r})"


class InvalidIdentityToken(WebIdentityError):
    """400: malformed, badly signed, wrong issuer or audience, or no such provider."""

    code = "InvalidIdentityToken"


class IDPRejectedClaim(WebIdentityError):
    """403: a claim is refused (e.g. the provider URL is not allowed)."""

    code = "IDPRejectedClaim"
    status = 403


class IDPCommunicationError(WebIdentityError):
    """400: the provider's keys could not be fetched: refused, never waved through."""

    code = "IDPCommunicationError"


class ExpiredTokenException(WebIdentityError):
    """400: the token expired (STS's web-identity expiry, not ``ExpiredToken``)."""

    code = "ExpiredTokenException"


class WebIdentityValidationError(WebIdentityError):
    """400 ``ValidationError``: ``WebIdentityToken`` is not 4 to 20,000 characters."""

    code = "ValidationError"
