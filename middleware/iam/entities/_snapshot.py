"""The authorization snapshot: everything the authorizer needs about a principal, in 2 queries.

1. The principal (by access key id, or by unique id) with the IAM
   generation read in the same statement.
2. One ``UNION ALL`` of its inline policies, attached managed policies'
   default versions, its groups, each group's inline and attached policies,
   its permissions boundary and its tags.

Documents are parsed with :meth:`Policy.parse` (identity policies; the
boundary as a boundary) through a bounded cache keyed by text and id, so
reloading after an unrelated change re-parses nothing.

Imports: SQLAlchemy, the store's schema, the policy parser, :mod:`._base`.
"""

from __future__ import annotations

import functools
import json
from types import MappingProxyType
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ...store.schema import (
    access_keys,
    accounts,
    group_memberships,
    groups,
    iam_generation,
    inline_policies,
    policies,
    policy_attachments,
    policy_versions,
    principals,
    sessions,
    tags,
)
from ..policy import Policy, PolicyType
from ._base import IAMBase
from ._errors import IAMError
from ._model import (
    AuthorizationSnapshot,
    GroupRef,
    PrincipalInfo,
    PrincipalKind,
    SessionInfo,
    SessionKind,
)
from ._rules import arn, parse_policy_arn

__all__ = ["SnapshotLoader", "inline_policy_id"]

_P, _K, _M, _G = principals.c, access_keys.c, group_memberships.c, groups.c
_I, _A, _POL, _V = inline_policies.c, policy_attachments.c, policies.c, policy_versions.c

_S = sessions.c
#: The session columns read with a temporary key's principal (labelled: both
#: tables have a ``principal_id``).
_SESSION_COLUMNS = (
    _K.access_key_id.label("s_key"),
    _K.expires_at.label("s_expires_at"),
    _S.issued_at.label("s_issued_at"),
    _S.role_session_name.label("s_name"),
    _S.mfa_authenticated.label("s_mfa"),
    _S.mfa_authenticated_at.label("s_mfa_at"),
    _S.source_identity.label("s_source_identity"),
    _S.federated_provider.label("s_provider"),
    _S.session_policy.label("s_policy"),
    _S.session_policy_arns.label("s_policy_arns"),
    _S.session_tags.label("s_tags"),
    _S.transitive_tag_keys.label("s_transitive"),
)

_GENERATION = sa.select(iam_generation.c.value).where(iam_generation.c.id == 1).scalar_subquery()


def inline_policy_id(owner_arn: str, policy_name: str) -> str:
    """The ``policy_id`` of an inline policy in a snapshot: ``<owner ARN>#<policy name>``."""
    return f"{owner_arn}#{policy_name}"


@functools.lru_cache(maxsize=4096)
def _parse(text: str, policy_type: PolicyType, policy_id: str) -> Policy:
    # Stored documents were validated when written; parsing is pure, so the
    # same text and id give the same (immutable) Policy.
    return Policy.parse(text, policy_type=policy_type, policy_id=policy_id)


def _text(value: Any) -> Any:
    return sa.cast(value, sa.Text())


def _row_query(pid: str) -> sa.CompoundSelect[Any]:
    """Every policy, group and tag of ``pid``: (source, owner, name, path, account, doc)."""
    version = policies.join(
        policy_versions,
        sa.and_(_V.policy_id == _POL.policy_id, _V.version_id == _POL.default_version_id),
    )
    member_groups = group_memberships.join(groups, _G.group_id == _M.group_id)
    empty = sa.literal("", sa.Text())

    def row(source: str, *columns: Any) -> sa.Select[Any]:
        return sa.select(sa.literal(source, sa.Text()).label("source"), *map(_text, columns))

    def managed(source: str) -> sa.Select[Any]:
        # A managed policy's default version: name, path and account make its ARN.
        return row(source, empty, _POL.name, _POL.path, _POL.account_id, _V.document)

    return sa.union_all(
        row("inline", empty, _I.name, empty, empty, _I.document).where(_I.principal_id == pid),
        managed("managed")
        .select_from(policy_attachments.join(version, _A.policy_id == _POL.policy_id))
        .where(_A.principal_id == pid),
        row("group", _G.group_id, _G.name, _G.path, _G.account_id, sa.null())
        .select_from(member_groups)
        .where(_M.principal_id == pid),
        row("group_inline", _G.group_id, _I.name, _G.path, _G.account_id, _I.document)
        .select_from(member_groups.join(inline_policies, _I.group_id == _G.group_id))
        .where(_M.principal_id == pid),
        managed("managed")
        .select_from(
            member_groups.join(policy_attachments, _A.group_id == _G.group_id).join(
                version, _A.policy_id == _POL.policy_id
            )
        )
        .where(_M.principal_id == pid),
        managed("boundary")
        .select_from(principals.join(version, _P.permissions_boundary == _POL.policy_id))
        .where(_P.principal_id == pid),
        row("tag", empty, tags.c.key, empty, empty, tags.c.value).where(tags.c.resource_id == pid),
    )


