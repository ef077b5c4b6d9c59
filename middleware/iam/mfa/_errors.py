"""MFA's own errors: a wrong code for a device, STS's ``AccessDenied`` for a sign-in.

::

    SigV4Error
     └── IAMError (..entities)          code, status, message (str(exc) == message)
          ├── InvalidAuthenticationCode 403 "Authentication code for device is not valid."
          └── MFAAuthenticationFailed   403 AccessDenied (STS's GetSessionToken/AssumeRole wording)

Device management also raises the entities' own errors, one class per IAM
code for every IAM operation: ``EntityAlreadyExists`` 409 ("MFA Device is
already in use."), ``NoSuchEntity`` 404, ``LimitExceeded`` 409 ("Cannot
exceed quota for MFADevicesPerUser: 8"), ``DeleteConflict`` 409,
``ValidationError`` 400 and ``InvalidInput`` 400. :data:`MFAError` is
``IAMError`` under the name this package has always exported, so
``except MFAError`` still catches everything an MFA operation refuses.

No message ever holds a seed or a code. IAM's codes and statuses: botocore
``iam/2010-05-08/service-2.json`` (``InvalidAuthenticationCodeException``
403). STS's MFA failures are ``AccessDenied`` with the two messages
recorded from AWS in shared/reference/IAM.md §3.1 (GetSessionToken).

Imports: :mod:`..entities` (``IAMError``).
"""

from __future__ import annotations

import enum

from ..entities import IAMError

__all__ = [
    "InvalidAuthenticationCode",
    "MFAAuthenticationFailed",
    "MFAError",
    "MFAFailure",
]

#: The root of the errors MFA operations raise: IAM's (one hierarchy for every IAM API).
MFAError = IAMError


class InvalidAuthenticationCode(IAMError):
    """403: Enable/Resync got codes that are not two consecutive codes of the device."""

    code = "InvalidAuthenticationCode"
    status = 403

    def __init__(self, message: str = "Authentication code for device is not valid.") -> None:
        super().__init__(message)


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


class MFAAuthenticationFailed(IAMError):
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
