"""Roles: trust policy, maximum session duration, description, tags.

Trust policies are parsed as :attr:`PolicyType.TRUST
<sigv4kit.middleware.iam.policy.PolicyType.TRUST>` (Principal required, no
Resource, STS actions only, 2,048 characters without whitespace:
``Cannot exceed quota for ACLSizePerRole: 2048``) and stored as sent.

Imports: SQLAlchemy, the store's schema, the policy parser, :mod:`._users`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ...store.schema import access_keys, principals, roles, tags
from ..policy import Policy, PolicyType
from ._base import policy_ref
from ._keys import AccessKeyAdmin
from ._model import Page, PolicyRef, Role, Tag
from ._rules import (
    arn,
    check_description,
    check_document,
    check_max_session_duration,
    check_name,
    check_path,
    check_path_prefix,
    check_tag_keys,
    check_tags,
)
from ._users import delete_conflicts

__all__ = ["RoleAdmin", "role_of"]

_P, _R = principals.c, roles.c


def role_of(row: Any, **extra: Any) -> Role:
    """A ``principals`` row joined with ``roles`` as :class:`Role`."""
    return Role(
        account_id=row.account_id,
        role_name=row.name,
        role_id=row.principal_id,
        path=row.path,
        arn=arn(row.account_id, "role", row.path, row.name),
        create_date=row.created_at,
        assume_role_policy_document=row.trust_policy or "",
        description=row.description,
        max_session_duration=row.max_session_duration,
        **extra,
    )


def check_trust_policy(document: str) -> str:
    """Validate a trust policy (MalformedPolicyDocument, LimitExceeded); return it as sent."""
    check_document(document, "policyDocument")
    Policy.parse(document, policy_type=PolicyType.TRUST)
    return document


_ROLE_COLUMNS = (principals, _R.trust_policy, _R.max_session_duration, _R.description)


class RoleAdmin(AccessKeyAdmin):
    """CreateRole, GetRole, ListRoles, UpdateRole, UpdateAssumeRolePolicy, DeleteRole, tags."""

    async def create_role(
        self,
        account_id: str,
        role_name: str,
        assume_role_policy_document: str,
        *,
        path: str = "/",
        description: str | None = None,
        max_session_duration: int = 3600,
        permissions_boundary: str | None = None,
        tags: Iterable[Tag] | Mapping[str, str] = (),
    ) -> Role:
        """CreateRole. Raises :class:`EntityAlreadyExists`, :class:`ValidationError`,
        :class:`MalformedPolicyDocument`, :class:`LimitExceeded`, :class:`NoSuchEntity`."""
        check_name(role_name, "role", "roleName")
        check_path(path)
        check_description(description)
        check_max_session_duration(max_session_duration)
        new_tags = check_tags(tags)
        check_trust_policy(assume_role_policy_document)
        at = self._now()

        async def insert(conn: AsyncConnection) -> Role:
            await self._require_account(conn, account_id)
            await self._check_free(conn, account_id, "role", role_name)
            boundary = None
            if permissions_boundary is not None:
                boundary = await self._policy_row(
                    conn, account_id, permissions_boundary, attaching=True
                )
            pid = await self._new_id(conn, "AROA", _P.principal_id)
            await conn.execute(
                sa.insert(principals).values(
                    principal_id=pid,
                    account_id=account_id,
                    kind="role",
                    name=role_name,
                    path=path,
                    is_root=False,
                    permissions_boundary=None if boundary is None else boundary.policy_id,
                    created_at=at,
                )
            )
            await conn.execute(
                sa.insert(roles).values(
                    principal_id=pid,
                    trust_policy=assume_role_policy_document,
                    max_session_duration=max_session_duration,
                    description=description,
                )
            )
            await self._put_tags(conn, pid, new_tags)
            return Role(
                account_id=account_id,
                role_name=role_name,
                role_id=pid,
                path=path,
                arn=arn(account_id, "role", path, role_name),
                create_date=at,
                assume_role_policy_document=assume_role_policy_document,
                description=description,
                max_session_duration=max_session_duration,
                permissions_boundary=None if boundary is None else policy_ref(boundary),
                tags=tuple(sorted(new_tags, key=lambda t: t.key)),
            )

        return await self._write(insert)

    async def get_role(self, account_id: str, role_name: str) -> Role:
        """GetRole: with its boundary and tags. Raises :class:`NoSuchEntity`."""

        async def q(conn: AsyncConnection) -> Role:
            row = await self._principal_row(conn, account_id, "role", role_name)
            return await self._full_role(conn, row)

        return await self._read(q)

    async def _full_role(self, conn: AsyncConnection, row: Any) -> Role:
        boundary: PolicyRef | None = await self._boundary_ref(conn, row.permissions_boundary)
        return role_of(
            row, permissions_boundary=boundary, tags=await self._tags_of(conn, row.principal_id)
        )

    async def list_roles(
        self,
        account_id: str,
        *,
        path_prefix: str | None = None,
        marker: str | None = None,
        max_items: int | None = None,
    ) -> Page[Role]:
        """ListRoles, by name (without boundary and tags, as IAM lists them)."""
        prefix = check_path_prefix(path_prefix)

        async def q(conn: AsyncConnection) -> Page[Role]:
            await self._require_account(conn, account_id)
            query = (
                sa.select(*_ROLE_COLUMNS)
                .select_from(principals.join(roles))
                .where(
                    _P.account_id == account_id,
                    _P.kind == "role",
                    sa.func.substr(_P.path, 1, len(prefix)) == prefix,
                )
            )
            rows, truncated, next_marker = await self._keyset_page(
                conn, query, _P.name, marker, max_items
            )
            return Page(
                items=tuple(role_of(r) for r in rows), is_truncated=truncated, marker=next_marker
            )

        return await self._read(q)

    async def update_role(
        self,
        account_id: str,
        role_name: str,
        *,
        description: str | None = None,
        max_session_duration: int | None = None,
    ) -> None:
        """UpdateRole: change the description and/or the maximum session duration."""
        check_description(description)
        if max_session_duration is not None:
            check_max_session_duration(max_session_duration)

        async def update(conn: AsyncConnection) -> None:
            row = await self._principal_row(conn, account_id, "role", role_name)
            values: dict[str, Any] = {}
            if description is not None:
                values["description"] = description
            if max_session_duration is not None:
                values["max_session_duration"] = max_session_duration
            if values:
                await conn.execute(
                    sa.update(roles).where(_R.principal_id == row.principal_id).values(values)
                )

        await self._write(update)

    async def update_assume_role_policy(
        self, account_id: str, role_name: str, policy_document: str
    ) -> None:
        """UpdateAssumeRolePolicy: replace the trust policy (validated as a trust policy)."""
        check_trust_policy(policy_document)

        async def update(conn: AsyncConnection) -> None:
            row = await self._principal_row(conn, account_id, "role", role_name)
            await conn.execute(
                sa.update(roles)
                .where(_R.principal_id == row.principal_id)
                .values(trust_policy=policy_document)
            )

        await self._write(update)

    async def delete_role(self, account_id: str, role_name: str) -> None:
        """DeleteRole. Raises :class:`NoSuchEntity`, and :class:`DeleteConflict` while it has
        inline or attached policies. Its sessions and keys (legacy) go with it."""

        async def delete(conn: AsyncConnection) -> tuple[None, list[str]]:
            row = await self._principal_row(conn, account_id, "role", role_name)
            pid = row.principal_id
            await delete_conflicts(conn, "principal_id", pid)
            keys = await conn.execute(
                sa.select(access_keys.c.access_key_id).where(access_keys.c.principal_id == pid)
            )
            ids = list(keys.scalars())
            await conn.execute(sa.delete(tags).where(tags.c.resource_id == pid))
            await conn.execute(sa.delete(principals).where(_P.principal_id == pid))
            return None, ids

        await self._write_keys(delete)

    async def tag_role(
        self, account_id: str, role_name: str, tags: Iterable[Tag] | Mapping[str, str]
    ) -> None:
        """TagRole: add or replace tags (50 per role). Raises :class:`LimitExceeded`."""
        await self._tag("role", account_id, role_name, check_tags(tags))

    async def untag_role(self, account_id: str, role_name: str, tag_keys: Sequence[str]) -> None:
        """UntagRole: remove tags by key (ignoring case)."""
        await self._untag("role", account_id, role_name, check_tag_keys(tag_keys))

    async def list_role_tags(
        self,
        account_id: str,
        role_name: str,
        *,
        marker: str | None = None,
        max_items: int | None = None,
    ) -> Page[Tag]:
        """ListRoleTags, by key."""
        return await self._list_tags("role", account_id, role_name, marker, max_items)
