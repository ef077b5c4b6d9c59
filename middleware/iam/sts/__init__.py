"""STS served by sigv4kit: temporary credentials, role sessions, MFA, OIDC federation.

* :func:`sts_app` (``(app, model)``, routed by ``sigv4kit serve`` under the
  signed service ``sts``): ``GetCallerIdentity``, ``GetSessionToken``,
  ``AssumeRole``, ``AssumeRoleWithWebIdentity``, ``GetAccessKeyInfo``;
* :class:`UnsignedSTSGate`: lets the unsigned ``AssumeRoleWithWebIdentity``
  reach STS past ``SigV4Middleware`` (and nothing else);
* :func:`issue_session`: the ``ASIA`` key, secret, token and session row.

See docs/sts.md.
"""

from __future__ import annotations

from ._context import UNSIGNED_ACTIONS, STSContext, STSServices
from ._errors import STSError
from ._gate import MAX_UNSIGNED_BODY, UnsignedSTSGate
from ._issue import IssuedCredentials, SessionRequest, issue_session
from ._rules import CHAINED_MAX_SECONDS, DEFAULT_ROLE_SECONDS, PACKED_LIMIT
from ._service import STS_HANDLERS, sts_app, sts_service

__all__ = [
    "CHAINED_MAX_SECONDS",
    "DEFAULT_ROLE_SECONDS",
    "MAX_UNSIGNED_BODY",
    "PACKED_LIMIT",
    "STS_HANDLERS",
    "UNSIGNED_ACTIONS",
    "IssuedCredentials",
    "STSContext",
    "STSError",
    "STSServices",
    "SessionRequest",
    "UnsignedSTSGate",
    "issue_session",
    "sts_app",
    "sts_service",
]
