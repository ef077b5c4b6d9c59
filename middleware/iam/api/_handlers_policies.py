"""IAM handlers: customer managed policies and their versions."""

from __future__ import annotations

from typing import Any

from . import _iam_shapes as shapes
from ._handlers_common import IAMCall, ctx, paging, tag_list

__all__ = ["HANDLERS"]


async def create_policy(call: IAMCall) -> dict[str, Any]:
    iam, account = ctx(call)
    p = call.params
    policy = await iam.create_policy(
        account, p["PolicyName"], p["PolicyDocument"], path=p.get("Path", "/"),
        description=p.get("Description"), tags=tag_list(p),
    )
    return {"Policy": shapes.policy(policy)}


async def get_policy(call: IAMCall) -> dict[str, Any]:
    iam, account = ctx(call)
    return {"Policy": shapes.policy(await iam.get_policy(account, call.params["PolicyArn"]))}


async def list_policies(call: IAMCall) -> dict[str, Any]:
    iam, account = ctx(call)
    p = call.params
    if p.get("Scope") == "AWS":
        # Only customer managed policies live here: the AWS-managed scope is empty.
        return {"Policies": [], "IsTruncated": False}
    page = await iam.list_policies(
        account, only_attached=p.get("OnlyAttached", False), path_prefix=p.get("PathPrefix"),
        **paging(p),
    )
    return shapes.page_members(page, "Policies", lambda i: shapes.policy(i, with_tags=False))


async def delete_policy(call: IAMCall) -> None:
    iam, account = ctx(call)
    await iam.delete_policy(account, call.params["PolicyArn"])


async def create_policy_version(call: IAMCall) -> dict[str, Any]:
    iam, account = ctx(call)
    p = call.params
    version = await iam.create_policy_version(
        account, p["PolicyArn"], p["PolicyDocument"], set_as_default=p.get("SetAsDefault", False))
    return {"PolicyVersion": shapes.policy_version(version, with_document=False)}


async def get_policy_version(call: IAMCall) -> dict[str, Any]:
    iam, account = ctx(call)
    version = await iam.get_policy_version(account, call.params["PolicyArn"],
                                           call.params["VersionId"])
    return {"PolicyVersion": shapes.policy_version(version)}


async def list_policy_versions(call: IAMCall) -> dict[str, Any]:
    iam, account = ctx(call)
    page = await iam.list_policy_versions(account, call.params["PolicyArn"],
                                          **paging(call.params))
    return shapes.page_members(
        page, "Versions", lambda v: shapes.policy_version(v, with_document=False))


async def set_default_policy_version(call: IAMCall) -> None:
    iam, account = ctx(call)
    await iam.set_default_policy_version(account, call.params["PolicyArn"],
                                         call.params["VersionId"])


async def delete_policy_version(call: IAMCall) -> None:
    iam, account = ctx(call)
    await iam.delete_policy_version(account, call.params["PolicyArn"], call.params["VersionId"])


async def list_entities_for_policy(call: IAMCall) -> dict[str, Any]:
    iam, account = ctx(call)
    p = call.params
    found = await iam.list_entities_for_policy(
        account, p["PolicyArn"], entity_filter=p.get("EntityFilter"),
        path_prefix=p.get("PathPrefix"), **paging(p),
    )
    out: dict[str, Any] = {
        "PolicyGroups": [{"GroupName": g.group_name, "GroupId": g.group_id}
                         for g in found.policy_groups],
        "PolicyUsers": [{"UserName": u.name, "UserId": u.id} for u in found.policy_users],
        "PolicyRoles": [{"RoleName": r.name, "RoleId": r.id} for r in found.policy_roles],
        "IsTruncated": found.is_truncated,
    }
    if found.is_truncated and found.marker:
        out["Marker"] = found.marker
    return out


HANDLERS = {
    "CreatePolicy": create_policy,
    "GetPolicy": get_policy,
    "ListPolicies": list_policies,
    "DeletePolicy": delete_policy,
    "CreatePolicyVersion": create_policy_version,
    "GetPolicyVersion": get_policy_version,
    "ListPolicyVersions": list_policy_versions,
    "SetDefaultPolicyVersion": set_default_policy_version,
    "DeletePolicyVersion": delete_policy_version,
    "ListEntitiesForPolicy": list_entities_for_policy,
}
