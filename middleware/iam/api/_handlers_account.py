"""IAM handlers: GetAccountAuthorizationDetails and the policy simulator.

``SimulateCustomPolicy`` runs the policy engine's :func:`simulate` over the
policies in the request; ``SimulatePrincipalPolicy`` over the policies of a
stored user (its own and its groups'), group or role, plus any in the request,
with the principal's permissions boundary. Results are paged with ``MaxItems`` /
``Marker`` like every IAM listing.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from ..entities import InvalidInput, NoSuchEntity, inline_policy_id
from ..policy import (
    ContextEntryError,
    EvaluationResult,
    Policy,
    PolicyType,
    parse_context_entries,
    simulate,
    simulation_policies,
)
from . import _iam_shapes as shapes
from ._handlers_common import IAMCall, ctx

__all__ = ["HANDLERS", "page_results"]

DEFAULT_MAX_ITEMS = 100  # IAM: MaxItems "defaults to 100"
MAX_PAGE = 1000  # IAM's largest MaxItems
_MARKER_PREFIX = "sim-"


async def get_account_authorization_details(call: IAMCall) -> dict[str, Any]:
    iam, account = ctx(call)
    p = call.params
    details = await iam.get_account_authorization_details(
        account, filter=p.get("Filter") or (), marker=p.get("Marker"),
        max_items=p.get("MaxItems"))
    out: dict[str, Any] = {
        "UserDetailList": [_user_detail(d) for d in details.user_detail_list],
        "GroupDetailList": [_group_detail(d) for d in details.group_detail_list],
        "RoleDetailList": [_role_detail(d) for d in details.role_detail_list],
        "Policies": [_policy_detail(d) for d in details.policies],
        "IsTruncated": details.is_truncated,
    }
    if details.is_truncated and details.marker:
        out["Marker"] = details.marker
    return out


def _user_detail(detail: Any) -> dict[str, Any]:
    return shapes.user(detail.user) | {
        "GroupList": list(detail.group_list),
        "UserPolicyList": [shapes.inline_detail(i) for i in detail.user_policy_list],
        "AttachedManagedPolicies": [shapes.attached(a) for a in detail.attached_managed_policies],
    }


def _group_detail(detail: Any) -> dict[str, Any]:
    return shapes.group(detail.group) | {
        "GroupPolicyList": [shapes.inline_detail(i) for i in detail.group_policy_list],
        "AttachedManagedPolicies": [shapes.attached(a) for a in detail.attached_managed_policies],
    }


def _role_detail(detail: Any) -> dict[str, Any]:
    role = shapes.role(detail.role)
    role.pop("Description", None)
    role.pop("MaxSessionDuration", None)  # not members of RoleDetail
    return role | {
        "InstanceProfileList": [],
        "RolePolicyList": [shapes.inline_detail(i) for i in detail.role_policy_list],
        "AttachedManagedPolicies": [shapes.attached(a) for a in detail.attached_managed_policies],
    }


def _policy_detail(detail: Any) -> dict[str, Any]:
    policy = shapes.policy(detail.policy, with_tags=False)
    return policy | {
        "PolicyVersionList": [shapes.policy_version(v) for v in detail.policy_version_list],
    }


# -- simulation ----------------------------------------------------------------------------


def _context_entries(call: IAMCall) -> Any:
    entries = call.params.get("ContextEntries") or []
    try:
        return parse_context_entries(json.dumps(entries))
    except ContextEntryError as exc:
        raise InvalidInput(str(exc)) from None


def _resource_policy(call: IAMCall) -> Policy | None:
    text = call.params.get("ResourcePolicy")
    if text is None:
        return None
    return Policy.parse(text, policy_type=PolicyType.RESOURCE, policy_id="ResourcePolicy")


def page_results(results: Sequence[EvaluationResult], call: IAMCall) -> dict[str, Any]:
    """One page of simulation results: ``EvaluationResults``, ``IsTruncated``, ``Marker``."""
    start = _start(call.params.get("Marker"), len(results))
    size = call.params.get("MaxItems") or DEFAULT_MAX_ITEMS
    chunk = results[start : start + size]
    out: dict[str, Any] = {"EvaluationResults": [r.to_aws() for r in chunk],
                           "IsTruncated": start + size < len(results)}
    if out["IsTruncated"]:
        out["Marker"] = f"{_MARKER_PREFIX}{start + size}"
    return out


def _start(marker: str | None, total: int) -> int:
    if marker is None:
        return 0
    number = marker.removeprefix(_MARKER_PREFIX)
    if not marker.startswith(_MARKER_PREFIX) or not number.isdigit() or int(number) > total:
        raise InvalidInput("Invalid Marker.")
    return int(number)


async def simulate_custom_policy(call: IAMCall) -> dict[str, Any]:
    p = call.params
    results = simulate(
        policies=simulation_policies(p["PolicyInputList"]),
        permissions_boundary_policies=simulation_policies(
            p.get("PermissionsBoundaryPolicyInputList", ()), policy_type=PolicyType.BOUNDARY,
            prefix="PermissionsBoundaryPolicyInputList"),
        action_names=p["ActionNames"],
        resource_arns=p.get("ResourceArns") or ("*",),
        resource_policy=_resource_policy(call),
        resource_owner=p.get("ResourceOwner"),
        caller_arn=p.get("CallerArn"),
        context_entries=_context_entries(call),
    )
    return page_results(results, call)


_SOURCE_KINDS = {":user/": "get_user", ":role/": "get_role"}


async def _every(list_page: Callable[[str | None], Awaitable[Any]]) -> list[Any]:
    """Every item of a paged listing."""
    items: list[Any] = []
    marker: str | None = None
    while True:
        page = await list_page(marker)
        items.extend(page.items)
        if not page.is_truncated:
            return items
        marker = page.marker


async def _group_policies(iam: Any, account: str, source_arn: str) -> list[Policy]:
    """A group's inline policies and its attached policies' default versions."""
    name = source_arn.rsplit("/", 1)[-1]
    group = (await iam.get_group(account, name, max_items=1)).group
    if group.arn != source_arn:
        raise NoSuchEntity(f"The group with name {name} cannot be found.")
    policies: list[Policy] = []
    for policy_name in await _every(lambda marker: iam.list_group_policies(
            account, name, marker=marker, max_items=MAX_PAGE)):
        inline = await iam.get_group_policy(account, name, policy_name)
        policies.append(Policy.parse(inline.policy_document,
                                     policy_id=inline_policy_id(group.arn, policy_name)))
    for ref in await _every(lambda marker: iam.list_attached_group_policies(
            account, name, marker=marker, max_items=MAX_PAGE)):
        managed = await iam.get_policy(account, ref.policy_arn)
        version = await iam.get_policy_version(account, ref.policy_arn,
                                               managed.default_version_id)
        policies.append(Policy.parse(version.document, policy_id=ref.policy_arn))
    return policies


async def _principal_policies(call: IAMCall, source_arn: str) -> tuple[list[Policy], Any]:
    """The identity policies and boundary of the user, group or role ``source_arn`` names.

    A user's are its own and its groups'; a group has no boundary.
    """
    iam, account = ctx(call)
    prefix = f"arn:aws:iam::{account}:"
    if source_arn.startswith(prefix + "group/"):
        return await _group_policies(iam, account, source_arn), None
    for marker, getter in _SOURCE_KINDS.items():
        if source_arn.startswith(prefix) and marker in source_arn:
            name = source_arn.rsplit("/", 1)[-1]
            entity = await getattr(iam, getter)(account, name)
            if entity.arn != source_arn:
                break
            unique_id = getattr(entity, "user_id", None) or entity.role_id
            snapshot = await iam.load_authorization(principal_id=unique_id)
            if snapshot is None:
                break
            return list(snapshot.policies), snapshot.permissions_boundary
    raise NoSuchEntity(f"The PolicySourceArn {source_arn} cannot be found.")


async def simulate_principal_policy(call: IAMCall) -> dict[str, Any]:
    p = call.params
    source = p["PolicySourceArn"]
    policies, boundary = await _principal_policies(call, source)
    extra = simulation_policies(p.get("PolicyInputList", ()))
    boundaries = simulation_policies(
        p.get("PermissionsBoundaryPolicyInputList", ()), policy_type=PolicyType.BOUNDARY,
        prefix="PermissionsBoundaryPolicyInputList")
    if not boundaries and boundary is not None:
        boundaries = [boundary]
    results = simulate(
        policies=[*policies, *extra],
        permissions_boundary_policies=boundaries,
        action_names=p["ActionNames"],
        resource_arns=p.get("ResourceArns") or ("*",),
        resource_policy=_resource_policy(call),
        resource_owner=p.get("ResourceOwner"),
        caller_arn=p.get("CallerArn") or (source if ":group/" not in source else None),
        context_entries=_context_entries(call),
    )
    return page_results(results, call)


HANDLERS = {
    "GetAccountAuthorizationDetails": get_account_authorization_details,
    "SimulateCustomPolicy": simulate_custom_policy,
    "SimulatePrincipalPolicy": simulate_principal_policy,
}
