"""Attached managed policies, inline policies and permissions boundaries.

One implementation for the three owners (user, group, role); the public
methods name IAM's operations. Quotas: 10 managed policies attached per
user, group or role (``Cannot exceed quota for PoliciesPerUser: 10``, ...
``PoliciesPerGroup``, ``PoliciesPerRole``); inline policies aggregate per
entity, without whitespace: user 2,048 (``UserPolicySize``), group 5,120
(``GroupPolicySize``), role 10,240 (``RolePolicySize``)
(reference_iam-quotas.md).

Imports: SQLAlchemy, the store's schema, the policy parser, :mod:`._base`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ...store.schema import inline_policies, policies, policy_attachments, principals
from ..policy import SIZE_QUOTAS, Policy, PolicyType, policy_size
from ._base import IAMBase, page_of, policy_ref, same_name
from ._errors import LimitExceeded, NoSuchEntity
from ._model import InlinePolicy, Page, PolicyRef
from ._rules import MAX_ATTACHED_POLICIES, check_document, check_name, check_path_prefix

__all__ = ["AttachmentAdmin", "Owner"]

_I, _A, _POL = inline_policies.c, policy_attachments.c, policies.c


@dataclass(frozen=True, slots=True, kw_only=True)
class Owner:
    """Where a policy hangs: the kind's column, quota names and messages."""

    kind: str  # user | group | role
    column: str  # principal_id | group_id
    member: str  # userName | groupName | roleName
    attached_quota: str
    inline_quota: str
    inline_limit: int


USER = Owner(
    kind="user",
    column="principal_id",
    member="userName",
    attached_quota="PoliciesPerUser",
    inline_quota="UserPolicySize",
    inline_limit=SIZE_QUOTAS["user_inline"],
)
GROUP = Owner(
    kind="group",
    column="group_id",
    member="groupName",
    attached_quota="PoliciesPerGroup",
    inline_quota="GroupPolicySize",
    inline_limit=SIZE_QUOTAS["group_inline"],
)
ROLE = Owner(
    kind="role",
    column="principal_id",
    member="roleName",
    attached_quota="PoliciesPerRole",
    inline_quota="RolePolicySize",
    inline_limit=SIZE_QUOTAS["role_inline"],
)


