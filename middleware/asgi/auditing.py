"""The middleware's audit hook: one event per refusal and per decision.

``SigV4Middleware(app, audit=AuditLog(...))`` hands every request's outcome
to a :class:`RequestAuditor`:

* a request refused before it has an identity (a bad signature, an unknown
  key, an expired token, a malformed or skewed request, a body too large):
  :func:`~..audit.authentication_failure_event`, with the access key id the
  request claimed and the error code and message the client was answered
  with (:meth:`RequestAuditor.refused` with no caller);
* a verified caller refused (the authorizer's AccessDenied, a replay): an
  :func:`~..audit.authorization_event` with ``allowed=False``, built from the
  :class:`~.authorize.AuthorizationRecord` the authorizer left in the scope
  when there is one (:meth:`RequestAuditor.refused` with the caller);
* a verified caller allowed: the allowed decision from the record, or, when
  no authorizer decided per action, one event per authenticated request
  (eventName the HTTP method) unless ``requests=False`` (an app that records
  its own calls, as the IAM/STS APIs do; :meth:`RequestAuditor.admitted`).

When the queue is full under ``Overflow.SHED`` (the default) the request is
answered 503 ``ServiceUnavailable`` instead (nothing the service did goes
unrecorded); under ``Overflow.DROP`` the event is counted as dropped and the
request goes on. The trail is left at ``scope["sigv4.audit"]`` for apps that
record their own calls (:data:`AUDIT_LOG_KEY`).

Events carry no parameters: a signature, token or secret never reaches them.

Imports: the core (``sigv4kit``), :mod:`..audit`, :mod:`.authorize`,
:mod:`.identity`, :mod:`.request`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Final

from sigv4kit import VerificationError
from sigv4kit.verify import ServiceUnavailable

from ..audit import (
    AuditEvent,
    AuditLog,
    IdentityType,
    Offer,
    RequestInfo,
    Resource,
    SessionContext,
    SessionIssuer,
    UserIdentity,
    authentication_failure_event,
    authorization_event,
)
from .authorize import AUTHORIZATION_KEY, AuthorizationRecord
from .identity import CallerIdentity, CallerKind
from .request import claimed_access_key_id, claimed_scope, header_value
from .responses import new_request_id
from .types import Message, Scope, Send

__all__ = [
    "AUDIT_LOG_KEY",
    "DEFAULT_REGION",
    "MANAGEMENT_SERVICES",
    "RequestAuditor",
    "new_event_id",
    "read_only_method",
    "request_info",
    "user_identity",
]

#: Where the middleware leaves its :class:`~..audit.AuditLog` for the app.
AUDIT_LOG_KEY: Final = "sigv4.audit"
#: The region an event names when the request named none it could be read from.
DEFAULT_REGION = "us-east-1"
#: Services whose calls CloudTrail files as management events, not data events.
MANAGEMENT_SERVICES = frozenset({"iam", "sts"})
_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_IDENTITY_CACHE_SIZE = 1024


def read_only_method(scope: Scope) -> bool:
    """``readOnly`` of a request no action names: GET, HEAD and OPTIONS read."""
    return str(scope.get("method", "GET")) in _READ_METHODS


def user_identity(caller: CallerIdentity) -> UserIdentity:
    """CloudTrail's ``userIdentity`` of a verified caller (the userIdentity element page)."""
    sigv4 = caller.sigv4
    session = caller.session
    if caller.kind is CallerKind.ROOT:
        return UserIdentity(
            type=IdentityType.ROOT, principal_id=caller.account_id, arn=caller.arn,
            account_id=caller.account_id, access_key_id=sigv4.access_key_id,
            session_context=_session(caller, None),
        )
    if caller.kind is CallerKind.ROLE_SESSION:
        role_id = caller.principal_id or caller.principal
        issuer = SessionIssuer(
            type="Role", principal_id=role_id,
            arn=f"arn:aws:iam::{caller.account_id}:role/{caller.principal}",
            account_id=caller.account_id, user_name=caller.principal,
        )
        name = session.name or sigv4.access_key_id
        return UserIdentity(
            type=IdentityType.ASSUMED_ROLE, principal_id=f"{role_id}:{name}", arn=caller.arn,
            account_id=caller.account_id, access_key_id=sigv4.access_key_id,
            session_context=_session(caller, issuer),
        )
    kind = IdentityType.ROLE if caller.kind is CallerKind.ROLE else IdentityType.IAM_USER
    return UserIdentity(
        type=kind, principal_id=caller.principal_id, arn=caller.arn,
        account_id=caller.account_id, access_key_id=sigv4.access_key_id,
        user_name=caller.principal, session_context=_session(caller, None),
    )


