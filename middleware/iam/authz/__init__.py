"""Authorization decisions over IAM identities: the IAM API's and any service's.

* :class:`IAMAuthorizer` authorizes every request a ``SigV4Middleware`` verified
  by the caller's IAM policies; :func:`iam_middleware` puts both in front of
  an app; routes declare their action and resource with a ``resolver``
  (ASGI level), :func:`authorize` (a FastAPI dependency) or
  :func:`requires_permission` (a Starlette decorator). See docs/authorization.md.
* :func:`authorize_call` decides an action on a resource for a caller's
  policies and raises :class:`AccessDenied` with AWS's message (the IAM API);
* :func:`caller_context_keys` gives the global condition keys of a request.
"""

from __future__ import annotations

from ._authorizer import (
    IAM_REQUEST_KEY,
    TEMPLATE_ERROR_KEY,
    DecisionGuard,
    IAMAuthorizer,
    IAMRequest,
    IAMUser,
    Resolution,
    Resolver,
    caller_policies,
)
from ._context import (
    PRINCIPAL_TYPES,
    caller_context_keys,
    engine_principal,
    session_context_keys,
)
from ._decide import AccessDenied, CallerPolicies, authorize_call, decide, denial_message
from ._frameworks import ContextSource, authorize, check, requires_permission
from ._install import iam_middleware
from ._request import (
    engine_principal_of,
    principal_keys,
    request_keys,
    secure_transport,
    session_keys,
    source_ip,
    w3c_time,
)
from ._template import BUILTIN_FIELDS, ResourceTemplate, ResourceTemplateError

__all__ = [
    "BUILTIN_FIELDS",
    "IAM_REQUEST_KEY",
    "PRINCIPAL_TYPES",
    "TEMPLATE_ERROR_KEY",
    "AccessDenied",
    "CallerPolicies",
    "ContextSource",
    "DecisionGuard",
    "IAMAuthorizer",
    "IAMRequest",
    "IAMUser",
    "Resolution",
    "Resolver",
    "ResourceTemplate",
    "ResourceTemplateError",
    "authorize",
    "authorize_call",
    "caller_context_keys",
    "caller_policies",
    "check",
    "decide",
    "denial_message",
    "engine_principal",
    "engine_principal_of",
    "iam_middleware",
    "principal_keys",
    "request_keys",
    "requires_permission",
    "secure_transport",
    "session_context_keys",
    "session_keys",
    "source_ip",
    "w3c_time",
]
