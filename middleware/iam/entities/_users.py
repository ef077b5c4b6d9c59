"""Accounts, users and their tags (access keys: :mod:`._keys`).

Imports: SQLAlchemy, the store's schema, :mod:`._base`, :mod:`._rules`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ...store.schema import (
    access_keys,
    accounts,
    group_memberships,
    inline_policies,
    login_profiles,
    password_history,
    policy_attachments,
    principals,
    tags,
)
from ._base import IAMBase, account_check, page_of, policy_ref, same_name
from ._errors import (
    DeleteConflict,
    EntityAlreadyExists,
    ValidationError,
)
from ._model import (
    Account,
    Page,
    Tag,
    User,
)
from ._rules import (
    arn,
    check_name,
    check_path,
    check_path_prefix,
    check_tag_keys,
    check_tag_total,
    check_tags,
    new_account_id,
)

__all__ = ["UserAdmin", "delete_conflicts", "user_of"]

_P, _K = principals.c, access_keys.c
_ALIAS_CHECK = "^[a-z0-9]([a-z0-9]|-(?!-)){1,61}[a-z0-9]$"


def user_of(row: Any, **extra: Any) -> User:
    """A ``principals`` row of kind user as :class:`User`."""
    return User(
        account_id=row.account_id,
        user_name=row.name,
        user_id=row.principal_id,
        path=row.path,
        arn=arn(row.account_id, "user", row.path, row.name),
        create_date=row.created_at,
        **extra,
    )


def _account(row: Any) -> Account:
    return Account(account_id=row.account_id, alias=row.alias, create_date=row.created_at)


def _check_alias(alias: str) -> str:
    # accountAliasType: ^[a-z0-9]([a-z0-9]|-(?!-)){1,61}[a-z0-9]$ (3-63 characters)
    if not isinstance(alias, str) or not re.fullmatch(_ALIAS_CHECK, alias):
        raise ValidationError(
            f"1 validation error detected: Value '{alias}' at 'accountAlias' failed to "
            f"satisfy constraint: Member must satisfy regular expression pattern: {_ALIAS_CHECK}"
        )
    return alias


async def delete_conflicts(conn: AsyncConnection, owner: str, entity_id: str) -> None:
    """IAM's DeleteConflict while an entity (``owner`` column ``principal_id`` or
    ``group_id``) still has inline or attached policies."""
    inline = await conn.execute(
        sa.select(inline_policies.c.id).where(inline_policies.c[owner] == entity_id).limit(1)
    )
    if inline.first() is not None:
        raise DeleteConflict("Cannot delete entity, must delete policies first.")
    attached = await conn.execute(
        sa.select(policy_attachments.c.id).where(policy_attachments.c[owner] == entity_id).limit(1)
    )
    if attached.first() is not None:
        raise DeleteConflict("Cannot delete entity, must detach all policies first.")


class UserAdmin(IAMBase):
    """Accounts, users, user tags, access keys."""

    # -- accounts ------------------------------------------------------------------------

    async def create_account(
        self, account_id: str | None = None, *, alias: str | None = None
    ) -> Account:
        """A new account: ``account_id`` (12 digits) or a random one; its root user is implicit.

        Raises :class:`EntityAlreadyExists` (id or alias taken), :class:`ValidationError`.
        """
        if alias is not None:
            _check_alias(alias)
        at = self._now()

        async def insert(conn: AsyncConnection) -> Account:
            chosen = account_id
            if chosen is None:
                chosen = await self._free_account_id(conn)
            else:
                account_check(chosen)
                taken = await conn.execute(
                    sa.select(accounts.c.account_id).where(accounts.c.account_id == chosen)
                )
                if taken.first() is not None:
                    raise EntityAlreadyExists(f"Account with id {chosen} already exists.")
            await self._check_alias_free(conn, alias)
            await conn.execute(
                sa.insert(accounts).values(account_id=chosen, alias=alias, created_at=at)
            )
            return Account(account_id=chosen, alias=alias, create_date=at)

        return await self._write(insert)

    async def _free_account_id(self, conn: AsyncConnection) -> str:
        for _attempt in range(8):
            candidate = new_account_id(self._random)
            taken = await conn.execute(
                sa.select(accounts.c.account_id).where(accounts.c.account_id == candidate)
            )
            if taken.first() is None:
                return candidate
        raise RuntimeError("the randomness source repeats: no free account id in 8 draws")

    @staticmethod
    async def _check_alias_free(conn: AsyncConnection, alias: str | None) -> None:
        if alias is None:
            return
        taken = await conn.execute(
            sa.select(accounts.c.account_id).where(accounts.c.alias == alias)
        )
        if taken.first() is not None:
            raise EntityAlreadyExists(f"The account alias {alias} already exists.")

    async def get_account(self, account_id: str) -> Account:
        """The account; :class:`NoSuchEntity` when it does not exist."""

        async def q(conn: AsyncConnection) -> Account:
            await self._require_account(conn, account_id)
            row = (
                await conn.execute(sa.select(accounts).where(accounts.c.account_id == account_id))
            ).one()
            return _account(row)

        return await self._read(q)

    async def list_accounts(self) -> list[Account]:
        """Every account, by id."""

        async def q(conn: AsyncConnection) -> list[Account]:
            rows = await conn.execute(sa.select(accounts).order_by(accounts.c.account_id))
            return [_account(row) for row in rows]

        return await self._read(q)

    async def set_account_alias(self, account_id: str, alias: str | None) -> Account:
        """CreateAccountAlias (``alias``) / DeleteAccountAlias (``None``)."""
        if alias is not None:
            _check_alias(alias)

        async def update(conn: AsyncConnection) -> Account:
            await self._require_account(conn, account_id)
            row = (
                await conn.execute(sa.select(accounts).where(accounts.c.account_id == account_id))
            ).one()
            if alias is not None and alias != row.alias:
                await self._check_alias_free(conn, alias)
            await conn.execute(
                sa.update(accounts).where(accounts.c.account_id == account_id).values(alias=alias)
            )
            return Account(account_id=account_id, alias=alias, create_date=row.created_at)

        return await self._write(update)

    # -- users ---------------------------------------------------------------------------

    async def create_user(
        self,
        account_id: str,
        user_name: str,
        *,
        path: str = "/",
        permissions_boundary: str | None = None,
        tags: Iterable[Tag] | Mapping[str, str] = (),
    ) -> User:
        """CreateUser. Raises :class:`EntityAlreadyExists`, :class:`ValidationError`,
        :class:`InvalidInput`, :class:`NoSuchEntity` (account or boundary policy)."""
        check_name(user_name, "user", "userName")
        check_path(path)
        new_tags = check_tags(tags)
        at = self._now()

        async def insert(conn: AsyncConnection) -> User:
            await self._require_account(conn, account_id)
            await self._check_free(conn, account_id, "user", user_name)
            boundary = None
            if permissions_boundary is not None:
                boundary = await self._policy_row(
                    conn, account_id, permissions_boundary, attaching=True
                )
            pid = await self._new_id(conn, "AIDA", _P.principal_id)
            await conn.execute(
                sa.insert(principals).values(
                    principal_id=pid,
                    account_id=account_id,
                    kind="user",
                    name=user_name,
                    path=path,
                    is_root=False,
                    permissions_boundary=None if boundary is None else boundary.policy_id,
                    created_at=at,
                )
            )
            await self._put_tags(conn, pid, new_tags)

            return User(
                account_id=account_id,
                user_name=user_name,
                user_id=pid,
                path=path,
                arn=arn(account_id, "user", path, user_name),
                create_date=at,
                permissions_boundary=None if boundary is None else policy_ref(boundary),
                tags=tuple(sorted(new_tags, key=lambda t: t.key)),
            )

        return await self._write(insert)

    @staticmethod
    async def _check_free(conn: AsyncConnection, account_id: str, kind: str, name: str) -> None:
        taken = await conn.execute(
            sa.select(_P.name).where(
                _P.account_id == account_id, _P.kind == kind, same_name(_P.name, name)
            )
        )
        if taken.first() is not None:
            raise EntityAlreadyExists(f"{kind.capitalize()} with name {name} already exists.")

    async def get_user(self, account_id: str, user_name: str) -> User:
        """GetUser: the user with its boundary and tags. Raises :class:`NoSuchEntity`."""

        async def q(conn: AsyncConnection) -> User:
            row = await self._principal_row(conn, account_id, "user", user_name)
            return user_of(
                row,
                permissions_boundary=await self._boundary_ref(conn, row.permissions_boundary),
                tags=await self._tags_of(conn, row.principal_id),
            )

        return await self._read(q)

    async def list_users(
        self,
        account_id: str,
        *,
        path_prefix: str | None = None,
        marker: str | None = None,
        max_items: int | None = None,
    ) -> Page[User]:
        """ListUsers, by name (without boundary and tags, as IAM lists them); root
        principals (:mod:`._root_keys`) are the root user, not IAM users, and are left out."""
        prefix = check_path_prefix(path_prefix)

        async def q(conn: AsyncConnection) -> Page[User]:
            await self._require_account(conn, account_id)
            query = sa.select(principals).where(
                _P.account_id == account_id,
                _P.kind == "user",
                # Root principals act as the account's root user: not IAM users.
                _P.is_root == sa.false(),
                sa.func.substr(_P.path, 1, len(prefix)) == prefix,
            )
            rows, truncated, next_marker = await self._keyset_page(
                conn, query, _P.name, marker, max_items
            )
            return Page(
                items=tuple(user_of(row) for row in rows),
                is_truncated=truncated,
                marker=next_marker,
            )

        return await self._read(q)

    async def update_user(
        self,
        account_id: str,
        user_name: str,
        *,
        new_user_name: str | None = None,
        new_path: str | None = None,
    ) -> User:
        """UpdateUser: rename and/or move.

        Raises :class:`NoSuchEntity`, :class:`EntityAlreadyExists`.
        """
        if new_user_name is not None:
            check_name(new_user_name, "user", "newUserName")
        if new_path is not None:
            check_path(new_path, "newPath")

        async def update(conn: AsyncConnection) -> tuple[User, list[str]]:
            row = await self._principal_row(conn, account_id, "user", user_name)
            values: dict[str, str] = {}
            if new_user_name is not None and new_user_name != row.name:
                if new_user_name.lower() != row.name.lower():
                    await self._check_free(conn, account_id, "user", new_user_name)
                values["name"] = new_user_name
            if new_path is not None:
                values["path"] = new_path
            if values:
                await conn.execute(
                    sa.update(principals).where(_P.principal_id == row.principal_id).values(values)
                )
            keys = await conn.execute(
                sa.select(_K.access_key_id).where(_K.principal_id == row.principal_id)
            )
            updated = (
                await conn.execute(sa.select(principals).where(_P.principal_id == row.principal_id))
            ).one()
            return user_of(updated), list(keys.scalars())

        # The key cache holds the principal's name: evict its keys on a rename.
        return await self._write_keys(update)

    async def delete_user(self, account_id: str, user_name: str) -> None:
        """DeleteUser. Raises :class:`NoSuchEntity`, and :class:`DeleteConflict` while the
        user has access keys, inline policies, attached policies or group memberships."""

        async def delete(conn: AsyncConnection) -> tuple[None, list[str]]:
            row = await self._principal_row(conn, account_id, "user", user_name)
            pid = row.principal_id
            keys = await conn.execute(
                sa.select(_K.access_key_id).where(_K.principal_id == pid, _K.expires_at.is_(None))
            )
            if keys.first() is not None:
                raise DeleteConflict("Cannot delete entity, must delete access keys first.")
            profile = await conn.execute(
                sa.select(login_profiles.c.owner_id).where(login_profiles.c.owner_id == pid)
            )
            if profile.first() is not None:
                raise DeleteConflict("Cannot delete entity, must delete login profile first.")
            await delete_conflicts(conn, "principal_id", pid)
            member = await conn.execute(
                sa.select(group_memberships.c.group_id)
                .where(group_memberships.c.principal_id == pid)
                .limit(1)
            )
            if member.first() is not None:
                raise DeleteConflict("Cannot delete entity, must remove users from group first.")
            await conn.execute(sa.delete(tags).where(tags.c.resource_id == pid))
            await conn.execute(
                sa.delete(password_history).where(password_history.c.owner_id == pid)
            )
            temporary = await conn.execute(
                sa.select(_K.access_key_id).where(_K.principal_id == pid)
            )
            ids = list(temporary.scalars())
            await conn.execute(sa.delete(principals).where(_P.principal_id == pid))
            return None, ids

        await self._write_keys(delete)

    # -- user tags ------------------------------------------------------------------------

    async def tag_user(
        self, account_id: str, user_name: str, tags: Iterable[Tag] | Mapping[str, str]
    ) -> None:
        """TagUser: add or replace tags (50 per user). Raises :class:`LimitExceeded`."""
        await self._tag("user", account_id, user_name, check_tags(tags))

    async def untag_user(self, account_id: str, user_name: str, tag_keys: Sequence[str]) -> None:
        """UntagUser: remove tags by key (ignoring case); unknown keys are ignored."""
        await self._untag("user", account_id, user_name, check_tag_keys(tag_keys))

    async def list_user_tags(
        self,
        account_id: str,
        user_name: str,
        *,
        marker: str | None = None,
        max_items: int | None = None,
    ) -> Page[Tag]:
        """ListUserTags, by key."""
        return await self._list_tags("user", account_id, user_name, marker, max_items)

    async def _tag(self, kind: str, account_id: str, name: str, new: Sequence[Tag]) -> None:
        async def update(conn: AsyncConnection) -> None:
            row = await self._entity_row(conn, kind, account_id, name)
            existing = await self._tags_of(conn, row.principal_id)
            check_tag_total((t.key for t in existing), new)
            await self._put_tags(conn, row.principal_id, new)

        await self._write(update)

    async def _untag(self, kind: str, account_id: str, name: str, keys: Sequence[str]) -> None:
        async def update(conn: AsyncConnection) -> None:
            row = await self._entity_row(conn, kind, account_id, name)
            if keys:
                await conn.execute(
                    sa.delete(tags).where(
                        tags.c.resource_id == row.principal_id,
                        sa.func.lower(tags.c.key).in_([k.lower() for k in keys]),
                    )
                )

        await self._write(update)

    async def _list_tags(
        self, kind: str, account_id: str, name: str, marker: str | None, max_items: int | None
    ) -> Page[Tag]:
        async def q(conn: AsyncConnection) -> list[Tag]:
            row = await self._entity_row(conn, kind, account_id, name)
            return list(await self._tags_of(conn, row.principal_id))

        return page_of(await self._read(q), lambda t: t.key, marker, max_items)

    async def _entity_row(
        self, conn: AsyncConnection, kind: str, account_id: str, name: str
    ) -> Any:
        return await self._principal_row(conn, account_id, kind, name)