class SnapshotLoader(IAMBase):
    """:meth:`load_authorization`."""

    async def load_authorization(
        self, access_key_id: str | None = None, *, principal_id: str | None = None
    ) -> AuthorizationSnapshot | None:
        """The authorization snapshot of the principal behind a key or a unique id, or None.

        Give either an ``access_key_id`` (long-term or temporary: the user,
        or the role a session acts as) or a ``principal_id`` (``AIDA...``,
        ``AROA...``, or a 12-digit account id for that account's root user).
        None when nothing matches. Two queries (one for the root user).

        ``snapshot.generation`` is the IAM generation the data was read at:
        the snapshot is current while :meth:`current_generation` returns the
        same number (see docs/iam-entities.md, "Caching snapshots").
        """
        if (access_key_id is None) == (principal_id is None):
            raise TypeError("give exactly one of access_key_id and principal_id")

        async def q(conn: AsyncConnection) -> AuthorizationSnapshot | None:
            if principal_id is not None and principal_id.isdigit() and len(principal_id) == 12:
                return await _root(conn, principal_id)
            if access_key_id is not None:
                query = (
                    sa.select(principals, _GENERATION.label("generation"), *_SESSION_COLUMNS)
                    .select_from(
                        principals.join(access_keys).outerjoin(
                            sessions, _S.access_key_id == _K.access_key_id
                        )
                    )
                    .where(_K.access_key_id == access_key_id)
                )
            else:
                query = sa.select(principals, _GENERATION.label("generation")).where(
                    _P.principal_id == principal_id
                )
            row = (await conn.execute(query)).first()
            if row is None:
                return None
            rows = list((await conn.execute(_row_query(row.principal_id))).all())
            snapshot = _assemble(row, rows)
            if access_key_id is not None and row.s_issued_at is not None:
                snapshot = await _with_session(conn, snapshot, row)
            return snapshot

        return await self._read(q)


async def _root(conn: AsyncConnection, account_id: str) -> AuthorizationSnapshot | None:
    row = (
        await conn.execute(
            sa.select(
                accounts.c.account_id, accounts.c.alias, _GENERATION.label("generation")
            ).where(accounts.c.account_id == account_id)
        )
    ).first()
    if row is None:
        return None
    return AuthorizationSnapshot(
        principal=PrincipalInfo(
            kind=PrincipalKind.ROOT,
            account_id=account_id,
            arn=f"arn:aws:iam::{account_id}:root",
            unique_id=account_id,
            name=row.alias or account_id,
            path="/",
            tags={},
        ),
        groups=(),
        policies=(),
        permissions_boundary=None,
        is_root=True,
        generation=int(row.generation),
    )


