"""IAM handlers: groups and their members."""

from __future__ import annotations

from typing import Any

from . import _iam_shapes as shapes
from ._handlers_common import IAMCall, ctx, paging

__all__ = ["HANDLERS"]


async def create_group(call: IAMCall) -> dict[str, Any]:
    iam, account = ctx(call)
    group = await iam.create_group(account, call.params["GroupName"],
                                   path=call.params.get("Path", "/"))
    return {"Group": shapes.group(group)}


async def get_group(call: IAMCall) -> dict[str, Any]:
    iam, account = ctx(call)
    detail = await iam.get_group(account, call.params["GroupName"], **paging(call.params))
    out = shapes.page_members(detail.users, "Users", lambda u: shapes.user(u, with_tags=False))
    return {"Group": shapes.group(detail.group)} | out


async def list_groups(call: IAMCall) -> dict[str, Any]:
    iam, account = ctx(call)
    page = await iam.list_groups(account, path_prefix=call.params.get("PathPrefix"),
                                 **paging(call.params))
    return shapes.page_members(page, "Groups", shapes.group)


async def delete_group(call: IAMCall) -> None:
    iam, account = ctx(call)
    await iam.delete_group(account, call.params["GroupName"])


async def add_user_to_group(call: IAMCall) -> None:
    iam, account = ctx(call)
    await iam.add_user_to_group(account, call.params["GroupName"], call.params["UserName"])


async def remove_user_from_group(call: IAMCall) -> None:
    iam, account = ctx(call)
    await iam.remove_user_from_group(account, call.params["GroupName"], call.params["UserName"])


async def list_groups_for_user(call: IAMCall) -> dict[str, Any]:
    iam, account = ctx(call)
    page = await iam.list_groups_for_user(account, call.params["UserName"],
                                          **paging(call.params))
    return shapes.page_members(page, "Groups", shapes.group)


HANDLERS = {
    "CreateGroup": create_group,
    "GetGroup": get_group,
    "ListGroups": list_groups,
    "DeleteGroup": delete_group,
    "AddUserToGroup": add_user_to_group,
    "RemoveUserFromGroup": remove_user_from_group,
    "ListGroupsForUser": list_groups_for_user,
}
