"""IAM handlers: roles, their trust policies and tags."""

from __future__ import annotations

from typing import Any

from . import _iam_shapes as shapes
from ._handlers_common import IAMCall, ctx, paging, tag_list

__all__ = ["HANDLERS"]


async def create_role(call: IAMCall) -> dict[str, Any]:
    iam, account = ctx(call)
    p = call.params
    role = await iam.create_role(
        account, p["RoleName"], p["AssumeRolePolicyDocument"], path=p.get("Path", "/"),
        description=p.get("Description"), max_session_duration=p.get("MaxSessionDuration", 3600),
        permissions_boundary=p.get("PermissionsBoundary"), tags=tag_list(p),
    )
    return {"Role": shapes.role(role)}


async def get_role(call: IAMCall) -> dict[str, Any]:
    iam, account = ctx(call)
    role = shapes.role(await iam.get_role(account, call.params["RoleName"]))
    # RoleLastUsed: empty when the role was never used (IAM leaves both members out).
    used_at, region = await iam.role_last_used(account, call.params["RoleName"])
    last_used: dict[str, Any] = {}
    if used_at is not None:
        last_used = {"LastUsedDate": used_at} | ({"Region": region} if region else {})
    return {"Role": role | {"RoleLastUsed": last_used}}


async def list_roles(call: IAMCall) -> dict[str, Any]:
    iam, account = ctx(call)
    page = await iam.list_roles(account, path_prefix=call.params.get("PathPrefix"),
                                **paging(call.params))
    return shapes.page_members(page, "Roles", lambda r: shapes.role(r, with_tags=False))


async def update_role(call: IAMCall) -> None:
    iam, account = ctx(call)
    p = call.params
    await iam.update_role(account, p["RoleName"], description=p.get("Description"),
                          max_session_duration=p.get("MaxSessionDuration"))


async def update_assume_role_policy(call: IAMCall) -> None:
    iam, account = ctx(call)
    await iam.update_assume_role_policy(account, call.params["RoleName"],
                                        call.params["PolicyDocument"])


async def delete_role(call: IAMCall) -> None:
    iam, account = ctx(call)
    await iam.delete_role(account, call.params["RoleName"])


HANDLERS = {
    "CreateRole": create_role,
    "GetRole": get_role,
    "ListRoles": list_roles,
    "UpdateRole": update_role,
    "UpdateAssumeRolePolicy": update_assume_role_policy,
    "DeleteRole": delete_role,
}
