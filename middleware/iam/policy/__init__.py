"""The IAM policy language: parse and validate, evaluate, simulate.

Pure code: no I/O, no store, no clock reads. Imported as
``sigv4kit.middleware.iam.policy``::

    from sigv4kit.middleware.iam.policy import Policy, PolicyType

    policy = Policy.parse(text, policy_type=PolicyType.IDENTITY)
    decision = evaluate(AuthorizationRequest(principal=principal, action="s3:GetObject",
                                             resource="arn:aws:s3:::bucket/key"),
                        identity_policies=(policy,))
    decision.allowed
"""

from __future__ import annotations

from ._context import (
    ContextEntry,
    ContextEntryError,
    ContextKeyType,
    context_mapping,
    parse_context_entries,
)
from ._errors import PolicyDocumentValidationError, PolicySizeQuotaExceeded
from ._evaluate import (
    AuthorizationRequest,
    Decision,
    DecisionEffect,
    MatchedStatement,
    Principal,
    PrincipalType,
    evaluate,
)
from ._lint import MULTIVALUED_KEYS, Finding, Severity, lint
from ._model import (
    Condition,
    MalformedPolicyDocument,
    Policy,
    PolicyType,
    Position,
    PrincipalSpec,
    Statement,
)
from ._parse import policy_size
from ._rules import SIZE_QUOTAS
from ._simulate import EvaluationResult, InvalidInput, simulate, simulation_policies

__all__ = [
    "MULTIVALUED_KEYS",
    "SIZE_QUOTAS",
    "AuthorizationRequest",
    "Condition",
    "ContextEntry",
    "ContextEntryError",
    "ContextKeyType",
    "Decision",
    "DecisionEffect",
    "EvaluationResult",
    "Finding",
    "InvalidInput",
    "MalformedPolicyDocument",
    "MatchedStatement",
    "Policy",
    "PolicyDocumentValidationError",
    "PolicySizeQuotaExceeded",
    "PolicyType",
    "Position",
    "Principal",
    "PrincipalSpec",
    "PrincipalType",
    "Severity",
    "Statement",
    "context_mapping",
    "evaluate",
    "lint",
    "parse_context_entries",
    "policy_size",
    "simulate",
    "simulation_policies",
]
