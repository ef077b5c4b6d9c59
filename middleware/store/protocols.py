"""The access-key store protocols: what the middleware and administrators need from a store.

A store answers one question on the request path, ``await
store.get_key(access_key_id)``, and records key use off the request path
(:class:`AccessKeyStore`). Administration (principals, key creation,
rotation, temporary credentials, re-encryption) is a second protocol,
:class:`KeyManager`, so the verifier depends on as little as possible.

Backends: one store written once over SQLAlchemy Core (:mod:`.base`; opened
by URL with :func:`~.url.open_store`), on ``sqlite:///path`` (the embedded
default) or ``postgresql://...`` for services on many machines, with the
same secret envelope (:mod:`.secrets`); :class:`~.memory.MemoryKeyStore`
for tests.

Imports: the core's :class:`~sigv4kit.KeyRecord`, :mod:`.entities`, and
:mod:`.secrets` for type hints only.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from sigv4kit import KeyRecord

from .entities import (
    AccessKeyInfo,
    KeyStatus,
    NewAccessKey,
    Principal,
    PrincipalKind,
    RotationResult,
    SessionCredentials,
)

if TYPE_CHECKING:
    from .secrets import MasterKey

__all__ = ["AccessKeyStore", "KeyManager"]


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
