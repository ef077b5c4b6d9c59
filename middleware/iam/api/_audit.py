"""One audit event per Query API call (IAM, STS): what :class:`~._app.QueryApp` records.

The trail is the one ``SigV4Middleware(audit=...)`` leaves at
``scope["sigv4.audit"]``, so every :class:`~._app.QueryService` served behind
it (IAM, and STS as a second service) records its calls with no code of its
own. Each call gives one :func:`~...audit.api_call_event`:

* ``eventSource`` ``<endpoint prefix>.amazonaws.com``, ``eventName`` the action;
* ``requestParameters``: the call's input with CloudTrail's lower-camel-case
  member names (``userName``), values made JSON (times in ISO 8601);
* ``responseElements``: the output of a call that changes something (CloudTrail
  leaves read-only calls' responses out, and so do we: a ``ListUsers`` page or
  a credential report has no place in the trail); none for a failed call;
* ``errorCode``/``errorMessage``: the code and message the client got.

Both go through :func:`~...audit.redact`: botocore's ``sensitive`` members and
the deny-list (secret keys, session tokens, passwords, MFA seeds and codes,
web-identity tokens) are written ``HIDDEN_DUE_TO_SECURITY_REASONS``.

A call that changes something first reserves its place in the queue
(:meth:`~...audit.AuditLog.reserve`): when the queue is full under the shed
policy the call is answered 503 and does not run.

Imports: :mod:`...audit`, :mod:`...asgi.auditing`, :mod:`...asgi.identity`.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ...asgi.auditing import AUDIT_LOG_KEY, DEFAULT_REGION, request_info, user_identity
from ...asgi.identity import CallerIdentity
from ...audit import (
    AuditEvent,
    AuditLog,
    IdentityType,
    UserIdentity,
    api_call_event,
    event_time,
)

__all__ = ["READ_ONLY_PREFIXES", "call_event", "is_read_only", "request_parameters", "trail_of"]

#: Actions that only read (CloudTrail's ``readOnly: true``).
READ_ONLY_PREFIXES = ("Get", "List", "Simulate", "Decode")


def trail_of(scope: Mapping[str, Any]) -> AuditLog | None:
    """The audit log the middleware left in the scope, if it audits."""
    log = scope.get(AUDIT_LOG_KEY)
    return log if isinstance(log, AuditLog) else None


def is_read_only(action: str) -> bool:
    """Whether CloudTrail marks the call ``readOnly``."""
    return action.startswith(READ_ONLY_PREFIXES)


def _camel(name: str) -> str:
    return name[:1].lower() + name[1:]


def _json(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {_camel(str(key)): _json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json(item) for item in value]
    if isinstance(value, datetime):
        return event_time(value)
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode("ascii")
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def request_parameters(params: Mapping[str, Any]) -> dict[str, Any]:
    """A call's input as CloudTrail writes ``requestParameters`` (before redaction)."""
    converted: dict[str, Any] = _json(params)
    return converted


def call_event(
    scope: Mapping[str, Any],
    *,
    service: str,
    action: str,
    params: Mapping[str, Any] | None,
    result: Mapping[str, Any] | None,
    error: tuple[str, str] | None,
    request_id: str,
    when: datetime,
) -> AuditEvent:
    """The event of one call; ``error`` is ``(code, message)`` for a failed one."""
    caller = scope.get("sigv4.caller")
    identity = (
        user_identity(caller)
        if isinstance(caller, CallerIdentity)
        else UserIdentity(type=IdentityType.UNKNOWN)
    )
    sigv4 = caller.sigv4 if isinstance(caller, CallerIdentity) else None
    read_only = is_read_only(action)
    return api_call_event(
        identity=identity,
        service=service,
        operation=action,
        read_only=read_only,
        request_parameters=None if params is None else request_parameters(params),
        response_elements=None if read_only or result is None else _json(result),
        request=request_info(
            scope, when=when, request_id=request_id,
            region=sigv4.region if sigv4 is not None else DEFAULT_REGION,
        ),
        error_code=None if error is None else error[0],
        error_message=None if error is None else error[1],
    )
