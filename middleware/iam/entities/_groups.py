"""Groups and group membership.

Imports: SQLAlchemy, the store's schema, :mod:`._base`, :mod:`._users`.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ...store.schema import group_memberships, groups, principals
from ._base import IAMBase, same_name
from ._errors import DeleteConflict, EntityAlreadyExists, NoSuchEntity
from ._model import Group, GroupDetail, Page
from ._rules import arn, check_name, check_path, check_path_prefix
from ._users import delete_conflicts, user_of

__all__ = ["GroupAdmin", "group_of"]

_G, _M, _P = groups.c, group_memberships.c, principals.c


def group_of(row: Any) -> Group:
    """A ``groups`` row as :class:`Group`."""
    return Group(
        account_id=row.account_id,
        group_name=row.name,
        group_id=row.group_id,
        path=row.path,
        arn=arn(row.account_id, "group", row.path, row.name),
        create_date=row.created_at,
    )


class GroupAdmin(IAMBase):
    """CreateGroup, GetGroup, ListGroups, UpdateGroup, DeleteGroup, memberships."""

    async def create_group(self, account_id: str, group_name: str, *, path: str = "/") -> Group:
        """CreateGroup. Raises :class:`EntityAlreadyExists`, :class:`ValidationError`."""
        check_name(group_name, "group", "groupName")
        check_path(path)
        at = self._now()

        async def insert(conn: AsyncConnection) -> Group:
            await self._require_account(conn, account_id)
            await self._check_group_free(conn, account_id, group_name)
            gid = await self._new_id(conn, "AGPA", _G.group_id)
            await conn.execute(
                sa.insert(groups).values(
                    group_id=gid, account_id=account_id, name=group_name, path=path, created_at=at
                )
            )
            return Group(
                account_id=account_id,
                group_name=group_name,
                group_id=gid,
                path=path,
                arn=arn(account_id, "group", path, group_name),
                create_date=at,
            )

        return await self._write(insert)

    @staticmethod
    async def _check_group_free(conn: AsyncConnection, account_id: str, name: str) -> None:
        taken = await conn.execute(
            sa.select(_G.group_id).where(_G.account_id == account_id, same_name(_G.name, name))
        )
        if taken.first() is not None:
            raise EntityAlreadyExists(f"Group with name {name} already exists.")

    async def get_group(
        self,
        account_id: str,
        group_name: str,
        *,
        marker: str | None = None,
        max_items: int | None = None,
    ) -> GroupDetail:
        """GetGroup: the group and a page of its users (by name). Raises :class:`NoSuchEntity`."""

        async def q(conn: AsyncConnection) -> GroupDetail:
            row = await self._group_row(conn, account_id, group_name)
            members = sa.select(principals).where(
                _P.principal_id.in_(sa.select(_M.principal_id).where(_M.group_id == row.group_id))
            )
            rows, truncated, next_marker = await self._keyset_page(
                conn, members, _P.name, marker, max_items
            )
            users = Page(
                items=tuple(user_of(r) for r in rows), is_truncated=truncated, marker=next_marker
            )
            return GroupDetail(group=group_of(row), users=users)

        return await self._read(q)

    async def list_groups(
        self,
        account_id: str,
        *,
        path_prefix: str | None = None,
        marker: str | None = None,
        max_items: int | None = None,
    ) -> Page[Group]:
        """ListGroups, by name."""
        prefix = check_path_prefix(path_prefix)

        async def q(conn: AsyncConnection) -> Page[Group]:
            await self._require_account(conn, account_id)
            query = sa.select(groups).where(
                _G.account_id == account_id, sa.func.substr(_G.path, 1, len(prefix)) == prefix
            )
            rows, truncated, next_marker = await self._keyset_page(
                conn, query, _G.name, marker, max_items
            )
            return Page(
                items=tuple(group_of(r) for r in rows), is_truncated=truncated, marker=next_marker
            )

        return await self._read(q)

    async def update_group(
        self,
        account_id: str,
        group_name: str,
        *,
        new_group_name: str | None = None,
        new_path: str | None = None,
    ) -> Group:
        """UpdateGroup: rename and/or move.

        Raises :class:`NoSuchEntity`, :class:`EntityAlreadyExists`.
        """
        if new_group_name is not None:
            check_name(new_group_name, "group", "newGroupName")
        if new_path is not None:
            check_path(new_path, "newPath")

        async def update(conn: AsyncConnection) -> Group:
            row = await self._group_row(conn, account_id, group_name)
            values: dict[str, str] = {}
            if new_group_name is not None and new_group_name != row.name:
                if new_group_name.lower() != row.name.lower():
                    await self._check_group_free(conn, account_id, new_group_name)
                values["name"] = new_group_name
            if new_path is not None:
                values["path"] = new_path
            if values:
                await conn.execute(
                    sa.update(groups).where(_G.group_id == row.group_id).values(values)
                )
            updated = (
                await conn.execute(sa.select(groups).where(_G.group_id == row.group_id))
            ).one()
            return group_of(updated)

        return await self._write(update)

    async def delete_group(self, account_id: str, group_name: str) -> None:
        """DeleteGroup. Raises :class:`NoSuchEntity`, and :class:`DeleteConflict` while it has
        members, inline policies or attached policies."""

        async def delete(conn: AsyncConnection) -> None:
            row = await self._group_row(conn, account_id, group_name)
            member = await conn.execute(
                sa.select(_M.principal_id).where(_M.group_id == row.group_id).limit(1)
            )
            if member.first() is not None:
                raise DeleteConflict("Cannot delete entity, must remove users from group first.")
            await delete_conflicts(conn, "group_id", row.group_id)
            await conn.execute(sa.delete(groups).where(_G.group_id == row.group_id))

        await self._write(delete)

    async def add_user_to_group(self, account_id: str, group_name: str, user_name: str) -> None:
        """AddUserToGroup (adding a member again changes nothing). Raises :class:`NoSuchEntity`."""

        async def add(conn: AsyncConnection) -> None:
            group = await self._group_row(conn, account_id, group_name)
            user = await self._principal_row(conn, account_id, "user", user_name)
            present = await conn.execute(
                sa.select(_M.group_id).where(
                    _M.group_id == group.group_id, _M.principal_id == user.principal_id
                )
            )
            if present.first() is None:
                await conn.execute(
                    sa.insert(group_memberships).values(
                        group_id=group.group_id, principal_id=user.principal_id
                    )
                )

        await self._write(add)

    async def remove_user_from_group(
        self, account_id: str, group_name: str, user_name: str
    ) -> None:
        """RemoveUserFromGroup. Raises :class:`NoSuchEntity` (group, user, or not a member)."""

        async def remove(conn: AsyncConnection) -> None:
            group = await self._group_row(conn, account_id, group_name)
            user = await self._principal_row(conn, account_id, "user", user_name)
            result = await conn.execute(
                sa.delete(group_memberships).where(
                    _M.group_id == group.group_id, _M.principal_id == user.principal_id
                )
            )
            if result.rowcount == 0:
                # moto's wording (iam/models.py remove_user_from_group)
                raise NoSuchEntity(f"User {user_name} not in group {group_name}")

        await self._write(remove)

    async def list_groups_for_user(
        self,
        account_id: str,
        user_name: str,
        *,
        marker: str | None = None,
        max_items: int | None = None,
    ) -> Page[Group]:
        """ListGroupsForUser, by group name. Raises :class:`NoSuchEntity`."""

        async def q(conn: AsyncConnection) -> Page[Group]:
            user = await self._principal_row(conn, account_id, "user", user_name)
            query = sa.select(groups).where(
                _G.group_id.in_(sa.select(_M.group_id).where(_M.principal_id == user.principal_id))
            )
            rows, truncated, next_marker = await self._keyset_page(
                conn, query, _G.name, marker, max_items
            )
            return Page(
                items=tuple(group_of(r) for r in rows), is_truncated=truncated, marker=next_marker
            )

        return await self._read(q)
