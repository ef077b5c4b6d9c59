"""IAM handlers: tags of users and roles (Tag, Untag, List ...Tags), built once per kind."""

from __future__ import annotations

from typing import Any

from . import _iam_shapes as shapes
from ._app import Handler
from ._handlers_common import IAMCall, ctx, paging, tag_list

__all__ = ["HANDLERS"]

_KINDS = {"user": "User", "role": "Role"}


def _tag(kind: str) -> Handler:
    async def handler(call: IAMCall) -> None:
        iam, account = ctx(call)
        await getattr(iam, f"tag_{kind}")(
            account, call.params[f"{_KINDS[kind]}Name"], tag_list(call.params))

    return handler


def _untag(kind: str) -> Handler:
    async def handler(call: IAMCall) -> None:
        iam, account = ctx(call)
        await getattr(iam, f"untag_{kind}")(
            account, call.params[f"{_KINDS[kind]}Name"], call.params["TagKeys"])

    return handler


def _list(kind: str) -> Handler:
    async def handler(call: IAMCall) -> dict[str, Any]:
        iam, account = ctx(call)
        page = await getattr(iam, f"list_{kind}_tags")(
            account, call.params[f"{_KINDS[kind]}Name"], **paging(call.params))
        return shapes.page_members(page, "Tags", shapes.tag)

    return handler


HANDLERS: dict[str, Handler] = {}
for _kind, _title in _KINDS.items():
    HANDLERS[f"Tag{_title}"] = _tag(_kind)
    HANDLERS[f"Untag{_title}"] = _untag(_kind)
    HANDLERS[f"List{_title}Tags"] = _list(_kind)
