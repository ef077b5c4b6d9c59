"""Authorization decisions over IAM identities: one place for the IAM API and any service.

* :func:`authorize_call` decides an action on a resource for a caller's
  policies and raises :class:`AccessDenied` with AWS's message;
* :func:`caller_context_keys` gives the global condition keys of a request.
"""

from __future__ import annotations

from ._context import (
    PRINCIPAL_TYPES,
    caller_context_keys,
    engine_principal,
    session_context_keys,
)
from ._decide import AccessDenied, CallerPolicies, authorize_call, denial_message

__all__ = [
    "PRINCIPAL_TYPES",
    "AccessDenied",
    "CallerPolicies",
    "authorize_call",
    "caller_context_keys",
    "denial_message",
    "engine_principal",
    "session_context_keys",
]
