"""Access key ids, secrets and session tokens, and the rules for names.

Shared by every store backend so they all issue the same shapes:

* long-term key ids: ``AKIA`` + 16 upper-case base32 characters (80 random
  bits), temporary ones ``ASIA`` + 16 (AWS's prefixes);
* secrets: 40 characters of ``A-Za-z0-9+/`` (AWS's alphabet and length);
* session tokens: 64 random bytes, URL-safe base64; stored only as SHA-256.

Randomness comes from :mod:`secrets`.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import string

from .entities import MAX_SESSION_SECONDS, MIN_SESSION_SECONDS
from .errors import StoreError

__all__ = [
    "LONG_TERM_PREFIX",
    "TEMPORARY_PREFIX",
    "hash_session_token",
    "new_access_key_id",
    "new_secret_access_key",
    "new_session_token",
    "validate_access_key_id",
    "validate_principal_name",
    "validate_session_duration",
]

LONG_TERM_PREFIX = "AKIA"
TEMPORARY_PREFIX = "ASIA"
_SECRET_ALPHABET = string.ascii_letters + string.digits + "+/"
_SECRET_LENGTH = 40
# IAM user and role names: 1..64 of letters, digits and "+=,.@_-".
_PRINCIPAL_RE = re.compile(r"[A-Za-z0-9+=,.@_-]{1,64}")
_KEY_ID_RE = re.compile(r"A[KS]IA[A-Z2-7]{16}")


def new_access_key_id(prefix: str = LONG_TERM_PREFIX) -> str:
    """``prefix`` + 16 upper-case base32 characters (10 random bytes)."""
    return prefix + base64.b32encode(secrets.token_bytes(10)).decode("ascii")


def new_secret_access_key() -> str:
    """A 40-character secret from the base64 alphabet."""
    return "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(_SECRET_LENGTH))


def new_session_token() -> str:
    """A new session token (86 URL-safe characters)."""
    return secrets.token_urlsafe(64)


def hash_session_token(token: str) -> str:
    """The hex SHA-256 of a session token: the only form a store keeps."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def validate_principal_name(name: str) -> str:
    """Return ``name`` if it is a valid principal name, else raise :class:`StoreError`."""
    if not isinstance(name, str) or not _PRINCIPAL_RE.fullmatch(name):
        raise StoreError(f"invalid principal name {name!r}: use 1 to 64 letters, digits or +=,.@_-")
    return name


def validate_access_key_id(access_key_id: str) -> str:
    """Return the id if it has the shape this store issues, else raise :class:`StoreError`."""
    if not isinstance(access_key_id, str) or not _KEY_ID_RE.fullmatch(access_key_id):
        raise StoreError(
            f"invalid access key id {access_key_id!r}: expected AKIA or ASIA followed by "
            "16 characters A-Z, 2-7"
        )
    return access_key_id


def validate_session_duration(seconds: int) -> int:
    """Return ``seconds`` if within STS's 900..129600, else raise :class:`StoreError`."""
    if isinstance(seconds, bool) or not isinstance(seconds, int):
        raise StoreError(f"a session duration is a whole number of seconds, got {seconds!r}")
    if not MIN_SESSION_SECONDS <= seconds <= MAX_SESSION_SECONDS:
        raise StoreError(
            f"session duration {seconds} s is out of range: use {MIN_SESSION_SECONDS} "
            f"to {MAX_SESSION_SECONDS} seconds (15 minutes to 36 hours)"
        )
    return seconds