def _session(caller: CallerIdentity, issuer: SessionIssuer | None) -> SessionContext | None:
    session = caller.session
    if not session.temporary:
        return None
    return SessionContext(
        creation_date=session.issued_at or caller.sigv4.request_time,
        mfa_authenticated=session.mfa_authenticated,
        session_issuer=issuer,
    )


def new_event_id() -> str:
    """A random (version 4) GUID, as ``str(uuid.uuid4())`` writes it, in a third of the time."""
    h = os.urandom(16).hex()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"


def request_info(
    scope: Mapping[str, Any], *, when: datetime, request_id: str, region: str
) -> RequestInfo:
    """The request facts every event carries (a new GUID as its event id)."""
    client = scope.get("client")
    agent = header_value(scope.get("headers", ()), b"user-agent") or b""
    return RequestInfo(
        when=when,
        event_id=new_event_id(),
        request_id=request_id,
        source_ip=str(client[0]) if client else "",
        user_agent=agent.decode("latin-1"),
        region=region,
    )


def _resource(record: AuthorizationRecord, account_id: str) -> tuple[Resource, ...]:
    if not record.resource or record.resource == "*":
        return ()
    return (Resource(arn=record.resource, account_id=account_id),)


class RequestAuditor:
    """Builds and queues the middleware's events; see the module docstring."""

    __slots__ = ("_identities", "log", "requests")

    def __init__(self, log: AuditLog, *, requests: bool = True) -> None:
        self.log = log
        self.requests = requests
        # The same caller signs many requests: one UserIdentity (and one cached
        # JSON text of it, see AuditEvent.to_line) per distinct caller.
        self._identities: dict[tuple[Any, ...], UserIdentity] = {}

    def _identity(self, caller: CallerIdentity) -> UserIdentity:
        session = caller.session
        if session.temporary and session.issued_at is None:
            return user_identity(caller)  # its creation date is this request's time
        # (The key id and the ARN also tell the caller's kind: an enum's hash is Python code.)
        key = (caller.sigv4.access_key_id, caller.arn, caller.principal_id,
               session.temporary, session.issued_at, session.mfa_authenticated, session.name)
        found = self._identities.get(key)
        if found is None:
            if len(self._identities) >= _IDENTITY_CACHE_SIZE:
                self._identities.clear()
            found = self._identities[key] = user_identity(caller)
        return found

    def __repr__(self) -> str:
        return f"RequestAuditor(log={self.log!r}, requests={self.requests!r})"

    def refused(
        self,
        error: VerificationError,
        scope: Scope,
        caller: CallerIdentity | None,
        *,
        request_id: str,
        now: datetime,
    ) -> VerificationError:
        """Record a refusal; the error to answer (``ServiceUnavailable`` when shed)."""
        if caller is None:
            region, service = claimed_scope(scope)
            service = service or "unknown"
            key_id = claimed_access_key_id(scope)
            event = authentication_failure_event(
                failure=error.code,
                message=error.message,
                access_key_id=None if key_id == "-" else key_id,
                account_id=None,
                request=request_info(
                    scope, when=now, request_id=request_id, region=region or DEFAULT_REGION
                ),
                event_source=f"{service}.amazonaws.com",
                event_name=str(scope.get("method", "GET")),
                read_only=read_only_method(scope),
                management=service in MANAGEMENT_SERVICES,
            )
        else:
            event = self._decision(scope, caller, request_id, now, error)
        return ServiceUnavailable() if self.log.emit(event) is Offer.SHED else error

    def admit_http(
        self, scope: Scope, caller: CallerIdentity, send: Send, *, clock: Callable[[], datetime]
    ) -> PendingDecision | None:
        """Record an allowed HTTP request; None when the queue is full (answer 503).

        A decision the authorizer made before the app is one event now. A
        decision the app makes after routing (an :class:`AuthorizationRecord`
        left later, as the FastAPI dependency does) is one event when the
        response starts, or when the app ends without one: its place in the
        queue is held now, so the app never runs unrecorded. Use the returned
        object's :meth:`~PendingDecision.send` and call its ``finish()``.
        """
        scope[AUDIT_LOG_KEY] = self.log
        decided = isinstance(scope.get(AUTHORIZATION_KEY), AuthorizationRecord)
        if not decided and not self.requests:
            return PendingDecision(self, scope, caller, send, clock, held=False, done=True)
        if decided:
            event = self._decision(scope, caller, "", clock(), None)
            if self.log.emit(event) is Offer.SHED:
                return None
            return PendingDecision(self, scope, caller, send, clock, held=False, done=True)
        offer = self.log.reserve()
        if offer is Offer.SHED:
            return None
        return PendingDecision(self, scope, caller, send, clock,
                                held=offer is Offer.ACCEPTED, done=False)

    def expose(self, scope: Scope) -> None:
        """Leave the log in the scope for an app that records its own calls (also for
        requests let through unsigned, such as STS's AssumeRoleWithWebIdentity)."""
        scope[AUDIT_LOG_KEY] = self.log

    def admitted(self, scope: Scope, caller: CallerIdentity, *, now: datetime) -> bool:
        """Record an allowed request; False when the queue is full and it must get 503."""
        scope[AUDIT_LOG_KEY] = self.log
        if not self.requests and not isinstance(scope.get(AUTHORIZATION_KEY),
                                                AuthorizationRecord):
            return True  # the app records its own calls
        event = self._decision(scope, caller, "", now, None)
        return self.log.emit(event) is not Offer.SHED

    def _decision(
        self,
        scope: Scope,
        caller: CallerIdentity,
        request_id: str,
        now: datetime,
        error: VerificationError | None,
    ) -> AuditEvent:
        sigv4 = caller.sigv4
        record = scope.get(AUTHORIZATION_KEY)
        if isinstance(record, AuthorizationRecord):
            action, resources = record.action, _resource(record, caller.account_id)
            allowed = record.allowed and error is None
        else:
            action, resources = str(scope.get("method", "GET")), ()
            allowed = error is None
        message = None if error is None else error.message
        if message is None and isinstance(record, AuthorizationRecord) and not record.allowed:
            message = record.reason  # refused inside the app (its guard answered 403)
        return authorization_event(
            identity=self._identity(caller),
            action=action,
            resources=resources,
            allowed=allowed,
            read_only=read_only_method(scope),
            request=request_info(
                scope, when=now, request_id=request_id or new_request_id(),
                region=sigv4.region or DEFAULT_REGION,
            ),
            event_source=f"{sigv4.service}.amazonaws.com",
            error_message=message,
            error_code="AccessDenied" if error is None else error.code,
        )


class PendingDecision:
    """An admitted request whose audit event waits for the app's decision."""

    __slots__ = ("_auditor", "_caller", "_clock", "_done", "_held", "_scope", "_send")

    def __init__(self, auditor: RequestAuditor, scope: Scope, caller: CallerIdentity,
                 send: Send, clock: Callable[[], datetime], *, held: bool, done: bool) -> None:
        self._auditor, self._scope, self._caller = auditor, scope, caller
        self._send, self._clock = send, clock
        self._held, self._done = held, done

    @property
    def done(self) -> bool:
        """True once the event is emitted (or none is due): ``send`` need not be wrapped."""
        return self._done

    async def send(self, message: Message) -> None:
        if not self._done and message["type"] == "http.response.start":
            self.finish()
        await self._send(message)

    def finish(self) -> None:
        """Emit the event (once) with the decision the app left in the scope, if any."""
        if self._done:
            return
        self._done = True
        if self._held:  # under Overflow.DROP a refused place was counted as dropped
            event = self._auditor._decision(self._scope, self._caller, "", self._clock(), None)
            self._auditor.log.emit(event, reserved=True)

