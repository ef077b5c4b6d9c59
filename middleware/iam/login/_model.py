"""Records of passwords and sign-in (no record ever holds a password or a hash)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

__all__ = ["LoginProfile", "SignIn", "SignInSettings", "SignInStep"]


@dataclass(frozen=True, slots=True, kw_only=True)
class LoginProfile:
    """IAM's ``LoginProfile``: a user's console password exists, since when."""

    user_name: str
    create_date: datetime
    password_reset_required: bool
    max_signin_session_duration: int | None = None

    def as_shape(self) -> dict[str, object]:
        shape: dict[str, object] = {
            "UserName": self.user_name,
            "CreateDate": self.create_date,
            "PasswordResetRequired": self.password_reset_required,
        }
        if self.max_signin_session_duration is not None:
            shape["MaxSigninSessionDuration"] = self.max_signin_session_duration
        return shape


class SignInStep(StrEnum):
    """What a correct password leads to."""

    SIGNED_IN = "active"
    #: The user has an MFA device: a code is asked next.
    MFA = "mfa"
    #: PasswordResetRequired, or an expired password the user may change.
    CHANGE_PASSWORD = "change"  # noqa: S105


@dataclass(frozen=True, slots=True, kw_only=True)
class SignIn:
    """A correct password: whose, and what comes next."""

    account_id: str
    owner_id: str  # the user's principal id, or the account id for root
    user_name: str | None  # None: the root user
    mfa_serials: tuple[str, ...]
    must_change_password: bool
    max_session: timedelta | None


@dataclass(frozen=True, slots=True, kw_only=True)
class SignInSettings:
    """Throttling of failed sign-ins, per (account, user name), whether the user exists."""

    max_failures: int = 5
    window: timedelta = timedelta(minutes=15)
    lockout: timedelta = timedelta(minutes=15)
