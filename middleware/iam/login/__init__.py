"""Console passwords: IAM login profiles, the account password policy, the sign-in check.

* :class:`LoginStore` (over a key store): ``create_login_profile``,
  ``get_login_profile``, ``update_login_profile``, ``delete_login_profile``,
  ``change_password``, the account policy (``get_account_password_policy``,
  ``update_account_password_policy``, ``delete_account_password_policy``),
  the root user's password, and ``sign_in`` (throttled, revealing nothing
  about which part was wrong).
* Pure: :class:`PasswordPolicy`, :func:`password_problems`,
  :func:`password_expired`; Argon2id hashing (:func:`hash_password`,
  :func:`verify_password`; parameters in :mod:`._hash`).

Errors carry IAM's code, status and message; none of them, no record and no
repr ever holds a password or a hash.
"""

from __future__ import annotations

from ._errors import (
    PASSWORD_POLICY_MESSAGE,
    InvalidUserType,
    PasswordChangeDenied,
    PasswordPolicyViolation,
    SignInFailed,
)
from ._hash import HASHER, hash_password, needs_rehash, verify_password
from ._model import LoginProfile, SignIn, SignInSettings, SignInStep
from ._policy import (
    DEFAULT_POLICY,
    SYMBOLS,
    PasswordPolicy,
    password_expired,
    password_problems,
)
from ._store import MAX_REMEMBERED, LoginStore
from ._throttle import throttle_key

__all__ = [
    "DEFAULT_POLICY",
    "HASHER",
    "MAX_REMEMBERED",
    "PASSWORD_POLICY_MESSAGE",
    "SYMBOLS",
    "InvalidUserType",
    "LoginProfile",
    "LoginStore",
    "PasswordChangeDenied",
    "PasswordPolicy",
    "PasswordPolicyViolation",
    "SignIn",
    "SignInFailed",
    "SignInSettings",
    "SignInStep",
    "hash_password",
    "needs_rehash",
    "password_expired",
    "password_problems",
    "throttle_key",
    "verify_password",
]
