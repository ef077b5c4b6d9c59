"""What the store hands out: principals, keys as administrators see them, new credentials.

Also the quotas they obey and :func:`store_time` (the one way a store reads
the time it is given). Imports: :mod:`.errors` only.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import UTC, datetime

from .errors import StoreError

__all__ = [
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
    "store_time",
]

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
