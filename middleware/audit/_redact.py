"""Redaction: no secret ever reaches an audit event.

:func:`redact` replaces, at any depth of ``requestParameters`` /
``responseElements``, the value of every field whose name is in
:data:`SENSITIVE_FIELDS` (compared case-insensitively, so IAM's
``SecretAccessKey`` and CloudTrail's ``secretAccessKey`` are one name) with
:data:`REDACTED`, the placeholder CloudTrail itself writes for hidden values.

Where the list comes from:

* every member that botocore's IAM (2010-05-08) and STS (2011-06-15) service
  models mark ``sensitive`` (a test re-derives them from the installed
  botocore and fails when a new one appears): passwords, secret access keys,
  MFA seeds and QR codes, private keys, service-specific credentials, SAML
  assertions and web-identity tokens;
* a deny-list of what those models do *not* flag but is a credential all the
  same: the session token, MFA token codes (``TokenCode``,
  ``AuthenticationCode1/2``), signatures and the headers and query
  parameters that carry them (``Authorization``, ``X-Amz-Signature``,
  ``X-Amz-Security-Token``), and generic ``ClientSecret``/``Token`` names.

:func:`find_secrets` is the other half, for tests: it reports every place
in a record where a known secret value occurs or a sensitive field is not
redacted.

Imports: the standard library.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

__all__ = [
    "BOTOCORE_SENSITIVE_FIELDS",
    "DENY_LIST",
    "REDACTED",
    "SENSITIVE_FIELDS",
    "find_secrets",
    "is_sensitive",
    "redact",
]

#: CloudTrail's placeholder for values it will not log.
REDACTED = "HIDDEN_DUE_TO_SECURITY_REASONS"

#: Members whose shapes botocore's IAM and STS models mark ``"sensitive": true``.
BOTOCORE_SENSITIVE_FIELDS = frozenset(
    {
        # iam/2010-05-08/service-2.json
        "AddPrivateKey",
        "Base32StringSeed",
        "NewPassword",
        "OldPassword",
        "Password",
        "PrivateKey",
        "QRCodePNG",
        "SecretAccessKey",
        "ServiceCredentialSecret",
        "ServicePassword",
        # sts/2011-06-15/service-2.json
        "Issuer",
        "SAMLAssertion",
        "Subject",
        "SubjectType",
        "TradeInToken",
        "TrustedIdentityPropagationContext",
        "WebIdentityToken",
    }
)

#: Credentials the models leave unflagged.
DENY_LIST = frozenset(
    {
        "SessionToken",
        "SecurityToken",
        "X-Amz-Security-Token",
        "TokenCode",
        "AuthenticationCode1",
        "AuthenticationCode2",
        "Signature",
        "X-Amz-Signature",
        "Authorization",
        "ClientSecret",
        "Token",
        "Seed",
    }
)

SENSITIVE_FIELDS = BOTOCORE_SENSITIVE_FIELDS | DENY_LIST
_SENSITIVE_LOWER = frozenset(name.lower() for name in SENSITIVE_FIELDS)


def is_sensitive(name: str) -> bool:
    """Whether a field of this name is never logged (case-insensitive)."""
    return name.lower() in _SENSITIVE_LOWER


def redact(value: Any) -> Any:
    """A copy of ``value`` with every sensitive field's value replaced by :data:`REDACTED`."""
    if isinstance(value, Mapping):
        return {
            key: REDACTED if is_sensitive(str(key)) and item is not None else redact(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(item) for item in value]
    return value


def find_secrets(record: Any, secrets: Iterable[str] = (), path: str = "$") -> list[str]:
    """Every JSON path in ``record`` that leaks: a sensitive field with a value
    other than :data:`REDACTED`, or a string containing one of ``secrets``.

    Empty when the record is clean. Secrets shorter than 8 characters are
    ignored (they would match by chance).
    """
    wanted = [s for s in secrets if len(s) >= 8]
    return _scan(record, wanted, path)


def _scan(value: Any, secrets: list[str], path: str) -> list[str]:
    found: list[str] = []
    if isinstance(value, Mapping):
        for key, item in value.items():
            where = f"{path}.{key}"
            if is_sensitive(str(key)) and item not in (None, REDACTED):
                found.append(where)
            found.extend(_scan(item, secrets, where))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found.extend(_scan(item, secrets, f"{path}[{index}]"))
    elif isinstance(value, str) and any(secret in value for secret in secrets):
        found.append(path)
    return found
