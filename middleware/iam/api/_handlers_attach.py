"""IAM handlers: managed policy attachments, inline policies and permissions boundaries.

Users, groups and roles have the same seven operations each (Attach, Detach,
ListAttached, Put, Get, Delete, List ...Policy), differing only in the entity
named: they are built here once per kind, from the entity operations named
``attach_<kind>_policy``, ``put_<kind>_policy`` and so on.
"""

from __future__ import annotations

from typing import Any

from . import _iam_shapes as shapes
from ._app import Handler
from ._handlers_common import IAMCall, ctx, paging

__all__ = ["HANDLERS"]

_KINDS = {"user": "User", "group": "Group", "role": "Role"}


def _attach(kind: str, verb: str) -> Handler:
    async def handler(call: IAMCall) -> None:
        iam, account = ctx(call)
        name = call.params[f"{_KINDS[kind]}Name"]
        await getattr(iam, f"{verb}_{kind}_policy")(account, name, call.params["PolicyArn"])

    return handler


def _list_attached(kind: str) -> Handler:
    async def handler(call: IAMCall) -> dict[str, Any]:
        iam, account = ctx(call)
        page = await getattr(iam, f"list_attached_{kind}_policies")(
            account, call.params[f"{_KINDS[kind]}Name"],
            path_prefix=call.params.get("PathPrefix"), **paging(call.params))
        return shapes.page_members(page, "AttachedPolicies", shapes.attached)

    return handler


def _put_inline(kind: str) -> Handler:
    async def handler(call: IAMCall) -> None:
        iam, account = ctx(call)
        p = call.params
        await getattr(iam, f"put_{kind}_policy")(
            account, p[f"{_KINDS[kind]}Name"], p["PolicyName"], p["PolicyDocument"])

    return handler


def _get_inline(kind: str) -> Handler:
    async def handler(call: IAMCall) -> dict[str, Any]:
        iam, account = ctx(call)
        member = f"{_KINDS[kind]}Name"
        found = await getattr(iam, f"get_{kind}_policy")(
            account, call.params[member], call.params["PolicyName"])
        return {member: found.entity_name, "PolicyName": found.policy_name,
                "PolicyDocument": found.policy_document}

    return handler


def _delete_inline(kind: str) -> Handler:
    async def handler(call: IAMCall) -> None:
        iam, account = ctx(call)
        await getattr(iam, f"delete_{kind}_policy")(
            account, call.params[f"{_KINDS[kind]}Name"], call.params["PolicyName"])

    return handler


def _list_inline(kind: str) -> Handler:
    async def handler(call: IAMCall) -> dict[str, Any]:
        iam, account = ctx(call)
        page = await getattr(iam, f"list_{kind}_policies")(
            account, call.params[f"{_KINDS[kind]}Name"], **paging(call.params))
        return shapes.page_members(page, "PolicyNames", str)

    return handler


def _put_boundary(kind: str) -> Handler:
    async def handler(call: IAMCall) -> None:
        iam, account = ctx(call)
        await getattr(iam, f"put_{kind}_permissions_boundary")(
            account, call.params[f"{_KINDS[kind]}Name"], call.params["PermissionsBoundary"])

    return handler


def _delete_boundary(kind: str) -> Handler:
    async def handler(call: IAMCall) -> None:
        iam, account = ctx(call)
        await getattr(iam, f"delete_{kind}_permissions_boundary")(
            account, call.params[f"{_KINDS[kind]}Name"])

    return handler


def _handlers() -> dict[str, Handler]:
    out: dict[str, Handler] = {}
    for kind, title in _KINDS.items():
        out[f"Attach{title}Policy"] = _attach(kind, "attach")
        out[f"Detach{title}Policy"] = _attach(kind, "detach")
        out[f"ListAttached{title}Policies"] = _list_attached(kind)
        out[f"Put{title}Policy"] = _put_inline(kind)
        out[f"Get{title}Policy"] = _get_inline(kind)
        out[f"Delete{title}Policy"] = _delete_inline(kind)
        out[f"List{title}Policies"] = _list_inline(kind)
    for kind in ("user", "role"):
        out[f"Put{_KINDS[kind]}PermissionsBoundary"] = _put_boundary(kind)
        out[f"Delete{_KINDS[kind]}PermissionsBoundary"] = _delete_boundary(kind)
    return out


HANDLERS = _handlers()
