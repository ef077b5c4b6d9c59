"""Policy simulation: IAM's ``SimulateCustomPolicy`` as a pure function.

:func:`simulate` evaluates every action against every resource under the given
policies, the way ``aws iam simulate-custom-policy`` does, and returns one
:class:`EvaluationResult` per pair; ``result.to_aws()`` is the API's
``EvaluationResult`` structure (botocore ``iam/2010-05-08``), so the same
function backs the command line and, later, IAM's own API::

    text = ('{"Version": "2012-10-17", "Statement": '
            '{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}}')
    results = simulate(policies=simulation_policies([text]),
                       action_names=["s3:GetObject", "s3:PutObject"])
    [r.decision for r in results] == ["allowed", "implicitDeny"]

Bad input raises :class:`InvalidInput` (IAM's ``InvalidInput``, 400);
malformed policies raise ``MalformedPolicyDocument`` from ``Policy.parse``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from sigv4kit import SigV4Error

from ._context import ContextEntry, context_mapping
from ._evaluate import (
    AuthorizationRequest,
    Decision,
    DecisionEffect,
    MatchedStatement,
    Principal,
    PrincipalType,
    evaluate,
)
from ._model import Policy, PolicyType

__all__ = [
    "EvaluationResult",
    "InvalidInput",
    "simulate",
    "simulation_policies",
]

#: The ``EvalDecision`` values (botocore ``PolicyEvaluationDecisionType``).
EVAL_DECISIONS = {
    DecisionEffect.ALLOW: "allowed",
    DecisionEffect.EXPLICIT_DENY: "explicitDeny",
    DecisionEffect.IMPLICIT_DENY: "implicitDeny",
}

#: ``SourcePolicyId`` prefixes for policies passed in the request, as IAM numbers them.
POLICY_INPUT_LIST = "PolicyInputList"
BOUNDARY_INPUT_LIST = "PermissionsBoundaryPolicyInputList"
RESOURCE_POLICY_ID = "ResourcePolicy"

#: ``SourcePolicyType`` of policies passed to SimulateCustomPolicy. The model's enum
#: (user, group, role, aws-managed, user-managed, resource, none) describes policies that
#: SimulatePrincipalPolicy finds attached to an entity; for *input* policies real IAM
#: responses carry these strings instead ("IAM Policy" / "Resource Policy" recorded from
#: SimulateCustomPolicy by several public projects, "Permissions Boundary Policy" from
#: boundary simulations), so that is what we answer. Session policies and SCPs cannot be
#: passed to SimulateCustomPolicy; their two names are ours, in the same style.
SOURCE_POLICY_TYPES = {
    PolicyType.IDENTITY: "IAM Policy",
    PolicyType.RESOURCE: "Resource Policy",
    PolicyType.BOUNDARY: "Permissions Boundary Policy",
    PolicyType.SESSION: "Session Policy",
    PolicyType.SCP: "Service Control Policy",
    PolicyType.TRUST: "Resource Policy",
}

_CALLER = re.compile(
    r"arn:(?P<partition>aws[a-z-]*):iam::(?P<account>\d{12}):(?P<kind>user|role|group)/(?P<path>.+)"
)
_ACCOUNT_ARN = re.compile(r"arn:aws[a-z-]*:iam::(?P<account>\d{12}):root")
_ACTION = re.compile(r"[A-Za-z0-9-]+:[A-Za-z0-9]+")
#: Who calls when no CallerArn is given (identity policies do not look at the caller).
DEFAULT_ACCOUNT = "123456789012"


class InvalidInput(SigV4Error, ValueError):
    """400 InvalidInput: the simulation request itself is wrong."""

    code = "InvalidInput"
    status = 400

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


@dataclass(frozen=True, slots=True, kw_only=True)
class EvaluationResult:
    """The decision for one action on one resource, as IAM's ``EvaluationResult``."""

    action: str
    resource: str
    decision: str
    matched: tuple[MatchedStatement, ...]
    missing_context_values: tuple[str, ...]

    def to_aws(self) -> dict[str, object]:
        """The structure ``aws iam simulate-custom-policy --output json`` prints."""
        return {
            "EvalActionName": self.action,
            "EvalResourceName": self.resource,
            "EvalDecision": self.decision,
            "MatchedStatements": [_statement_to_aws(m) for m in self.matched],
            "MissingContextValues": list(self.missing_context_values),
        }


def _statement_to_aws(matched: MatchedStatement) -> dict[str, object]:
    return {
        "SourcePolicyId": matched.policy_id,
        "SourcePolicyType": SOURCE_POLICY_TYPES[matched.policy_type],
        "StartPosition": {"Line": matched.start.line, "Column": matched.start.column},
        "EndPosition": {"Line": matched.end.line, "Column": matched.end.column},
    }


