"""Small helpers shared by the policy tests: build policies and requests, decide."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from sigv4kit.middleware.iam.policy import (
    AuthorizationRequest,
    Decision,
    Policy,
    PolicyType,
    Principal,
    PrincipalType,
    evaluate,
)

ACCOUNT = "123456789012"
USER = Principal(arn=f"arn:aws:iam::{ACCOUNT}:user/alice", account=ACCOUNT, type=PrincipalType.USER)
SESSION = Principal(
    arn=f"arn:aws:sts::{ACCOUNT}:assumed-role/Dev/alice",
    account=ACCOUNT,
    type=PrincipalType.ASSUMED_ROLE,
    role_arn=f"arn:aws:iam::{ACCOUNT}:role/Dev",
)
ALLOW_ALL: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [{"Sid": "AllowAll", "Effect": "Allow", "Action": "*", "Resource": "*"}],
}


def statement(
    effect: str, condition: Mapping[str, Any] | None = None, **elements: Any
) -> dict[str, Any]:
    """One statement; Action/Resource default to everything."""
    body: dict[str, Any] = {"Effect": effect}
    if "NotAction" not in elements:
        body["Action"] = elements.pop("Action", "*")
    if "NotResource" not in elements:
        body["Resource"] = elements.pop("Resource", "*")
    body.update(elements)
    if condition is not None:
        body["Condition"] = dict(condition)
    return body


def document(*statements: Mapping[str, Any], version: str | None = "2012-10-17") -> dict[str, Any]:
    body: dict[str, Any] = {"Statement": list(statements)}
    if version is not None:
        body["Version"] = version
    return body


def policy_text(effect: str, condition: Mapping[str, Any] | None = None, **elements: Any) -> str:
    """A one-statement policy document as JSON text."""
    return json.dumps(document(statement(effect, condition, **elements)))


def policy(
    body: Mapping[str, Any] | str,
    *,
    policy_type: PolicyType = PolicyType.IDENTITY,
    policy_id: str = "test",
) -> Policy:
    text = body if isinstance(body, str) else json.dumps(body, indent=2)
    return Policy.parse(text, policy_type=policy_type, policy_id=policy_id)


def decide(
    *identity: Mapping[str, Any],
    action: str = "s3:GetObject",
    resource: str = "arn:aws:s3:::bucket/key",
    context: Mapping[str, str | Sequence[str]] | None = None,
    principal: Principal = USER,
    **policies: Any,
) -> Decision:
    """Evaluate one request; extra keyword arguments go to evaluate() as they are."""
    request = AuthorizationRequest(
        principal=principal, action=action, resource=resource, context=dict(context or {})
    )
    return evaluate(
        request,
        identity_policies=[
            policy(body, policy_id=f"identity.{i + 1}") for i, body in enumerate(identity)
        ],
        **policies,
    )
