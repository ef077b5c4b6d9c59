"""Errors of passwords and sign-in, with IAM's codes, statuses and messages.

::

    IAMError (..entities)
     ├── PasswordPolicyViolation   400  "Password does not conform to the account password policy."
     ├── InvalidUserType           400  ChangePassword by a caller that is not an IAM user
     ├── PasswordChangeDenied      403  AccessDenied: wrong old password, or changes not allowed
     └── EntityTemporarilyUnmodifiable 409

``NoSuchEntity`` and ``EntityAlreadyExists`` are the entities' own. None of
these ever holds a password: the violation's ``reasons`` name the rules only.

:class:`SignInFailed` is not an API error: the console's sign-in check
raises it, and the console answers the same words whatever its reason.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..entities import IAMError

__all__ = [
    "PASSWORD_POLICY_MESSAGE",
    "InvalidUserType",
    "PasswordChangeDenied",
    "PasswordPolicyViolation",
    "SignInFailed",
]

#: IAM's message for every PasswordPolicyViolation (it does not say which rule).
PASSWORD_POLICY_MESSAGE = "Password does not conform to the account password policy."  # noqa: S105


class PasswordPolicyViolation(IAMError):
    """400: the password breaks the account's password policy (or reuses an old one).

    ``reasons`` lists the rules broken, in words, for the console to show; the
    API answers IAM's single message.
    """

    code = "PasswordPolicyViolation"
    status = 400

    def __init__(self, reasons: Sequence[str]) -> None:
        super().__init__(PASSWORD_POLICY_MESSAGE)
        self.reasons = tuple(reasons)


class InvalidUserType(IAMError):
    """400: ChangePassword by the root user or a role (only IAM users change their own)."""

    code = "InvalidUserType"
    status = 400


class PasswordChangeDenied(IAMError):
    """403 ``AccessDenied``: the old password is wrong, or users may not change theirs.

    One message for both, as IAM words it, so a caller cannot test passwords
    one rule at a time.
    """

    code = "AccessDenied"
    status = 403

    def __init__(self) -> None:
        super().__init__(
            "Either user is not authorized to perform iam:ChangePassword or entered "
            "password is not valid"
        )


class SignInFailed(Exception):
    """A sign-in refused: wrong account, user or password, locked, or expired (hard).

    ``reason`` is for the audit trail only (``"credentials"``, ``"locked"``,
    ``"expired"``); the console tells the person the same thing every time.
    """

    def __init__(self, reason: str, *, user_exists: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.user_exists = user_exists