def simulation_policies(
    texts: Sequence[str | bytes],
    *,
    policy_type: PolicyType = PolicyType.IDENTITY,
    prefix: str = POLICY_INPUT_LIST,
) -> list[Policy]:
    """Parse request policies, numbered the way IAM reports them (``PolicyInputList.1``, ...).

    Raises:
        MalformedPolicyDocument: a policy is not valid.
    """
    return [
        Policy.parse(text, policy_type=policy_type, policy_id=f"{prefix}.{number}")
        for number, text in enumerate(texts, start=1)
    ]


def simulate(
    *,
    policies: Sequence[Policy],
    action_names: Sequence[str],
    resource_arns: Sequence[str] = ("*",),
    resource_policy: Policy | None = None,
    resource_owner: str | None = None,
    caller_arn: str | None = None,
    context_entries: Sequence[ContextEntry] = (),
    permissions_boundary_policies: Sequence[Policy] = (),
) -> list[EvaluationResult]:
    """Evaluate each action on each resource, in that order.

    ``caller_arn`` is an IAM user or role ARN (required with a resource policy, as
    in IAM); ``resource_owner`` is ``arn:aws:iam::<account>:root`` and owns the
    resources whose ARN names no account.

    Raises:
        InvalidInput: no action, a wildcard or unqualified action name, a bad
            caller or owner ARN, more than one permissions boundary, or a
            resource policy without a caller.
    """
    _check_actions(action_names)
    if len(permissions_boundary_policies) > 1:
        raise InvalidInput("Only one permissions boundary policy can be simulated.")
    if resource_policy is not None and caller_arn is None:
        raise InvalidInput("CallerArn is required when a ResourcePolicy is included.")
    owner = _owner_account(resource_owner)
    principal = caller_principal(caller_arn, default_account=owner or DEFAULT_ACCOUNT)
    context = context_mapping(context_entries)
    boundary = permissions_boundary_policies[0] if permissions_boundary_policies else None
    results: list[EvaluationResult] = []
    for action in action_names:
        for resource in resource_arns or ("*",):
            request = AuthorizationRequest(
                principal=principal,
                action=action,
                resource=resource,
                context=context,
                resource_account=_arn_account(resource) or owner,
            )
            decision = evaluate(
                request,
                identity_policies=policies,
                resource_policy=resource_policy,
                permissions_boundary=boundary,
            )
            results.append(_result(action, resource, decision))
    return results


def _result(action: str, resource: str, decision: Decision) -> EvaluationResult:
    return EvaluationResult(
        action=action,
        resource=resource,
        decision=EVAL_DECISIONS[decision.effect],
        matched=tuple(decision.matched),
        missing_context_values=tuple(decision.missing_context_keys),
    )


def caller_principal(
    caller_arn: str | None, *, default_account: str = DEFAULT_ACCOUNT
) -> Principal:
    """The simulated caller: an IAM user or role, as SimulateCustomPolicy accepts.

    Raises:
        InvalidInput: anything but ``arn:aws:iam::<account>:user/...`` or ``...:role/...``
            (IAM refuses assumed-role, federated-user and service principals here).
    """
    if caller_arn is None:
        arn = f"arn:aws:iam::{default_account}:user/simulated-caller"
        return Principal(arn=arn, account=default_account, type=PrincipalType.USER)
    match = _CALLER.fullmatch(caller_arn)
    if match is None or match["kind"] == "group":
        raise InvalidInput(
            f"Invalid CallerArn {caller_arn!r}: use the ARN of an IAM user or role "
            "(arn:aws:iam::<account>:user/<name> or :role/<name>)."
        )
    account = match["account"]
    if match["kind"] == "role":
        return Principal(
            arn=caller_arn, account=account, type=PrincipalType.ASSUMED_ROLE, role_arn=caller_arn
        )
    return Principal(arn=caller_arn, account=account, type=PrincipalType.USER)


def _owner_account(resource_owner: str | None) -> str | None:
    if resource_owner is None:
        return None
    match = _ACCOUNT_ARN.fullmatch(resource_owner)
    if match is None:
        raise InvalidInput(
            f"Invalid ResourceOwner {resource_owner!r}: "
            "use the account ARN arn:aws:iam::<account>:root."
        )
    return match["account"]


def _arn_account(resource: str) -> str | None:
    parts = resource.split(":", 5)
    if len(parts) == 6 and re.fullmatch(r"\d{12}", parts[4]):
        return parts[4]
    return None


def _check_actions(action_names: Sequence[str]) -> None:
    if not action_names:
        raise InvalidInput("ActionNames must name at least one action.")
    for action in action_names:
        if "*" in action or "?" in action:
            raise InvalidInput(f"Action name {action!r} cannot contain wildcards.")
        if _ACTION.fullmatch(action) is None:
            raise InvalidInput(
                f"Action name {action!r} must be service:Action, e.g. iam:CreateUser."
            )
