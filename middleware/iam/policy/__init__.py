"""The IAM policy language: parse and validate, evaluate, simulate.

Pure code: no I/O, no store, no clock reads. Imported as
``sigv4kit.middleware.iam.policy``::

    from sigv4kit.middleware.iam.policy import Policy, PolicyType

    policy = Policy.parse(text, policy_type=PolicyType.IDENTITY)
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

__all__ = [
    "MULTIVALUED_KEYS",
    "Condition",
    "ContextEntry",
    "ContextEntryError",
    "ContextKeyType",
    "Finding",
    "MalformedPolicyDocument",
    "Policy",
    "PolicyDocumentValidationError",
    "PolicySizeQuotaExceeded",
    "PolicyType",
    "Position",
    "PrincipalSpec",
    "Severity",
    "Statement",
    "context_mapping",
    "lint",
    "parse_context_entries",
]
