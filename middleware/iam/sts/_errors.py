"""STS's errors, with AWS's codes, statuses and messages (sts/2011-06-15 model, API reference).

::

    STSError (QueryError: code, status, message)
     ├── ValidationError          400
     ├── PackedPolicyTooLarge     400
     └── RegionDisabled           403 (unused: every region is enabled here)

``AccessDenied`` is :class:`~sigv4kit.middleware.iam.authz.AccessDenied`;
``MalformedPolicyDocument`` the policy engine's; ``InvalidIdentityToken``,
``IDPRejectedClaim``, ``ExpiredTokenException`` the OIDC package's; the MFA
refusal :class:`~sigv4kit.middleware.iam.mfa.MFAAuthenticationFailed`.
No message ever holds a token, a code or a secret.
"""

from __future__ import annotations

from ..api._shapes import QueryError

__all__ = ["STSError", "sts_validation"]


class STSError(QueryError):
    """An STS refusal with its AWS code (see the module docstring)."""


def sts_validation(message: str) -> STSError:
    """STS's ``ValidationError`` (400) with ``message``."""
    return STSError("ValidationError", message)


def packed_policy_too_large(percent: int) -> STSError:
    return STSError(
        "PackedPolicyTooLarge",
        f"Packed size of consolidated session policies and session tags is {percent}% "
        "of the allowed maximum (100%).",
    )
