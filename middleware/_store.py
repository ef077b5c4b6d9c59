"""The access-key store protocols and :func:`open_store`.

A store answers one question on the request path, ``await
store.get_key(access_key_id)``, and records key use off the request path
(:class:`AccessKeyStore`). Administration (principals, key creation,
rotation, temporary credentials, re-encryption) is a second protocol,
:class:`KeyManager`, so the verifier depends on as little as possible.

Backends: one store written once over SQLAlchemy Core (:mod:`.store`; opened
by URL with :func:`~.store.url.open_store`), on ``sqlite:///path`` (the
embedded default) or ``postgresql://...`` for services on many machines,
with the same secret envelope (:mod:`._crypto`).

Errors::

    SigV4Error
     └── StoreError                  a store operation failed
          ├── StoreUnavailableError  the database cannot answer (fail closed, 503)
          │    ├── SecretDecryptionError  a secret cannot be decrypted (wrong
          │    │                          master key, tampered or moved ciphertext)
          │    └── SchemaVersionError     the database is not at this code's schema
          │                               revision (written by a newer sigv4kit)
          ├── PrincipalNotFoundError no principal with that name
          ├── KeyNotFoundError       no access key with that id
          ├── KeyLimitExceededError  a principal already has 2 access keys
          ├── StoreNotFoundError     open_store(create=False) found no store there
          └── MasterKeyError         master key missing or malformed
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from sigv4kit import KeyRecord, SigV4Error

if TYPE_CHECKING:
    from ._crypto import MasterKey

__all__ = [
    "MAX_KEYS_PER_PRINCIPAL",
    "MAX_SESSION_SECONDS",
    "MIN_SESSION_SECONDS",
    "AccessKeyInfo",
    "AccessKeyStore",
    "KeyLimitExceededError",
    "KeyManager",
    "KeyNotFoundError",
    "KeyStatus",
    "MasterKeyError",
    "NewAccessKey",
    "Principal",
    "PrincipalKind",
    "PrincipalNotFoundError",
    "RotationResult",
    "SchemaVersionError",
    "SecretDecryptionError",
    "SessionCredentials",
    "StoreError",
    "StoreNotFoundError",
    "StoreUnavailableError",
    "store_time",
]

#: IAM's quota: at most two access keys per user (``AccessKeysPerUserQuota``).
#: Temporary (``ASIA``) credentials do not count.
MAX_KEYS_PER_PRINCIPAL = 2
#: STS ``DurationSeconds`` bounds: 15 minutes .. 36 hours.
MIN_SESSION_SECONDS = 900
MAX_SESSION_SECONDS = 129_600


class StoreError(SigV4Error):
    """A store operation failed (bad URL, unknown principal, key limit, ...)."""


class StoreUnavailableError(StoreError):
    """The backing database cannot be reached; verification must fail closed."""


class PrincipalNotFoundError(StoreError):
    """No principal has that name."""


class KeyNotFoundError(StoreError):
    """No access key has that id."""


class KeyLimitExceededError(StoreError):
    """The principal already has :data:`MAX_KEYS_PER_PRINCIPAL` long-term keys."""


class MasterKeyError(StoreError):
    """The master key is missing, malformed or cannot be read or created."""


class SecretDecryptionError(StoreUnavailableError):
    """A stored secret cannot be decrypted: wrong master key, or tampered data.

    Never answered with a guess: the key is unusable until the right master
    key is configured. A :class:`StoreUnavailableError`, so the middleware
    fails closed (503) exactly as for an unreachable database.
    """


class StoreNotFoundError(StoreError):
    """``open_store(url, create=False)``: no store exists at that URL.

    A mistyped path or ``?schema=`` must not silently start an empty store.
    """


class SchemaVersionError(StoreUnavailableError):
    """The database is not at the schema revision this code serves (a newer sigv4kit wrote it).

    A :class:`StoreUnavailableError`: the middleware answers 503 and fails
    closed, as when the database is down, never a 500.
    """


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


@runtime_checkable
class AccessKeyStore(Protocol):
    """What the verification middleware needs from a key store."""

    async def get_key(self, access_key_id: str) -> KeyRecord | None:
        """The key with this id (active or not), or None when it does not exist.

        Raises :class:`StoreUnavailableError` when the backend cannot answer.
        """
        ...

    def record_use(self, access_key_id: str, *, at: datetime, region: str, service: str) -> None:
        """Note that a key was used; must not block (writes are batched)."""
        ...

    async def aclose(self) -> None:
        """Flush pending writes and release connections."""
        ...


@runtime_checkable
class KeyManager(Protocol):
    """Administration of principals and access keys (CLI, admin tools).

    Every method is a single transaction. Changes made through one store
    object are visible to its own :meth:`AccessKeyStore.get_key` at once;
    other processes see them when their cache entry expires, or sooner:
    SQLite stores poll a change counter every ``flush_interval``, PostgreSQL
    stores are told through ``LISTEN/NOTIFY`` within milliseconds.
    ``now`` parameters exist for tests; they default to the current time.
    """

    async def create_principal(
        self,
        name: str,
        *,
        kind: PrincipalKind = PrincipalKind.USER,
        root: bool = False,
        now: datetime | None = None,
    ) -> Principal:
        """Create a principal. Raises :class:`StoreError` if the name is taken or invalid."""
        ...

    async def get_principal(self, name: str) -> Principal | None:
        """The principal with this name, or None."""
        ...

    async def list_principals(self) -> list[Principal]:
        """Every principal, by name."""
        ...

    async def delete_principal(self, name: str) -> None:
        """Delete a principal and all its keys. Raises :class:`PrincipalNotFoundError`."""
        ...

    async def create_key(self, principal: str, *, now: datetime | None = None) -> NewAccessKey:
        """A new active ``AKIA`` key for an existing principal.

        Raises :class:`PrincipalNotFoundError`, :class:`KeyLimitExceededError`.
        """
        ...

    async def import_key(
        self,
        principal: str,
        *,
        access_key_id: str,
        secret_access_key: str,
        now: datetime | None = None,
    ) -> AccessKeyInfo:
        """Store an existing long-term key pair (migration from another system).

        Raises :class:`StoreError` for a malformed or taken id,
        :class:`PrincipalNotFoundError`, :class:`KeyLimitExceededError`.
        """
        ...

    async def create_session(
        self, principal: str, *, duration_seconds: int, now: datetime | None = None
    ) -> SessionCredentials:
        """Temporary ``ASIA`` credentials valid for 900..129600 seconds.

        Raises :class:`PrincipalNotFoundError`, or :class:`StoreError` for a
        duration out of range.
        """
        ...

    async def get_key_info(self, access_key_id: str) -> AccessKeyInfo | None:
        """What an administrator may know about a key (no secret), or None."""
        ...

    async def list_keys(self, principal: str | None = None) -> list[AccessKeyInfo]:
        """Keys (all, or one principal's), by principal then creation time."""
        ...

    async def set_key_status(self, access_key_id: str, status: KeyStatus) -> AccessKeyInfo:
        """Activate or deactivate a key. Raises :class:`KeyNotFoundError`."""
        ...

    async def activate_key(self, access_key_id: str) -> AccessKeyInfo:
        """Set a key Active. Raises :class:`KeyNotFoundError`."""
        ...

    async def deactivate_key(self, access_key_id: str) -> AccessKeyInfo:
        """Set a key Inactive. Raises :class:`KeyNotFoundError`."""
        ...

    async def delete_key(self, access_key_id: str) -> None:
        """Delete a key. Raises :class:`KeyNotFoundError`."""
        ...

    async def rotate_key(
        self, principal: str, *, keep_previous_active: bool = False, now: datetime | None = None
    ) -> RotationResult:
        """Replace a principal's long-term key, in one transaction.

        The most recent long-term key is kept for rollback, set Inactive (or
        left Active with ``keep_previous_active``); older long-term keys are
        deleted; a new Active key is created. Temporary credentials are not
        touched. Raises :class:`PrincipalNotFoundError`.
        """
        ...

    async def delete_expired_sessions(self, *, now: datetime | None = None) -> int:
        """Delete temporary credentials past their expiry; returns how many."""
        ...

    async def rewrap(self, new_master_key: MasterKey) -> int:
        """Re-encrypt every secret under a new master key in one transaction."""
        ...

    async def flush(self) -> None:
        """Write pending :meth:`AccessKeyStore.record_use` notes now."""
        ...


def store_time(now: datetime | None) -> datetime:
    """``now`` in UTC, or the current time; a naive time is refused.

    Raises :class:`StoreError` for a naive datetime.
    """
    if now is None:
        return datetime.now(UTC)
    if now.tzinfo is None or now.utcoffset() is None:
        raise StoreError("times given to a store must be timezone-aware")
    return now.astimezone(UTC)
