"""IAM identities: accounts, users, groups, roles, managed and inline policies, access keys.

Every operation of IAM's identity API, written once over SQLAlchemy Core
for SQLite and PostgreSQL, on the key store's database
(:class:`IAMStore`), with IAM's name rules, quotas, errors and messages,
and the authorization snapshot the middleware evaluates
(:meth:`IAMStore.load_authorization`). See docs/iam-entities.md.

```python
from sigv4kit.middleware.iam.entities import IAMStore
```
"""

from __future__ import annotations

from ._base import IAM_CHANGE_PREFIX
from ._cache import SnapshotCache
from ._errors import (
    IAM_ERRORS,
    DeleteConflict,
    EntityAlreadyExists,
    IAMError,
    InvalidInput,
    LimitExceeded,
    NoSuchEntity,
    ValidationError,
)
from ._model import (
    AccessKey,
    AccessKeyLastUsed,
    AccessKeyMetadata,
    Account,
    AccountAuthorizationDetails,
    AttachedPolicy,
    AuthorizationSnapshot,
    EntityFilter,
    Group,
    GroupDetail,
    GroupDetailEntry,
    GroupRef,
    InlinePolicy,
    ManagedPolicy,
    ManagedPolicyDetail,
    Page,
    PolicyEntities,
    PolicyRef,
    PolicyVersion,
    PrincipalInfo,
    PrincipalKind,
    PrincipalRef,
    Role,
    RoleDetail,
    SessionInfo,
    SessionKind,
    Tag,
    User,
    UserDetail,
)
from ._root_keys import (
    MAX_ROOT_ACCESS_KEYS,
    ROOT_PRINCIPAL_NAME,
    RootAccessKey,
    RootAccessKeyMetadata,
    root_arn,
)
from ._snapshot import inline_policy_id
from ._store import IAMStore

__all__ = [
    "IAM_CHANGE_PREFIX",
    "IAM_ERRORS",
    "MAX_ROOT_ACCESS_KEYS",
    "ROOT_PRINCIPAL_NAME",
    "AccessKey",
    "AccessKeyLastUsed",
    "AccessKeyMetadata",
    "Account",
    "AccountAuthorizationDetails",
    "AttachedPolicy",
    "AuthorizationSnapshot",
    "DeleteConflict",
    "EntityAlreadyExists",
    "EntityFilter",
    "Group",
    "GroupDetail",
    "GroupDetailEntry",
    "GroupRef",
    "IAMError",
    "IAMStore",
    "InlinePolicy",
    "InvalidInput",
    "LimitExceeded",
    "ManagedPolicy",
    "ManagedPolicyDetail",
    "NoSuchEntity",
    "Page",
    "PolicyEntities",
    "PolicyRef",
    "PolicyVersion",
    "PrincipalInfo",
    "PrincipalKind",
    "PrincipalRef",
    "Role",
    "RoleDetail",
    "RootAccessKey",
    "RootAccessKeyMetadata",
    "SessionInfo",
    "SessionKind",
    "SnapshotCache",
    "Tag",
    "User",
    "UserDetail",
    "ValidationError",
    "inline_policy_id",
    "root_arn",
]
