"""Access keys of an account's root user (``sigv4kit iam create-root-access-key``).

The root user exists implicitly with its account and by default has no
access keys (AWS advises none: they have unrestricted access to the account
and no policy limits them). Keys need an owner row, so a root key belongs to
a *root principal*: a ``principals`` row of the account with ``is_root`` set,
the representation ``sigv4kit keys create --root`` has always used. Every
root principal acts as the account's root user
(``arn:aws:iam::<account>:root``, allowed everything in its account); it is
not an IAM user (ListUsers and GetAccountAuthorizationDetails leave it out).

This module creates the account's own root principal when it first needs
one, named :data:`ROOT_PRINCIPAL_NAME`, a name no IAM user or ``keys
--principal`` can take (``<`` and ``>`` are outside IAM's name characters).
The limit of :data:`MAX_ROOT_ACCESS_KEYS` counts the long-term keys of every
root principal of the account (those ``keys create --root`` made included),
as IAM allows the root user two keys.

Only the local CLI calls this: the IAM API never creates root keys
(CreateAccessKey without ``UserName`` by the root user is refused).

Imports: SQLAlchemy, the store's schema, :mod:`._base`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ...store.schema import access_keys, principals
from ._base import IAMBase, account_check
from ._errors import LimitExceeded, NoSuchEntity

__all__ = [
    "MAX_ROOT_ACCESS_KEYS",
    "ROOT_PRINCIPAL_NAME",
    "RootAccessKey",
    "RootAccessKeyMetadata",
    "RootKeyAdmin",
    "root_arn",
]

_P, _K = principals.c, access_keys.c

#: The name of the root principal this module creates (the credential report's
#: name for the root user's row). Not a valid IAM user name, so never taken by one.
ROOT_PRINCIPAL_NAME = "<root_account>"
#: IAM's quota for the root user, as for any user: two access keys.
MAX_ROOT_ACCESS_KEYS = 2


def root_arn(account_id: str) -> str:
    """``arn:aws:iam::<account>:root``: the account's root user."""
    return f"arn:aws:iam::{account_id}:root"


@dataclass(frozen=True, slots=True, kw_only=True)
class RootAccessKey:
    """A new root access key: the only time its secret is available."""

    account_id: str
    access_key_id: str
    status: str  # Active
    create_date: datetime
    secret_access_key: str = field(repr=False)

    @property
    def arn(self) -> str:
        return root_arn(self.account_id)


@dataclass(frozen=True, slots=True, kw_only=True)
class RootAccessKeyMetadata:
    """A root access key as listed: never its secret."""

    account_id: str
    access_key_id: str
    status: str  # Active | Inactive
    create_date: datetime
    last_used_date: datetime | None
    #: The root principal holding it (:data:`ROOT_PRINCIPAL_NAME`, or a name
    #: ``keys create --root`` gave).
    principal: str


_ROOT_KEYS = (
    sa.select(_K.access_key_id, _K.status, _K.created_at, _K.last_used_at, _P.name)
    .select_from(access_keys.join(principals))
    .where(_P.is_root == sa.true(), _K.expires_at.is_(None))
)


class RootKeyAdmin(IAMBase):
    """Create, list and delete the root user's access keys; see the module docstring."""

    async def create_root_access_key(self, account_id: str) -> RootAccessKey:
        """A new Active ``AKIA`` key of the account's root user; the secret is returned only here.

        Raises :class:`NoSuchEntity` (no such account), :class:`LimitExceeded`
        (the root principals of the account already hold two long-term keys),
        :class:`ValidationError` (not a 12-digit id).
        """
        account_check(account_id)
        at = self._now()

        async def create(conn: AsyncConnection) -> tuple[str, str]:
            await self._require_account(conn, account_id)
            existing = await conn.execute(
                sa.select(sa.func.count()).select_from(_ROOT_KEYS.where(
                    _P.account_id == account_id).subquery())
            )
            if int(existing.scalar_one()) >= MAX_ROOT_ACCESS_KEYS:
                raise LimitExceeded(
                    f"Cannot exceed quota for AccessKeysPerUser: {MAX_ROOT_ACCESS_KEYS}"
                )
            pid = await self._root_principal(conn, account_id, at)
            kid, secret = await self._store._insert_key(conn, pid=pid, created_at=at)
            return kid, secret

        kid, secret = await self._write(create)
        self._store._cache.evict([kid])
        return RootAccessKey(account_id=account_id, access_key_id=kid, status="Active",
                             create_date=at, secret_access_key=secret)

    async def _root_principal(self, conn: AsyncConnection, account_id: str, at: datetime) -> str:
        """The id of the account's :data:`ROOT_PRINCIPAL_NAME` principal, created if new."""
        found = await conn.execute(
            sa.select(_P.principal_id).where(
                _P.account_id == account_id, _P.kind == "user", _P.name == ROOT_PRINCIPAL_NAME)
        )
        pid = found.scalar()
        if pid is not None:
            return str(pid)
        pid = await self._new_id(conn, "AIDA", _P.principal_id)
        await conn.execute(
            sa.insert(principals).values(
                principal_id=pid, account_id=account_id, kind="user",
                name=ROOT_PRINCIPAL_NAME, path="/", is_root=True, created_at=at,
            )
        )
        return str(pid)

    async def list_root_access_keys(self, account_id: str) -> list[RootAccessKeyMetadata]:
        """The root user's long-term keys, oldest first (never secrets).

        Raises :class:`NoSuchEntity` (no such account), :class:`ValidationError`.
        """
        account_check(account_id)

        async def q(conn: AsyncConnection) -> list[RootAccessKeyMetadata]:
            await self._require_account(conn, account_id)
            rows = await conn.execute(
                _ROOT_KEYS.where(_P.account_id == account_id).order_by(_K.created_at, _K.id)
            )
            return [
                RootAccessKeyMetadata(account_id=account_id, access_key_id=kid, status=status,
                                      create_date=created, last_used_date=used, principal=name)
                for kid, status, created, used, name in rows
            ]

        return await self._read(q)

    async def delete_root_access_key(self, account_id: str, access_key_id: str) -> None:
        """Delete one of the root user's keys for good.

        Raises :class:`NoSuchEntity` when the account does not exist or the key
        is not a long-term key of its root user (an IAM user's key is never
        deleted here), :class:`ValidationError`.
        """
        account_check(account_id)

        async def delete(conn: AsyncConnection) -> None:
            await self._require_account(conn, account_id)
            found = await conn.execute(
                _ROOT_KEYS.where(_P.account_id == account_id, _K.access_key_id == access_key_id)
            )
            if found.first() is None:
                raise NoSuchEntity(
                    f"The Access Key with id {access_key_id} cannot be found.")
            await conn.execute(sa.delete(access_keys).where(_K.access_key_id == access_key_id))

        await self._write(delete, evict=[access_key_id])
