"""The IAM API's own authorization: may this caller run ``iam:<Action>`` on that resource?

A pure decision over the policy engine: the caller's identity-based policies
(user inline and attached, and every group's), its permissions boundary, and
the request context; the account's root user may do everything in its own
account. A refusal is :class:`AccessDenied` (403) with AWS's message::

    User: arn:aws:iam::123456789012:user/bob is not authorized to perform:
    iam:CreateUser on resource: arn:aws:iam::123456789012:user/carol because no
    identity-based policy allows the iam:CreateUser action

(one line; ``... with an explicit deny in an identity-based policy: <policy
arn>`` when a Deny decided, ``... because no permissions boundary allows the
<action> action`` when the boundary did).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sigv4kit import SigV4Error

from ..policy import (
    AuthorizationRequest,
    Decision,
    DecisionEffect,
    Policy,
    PolicyType,
    Principal,
    evaluate,
)

__all__ = ["AccessDenied", "CallerPolicies", "authorize_call", "decide", "denial_message"]


class AccessDenied(SigV4Error):
    """IAM's ``AccessDenied`` (403): the caller's policies do not allow the call."""

    code = "AccessDenied"
    status = 403

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True, kw_only=True)
class CallerPolicies:
    """Who calls and the policies that decide for them.

    ``identity_policies`` carry their ARN (managed) or a name (inline) as
    ``policy_id``, which a denial's message names. ``session_policies``: a
    role session's (or web identity's) session policies; when any are given
    the session may do only what they and the identity side both allow.
    """

    principal: Principal
    identity_policies: Sequence[Policy] = ()
    permissions_boundary: Policy | None = None
    session_policies: Sequence[Policy] | None = None
    context: Mapping[str, str | Sequence[str]] = field(default_factory=dict)


def decide(
    caller: CallerPolicies,
    action: str,
    resource: str,
    *,
    context: Mapping[str, str | Sequence[str]] | None = None,
    resource_account: str | None = None,
) -> Decision:
    """The decision for ``action`` on ``resource`` (never raises for a refusal).

    ``context`` replaces ``caller.context`` for this one decision;
    ``resource_account``: the resource owner's account (None: the caller's).
    """
    return evaluate(
        AuthorizationRequest(
            principal=caller.principal,
            action=action,
            resource=resource,
            context=caller.context if context is None else context,
            resource_account=resource_account,
        ),
        identity_policies=caller.identity_policies,
        permissions_boundary=caller.permissions_boundary,
        session_policies=caller.session_policies or None,
    )


def authorize_call(caller: CallerPolicies, action: str, resource: str) -> Decision:
    """Decide ``action`` (``iam:CreateUser``) on ``resource``; :class:`AccessDenied` if refused.

    (The account's root user needs no decision: the caller skips this.)
    """
    decision = decide(caller, action, resource)
    if not decision.allowed:
        raise AccessDenied(denial_message(caller.principal.arn, action, resource, decision))
    return decision


_PLACE = {
    PolicyType.BOUNDARY: "a permissions boundary",
    PolicyType.SESSION: "a session policy",
    PolicyType.SCP: "a service control policy",
    PolicyType.RESOURCE: "a resource-based policy",
}
_NO_ALLOW = {
    PolicyType.BOUNDARY: "no permissions boundary",
    PolicyType.SESSION: "no session policy",
    PolicyType.SCP: "no service control policy",
    PolicyType.RESOURCE: "no resource-based policy",
}


def denial_message(principal_arn: str, action: str, resource: str, decision: Decision) -> str:
    """AWS's AccessDenied message for ``decision`` (not an Allow)."""
    head = (
        f"User: {principal_arn} is not authorized to perform: {action} on resource: {resource}"
    )
    if decision.effect is DecisionEffect.EXPLICIT_DENY:
        kind = decision.denied_by or PolicyType.IDENTITY
        place = _PLACE.get(kind, "an identity-based policy")
        where = decision.matched[0].policy_id if decision.matched else ""
        return f"{head} with an explicit deny in {place}: {where}" if where else (
            f"{head} with an explicit deny in {place}"
        )
    who = _NO_ALLOW.get(decision.denied_by or PolicyType.IDENTITY, "no identity-based policy")
    return f"{head} because {who} allows the {action} action"
