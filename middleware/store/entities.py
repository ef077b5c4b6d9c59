"""What the store hands out: principals, keys as administrators see them, new credentials.

Also the quotas they obey and :func:`store_time` (the one way a store reads
the time it is given). Imports: :mod:`.errors` only.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sigv4kit import KeyRecord

from .errors import StoreError

__all__ = [
    "DEFAULT_ACCOUNT_ID",
    "MAX_KEYS_PER_PRINCIPAL",
    "MAX_SESSION_SECONDS",
    "MIN_SESSION_SECONDS",
    "AccessKeyInfo",
    "KeyStatus",
    "NewAccessKey",
    "Principal",
    "PrincipalKind",
    "RotationResult",
    "SessionCredentials",
    "StoredKey",
    "principal_arn",
    "store_time",
]

#: The account today's principals belong to (and the key-management API
#: works in) until the IAM issues add account administration.
DEFAULT_ACCOUNT_ID = "000000000000"

#: IAM's quota: at most two access keys per user (``AccessKeysPerUserQuota``).
#: Temporary (``ASIA``) credentials do not count.
MAX_KEYS_PER_PRINCIPAL = 2
#: STS ``DurationSeconds`` bounds: 15 minutes .. 36 hours.
MIN_SESSION_SECONDS = 900
MAX_SESSION_SECONDS = 129_600


class KeyStatus(enum.Enum):
    """IAM's access key status."""

    ACTIVE = "Active"
    INACTIVE = "Inactive"


class PrincipalKind(enum.Enum):
    """What a principal is: an IAM-style user or role."""

    USER = "user"
    ROLE = "role"


@dataclass(frozen=True, slots=True, kw_only=True)
class Principal:
    """A user or role that owns access keys."""

    name: str
    kind: PrincipalKind = PrincipalKind.USER
    root: bool = False
    created_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredKey(KeyRecord):
    """A key as the store's lookup returns it: the core's record plus who holds it.

    Read by the same single query as the secret (no extra round trip), so
    the middleware can tell the authorizer the account, the principal's
    ARN and kind and, for temporary keys, the session (issue time, MFA).
    A store that returns a plain :class:`~sigv4kit.KeyRecord` gets the
    defaults: a user of :data:`DEFAULT_ACCOUNT_ID`.
    """

    account_id: str = DEFAULT_ACCOUNT_ID
    #: The principal's unique id (``AIDA...`` user, ``AROA...`` role).
    principal_id: str | None = None
    principal_kind: PrincipalKind = PrincipalKind.USER
    principal_path: str = "/"
    root: bool = False
    #: Temporary keys: their ``sessions`` row (None for long-term keys).
    session_issued_at: datetime | None = None
    session_name: str | None = None
    mfa_authenticated: bool = False


def principal_arn(account_id: str, kind: str, path: str, name: str) -> str:
    """``arn:aws:iam::ACCOUNT:user/PATH/NAME`` (or ``role``) of a principal.

    The format of IAM's "IAM ARNs" (IAM User Guide, reference_identifiers.html).
    """
    return f"arn:aws:iam::{account_id}:{kind}{path}{name}"


@dataclass(frozen=True, slots=True, kw_only=True)
class AccessKeyInfo:
    """An access key as an administrator sees it: never the secret.

    ``expires_at`` is set for temporary (``ASIA``) credentials only. The
    ``last_used_*`` fields are written in batches, so they trail real use by
    up to the store's flush interval.
    """

    access_key_id: str
    principal: str
    status: KeyStatus
    created_at: datetime
    expires_at: datetime | None = None
    last_used_at: datetime | None = None
    last_used_region: str | None = None
    last_used_service: str | None = None

    @property
    def is_temporary(self) -> bool:
        """True for temporary (``ASIA``) credentials."""
        return self.expires_at is not None


@dataclass(frozen=True, slots=True, kw_only=True)
class NewAccessKey:
    """A freshly created long-term key: the only time its secret is available."""

    access_key_id: str
    secret_access_key: str = field(repr=False)
    principal: str
    status: KeyStatus
    created_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionCredentials:
    """Freshly issued temporary credentials (``ASIA`` key, secret, token)."""

    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str = field(repr=False)
    principal: str
    expiration: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class RotationResult:
    """What :meth:`KeyManager.rotate_key` did."""

    new_key: NewAccessKey
    #: The previous key, now inactive (or still active with ``keep_previous_active``).
    kept: tuple[str, ...] = ()
    #: Older keys deleted to stay within the 2-key limit.
    deleted: tuple[str, ...] = ()


def store_time(now: datetime | None) -> datetime:
    """``now`` in UTC, or the current time; a naive time is refused.

    Raises :class:`StoreError` for a naive datetime.
    """
    if now is None:
        return datetime.now(UTC)
    if now.tzinfo is None or now.utcoffset() is None:
        raise StoreError("times given to a store must be timezone-aware")
    return now.astimezone(UTC)