class AttachmentAdmin(IAMBase):
    """Attach/Detach/ListAttached, Put/Get/Delete/List inline, boundaries."""

    async def _owner_id(
        self, conn: AsyncConnection, owner: Owner, account_id: str, name: str
    ) -> str:
        if owner.kind == "group":
            return str((await self._group_row(conn, account_id, name)).group_id)
        return str((await self._principal_row(conn, account_id, owner.kind, name)).principal_id)

    # -- attached managed policies ------------------------------------------------------------

    async def _attach(self, owner: Owner, account_id: str, name: str, policy_arn: str) -> None:
        async def attach(conn: AsyncConnection) -> None:
            entity = await self._owner_id(conn, owner, account_id, name)
            policy = await self._policy_row(conn, account_id, policy_arn, attaching=True)
            where = policy_attachments.c[owner.column] == entity
            present = await conn.execute(
                sa.select(_A.id).where(where, _A.policy_id == policy.policy_id)
            )
            if present.first() is not None:
                return  # attaching twice changes nothing, as in IAM
            count = await conn.execute(
                sa.select(sa.func.count()).select_from(policy_attachments).where(where)
            )
            if int(count.scalar_one()) >= MAX_ATTACHED_POLICIES:
                raise LimitExceeded(
                    f"Cannot exceed quota for {owner.attached_quota}: {MAX_ATTACHED_POLICIES}"
                )
            await conn.execute(
                sa.insert(policy_attachments).values(
                    {"policy_id": policy.policy_id, owner.column: entity}
                )
            )

        await self._write(attach)

    async def _detach(self, owner: Owner, account_id: str, name: str, policy_arn: str) -> None:
        async def detach(conn: AsyncConnection) -> None:
            entity = await self._owner_id(conn, owner, account_id, name)
            policy = await self._policy_row(conn, account_id, policy_arn)
            result = await conn.execute(
                sa.delete(policy_attachments).where(
                    policy_attachments.c[owner.column] == entity,
                    _A.policy_id == policy.policy_id,
                )
            )
            if result.rowcount == 0:
                raise NoSuchEntity(f"Policy {policy_arn} was not found.")

        await self._write(detach)

    async def _list_attached(
        self,
        owner: Owner,
        account_id: str,
        name: str,
        path_prefix: str | None,
        marker: str | None,
        max_items: int | None,
    ) -> Page[PolicyRef]:
        prefix = check_path_prefix(path_prefix)

        async def q(conn: AsyncConnection) -> list[PolicyRef]:
            entity = await self._owner_id(conn, owner, account_id, name)
            rows = await conn.execute(
                sa.select(policies)
                .select_from(policy_attachments.join(policies))
                .where(
                    policy_attachments.c[owner.column] == entity,
                    sa.func.substr(_POL.path, 1, len(prefix)) == prefix,
                )
            )
            return sorted((policy_ref(r) for r in rows), key=lambda p: p.policy_name)

        return page_of(await self._read(q), lambda p: p.policy_name, marker, max_items)

    async def attach_user_policy(self, account_id: str, user_name: str, policy_arn: str) -> None:
        """AttachUserPolicy. Raises :class:`NoSuchEntity`, :class:`LimitExceeded` (10)."""
        await self._attach(USER, account_id, user_name, policy_arn)

    async def attach_group_policy(self, account_id: str, group_name: str, policy_arn: str) -> None:
        """AttachGroupPolicy. Raises :class:`NoSuchEntity`, :class:`LimitExceeded` (10)."""
        await self._attach(GROUP, account_id, group_name, policy_arn)

    async def attach_role_policy(self, account_id: str, role_name: str, policy_arn: str) -> None:
        """AttachRolePolicy. Raises :class:`NoSuchEntity`, :class:`LimitExceeded` (10)."""
        await self._attach(ROLE, account_id, role_name, policy_arn)

    async def detach_user_policy(self, account_id: str, user_name: str, policy_arn: str) -> None:
        """DetachUserPolicy. Raises :class:`NoSuchEntity` (also when not attached)."""
        await self._detach(USER, account_id, user_name, policy_arn)

    async def detach_group_policy(self, account_id: str, group_name: str, policy_arn: str) -> None:
        """DetachGroupPolicy. Raises :class:`NoSuchEntity` (also when not attached)."""
        await self._detach(GROUP, account_id, group_name, policy_arn)

    async def detach_role_policy(self, account_id: str, role_name: str, policy_arn: str) -> None:
        """DetachRolePolicy. Raises :class:`NoSuchEntity` (also when not attached)."""
        await self._detach(ROLE, account_id, role_name, policy_arn)

    async def list_attached_user_policies(
        self,
        account_id: str,
        user_name: str,
        *,
        path_prefix: str | None = None,
        marker: str | None = None,
        max_items: int | None = None,
    ) -> Page[PolicyRef]:
        """ListAttachedUserPolicies, by policy name."""
        return await self._list_attached(
            USER, account_id, user_name, path_prefix, marker, max_items
        )

    async def list_attached_group_policies(
        self,
        account_id: str,
        group_name: str,
        *,
        path_prefix: str | None = None,
        marker: str | None = None,
        max_items: int | None = None,
    ) -> Page[PolicyRef]:
        """ListAttachedGroupPolicies, by policy name."""
        return await self._list_attached(
            GROUP, account_id, group_name, path_prefix, marker, max_items
        )

    async def list_attached_role_policies(
        self,
        account_id: str,
        role_name: str,
        *,
        path_prefix: str | None = None,
        marker: str | None = None,
        max_items: int | None = None,
    ) -> Page[PolicyRef]:
        """ListAttachedRolePolicies, by policy name."""
        return await self._list_attached(
            ROLE, account_id, role_name, path_prefix, marker, max_items
        )

    # -- inline policies ---------------------------------------------------------------------

    async def _put_inline(
        self, owner: Owner, account_id: str, name: str, policy_name: str, document: str
    ) -> None:
        check_name(policy_name, "policy", "policyName")
        check_document(document)
        if policy_size(document) > owner.inline_limit:
            raise LimitExceeded(
                f"Cannot exceed quota for {owner.inline_quota}: {owner.inline_limit}"
            )
        Policy.parse(document, policy_type=PolicyType.IDENTITY)

        async def put(conn: AsyncConnection) -> None:
            entity = await self._owner_id(conn, owner, account_id, name)
            where = inline_policies.c[owner.column] == entity
            others = await conn.execute(
                sa.select(_I.name, _I.document).where(where, ~same_name(_I.name, policy_name))
            )
            total = policy_size(document) + sum(policy_size(doc) for _n, doc in others)
            if total > owner.inline_limit:
                raise LimitExceeded(
                    f"Cannot exceed quota for {owner.inline_quota}: {owner.inline_limit}"
                )
            await conn.execute(
                sa.delete(inline_policies).where(where, same_name(_I.name, policy_name))
            )
            await conn.execute(
                sa.insert(inline_policies).values(
                    {"name": policy_name, "document": document, owner.column: entity}
                )
            )

        await self._write(put)

    async def _inline_row(
        self, conn: AsyncConnection, owner: Owner, account_id: str, name: str, policy_name: str
    ) -> Any:
        entity = await self._owner_id(conn, owner, account_id, name)
        row = (
            await conn.execute(
                sa.select(inline_policies).where(
                    inline_policies.c[owner.column] == entity, same_name(_I.name, policy_name)
                )
            )
        ).first()
        if row is None:
            raise NoSuchEntity(f"The {owner.kind} policy with name {policy_name} cannot be found.")
        return row

    async def _get_inline(
        self, owner: Owner, account_id: str, name: str, policy_name: str
    ) -> InlinePolicy:
        async def q(conn: AsyncConnection) -> InlinePolicy:
            row = await self._inline_row(conn, owner, account_id, name, policy_name)
            entity_name = await self._entity_name(conn, owner, account_id, name)
            return InlinePolicy(
                entity_name=entity_name, policy_name=row.name, policy_document=row.document
            )

        return await self._read(q)

    async def _entity_name(
        self, conn: AsyncConnection, owner: Owner, account_id: str, name: str
    ) -> str:
        if owner.kind == "group":
            return str((await self._group_row(conn, account_id, name)).name)
        return str((await self._principal_row(conn, account_id, owner.kind, name)).name)

    async def _delete_inline(
        self, owner: Owner, account_id: str, name: str, policy_name: str
    ) -> None:
        async def delete(conn: AsyncConnection) -> None:
            row = await self._inline_row(conn, owner, account_id, name, policy_name)
            await conn.execute(sa.delete(inline_policies).where(_I.id == row.id))

        await self._write(delete)

    async def _list_inline(
        self, owner: Owner, account_id: str, name: str, marker: str | None, max_items: int | None
    ) -> Page[str]:
        async def q(conn: AsyncConnection) -> list[str]:
            entity = await self._owner_id(conn, owner, account_id, name)
            rows = await conn.execute(
                sa.select(_I.name).where(inline_policies.c[owner.column] == entity)
            )
            return sorted(rows.scalars())

        return page_of(await self._read(q), lambda n: n, marker, max_items)

    async def put_user_policy(
        self, account_id: str, user_name: str, policy_name: str, policy_document: str
    ) -> None:
        """PutUserPolicy: add or replace. Raises :class:`MalformedPolicyDocument`,
        :class:`LimitExceeded` (2,048 aggregate), :class:`NoSuchEntity`."""
        await self._put_inline(USER, account_id, user_name, policy_name, policy_document)

    async def put_group_policy(
        self, account_id: str, group_name: str, policy_name: str, policy_document: str
    ) -> None:
        """PutGroupPolicy: add or replace (5,120 aggregate)."""
        await self._put_inline(GROUP, account_id, group_name, policy_name, policy_document)

    async def put_role_policy(
        self, account_id: str, role_name: str, policy_name: str, policy_document: str
    ) -> None:
        """PutRolePolicy: add or replace (10,240 aggregate)."""
        await self._put_inline(ROLE, account_id, role_name, policy_name, policy_document)

    async def get_user_policy(
        self, account_id: str, user_name: str, policy_name: str
    ) -> InlinePolicy:
        """GetUserPolicy: the document as sent. Raises :class:`NoSuchEntity`."""
        return await self._get_inline(USER, account_id, user_name, policy_name)

    async def get_group_policy(
        self, account_id: str, group_name: str, policy_name: str
    ) -> InlinePolicy:
        """GetGroupPolicy. Raises :class:`NoSuchEntity`."""
        return await self._get_inline(GROUP, account_id, group_name, policy_name)

    async def get_role_policy(
        self, account_id: str, role_name: str, policy_name: str
    ) -> InlinePolicy:
        """GetRolePolicy. Raises :class:`NoSuchEntity`."""
        return await self._get_inline(ROLE, account_id, role_name, policy_name)

    async def delete_user_policy(self, account_id: str, user_name: str, policy_name: str) -> None:
        """DeleteUserPolicy. Raises :class:`NoSuchEntity`."""
        await self._delete_inline(USER, account_id, user_name, policy_name)

    async def delete_group_policy(self, account_id: str, group_name: str, policy_name: str) -> None:
        """DeleteGroupPolicy. Raises :class:`NoSuchEntity`."""
        await self._delete_inline(GROUP, account_id, group_name, policy_name)

    async def delete_role_policy(self, account_id: str, role_name: str, policy_name: str) -> None:
        """DeleteRolePolicy. Raises :class:`NoSuchEntity`."""
        await self._delete_inline(ROLE, account_id, role_name, policy_name)

    async def list_user_policies(
        self,
        account_id: str,
        user_name: str,
        *,
        marker: str | None = None,
        max_items: int | None = None,
    ) -> Page[str]:
        """ListUserPolicies: inline policy names, sorted."""
        return await self._list_inline(USER, account_id, user_name, marker, max_items)

    async def list_group_policies(
        self,
        account_id: str,
        group_name: str,
        *,
        marker: str | None = None,
        max_items: int | None = None,
    ) -> Page[str]:
        """ListGroupPolicies: inline policy names, sorted."""
        return await self._list_inline(GROUP, account_id, group_name, marker, max_items)

    async def list_role_policies(
        self,
        account_id: str,
        role_name: str,
        *,
        marker: str | None = None,
        max_items: int | None = None,
    ) -> Page[str]:
        """ListRolePolicies: inline policy names, sorted."""
        return await self._list_inline(ROLE, account_id, role_name, marker, max_items)

    # -- permissions boundaries ----------------------------------------------------------------

    async def _set_boundary(
        self, kind: str, account_id: str, name: str, policy_arn: str | None
    ) -> None:
        async def update(conn: AsyncConnection) -> None:
            row = await self._principal_row(conn, account_id, kind, name)
            policy_id = None
            if policy_arn is not None:
                policy_id = (
                    await self._policy_row(conn, account_id, policy_arn, attaching=True)
                ).policy_id
            await conn.execute(
                sa.update(principals)
                .where(principals.c.principal_id == row.principal_id)
                .values(permissions_boundary=policy_id)
            )

        await self._write(update)

    async def put_user_permissions_boundary(
        self, account_id: str, user_name: str, permissions_boundary: str
    ) -> None:
        """PutUserPermissionsBoundary: set or replace. Raises :class:`NoSuchEntity`."""
        await self._set_boundary("user", account_id, user_name, permissions_boundary)

    async def put_role_permissions_boundary(
        self, account_id: str, role_name: str, permissions_boundary: str
    ) -> None:
        """PutRolePermissionsBoundary: set or replace. Raises :class:`NoSuchEntity`."""
        await self._set_boundary("role", account_id, role_name, permissions_boundary)

    async def delete_user_permissions_boundary(self, account_id: str, user_name: str) -> None:
        """DeleteUserPermissionsBoundary (none set: no change). Raises :class:`NoSuchEntity`."""
        await self._set_boundary("user", account_id, user_name, None)

    async def delete_role_permissions_boundary(self, account_id: str, role_name: str) -> None:
        """DeleteRolePermissionsBoundary (none set: no change). Raises :class:`NoSuchEntity`."""
        await self._set_boundary("role", account_id, role_name, None)
