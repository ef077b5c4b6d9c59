"""What IAM operations return: frozen, slotted, keyword-only records.

Field names follow IAM's response shapes in snake case (``UserName`` ->
``user_name``, ``CreateDate`` -> ``create_date``), so the Query API
serializes them without renaming. Policy documents are the text as the
caller sent it (IAM returns them so; the API URL-encodes them on output).

Imports: the standard library and the policy model only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Generic, TypeVar

from ..policy import Policy

__all__ = [
    "AccessKey",
    "AccessKeyLastUsed",
    "AccessKeyMetadata",
    "Account",
    "AccountAuthorizationDetails",
    "AttachedPolicy",
    "AuthorizationSnapshot",
    "EntityFilter",
    "Group",
    "GroupDetail",
    "GroupDetailEntry",
    "GroupRef",
    "InlinePolicy",
    "ManagedPolicy",
    "ManagedPolicyDetail",
    "Page",
    "PolicyEntities",
    "PolicyRef",
    "PolicyVersion",
    "PrincipalInfo",
    "PrincipalKind",
    "PrincipalRef",
    "Role",
    "RoleDetail",
    "SessionInfo",
    "SessionKind",
    "Tag",
    "User",
    "UserDetail",
]

T = TypeVar("T")


class PrincipalKind(StrEnum):
    """Who signed: an IAM user, a role (through a session), or the account's root user."""

    USER = "user"
    ROLE = "role"
    ROOT = "root"


class SessionKind(StrEnum):
    """How temporary credentials were issued."""

    #: GetSessionToken: a user's own session (acts as the user).
    USER = "user"
    #: AssumeRole: a role session.
    ROLE = "role"
    #: AssumeRoleWithWebIdentity: a role session of an OIDC identity.
    WEB_IDENTITY = "web-identity"


class EntityFilter(StrEnum):
    """``EntityFilter`` of ListEntitiesForPolicy / ``Filter`` of GetAccountAuthorizationDetails."""

    USER = "User"
    ROLE = "Role"
    GROUP = "Group"
    LOCAL_MANAGED_POLICY = "LocalManagedPolicy"
    AWS_MANAGED_POLICY = "AWSManagedPolicy"


@dataclass(frozen=True, slots=True, kw_only=True)
class Page(Generic[T]):
    """One page of a listing: pass ``marker`` back to get the next while ``is_truncated``."""

    items: tuple[T, ...]
    is_truncated: bool = False
    marker: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Tag:
    """A tag: key 1-128 and value 0-256 characters."""

    key: str
    value: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Account:
    """An account: 12-digit id, optional alias; its root user is ``root_arn``."""

    account_id: str
    alias: str | None
    create_date: datetime

    @property
    def root_arn(self) -> str:
        return f"arn:aws:iam::{self.account_id}:root"


@dataclass(frozen=True, slots=True, kw_only=True)
class PolicyRef:
    """A managed policy named by an attachment or a boundary (``AttachedPolicy`` shape)."""

    policy_name: str
    policy_arn: str


#: IAM's ``AttachedPolicy`` shape is the same pair.
AttachedPolicy = PolicyRef


