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
    "Condition",
    "ContextEntry",
    "ContextEntryError",
    "ContextKeyType",
    "MalformedPolicyDocument",
    "Policy",
    "PolicyDocumentValidationError",
    "PolicySizeQuotaExceeded",
    "PolicyType",
    "Position",
    "PrincipalSpec",
    "Statement",
    "context_mapping",
    "parse_context_entries",
]
