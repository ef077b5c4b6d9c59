"""The IAM policy language: parse and validate, evaluate, simulate.

Pure code: no I/O, no store, no clock reads. Imported as
``sigv4kit.middleware.iam.policy``::

    from sigv4kit.middleware.iam.policy import Policy, PolicyType

    policy = Policy.parse(text, policy_type=PolicyType.IDENTITY)
"""

from __future__ import annotations

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
from ._parse import policy_size
from ._rules import SIZE_QUOTAS

__all__ = [
    "MULTIVALUED_KEYS",
    "SIZE_QUOTAS",
    "Condition",
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
    "lint",
    "policy_size",
]
