"""The account password policy: IAM's fields, its default, and the check of a password.

Pure functions: :func:`password_problems` lists the rules a password breaks
(empty: it conforms). Field ranges and defaults are IAM's
(``UpdateAccountPasswordPolicy``): ``MinimumPasswordLength`` 6-128
(default 6 once a policy is set), ``MaxPasswordAge`` 1-1095 days,
``PasswordReusePrevention`` 1-24. Without a custom policy IAM applies its
default: at least 8 characters, and at least three of the four character
kinds (uppercase, lowercase, numbers, symbols), and not the user name.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

__all__ = [
    "DEFAULT_POLICY",
    "DEFAULT_POLICY_MINIMUM_LENGTH",
    "SYMBOLS",
    "PasswordPolicy",
    "password_expired",
    "password_problems",
]

#: IAM's symbols for RequireSymbols: ``! @ # $ % ^ & * ( ) _ + - = [ ] { } | '``.
SYMBOLS = frozenset("!@#$%^&*()_+-=[]{}|'")

#: The minimum length of IAM's default policy (no custom policy set).
DEFAULT_POLICY_MINIMUM_LENGTH = 8


@dataclass(frozen=True, slots=True, kw_only=True)
class PasswordPolicy:
    """An account password policy, as ``GetAccountPasswordPolicy`` returns it.

    ``custom`` is False for IAM's default policy (what applies while the
    account has none; ``GetAccountPasswordPolicy`` then answers NoSuchEntity).
    """

    minimum_length: int = 6
    require_symbols: bool = False
    require_numbers: bool = False
    require_uppercase: bool = False
    require_lowercase: bool = False
    allow_users_to_change: bool = False
    max_password_age: int | None = None
    reuse_prevention: int | None = None
    hard_expiry: bool | None = None
    custom: bool = True

    @property
    def expire_passwords(self) -> bool:
        """IAM's ``ExpirePasswords``: true when ``MaxPasswordAge`` is set."""
        return self.max_password_age is not None

    def as_shape(self) -> dict[str, object]:
        """IAM's ``PasswordPolicy`` shape (members left out when unset, as IAM does)."""
        shape: dict[str, object] = {
            "MinimumPasswordLength": self.minimum_length,
            "RequireSymbols": self.require_symbols,
            "RequireNumbers": self.require_numbers,
            "RequireUppercaseCharacters": self.require_uppercase,
            "RequireLowercaseCharacters": self.require_lowercase,
            "AllowUsersToChangePassword": self.allow_users_to_change,
            "ExpirePasswords": self.expire_passwords,
        }
        if self.max_password_age is not None:
            shape["MaxPasswordAge"] = self.max_password_age
        if self.reuse_prevention is not None:
            shape["PasswordReusePrevention"] = self.reuse_prevention
        if self.hard_expiry is not None:
            shape["HardExpiry"] = self.hard_expiry
        return shape


#: What applies while an account has no custom policy.
DEFAULT_POLICY = PasswordPolicy(minimum_length=DEFAULT_POLICY_MINIMUM_LENGTH, custom=False)


def _kinds(password: str) -> dict[str, bool]:
    return {
        "uppercase": any("A" <= c <= "Z" for c in password),
        "lowercase": any("a" <= c <= "z" for c in password),
        "numbers": any("0" <= c <= "9" for c in password),
        "symbols": any(c in SYMBOLS for c in password),
    }


def password_problems(policy: PasswordPolicy, password: str, *, user_name: str = "") -> list[str]:
    """The rules of ``policy`` that ``password`` breaks, in words (empty: it conforms)."""
    problems: list[str] = []
    if len(password) < policy.minimum_length:
        problems.append(f"at least {policy.minimum_length} characters")
    kinds = _kinds(password)
    if not policy.custom:
        if sum(kinds.values()) < 3:
            problems.append(
                "at least three of: uppercase letters, lowercase letters, numbers, symbols"
            )
        if user_name and password.lower() == user_name.lower():
            problems.append("not the user name")
        return problems
    wanted = {
        "uppercase": (policy.require_uppercase, "at least one uppercase letter (A-Z)"),
        "lowercase": (policy.require_lowercase, "at least one lowercase letter (a-z)"),
        "numbers": (policy.require_numbers, "at least one number (0-9)"),
        "symbols": (policy.require_symbols, "at least one symbol (! @ # $ % ^ & * ...)"),
    }
    problems.extend(words for kind, (required, words) in wanted.items()
                    if required and not kinds[kind])
    return problems


def password_expired(policy: PasswordPolicy, changed_at: datetime, now: datetime) -> bool:
    """Whether a password set at ``changed_at`` is past the policy's ``MaxPasswordAge``."""
    if policy.max_password_age is None:
        return False
    return now >= changed_at + timedelta(days=policy.max_password_age)
