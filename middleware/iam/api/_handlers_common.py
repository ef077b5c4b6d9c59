"""What the IAM handlers share: paging arguments, tags, the caller as a default user."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..entities import Tag, ValidationError
from ._app import Call
from ._iam_context import IAMContext

__all__ = ["IAMCall", "ctx", "paging", "tag_list", "user_or_caller"]

IAMCall = Call[IAMContext]

#: IAM's message when a user operation names no user and the caller is not one.
NOT_A_USER = "Must specify userName when calling with non-User credentials"


def ctx(call: IAMCall) -> tuple[Any, str]:
    """The entity operations and the caller's account id."""
    return call.context.iam, call.context.account_id


def paging(params: Mapping[str, Any]) -> dict[str, Any]:
    """``marker`` and ``max_items`` for a listing, from ``Marker`` and ``MaxItems``."""
    return {"marker": params.get("Marker"), "max_items": params.get("MaxItems")}


def tag_list(params: Mapping[str, Any]) -> list[Tag]:
    """The request's ``Tags`` as records (duplicates kept, for the entities to refuse)."""
    return [Tag(key=item["Key"], value=item["Value"]) for item in params.get("Tags", ())]


def user_or_caller(call: IAMCall) -> str:
    """``UserName``, or the calling user's name when the request leaves it out.

    Raises ``ValidationError`` when neither names a user (the root user or a role).
    """
    name = call.params.get("UserName") or call.context.caller_name
    if name is None:
        raise ValidationError(NOT_A_USER)
    return str(name)