def _assemble(row: Any, rows: list[Any]) -> AuthorizationSnapshot:
    kind = PrincipalKind(row.kind)
    owner_arn = arn(row.account_id, row.kind, row.path, row.name)
    group_arns: dict[str, str] = {}
    found_groups: list[GroupRef] = []
    found_tags: dict[str, str] = {}
    policies_found: list[Policy] = []
    boundary: Policy | None = None
    seen_managed: set[str] = set()
    for source, owner, name, path, account, _document in rows:
        if source == "group":
            group_arn = arn(account, "group", path, name)
            group_arns[owner] = group_arn
            found_groups.append(GroupRef(group_name=name, group_id=owner, arn=group_arn))
    for source, owner, name, path, account, document in rows:
        if source == "tag":
            found_tags[name] = document
        elif source == "inline":
            policies_found.append(
                _parse(document, PolicyType.IDENTITY, inline_policy_id(owner_arn, name))
            )
        elif source == "group_inline":
            policies_found.append(
                _parse(document, PolicyType.IDENTITY, inline_policy_id(group_arns[owner], name))
            )
        elif source == "managed":
            policy_arn = arn(account, "policy", path, name)
            # A policy attached to the user and to one of its groups applies once.
            if policy_arn not in seen_managed:
                seen_managed.add(policy_arn)
                policies_found.append(_parse(document, PolicyType.IDENTITY, policy_arn))
        elif source == "boundary":
            boundary = _parse(document, PolicyType.BOUNDARY, arn(account, "policy", path, name))
    if row.is_root:
        # A root principal (``keys create --root``, ``iam create-root-access-key``)
        # signs as the account's root user; its principal id stays the unique id,
        # since GetSessionToken's sessions and MFA devices hang off that row.
        kind, owner_arn = PrincipalKind.ROOT, f"arn:aws:iam::{row.account_id}:root"
    return AuthorizationSnapshot(
        principal=PrincipalInfo(
            kind=kind,
            account_id=row.account_id,
            arn=owner_arn,
            unique_id=row.principal_id,
            name=row.name,
            path=row.path,
            tags=MappingProxyType(found_tags),
        ),
        groups=tuple(sorted(found_groups, key=lambda g: g.group_name)),
        policies=tuple(sorted(policies_found, key=lambda p: p.policy_id)),
        permissions_boundary=boundary,
        is_root=bool(row.is_root),
        generation=int(row.generation),
    )


async def _managed_documents(conn: AsyncConnection, arns: list[str]) -> list[Policy]:
    """The default versions of the session's managed policies (``PolicyArns``), as session
    policies; a policy deleted since the session began is left out (AWS: it no longer grants)."""
    found: list[Policy] = []
    for policy_arn in arns:
        try:
            account, path, name = parse_policy_arn(policy_arn)
        except IAMError:  # STS refuses these; a row written otherwise grants nothing
            continue
        document = (
            await conn.execute(
                sa.select(_V.document)
                .select_from(
                    policies.join(
                        policy_versions,
                        sa.and_(_V.policy_id == _POL.policy_id,
                                _V.version_id == _POL.default_version_id),
                    )
                )
                .where(_POL.account_id == account, _POL.path == path, _POL.name == name)
            )
        ).scalar()
        if document is not None:
            found.append(_parse(document, PolicyType.SESSION, policy_arn))
    return found


async def _with_session(
    conn: AsyncConnection, snapshot: AuthorizationSnapshot, row: Any
) -> AuthorizationSnapshot:
    """``snapshot`` with the temporary key's session: its policies, tags and context."""
    info = snapshot.principal
    session_policies: list[Policy] = []
    if row.s_policy:
        session_policies.append(
            _parse(row.s_policy, PolicyType.SESSION, f"{row.s_key}#session-policy")
        )
    if row.s_policy_arns:
        session_policies.extend(await _managed_documents(conn, json.loads(row.s_policy_arns)))
    session_tags: dict[str, str] = json.loads(row.s_tags) if row.s_tags else {}
    if row.s_provider:
        kind = SessionKind.WEB_IDENTITY
    elif row.s_name is not None:
        kind = SessionKind.ROLE
    else:
        kind = SessionKind.USER
    session = SessionInfo(
        kind=kind,
        access_key_id=row.s_key,
        issued_at=row.s_issued_at,
        expires_at=row.s_expires_at,
        name=row.s_name,
        mfa_authenticated=bool(row.s_mfa),
        mfa_authenticated_at=row.s_mfa_at,
        source_identity=row.s_source_identity,
        federated_provider=row.s_provider,
        policies=tuple(session_policies),
        tags=MappingProxyType(session_tags),
        transitive_tag_keys=tuple(json.loads(row.s_transitive) if row.s_transitive else ()),
    )
    # Session tags override the role's tags of the same key, ignoring case
    # (id_session-tags: "session tags override a role tag with the same key").
    lowered = {key.lower() for key in session_tags}
    merged = {k: v for k, v in info.tags.items() if k.lower() not in lowered} | session_tags
    principal = PrincipalInfo(
        kind=info.kind, account_id=info.account_id, arn=info.arn, unique_id=info.unique_id,
        name=info.name, path=info.path, tags=MappingProxyType(merged),
    )
    return AuthorizationSnapshot(
        principal=principal,
        groups=snapshot.groups,
        policies=snapshot.policies,
        permissions_boundary=snapshot.permissions_boundary,
        is_root=snapshot.is_root,
        generation=snapshot.generation,
        session=session,
    )
