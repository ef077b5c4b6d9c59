"""The policy engine's errors: IAM's ``MalformedPolicyDocument`` and its two relatives.

::

    SigV4Error
     └── MalformedPolicyDocument            400  IAM's message for the first problem found
          ├── PolicySizeQuotaExceeded        409  LimitExceeded: over the policy type's size quota
          └── PolicyDocumentValidationError  400  ValidationError: over 131,072 characters, or
                                                  a character outside U+0009/A/D, U+0020-U+00FF

One class per AWS error code, like the verifier's errors: ``code`` and
``status`` are what IAM's API answers (botocore ``iam/2010-05-08``:
``MalformedPolicyDocument`` 400, ``LimitExceeded`` 409; API-level constraint
failures are ``ValidationError`` 400). ``message`` is the text and
``str(exc) == message``. The two relatives derive from
``MalformedPolicyDocument`` so one ``except`` catches every refusal of
:meth:`Policy.parse <sigv4kit.middleware.iam.policy.Policy.parse>`.
"""

from __future__ import annotations

from sigv4kit import SigV4Error

__all__ = ["MalformedPolicyDocument", "PolicyDocumentValidationError", "PolicySizeQuotaExceeded"]


class MalformedPolicyDocument(SigV4Error, ValueError):
    """400 MalformedPolicyDocument: the document is not a valid IAM policy.

    ``message`` holds IAM's message for the first problem in IAM's check order,
    e.g. ``"Syntax errors in policy."``.
    """

    code: str = "MalformedPolicyDocument"
    status: int = 400

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r})"


class PolicySizeQuotaExceeded(MalformedPolicyDocument):
    """409 LimitExceeded: the policy is larger than its type's quota allows."""

    code = "LimitExceeded"
    status = 409


class PolicyDocumentValidationError(MalformedPolicyDocument):
    """400 ValidationError: the document breaks IAM's API constraints (length, characters)."""

    code = "ValidationError"
    status = 400
