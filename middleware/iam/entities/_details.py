"""GetAccountAuthorizationDetails: every user, group, role and managed policy of an account.

Read in one query per table (nine in all) and assembled here; paged over
the concatenation users, groups, roles, policies (each by name), as IAM
returns them.

Imports: SQLAlchemy, the store's schema, the entity converters.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ...store.schema import (
    group_memberships,
    groups,
    inline_policies,
    policies,
    policy_attachments,
    policy_versions,
    principals,
    roles,
    tags,
)
from ._base import IAMBase, page_of, policy_ref
from ._groups import group_of
from ._model import (
    AccountAuthorizationDetails,
    EntityFilter,
    GroupDetailEntry,
    InlinePolicy,
    ManagedPolicy,
    ManagedPolicyDetail,
    PolicyRef,
    PolicyVersion,
    RoleDetail,
    Tag,
    UserDetail,
)
from ._roles import role_of
from ._rules import arn
from ._users import user_of

__all__ = ["DetailsReader"]

_P, _G, _POL = principals.c, groups.c, policies.c
_ORDER = {"user": "0", "group": "1", "role": "2", "policy": "3"}


class DetailsReader(IAMBase):
    """:meth:`get_account_authorization_details`."""

    async def get_account_authorization_details(
        self,
        account_id: str,
        *,
        filter: Iterable[EntityFilter | str] = (),
        marker: str | None = None,
        max_items: int | None = None,
    ) -> AccountAuthorizationDetails:
        """Users (with groups, inline and attached policies), groups, roles and managed
        policies (with every version) of the account; ``filter`` limits the kinds."""
        wanted = {EntityFilter(f) for f in filter} or set(EntityFilter)

        async def q(conn: AsyncConnection) -> list[tuple[str, Any]]:
            await self._require_account(conn, account_id)
            return await _load(conn, account_id, wanted)

        entries = await self._read(q)
        page = page_of(entries, lambda e: e[0], marker, max_items)
        items = [item for _key, item in page.items]
        return AccountAuthorizationDetails(
            user_detail_list=tuple(i for i in items if isinstance(i, UserDetail)),
            group_detail_list=tuple(i for i in items if isinstance(i, GroupDetailEntry)),
            role_detail_list=tuple(i for i in items if isinstance(i, RoleDetail)),
            policies=tuple(i for i in items if isinstance(i, ManagedPolicyDetail)),
            is_truncated=page.is_truncated,
            marker=page.marker,
        )


async def _load(
    conn: AsyncConnection, account_id: str, wanted: set[EntityFilter]
) -> list[tuple[str, Any]]:
    prows = list(
        (
            await conn.execute(
                sa.select(
                    principals,
                    roles.c.trust_policy,
                    roles.c.max_session_duration,
                    roles.c.description,
                )
                .select_from(principals.outerjoin(roles))
                .where(_P.account_id == account_id)
            )
        ).all()
    )
    grows = list((await conn.execute(sa.select(groups).where(_G.account_id == account_id))).all())
    pols = list(
        (await conn.execute(sa.select(policies).where(_POL.account_id == account_id))).all()
    )
    pol_by_id = {r.policy_id: r for r in pols}
    ids = [r.principal_id for r in prows] + [r.group_id for r in grows]
    inline: dict[str, list[InlinePolicy]] = defaultdict(list)
    attached: dict[str, list[PolicyRef]] = defaultdict(list)
    member_of: dict[str, list[str]] = defaultdict(list)
    tag_map: dict[str, list[Tag]] = defaultdict(list)
    attach_counts: dict[str, int] = defaultdict(int)
    names = {r.principal_id: r.name for r in prows} | {r.group_id: r.name for r in grows}
    group_names = {r.group_id: r.name for r in grows}
    in_account_p = sa.select(_P.principal_id).where(_P.account_id == account_id)
    in_account_g = sa.select(_G.group_id).where(_G.account_id == account_id)
    for row in await conn.execute(
        sa.select(inline_policies).where(
            sa.or_(
                inline_policies.c.principal_id.in_(in_account_p),
                inline_policies.c.group_id.in_(in_account_g),
            )
        )
    ):
        owner = row.principal_id or row.group_id
        if owner in names:
            inline[owner].append(
                InlinePolicy(
                    entity_name=names[owner], policy_name=row.name, policy_document=row.document
                )
            )
    in_account_pol = sa.select(_POL.policy_id).where(_POL.account_id == account_id)
    for row in await conn.execute(
        sa.select(policy_attachments).where(policy_attachments.c.policy_id.in_(in_account_pol))
    ):
        owner = row.principal_id or row.group_id
        if row.policy_id in pol_by_id:
            attach_counts[row.policy_id] += 1
            if owner in names:
                attached[owner].append(policy_ref(pol_by_id[row.policy_id]))
    for row in await conn.execute(
        sa.select(group_memberships).where(group_memberships.c.group_id.in_(in_account_g))
    ):
        if row.group_id in group_names:
            member_of[row.principal_id].append(group_names[row.group_id])
    ids.extend(pol_by_id)
    for row in await conn.execute(sa.select(tags).where(tags.c.resource_id.in_(ids or [""]))):
        tag_map[row.resource_id].append(Tag(key=row.key, value=row.value))
    versions: dict[str, list[Any]] = defaultdict(list)
    for row in await conn.execute(
        sa.select(policy_versions).where(policy_versions.c.policy_id.in_(in_account_pol))
    ):
        if row.policy_id in pol_by_id:
            versions[row.policy_id].append(row)
    boundary_counts: dict[str, int] = defaultdict(int)
    for r in prows:
        if r.permissions_boundary:
            boundary_counts[r.permissions_boundary] += 1

    def by_name(items: list[Any]) -> list[Any]:
        return sorted(items, key=lambda x: x.policy_name)

    def boundary(r: Any) -> PolicyRef | None:
        b = pol_by_id.get(r.permissions_boundary)
        return None if b is None else policy_ref(b)

    def sorted_tags(owner: str) -> tuple[Tag, ...]:
        return tuple(sorted(tag_map[owner], key=lambda t: t.key))

    entries: list[tuple[str, Any]] = []
    for r in prows:
        # A root principal is the account's root user, not an IAM user.
        if r.kind == "user" and not r.is_root and EntityFilter.USER in wanted:
            user = user_of(r, permissions_boundary=boundary(r), tags=sorted_tags(r.principal_id))
            entries.append(
                (
                    _ORDER["user"] + r.name,
                    UserDetail(
                        user=user,
                        group_list=tuple(sorted(member_of[r.principal_id])),
                        user_policy_list=tuple(by_name(inline[r.principal_id])),
                        attached_managed_policies=tuple(by_name(attached[r.principal_id])),
                    ),
                )
            )
        elif r.kind == "role" and EntityFilter.ROLE in wanted:
            role = role_of(r, permissions_boundary=boundary(r), tags=sorted_tags(r.principal_id))
            entries.append(
                (
                    _ORDER["role"] + r.name,
                    RoleDetail(
                        role=role,
                        role_policy_list=tuple(by_name(inline[r.principal_id])),
                        attached_managed_policies=tuple(by_name(attached[r.principal_id])),
                    ),
                )
            )
    if EntityFilter.GROUP in wanted:
        for g in grows:
            entries.append(
                (
                    _ORDER["group"] + g.name,
                    GroupDetailEntry(
                        group=group_of(g),
                        group_policy_list=tuple(by_name(inline[g.group_id])),
                        attached_managed_policies=tuple(by_name(attached[g.group_id])),
                    ),
                )
            )
    if EntityFilter.LOCAL_MANAGED_POLICY in wanted:
        for p in pols:
            vlist = sorted(
                versions[p.policy_id],
                key=lambda v: int(v.version_id[1:].split(".")[0]),
                reverse=True,
            )
            entries.append(
                (
                    _ORDER["policy"] + p.name,
                    ManagedPolicyDetail(
                        policy=ManagedPolicy(
                            account_id=p.account_id,
                            policy_name=p.name,
                            policy_id=p.policy_id,
                            path=p.path,
                            arn=arn(p.account_id, "policy", p.path, p.name),
                            default_version_id=p.default_version_id,
                            attachment_count=attach_counts[p.policy_id],
                            permissions_boundary_usage_count=boundary_counts[p.policy_id],
                            is_attachable=True,
                            description=p.description,
                            create_date=p.created_at,
                            update_date=p.updated_at,
                        ),
                        policy_version_list=tuple(
                            PolicyVersion(
                                version_id=v.version_id,
                                is_default_version=v.version_id == p.default_version_id,
                                create_date=v.created_at,
                                document=v.document,
                            )
                            for v in vlist
                        ),
                    ),
                )
            )
    entries.sort(key=lambda e: e[0])
    return entries
