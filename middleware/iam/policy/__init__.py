"""The IAM policy language: parse and validate, evaluate, simulate.

Pure code: no I/O, no store, no clock reads. Imported as
``sigv4kit.middleware.iam.policy``::

    from sigv4kit.middleware.iam.policy import Policy, PolicyType

    policy = Policy.parse(text, policy_type=PolicyType.IDENTITY)
"""

from __future__ import annotations

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
    "MalformedPolicyDocument",
    "Policy",
    "PolicyDocumentValidationError",
    "PolicySizeQuotaExceeded",
    "PolicyType",
    "Position",
    "PrincipalSpec",
    "Statement",
]
