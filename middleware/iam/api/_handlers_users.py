"""IAM handlers: users, their tags and their access keys.

Each handler turns the typed input into one entity operation and returns the
output members of the operation's response shape (botocore ``iam/2010-05-08``).
"""

from __future__ import annotations

from typing import Any

from . import _iam_shapes as shapes
from ._handlers_common import IAMCall, ctx, paging, tag_list, user_or_caller

__all__ = ["HANDLERS"]


async def create_user(call: IAMCall) -> dict[str, Any]:
    iam, account = ctx(call)
    p = call.params
    user = await iam.create_user(
        account, p["UserName"], path=p.get("Path", "/"),
        permissions_boundary=p.get("PermissionsBoundary"), tags=tag_list(p),
    )
    return {"User": shapes.user(user)}


async def get_user(call: IAMCall) -> dict[str, Any]:
    iam, account = ctx(call)
    if call.params.get("UserName") is None and call.context.caller_name is None:
        return {"User": await _root_user(call)}
    user = await iam.get_user(account, user_or_caller(call))
    return {"User": shapes.user(user)}


async def _root_user(call: IAMCall) -> dict[str, Any]:
    """GetUser by the account's root user: its ARN, the account id as its id (and, as
    its name, the alias or the id, whichever root principal signed)."""
    iam, account_id = ctx(call)
    info = call.context.snapshot.principal
    account = await iam.get_account(account_id)
    return {"Path": "/", "UserName": account.alias or account_id, "UserId": account_id,
            "Arn": info.arn, "CreateDate": account.create_date}


async def list_users(call: IAMCall) -> dict[str, Any]:
    iam, account = ctx(call)
    page = await iam.list_users(account, path_prefix=call.params.get("PathPrefix"),
                                **paging(call.params))
    return shapes.page_members(page, "Users", lambda u: shapes.user(u, with_tags=False))


async def update_user(call: IAMCall) -> None:
    iam, account = ctx(call)
    p = call.params
    await iam.update_user(account, p["UserName"], new_user_name=p.get("NewUserName"),
                          new_path=p.get("NewPath"))


async def delete_user(call: IAMCall) -> None:
    iam, account = ctx(call)
    await iam.delete_user(account, call.params["UserName"])


async def create_access_key(call: IAMCall) -> dict[str, Any]:
    iam, account = ctx(call)
    key = await iam.create_access_key(account, user_or_caller(call))
    return {"AccessKey": shapes.access_key(key)}


async def list_access_keys(call: IAMCall) -> dict[str, Any]:
    iam, account = ctx(call)
    page = await iam.list_access_keys(account, user_or_caller(call), **paging(call.params))
    return shapes.page_members(page, "AccessKeyMetadata", shapes.access_key_metadata)


async def update_access_key(call: IAMCall) -> None:
    iam, account = ctx(call)
    p = call.params
    await iam.update_access_key(account, p["AccessKeyId"], p["Status"],
                                user_name=user_or_caller(call))


async def delete_access_key(call: IAMCall) -> None:
    iam, account = ctx(call)
    await iam.delete_access_key(account, call.params["AccessKeyId"],
                                user_name=user_or_caller(call))


async def get_access_key_last_used(call: IAMCall) -> dict[str, Any]:
    iam, account = ctx(call)
    # Only the caller's account: one store may hold many tenants' accounts, and a
    # key id must never reveal another tenant's user names.
    used = await iam.get_access_key_last_used(call.params["AccessKeyId"], account_id=account)
    return {"UserName": used.user_name, "AccessKeyLastUsed": shapes.access_key_last_used(used)}


HANDLERS = {
    "CreateUser": create_user,
    "GetUser": get_user,
    "ListUsers": list_users,
    "UpdateUser": update_user,
    "DeleteUser": delete_user,
    "CreateAccessKey": create_access_key,
    "ListAccessKeys": list_access_keys,
    "UpdateAccessKey": update_access_key,
    "DeleteAccessKey": delete_access_key,
    "GetAccessKeyLastUsed": get_access_key_last_used,
}