@dataclass(frozen=True, slots=True, kw_only=True)
class User:
    """An IAM user (``User`` shape)."""

    account_id: str
    user_name: str
    user_id: str  # AIDA...
    path: str
    arn: str
    create_date: datetime
    permissions_boundary: PolicyRef | None = None
    tags: tuple[Tag, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Group:
    """An IAM group (``Group`` shape)."""

    account_id: str
    group_name: str
    group_id: str  # AGPA...
    path: str
    arn: str
    create_date: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupDetail:
    """GetGroup: the group and one page of its members."""

    group: Group
    users: Page[User]


@dataclass(frozen=True, slots=True, kw_only=True)
class Role:
    """An IAM role (``Role`` shape); ``assume_role_policy_document`` as sent."""

    account_id: str
    role_name: str
    role_id: str  # AROA...
    path: str
    arn: str
    create_date: datetime
    assume_role_policy_document: str
    description: str | None = None
    max_session_duration: int = 3600
    permissions_boundary: PolicyRef | None = None
    tags: tuple[Tag, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class ManagedPolicy:
    """A customer managed policy (``Policy`` shape)."""

    account_id: str
    policy_name: str
    policy_id: str  # ANPA...
    path: str
    arn: str
    default_version_id: str
    attachment_count: int
    permissions_boundary_usage_count: int
    is_attachable: bool
    description: str | None
    create_date: datetime
    update_date: datetime
    tags: tuple[Tag, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class PolicyVersion:
    """A managed policy version (``PolicyVersion`` shape); ``document`` as sent."""

    version_id: str  # v1, v2, ...
    is_default_version: bool
    create_date: datetime
    document: str


@dataclass(frozen=True, slots=True, kw_only=True)
class InlinePolicy:
    """Get{User,Group,Role}Policy: an inline policy of an entity."""

    entity_name: str
    policy_name: str
    policy_document: str


@dataclass(frozen=True, slots=True, kw_only=True)
class PolicyEntities:
    """ListEntitiesForPolicy: who a managed policy is attached to (one page in all)."""

    policy_groups: tuple[GroupRef, ...]
    policy_users: tuple[PrincipalRef, ...]
    policy_roles: tuple[PrincipalRef, ...]
    is_truncated: bool = False
    marker: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupRef:
    """``PolicyGroup`` shape, and a principal's group in a snapshot."""

    group_name: str
    group_id: str
    arn: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class PrincipalRef:
    """``PolicyUser`` / ``PolicyRole`` shape."""

    name: str
    id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AccessKey:
    """CreateAccessKey: the new key with its secret, shown this once."""

    user_name: str
    access_key_id: str
    status: str  # Active
    create_date: datetime
    secret_access_key: str = field(repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class AccessKeyMetadata:
    """ListAccessKeys: a user's long-term key, never its secret."""

    user_name: str
    access_key_id: str
    status: str  # Active | Inactive
    create_date: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class AccessKeyLastUsed:
    """GetAccessKeyLastUsed; ``None`` fields where IAM answers ``N/A`` (never used)."""

    user_name: str
    last_used_date: datetime | None
    service_name: str | None
    region: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class UserDetail:
    """GetAccountAuthorizationDetails ``UserDetail``."""

    user: User
    group_list: tuple[str, ...]
    user_policy_list: tuple[InlinePolicy, ...]
    attached_managed_policies: tuple[PolicyRef, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class RoleDetail:
    """GetAccountAuthorizationDetails ``RoleDetail``."""

    role: Role
    role_policy_list: tuple[InlinePolicy, ...]
    attached_managed_policies: tuple[PolicyRef, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class ManagedPolicyDetail:
    """GetAccountAuthorizationDetails ``ManagedPolicyDetail``: the policy and every version."""

    policy: ManagedPolicy
    policy_version_list: tuple[PolicyVersion, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupDetailEntry:
    """GetAccountAuthorizationDetails ``GroupDetail``."""

    group: Group
    group_policy_list: tuple[InlinePolicy, ...]
    attached_managed_policies: tuple[PolicyRef, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountAuthorizationDetails:
    """GetAccountAuthorizationDetails: one page over users, groups, roles, then policies."""

    user_detail_list: tuple[UserDetail, ...]
    group_detail_list: tuple[GroupDetailEntry, ...]
    role_detail_list: tuple[RoleDetail, ...]
    policies: tuple[ManagedPolicyDetail, ...]
    is_truncated: bool = False
    marker: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PrincipalInfo:
    """Who a snapshot is for; what the request context's ``aws:`` principal keys read."""

    kind: PrincipalKind
    account_id: str
    arn: str  # the user's or role's ARN, or arn:aws:iam::<acct>:root
    unique_id: str  # AIDA.../AROA..., or the account id for root
    name: str
    path: str
    tags: Mapping[str, str]


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionInfo:
    """Temporary credentials' session: what STS recorded when it issued them.

    ``policies`` are the session policies (inline ``Policy`` and the managed
    ``PolicyArns``' default versions), parsed; empty when none were passed
    (then they do not limit the session). ``tags`` are the session tags only
    (the snapshot's principal tags already have them merged over the role's).
    """

    kind: SessionKind
    access_key_id: str
    issued_at: datetime
    expires_at: datetime
    #: The role session's name (None for a GetSessionToken session).
    name: str | None = None
    mfa_authenticated: bool = False
    mfa_authenticated_at: datetime | None = None
    source_identity: str | None = None
    federated_provider: str | None = None
    policies: tuple[Policy, ...] = ()
    tags: Mapping[str, str] = field(default_factory=dict)
    transitive_tag_keys: tuple[str, ...] = ()

    def arn(self, principal: PrincipalInfo) -> str:
        """The ARN the session acts as: ``arn:aws:sts::<acct>:assumed-role/<role>/<name>``."""
        if self.name is None:
            return principal.arn
        return f"arn:aws:sts::{principal.account_id}:assumed-role/{principal.name}/{self.name}"

    def user_id(self, principal: PrincipalInfo) -> str:
        """``aws:userid``: ``AROA...:<session name>`` for a role session."""
        if self.name is None:
            return principal.unique_id
        return f"{principal.unique_id}:{self.name}"


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthorizationSnapshot:
    """Everything the authorizer needs about one principal, loaded at ``generation``.

    ``policies`` are the identity policies that apply (user inline, attached
    managed default versions, each group's inline and attached; for a role
    its inline and attached), parsed, with ``policy_id`` the managed policy's
    ARN or an inline identifier (:func:`inline_policy_id`). ``is_root``:
    the account's root user (or a legacy root principal), allowed everything
    in its account. ``session``: the temporary credentials' session (None
    for a long-term key); for a role session ``principal`` is the role (so
    ``aws:PrincipalArn`` is the role's ARN) and :attr:`caller_arn` the
    ``assumed-role`` ARN the session acts as.
    """

    principal: PrincipalInfo
    groups: tuple[GroupRef, ...]
    policies: tuple[Policy, ...]
    permissions_boundary: Policy | None
    is_root: bool
    generation: int
    session: SessionInfo | None = None

    @property
    def caller_arn(self) -> str:
        """Who is calling: the user's or root's ARN, or the role session's ``assumed-role`` ARN."""
        if self.session is None:
            return self.principal.arn
        return self.session.arn(self.principal)

    @property
    def session_policies(self) -> tuple[Policy, ...]:
        return () if self.session is None else self.session.policies
