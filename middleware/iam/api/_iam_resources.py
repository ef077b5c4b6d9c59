"""Which resource each IAM API call acts on, for the IAM API's own authorization.

Every IAM call is the action ``iam:<Action>`` on one resource, named as the
IAM Service Authorization Reference lists it per action (``user*``, ``group*``,
``role*``, ``policy*``, or none): ``CreateUser`` acts on the new user's ARN,
``AddUserToGroup`` on the *group*, ``AttachRolePolicy`` on the *role*,
``ListUsers`` and ``GetAccountAuthorizationDetails`` on ``*``.

:func:`resource_target` says which entity an action names (pure, from the
request's parameters); the caller turns that into an ARN with the entity's
stored path (:func:`entity_arn`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

__all__ = ["EntityKind", "Target", "entity_arn", "request_condition_keys", "resource_target"]


class EntityKind(StrEnum):
    """The IAM resource types the IAM API authorizes on."""

    USER = "user"
    GROUP = "group"
    ROLE = "role"
    POLICY = "policy"


@dataclass(frozen=True, slots=True, kw_only=True)
class Target:
    """The resource of one call.

    ``arn`` is set when the request names it whole (``PolicyArn``, ``*``);
    otherwise ``kind`` and ``name`` name the entity and ``path`` is the path
    the request gives (a Create call), or None to use the stored one.
    ``caller`` means "the calling user" (``GetUser`` without ``UserName``).
    """

    arn: str | None = None
    kind: EntityKind | None = None
    name: str | None = None
    path: str | None = None
    caller: bool = False


_ANY = Target(arn="*")

# action -> (kind, parameter naming the entity). The parameter of the user
# operations may be left out: they then act on the caller (IAM's rule for
# GetUser, the access key operations and UpdateUser-less calls).
_BY_NAME: dict[str, tuple[EntityKind, str]] = {}
for _kind, _param, _actions in (
    (EntityKind.USER, "UserName", (
        "CreateUser", "GetUser", "UpdateUser", "DeleteUser", "TagUser", "UntagUser",
        "ListUserTags", "ListGroupsForUser", "AttachUserPolicy", "DetachUserPolicy",
        "ListAttachedUserPolicies", "PutUserPolicy", "GetUserPolicy", "DeleteUserPolicy",
        "ListUserPolicies", "PutUserPermissionsBoundary", "DeleteUserPermissionsBoundary",
        "CreateAccessKey", "ListAccessKeys", "UpdateAccessKey", "DeleteAccessKey",
        "EnableMFADevice", "ResyncMFADevice", "DeactivateMFADevice", "ListMFADevices",
        "CreateLoginProfile", "GetLoginProfile", "UpdateLoginProfile", "DeleteLoginProfile",
    )),
    (EntityKind.GROUP, "GroupName", (
        "CreateGroup", "GetGroup", "DeleteGroup", "AddUserToGroup", "RemoveUserFromGroup",
        "AttachGroupPolicy", "DetachGroupPolicy", "ListAttachedGroupPolicies",
        "PutGroupPolicy", "GetGroupPolicy", "DeleteGroupPolicy", "ListGroupPolicies",
    )),
    (EntityKind.ROLE, "RoleName", (
        "CreateRole", "GetRole", "UpdateRole", "DeleteRole", "UpdateAssumeRolePolicy",
        "TagRole", "UntagRole", "ListRoleTags", "AttachRolePolicy", "DetachRolePolicy",
        "ListAttachedRolePolicies", "PutRolePolicy", "GetRolePolicy", "DeleteRolePolicy",
        "ListRolePolicies", "PutRolePermissionsBoundary", "DeleteRolePermissionsBoundary",
    )),
    (EntityKind.POLICY, "PolicyName", ("CreatePolicy",)),
):
    for _action in _actions:
        _BY_NAME[_action] = (_kind, _param)

_BY_ARN = {
    "GetPolicy": "PolicyArn", "DeletePolicy": "PolicyArn", "CreatePolicyVersion": "PolicyArn",
    "GetPolicyVersion": "PolicyArn", "ListPolicyVersions": "PolicyArn",
    "SetDefaultPolicyVersion": "PolicyArn", "DeletePolicyVersion": "PolicyArn",
    "ListEntitiesForPolicy": "PolicyArn", "SimulatePrincipalPolicy": "PolicySourceArn",
    "DeleteVirtualMFADevice": "SerialNumber",
    **{action: "OpenIDConnectProviderArn" for action in (
        "GetOpenIDConnectProvider", "DeleteOpenIDConnectProvider",
        "AddClientIDToOpenIDConnectProvider", "RemoveClientIDFromOpenIDConnectProvider",
        "UpdateOpenIDConnectProviderThumbprint",
    )},
}

# Operations whose UserName may be omitted to mean the caller.
_CALLER_DEFAULT = frozenset({
    "GetUser", "CreateAccessKey", "ListAccessKeys", "UpdateAccessKey", "DeleteAccessKey",
    "ListMFADevices", "DeactivateMFADevice",
    "CreateLoginProfile", "GetLoginProfile", "DeleteLoginProfile",
    # ChangePassword has no UserName: it always acts on the caller.
    "ChangePassword",
})
_CREATE = frozenset({"CreateUser", "CreateGroup", "CreateRole", "CreatePolicy"})


def resource_target(action: str, params: Mapping[str, Any]) -> Target:
    """The resource ``action`` with ``params`` acts on (``*`` for account-wide calls)."""
    arn_param = _BY_ARN.get(action)
    if arn_param is not None:
        return Target(arn=str(params.get(arn_param, "*")))
    if action == "ChangePassword":
        return Target(caller=True)
    named = _BY_NAME.get(action)
    if named is None:
        return _ANY
    kind, param = named
    name = params.get(param)
    if name is None:
        return Target(caller=True) if action in _CALLER_DEFAULT else _ANY
    path = params.get("Path", "/") if action in _CREATE else None
    return Target(kind=kind, name=str(name), path=path)


def entity_arn(account_id: str, kind: EntityKind, path: str, name: str) -> str:
    """``arn:aws:iam::<account>:<kind>/<path><name>``; ``path`` starts and ends with ``/``."""
    return f"arn:aws:iam::{account_id}:{kind.value}{path}{name}"


_POLICY_ARN_ACTIONS = frozenset(
    f"{verb}{kind}Policy" for verb in ("Attach", "Detach") for kind in ("User", "Group", "Role")
)


def request_condition_keys(action: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """The condition keys a call's own parameters give (reference_policies_iam-condition-keys).

    ``aws:RequestTag/<key>`` and ``aws:TagKeys`` (multivalued) for the tags a
    call sets, ``aws:TagKeys`` for the keys Untag removes,
    ``iam:PermissionsBoundary`` for the boundary a call sets (CreateUser,
    CreateRole, Put...PermissionsBoundary), ``iam:PolicyARN`` for the policy an
    Attach or Detach call names.
    """
    keys: dict[str, Any] = {}
    tags = params.get("Tags")
    if tags:
        for tag in tags:
            keys[f"aws:RequestTag/{tag.get('Key')}"] = str(tag.get("Value", ""))
        keys["aws:TagKeys"] = tuple(str(tag.get("Key")) for tag in tags)
    if params.get("TagKeys"):
        keys["aws:TagKeys"] = tuple(params["TagKeys"])
    boundary = params.get("PermissionsBoundary")
    if isinstance(boundary, str):
        keys["iam:PermissionsBoundary"] = boundary
    if action in _POLICY_ARN_ACTIONS and isinstance(params.get("PolicyArn"), str):
        keys["iam:PolicyARN"] = params["PolicyArn"]
    return keys
