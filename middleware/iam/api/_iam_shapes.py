"""The IAM entity records as the output members of IAM's response shapes.

One small function per botocore shape (``User``, ``Role``, ``Policy``, ...):
the records' snake-case fields become the shape's members; optional members
left empty are left out, as IAM leaves them out. Policy documents stay plain
text here; the app URL-encodes them on output.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..entities import (
    AccessKey,
    AccessKeyLastUsed,
    AccessKeyMetadata,
    Group,
    InlinePolicy,
    ManagedPolicy,
    Page,
    PolicyRef,
    PolicyVersion,
    Role,
    Tag,
    User,
)

__all__ = [
    "access_key",
    "access_key_last_used",
    "access_key_metadata",
    "attached",
    "boundary",
    "group",
    "inline_detail",
    "page_members",
    "policy",
    "policy_version",
    "role",
    "tag",
    "tags",
    "user",
]

#: What IAM answers for a key that was never used (GetAccessKeyLastUsed).
NOT_USED = "N/A"
#: ``PermissionsBoundaryType``: the only kind IAM has.
BOUNDARY_TYPE = "PermissionsBoundaryPolicy"


def _present(**members: Any) -> dict[str, Any]:
    return {name: value for name, value in members.items() if value not in (None, (), [])}


def tag(item: Tag) -> dict[str, str]:
    """``Tag``."""
    return {"Key": item.key, "Value": item.value}


def tags(items: Iterable[Tag]) -> list[dict[str, str]]:
    """``Tags``: ``[{"Key": ..., "Value": ...}]``."""
    return [tag(item) for item in items]


def boundary(ref: PolicyRef | None) -> dict[str, str] | None:
    """``AttachedPermissionsBoundary`` of a user or role, or None."""
    if ref is None:
        return None
    return {"PermissionsBoundaryType": BOUNDARY_TYPE, "PermissionsBoundaryArn": ref.policy_arn}


def attached(ref: PolicyRef) -> dict[str, str]:
    """``AttachedPolicy``."""
    return {"PolicyName": ref.policy_name, "PolicyArn": ref.policy_arn}


def user(item: User, *, with_tags: bool = True) -> dict[str, Any]:
    """``User`` (ListUsers leaves out tags and the boundary, as IAM does)."""
    base = {"Path": item.path, "UserName": item.user_name, "UserId": item.user_id,
            "Arn": item.arn, "CreateDate": item.create_date}
    if not with_tags:
        return base
    return base | _present(PermissionsBoundary=boundary(item.permissions_boundary),
                           Tags=tags(item.tags))


def group(item: Group) -> dict[str, Any]:
    """``Group``."""
    return {"Path": item.path, "GroupName": item.group_name, "GroupId": item.group_id,
            "Arn": item.arn, "CreateDate": item.create_date}


def role(item: Role, *, with_tags: bool = True) -> dict[str, Any]:
    """``Role``: the trust policy document, description, session limit, boundary, tags."""
    base = {"Path": item.path, "RoleName": item.role_name, "RoleId": item.role_id,
            "Arn": item.arn, "CreateDate": item.create_date,
            "AssumeRolePolicyDocument": item.assume_role_policy_document,
            "MaxSessionDuration": item.max_session_duration}
    base |= _present(Description=item.description)
    if not with_tags:
        return base
    return base | _present(PermissionsBoundary=boundary(item.permissions_boundary),
                           Tags=tags(item.tags))


def policy(item: ManagedPolicy, *, with_tags: bool = True) -> dict[str, Any]:
    """``Policy`` (a customer managed policy)."""
    base = {
        "PolicyName": item.policy_name, "PolicyId": item.policy_id, "Arn": item.arn,
        "Path": item.path, "DefaultVersionId": item.default_version_id,
        "AttachmentCount": item.attachment_count,
        "PermissionsBoundaryUsageCount": item.permissions_boundary_usage_count,
        "IsAttachable": item.is_attachable, "CreateDate": item.create_date,
        "UpdateDate": item.update_date,
    }
    base |= _present(Description=item.description)
    return base | _present(Tags=tags(item.tags)) if with_tags else base


def policy_version(item: PolicyVersion, *, with_document: bool = True) -> dict[str, Any]:
    """``PolicyVersion`` (ListPolicyVersions leaves out the document, as IAM does)."""
    base: dict[str, Any] = {"VersionId": item.version_id,
                            "IsDefaultVersion": item.is_default_version,
                            "CreateDate": item.create_date}
    return base | {"Document": item.document} if with_document else base


def inline_detail(item: InlinePolicy) -> dict[str, str]:
    """``PolicyDetail`` (an inline policy in GetAccountAuthorizationDetails)."""
    return {"PolicyName": item.policy_name, "PolicyDocument": item.policy_document}


def access_key(item: AccessKey) -> dict[str, Any]:
    """``AccessKey`` with its secret (CreateAccessKey only)."""
    return {"UserName": item.user_name, "AccessKeyId": item.access_key_id,
            "Status": item.status, "SecretAccessKey": item.secret_access_key,
            "CreateDate": item.create_date}


def access_key_metadata(item: AccessKeyMetadata) -> dict[str, Any]:
    """``AccessKeyMetadata``."""
    return {"UserName": item.user_name, "AccessKeyId": item.access_key_id,
            "Status": item.status, "CreateDate": item.create_date}


def access_key_last_used(item: AccessKeyLastUsed) -> dict[str, Any]:
    """``AccessKeyLastUsed``: ``N/A`` for the service and region of a key never used."""
    return _present(LastUsedDate=item.last_used_date) | {
        "ServiceName": item.service_name or NOT_USED, "Region": item.region or NOT_USED,
    }


def page_members(page: Page[Any], name: str, convert: Any) -> dict[str, Any]:
    """A listing's output: ``{name: [...], "IsTruncated": ..., "Marker": ...}``."""
    out: dict[str, Any] = {name: [convert(item) for item in page.items],
                           "IsTruncated": page.is_truncated}
    if page.is_truncated and page.marker:
        out["Marker"] = page.marker
    return out
