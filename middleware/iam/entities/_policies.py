"""Customer managed policies and their versions.

A managed policy holds up to 5 versions (``v1``, ``v2``, ... never reused),
one of them the default; documents are identity policies of at most 6,144
characters without whitespace (``Cannot exceed quota for PolicySize: 6144``),
stored as sent.

Imports: SQLAlchemy, the store's schema, the policy parser, :mod:`._base`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ...store.schema import (
    groups,
    policies,
    policy_attachments,
    policy_versions,
    principals,
    tags,
)
from ..policy import SIZE_QUOTAS, Policy, PolicyType, policy_size
from ._base import IAMBase, page_of, same_name
from ._errors import DeleteConflict, EntityAlreadyExists, LimitExceeded, NoSuchEntity
from ._model import (
    EntityFilter,
    GroupRef,
    ManagedPolicy,
    Page,
    PolicyEntities,
    PolicyVersion,
    PrincipalRef,
    Tag,
)
from ._rules import (
    MAX_POLICY_VERSIONS,
    arn,
    check_description,
    check_document,
    check_max_items,
    check_name,
    check_path,
    check_path_prefix,
    check_tags,
    check_version_id,
    decode_marker,
    encode_marker,
)

__all__ = ["PolicyAdmin", "check_managed_document"]

_POL, _V, _A, _P = policies.c, policy_versions.c, policy_attachments.c, principals.c


def check_managed_document(document: str) -> Policy:
    """Validate a managed policy document (identity rules, 6,144 characters)."""
    check_document(document)
    if policy_size(document) > SIZE_QUOTAS["managed"]:
        raise LimitExceeded(f"Cannot exceed quota for PolicySize: {SIZE_QUOTAS['managed']}")
    return Policy.parse(document, policy_type=PolicyType.IDENTITY)


# A listing reads each policy's attachment and boundary counts in its one query.
_COUNTED = sa.select(
    policies,
    sa.select(sa.func.count())
    .select_from(policy_attachments)
    .where(_A.policy_id == _POL.policy_id)
    .scalar_subquery()
    .label("attachment_count"),
    sa.select(sa.func.count())
    .select_from(principals)
    .where(_P.permissions_boundary == _POL.policy_id)
    .scalar_subquery()
    .label("boundary_count"),
)


def _version_number(version_id: str) -> int:
    return int(version_id[1:].split(".", 1)[0])


class PolicyAdmin(IAMBase):
    """CreatePolicy ... DeletePolicyVersion, ListEntitiesForPolicy."""

    async def _counts(self, conn: AsyncConnection, policy_id: str) -> tuple[int, int]:
        attached = await conn.execute(
            sa.select(sa.func.count())
            .select_from(policy_attachments)
            .where(_A.policy_id == policy_id)
        )
        bounding = await conn.execute(
            sa.select(sa.func.count())
            .select_from(principals)
            .where(_P.permissions_boundary == policy_id)
        )
        return int(attached.scalar_one()), int(bounding.scalar_one())

    async def _managed(self, conn: AsyncConnection, row: Any, *, with_tags: bool) -> ManagedPolicy:
        if "attachment_count" in row._mapping:  # read with the counts (_COUNTED)
            attached, bounding = int(row.attachment_count), int(row.boundary_count)
        else:
            attached, bounding = await self._counts(conn, row.policy_id)
        return ManagedPolicy(
            account_id=row.account_id,
            policy_name=row.name,
            policy_id=row.policy_id,
            path=row.path,
            arn=arn(row.account_id, "policy", row.path, row.name),
            default_version_id=row.default_version_id,
            attachment_count=attached,
            permissions_boundary_usage_count=bounding,
            is_attachable=True,
            description=row.description,
            create_date=row.created_at,
            update_date=row.updated_at,
            tags=await self._tags_of(conn, row.policy_id) if with_tags else (),
        )

    async def create_policy(
        self,
        account_id: str,
        policy_name: str,
        policy_document: str,
        *,
        path: str = "/",
        description: str | None = None,
        tags: Iterable[Tag] | Mapping[str, str] = (),
    ) -> ManagedPolicy:
        """CreatePolicy: the policy with version ``v1`` as default.

        Raises :class:`EntityAlreadyExists`, :class:`ValidationError`,
        :class:`MalformedPolicyDocument`, :class:`LimitExceeded`.
        """
        check_name(policy_name, "policy", "policyName")
        check_path(path)
        check_description(description)
        new_tags = check_tags(tags)
        check_managed_document(policy_document)
        at = self._now()

        async def insert(conn: AsyncConnection) -> ManagedPolicy:
            await self._require_account(conn, account_id)
            taken = await conn.execute(
                sa.select(_POL.policy_id).where(
                    _POL.account_id == account_id, same_name(_POL.name, policy_name)
                )
            )
            if taken.first() is not None:
                raise EntityAlreadyExists(
                    f"A policy called {policy_name} already exists. "
                    "Duplicate names are not allowed."
                )
            pid = await self._new_id(conn, "ANPA", _POL.policy_id)
            await conn.execute(
                sa.insert(policies).values(
                    policy_id=pid,
                    account_id=account_id,
                    name=policy_name,
                    path=path,
                    description=description,
                    default_version_id="v1",
                    created_at=at,
                    updated_at=at,
                    last_version_number=1,
                )
            )
            await conn.execute(
                sa.insert(policy_versions).values(
                    policy_id=pid, version_id="v1", document=policy_document, created_at=at
                )
            )
            await self._put_tags(conn, pid, new_tags)
            row = (await conn.execute(sa.select(policies).where(_POL.policy_id == pid))).one()
            return await self._managed(conn, row, with_tags=True)

        return await self._write(insert)

    async def get_policy(self, account_id: str, policy_arn: str) -> ManagedPolicy:
        """GetPolicy. Raises :class:`NoSuchEntity` ("Policy <arn> was not found.") and
        :class:`InvalidInput` (malformed ARN)."""

        async def q(conn: AsyncConnection) -> ManagedPolicy:
            row = await self._policy_row(conn, account_id, policy_arn)
            return await self._managed(conn, row, with_tags=True)

        return await self._read(q)

    async def list_policies(
        self,
        account_id: str,
        *,
        only_attached: bool = False,
        path_prefix: str | None = None,
        marker: str | None = None,
        max_items: int | None = None,
    ) -> Page[ManagedPolicy]:
        """ListPolicies (``Scope=Local``: this account's policies), by name, without tags."""
        prefix = check_path_prefix(path_prefix)

        async def q(conn: AsyncConnection) -> Page[ManagedPolicy]:
            await self._require_account(conn, account_id)
            query = _COUNTED.where(
                _POL.account_id == account_id,
                sa.func.substr(_POL.path, 1, len(prefix)) == prefix,
            )
            if only_attached:
                query = query.where(_POL.policy_id.in_(sa.select(_A.policy_id)))
            rows, truncated, next_marker = await self._keyset_page(
                conn, query, _POL.name, marker, max_items
            )
            items = [await self._managed(conn, r, with_tags=False) for r in rows]
            return Page(items=tuple(items), is_truncated=truncated, marker=next_marker)

        return await self._read(q)

    async def delete_policy(self, account_id: str, policy_arn: str) -> None:
        """DeletePolicy with all its versions. Raises :class:`NoSuchEntity`, and
        :class:`DeleteConflict` while it is attached or used as a permissions boundary."""

        async def delete(conn: AsyncConnection) -> None:
            row = await self._policy_row(conn, account_id, policy_arn)
            attached, bounding = await self._counts(conn, row.policy_id)
            if attached or bounding:
                raise DeleteConflict("Cannot delete a policy attached to entities.")
            await conn.execute(sa.delete(tags).where(tags.c.resource_id == row.policy_id))
            await conn.execute(sa.delete(policy_versions).where(_V.policy_id == row.policy_id))
            await conn.execute(sa.delete(policies).where(_POL.policy_id == row.policy_id))

        await self._write(delete)

    # -- versions ------------------------------------------------------------------------

    async def create_policy_version(
        self,
        account_id: str,
        policy_arn: str,
        policy_document: str,
        *,
        set_as_default: bool = False,
    ) -> PolicyVersion:
        """CreatePolicyVersion. Raises :class:`LimitExceeded` at 5 versions,
        :class:`NoSuchEntity`, :class:`MalformedPolicyDocument`."""
        check_managed_document(policy_document)
        at = self._now()

        async def insert(conn: AsyncConnection) -> PolicyVersion:
            row = await self._policy_row(conn, account_id, policy_arn)
            count = await conn.execute(
                sa.select(sa.func.count())
                .select_from(policy_versions)
                .where(_V.policy_id == row.policy_id)
            )
            if int(count.scalar_one()) >= MAX_POLICY_VERSIONS:
                raise LimitExceeded(
                    "A managed policy can have up to 5 versions. Before you create a new "
                    "version, you must delete an existing version."
                )
            number = int(row.last_version_number) + 1
            version_id = f"v{number}"
            await conn.execute(
                sa.insert(policy_versions).values(
                    policy_id=row.policy_id,
                    version_id=version_id,
                    document=policy_document,
                    created_at=at,
                )
            )
            values: dict[str, Any] = {"last_version_number": number, "updated_at": at}
            if set_as_default:
                values["default_version_id"] = version_id
            await conn.execute(
                sa.update(policies).where(_POL.policy_id == row.policy_id).values(values)
            )
            return PolicyVersion(
                version_id=version_id,
                is_default_version=set_as_default,
                create_date=at,
                document=policy_document,
            )

        return await self._write(insert)

    async def get_policy_version(
        self, account_id: str, policy_arn: str, version_id: str
    ) -> PolicyVersion:
        """GetPolicyVersion. Raises :class:`NoSuchEntity`."""
        check_version_id(version_id)

        async def q(conn: AsyncConnection) -> PolicyVersion:
            row = await self._policy_row(conn, account_id, policy_arn)
            return await self._version(conn, row, policy_arn, version_id)

        return await self._read(q)

    @staticmethod
    async def _version(
        conn: AsyncConnection, row: Any, policy_arn: str, version_id: str
    ) -> PolicyVersion:
        found = (
            await conn.execute(
                sa.select(policy_versions).where(
                    _V.policy_id == row.policy_id, _V.version_id == version_id
                )
            )
        ).first()
        if found is None:
            raise NoSuchEntity(
                f"Policy {policy_arn} version {version_id} does not exist or is not attachable."
            )
        return _version_of(found, row.default_version_id)

    async def list_policy_versions(
        self,
        account_id: str,
        policy_arn: str,
        *,
        marker: str | None = None,
        max_items: int | None = None,
    ) -> Page[PolicyVersion]:
        """ListPolicyVersions, newest first (as IAM lists them)."""

        async def q(conn: AsyncConnection) -> list[PolicyVersion]:
            row = await self._policy_row(conn, account_id, policy_arn)
            return await _versions(conn, row)

        versions = await self._read(q)
        limit = check_max_items(max_items)
        after = decode_marker(marker, 1)
        rest = [
            v for v in versions if after is None or _version_number(v.version_id) < int(after[0])
        ]
        if len(rest) <= limit:
            return Page(items=tuple(rest))
        chosen = rest[:limit]
        return Page(
            items=tuple(chosen),
            is_truncated=True,
            marker=encode_marker([_version_number(chosen[-1].version_id)]),
        )

    async def set_default_policy_version(
        self, account_id: str, policy_arn: str, version_id: str
    ) -> None:
        """SetDefaultPolicyVersion. Raises :class:`NoSuchEntity`."""
        check_version_id(version_id)

        async def update(conn: AsyncConnection) -> None:
            row = await self._policy_row(conn, account_id, policy_arn)
            await self._version(conn, row, policy_arn, version_id)
            await conn.execute(
                sa.update(policies)
                .where(_POL.policy_id == row.policy_id)
                .values(default_version_id=version_id, updated_at=self._now())
            )

        await self._write(update)

    async def delete_policy_version(
        self, account_id: str, policy_arn: str, version_id: str
    ) -> None:
        """DeletePolicyVersion. Raises :class:`NoSuchEntity`, and :class:`DeleteConflict`
        for the default version."""
        check_version_id(version_id)

        async def delete(conn: AsyncConnection) -> None:
            row = await self._policy_row(conn, account_id, policy_arn)
            await self._version(conn, row, policy_arn, version_id)
            if version_id == row.default_version_id:
                raise DeleteConflict("Cannot delete the default version of a policy.")
            await conn.execute(
                sa.delete(policy_versions).where(
                    _V.policy_id == row.policy_id, _V.version_id == version_id
                )
            )

        await self._write(delete)

    async def list_entities_for_policy(
        self,
        account_id: str,
        policy_arn: str,
        *,
        entity_filter: EntityFilter | str | None = None,
        path_prefix: str | None = None,
        marker: str | None = None,
        max_items: int | None = None,
    ) -> PolicyEntities:
        """ListEntitiesForPolicy: groups, users and roles it is attached to (one page over
        groups, then users, then roles, each by name)."""
        prefix = check_path_prefix(path_prefix)
        wanted = None if entity_filter is None else EntityFilter(entity_filter)

        async def q(conn: AsyncConnection) -> list[tuple[str, str, str]]:
            row = await self._policy_row(conn, account_id, policy_arn)
            found: list[tuple[str, str, str]] = []
            if wanted in (None, EntityFilter.GROUP):
                rows = await conn.execute(
                    sa.select(groups.c.name, groups.c.group_id)
                    .select_from(policy_attachments.join(groups))
                    .where(
                        _A.policy_id == row.policy_id,
                        sa.func.substr(groups.c.path, 1, len(prefix)) == prefix,
                    )
                )
                found += sorted(("0group", name, gid) for name, gid in rows)
            for kind, flag in (("user", EntityFilter.USER), ("role", EntityFilter.ROLE)):
                if wanted not in (None, flag):
                    continue
                rows = await conn.execute(
                    sa.select(_P.name, _P.principal_id)
                    .select_from(policy_attachments.join(principals))
                    .where(
                        _A.policy_id == row.policy_id,
                        _P.kind == kind,
                        sa.func.substr(_P.path, 1, len(prefix)) == prefix,
                    )
                )
                tag = "1user" if kind == "user" else "2role"
                found += sorted((tag, name, pid) for name, pid in rows)
            return found

        found = await self._read(q)
        page = page_of(found, lambda e: f"{e[0]}/{e[1]}", marker, max_items)
        return PolicyEntities(
            policy_groups=tuple(
                GroupRef(group_name=n, group_id=i) for k, n, i in page.items if k == "0group"
            ),
            policy_users=tuple(
                PrincipalRef(name=n, id=i) for k, n, i in page.items if k == "1user"
            ),
            policy_roles=tuple(
                PrincipalRef(name=n, id=i) for k, n, i in page.items if k == "2role"
            ),
            is_truncated=page.is_truncated,
            marker=page.marker,
        )


def _version_of(row: Any, default_version_id: str) -> PolicyVersion:
    created: datetime = row.created_at
    return PolicyVersion(
        version_id=row.version_id,
        is_default_version=row.version_id == default_version_id,
        create_date=created,
        document=row.document,
    )


async def _versions(conn: AsyncConnection, row: Any) -> list[PolicyVersion]:
    rows = await conn.execute(sa.select(policy_versions).where(_V.policy_id == row.policy_id))
    versions = [_version_of(r, row.default_version_id) for r in rows]
    return sorted(versions, key=lambda v: _version_number(v.version_id), reverse=True)
