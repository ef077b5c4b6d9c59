"""MFA's errors: IAM's codes for device management, STS's ``AccessDenied`` for a sign-in.

::

    SigV4Error
     └── MFAError                       code, status, message (str(exc) == message)
          ├── InvalidAuthenticationCode 403 "Authentication code for device is not valid."
          ├── EntityAlreadyExists       409 "MFA Device is already in use."
          ├── NoSuchEntity              404 "The user with name bob cannot be found."
          ├── LimitExceeded             409 "Cannot exceed quota for MFADevicesPerUser: 8"
          ├── DeleteConflict            409 "You must deactivate ... before you can delete it."
          ├── ValidationError           400 "1 validation error detected: ..."
          ├── InvalidInput              400 a well-formed but unusable value
          └── MFAAuthenticationFailed   403 AccessDenied (STS's GetSessionToken/AssumeRole wording)

No message ever holds a seed or a code. IAM's codes and statuses: botocore
``iam/2010-05-08/service-2.json`` (``InvalidAuthenticationCodeException``
403, ``EntityAlreadyExistsException`` 409, ``NoSuchEntityException`` 404,
``LimitExceededException`` 409, ``DeleteConflictException`` 409). STS's MFA
failures are ``AccessDenied`` with the two messages recorded from AWS in
shared/reference/IAM.md §3.1 (GetSessionToken).
"""

from __future__ import annotations

import enum

from sigv4kit import SigV4Error

__all__ = [
    "DeleteConflict",
    "EntityAlreadyExists",
    "InvalidAuthenticationCode",
    "InvalidInput",
    "LimitExceeded",
    "MFAAuthenticationFailed",
    "MFAError",
    "MFAFailure",
    "NoSuchEntity",
    "ValidationError",
]


class MFAError(SigV4Error):
    """An MFA operation refused; ``code``/``status`` are what the API answers."""

    code: str = "ServiceFailure"
    status: int = 500

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r})"


class InvalidAuthenticationCode(MFAError):
    """403: Enable/Resync got codes that are not two consecutive codes of the device."""

    code = "InvalidAuthenticationCode"
    status = 403

    def __init__(self, message: str = "Authentication code for device is not valid.") -> None:
        super().__init__(message)


class EntityAlreadyExists(MFAError):
    """409: a device with that serial exists, or the device is already assigned."""

    code = "EntityAlreadyExists"
    status = 409


class NoSuchEntity(MFAError):
    """404: the user or the device does not exist (or the device is not the user's)."""

    code = "NoSuchEntity"
    status = 404


class LimitExceeded(MFAError):
    """409: the user already has the most MFA devices IAM allows (8)."""

    code = "LimitExceeded"
    status = 409


class DeleteConflict(MFAError):
    """409: a device still assigned to a user cannot be deleted."""

    code = "DeleteConflict"
    status = 409


class ValidationError(MFAError):
    """400: a parameter breaks the API's constraints (pattern, length)."""

    code = "ValidationError"
    status = 400


class InvalidInput(MFAError):
    """400: a parameter is well-formed but unusable (e.g. a provider URL that is not https)."""

    code = "InvalidInput"
    status = 400


class MFAFailure(enum.Enum):
    """Why a sign-in code was refused: for the server's audit, never for the client."""

    #: No enabled device with that serial belongs to the caller.
    UNKNOWN_DEVICE = "unknown-device"
    #: The code is not the device's code within the window.
    INVALID = "invalid"
    #: The code (or a later one) was accepted before: a code works once.
    REPLAYED = "replayed"
    #: Too many wrong codes: the device is locked for a while.
    LOCKED = "locked"


_INVALID_CODE = "MultiFactorAuthentication failed with invalid MFA one time pass code."
_UNKNOWN_DEVICE = (
    "MultiFactorAuthentication failed, unable to validate MFA code.  Please verify your MFA "
    "serial number is valid and associated with this user."
)


class MFAAuthenticationFailed(MFAError):
    """403 ``AccessDenied``: STS refused ``SerialNumber``/``TokenCode``.

    The message is AWS's and says nothing more (a replayed code and a locked
    device read like a wrong code); :attr:`reason` tells the server why.
    """

    code = "AccessDenied"
    status = 403

    def __init__(self, reason: MFAFailure) -> None:
        self.reason = reason
        unknown = reason is MFAFailure.UNKNOWN_DEVICE
        super().__init__(_UNKNOWN_DEVICE if unknown else _INVALID_CODE)

    def __repr__(self) -> str:
        return f"MFAAuthenticationFailed(reason={self.reason.value!r})"
