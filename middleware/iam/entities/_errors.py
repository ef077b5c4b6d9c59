"""IAM's errors for identity operations: one class per IAM error code.

::

    SigV4Error
     └── IAMError                  code, status, message (str(exc) == message)
          ├── EntityAlreadyExists  409  "User with name bob already exists."
          ├── NoSuchEntity         404  "The user with name bob cannot be found."
          ├── LimitExceeded        409  "Cannot exceed quota for AccessKeysPerUser: 2"
          ├── DeleteConflict       409  "Cannot delete entity, must delete access keys first."
          ├── ValidationError      400  "1 validation error detected: Value ... at 'userName' ..."
          └── InvalidInput         400  "Invalid Marker.", "ARN x is not valid.", duplicate tag keys

MFA (:mod:`..mfa`: ``InvalidAuthenticationCode``, ``MFAAuthenticationFailed``)
and console passwords (:mod:`..login`) add their own subclasses of
:class:`IAMError` and raise these classes for the codes they share.

Policy documents are refused by the policy parser's own errors
(:class:`~sigv4kit.middleware.iam.policy.MalformedPolicyDocument` 400 and its
subclasses ``PolicySizeQuotaExceeded`` (``LimitExceeded`` 409) and
``PolicyDocumentValidationError`` (``ValidationError`` 400)), which carry the
same ``code``/``status``/``message`` attributes; :data:`IAM_ERRORS` catches
both families.

Codes and statuses: botocore ``iam/2010-05-08/service-2.json`` (``error``
shapes: ``EntityAlreadyExistsException`` 409, ``NoSuchEntityException`` 404,
``LimitExceededException`` 409, ``DeleteConflictException`` 409,
``InvalidInputException`` 400) and the common ``ValidationError`` 400.
"""

from __future__ import annotations

from sigv4kit import SigV4Error

from ..policy import MalformedPolicyDocument

__all__ = [
    "IAM_ERRORS",
    "DeleteConflict",
    "EntityAlreadyExists",
    "IAMError",
    "InvalidInput",
    "LimitExceeded",
    "NoSuchEntity",
    "ValidationError",
]


class IAMError(SigV4Error):
    """An IAM operation refused; ``code``/``status`` are what IAM's API answers."""

    code: str = "ServiceFailure"
    status: int = 500

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r})"


class EntityAlreadyExists(IAMError):
    """409: an entity with that name (names are case-insensitive in IAM) exists, or an MFA
    device is already assigned."""

    code = "EntityAlreadyExists"
    status = 409


class NoSuchEntity(IAMError):
    """404: the named user, group, role, policy, version, key, MFA device or OIDC provider
    does not exist (a device or provider of another user or account included)."""

    code = "NoSuchEntity"
    status = 404


class LimitExceeded(IAMError):
    """409: a quota (keys or MFA devices per user, attached policies, versions, tags,
    policy size, OIDC client ids and thumbprints)."""

    code = "LimitExceeded"
    status = 409


class DeleteConflict(IAMError):
    """409: the entity still has dependents (keys, members, policies, attachments), or an
    MFA device is still assigned to a user."""

    code = "DeleteConflict"
    status = 409


class ValidationError(IAMError):
    """400: a parameter breaks the API's constraints (pattern, length, range)."""

    code = "ValidationError"
    status = 400


class InvalidInput(IAMError):
    """400: a parameter is well-formed but unusable (bad marker, ARN, duplicate tag keys,
    a provider URL that is not https)."""

    code = "InvalidInput"
    status = 400


#: Every error an IAM operation raises for the caller's input: ``except IAM_ERRORS``.
IAM_ERRORS: tuple[type[SigV4Error], ...] = (IAMError, MalformedPolicyDocument)
