"""``IAMAuthorizer``: the middleware's authorizer that evaluates IAM policies for every request.

Per request, after the signature verified (``SigV4Middleware`` awaits
:meth:`IAMAuthorizer.authorize`):

1. the caller's :class:`~..entities.AuthorizationSnapshot` comes from a
   :class:`~..entities.SnapshotCache` (identity, groups, inline and attached
   policies, permissions boundary; current within ``max_age`` seconds across
   processes, at once for changes made in this process);
2. an :class:`IAMRequest` goes into ``scope["sigv4.iam"]`` and an
   :class:`IAMUser` into ``scope["user"]`` (``request.user``: ARN, account,
   user name, groups);
3. the action and resource come from the ``resolver`` (ASGI level) and are
   decided at once, or, when it has none for the request, by the app after
   routing (:func:`~._frameworks.authorize`, :func:`~._frameworks.requires_permission`);
4. every decision, allowed or refused, leaves an
   :class:`~sigv4kit.middleware.asgi.authorize.AuthorizationRecord` in
   ``scope["sigv4.authorization"]``; a refusal is :class:`sigv4kit.AccessDenied`
   (403) with AWS's message.

Fail closed (``require_decision=True``, the default): a request must not
reach a response without a decision. Decisions made inside the app need
:meth:`IAMAuthorizer.guard` around the app (:func:`iam_middleware` installs
it): a response started with no decision, or after a refused one, is
replaced by 403 AccessDenied in the middleware's error format. Without the
guard, a request the resolver does not resolve is refused at once.

Imports: the middleware's seam, the entities' cache, the policy engine, :mod:`._request`.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final

from sigv4kit.verify import AccessDenied, InternalError, ServiceUnavailable

from ...asgi.authorize import AUTHORIZATION_KEY, AuthorizationRecord
from ...asgi.identity import CallerIdentity, SigV4User
from ...asgi.refusals import send_error
from ...asgi.request import TrustedProxies, parse_trusted_proxies
from ...asgi.responses import ErrorFormat, new_request_id
from ...asgi.types import ASGIApp, Message, Receive, Scope, Send
from ...store.errors import StoreUnavailableError
from ..entities import AuthorizationSnapshot, IAMStore, SnapshotCache
from ..policy import Decision
from ._context import session_context_keys
from ._decide import CallerPolicies, decide, denial_message
from ._request import engine_principal_of, principal_keys, request_keys, session_keys, w3c_time
from ._template import ResourceTemplateError

__all__ = [
    "IAM_REQUEST_KEY",
    "TEMPLATE_ERROR_KEY",
    "DecisionGuard",
    "IAMAuthorizer",
    "IAMRequest",
    "IAMUser",
    "Resolution",
    "Resolver",
    "caller_policies",
]

#: Where :class:`IAMAuthorizer` leaves the request's :class:`IAMRequest`.
IAM_REQUEST_KEY: Final = "sigv4.iam"

#: Where the framework helpers leave a :class:`ResourceTemplateError` for the guard.
TEMPLATE_ERROR_KEY: Final = "sigv4.iam.error"
# Prepared snapshots kept (one per access key; cleared when full).
_PREPARED_SIZE = 10_000

logger = logging.getLogger("sigv4kit.middleware.authz")

ContextValue = str | Sequence[str]


@dataclass(frozen=True, slots=True, kw_only=True)
class Resolution:
    """What a request does, as IAM sees it: ``action`` on ``resource``, plus context keys.

    ``context`` adds condition keys for this request (``aws:ResourceTag/owner``,
    ``aws:RequestTag/team``, ``orders:Amount``, ...); it cannot override the
    ``aws:`` keys the authorizer sets from the request and the caller.
    """

    action: str
    resource: str
    context: Mapping[str, ContextValue] = field(default_factory=dict)


#: ``resolver(scope) -> Resolution | None`` (or an awaitable of it): None when
#: the app decides after routing.
Resolver = Callable[[Scope], "Resolution | Awaitable[Resolution | None] | None"]


class IAMUser(SigV4User):
    """``request.user`` behind :class:`IAMAuthorizer`: the IAM principal that signed.

    ``arn`` (for a role session, the session's ``assumed-role`` ARN),
    ``account_id``, ``user_name`` (None for the root user and roles),
    ``groups`` (group names, sorted), ``group_arns``, ``is_root``, and
    ``snapshot`` (everything the decisions read).
    """

    __slots__ = ("snapshot",)

    def __init__(self, caller: CallerIdentity, snapshot: AuthorizationSnapshot) -> None:
        super().__init__(caller)
        self.snapshot = snapshot

    def __repr__(self) -> str:
        return f"IAMUser(arn={self.arn!r}, groups={self.groups!r})"

    @property
    def arn(self) -> str:
        return self.caller.arn

    @property
    def account_id(self) -> str:
        return self.snapshot.principal.account_id

    @property
    def user_name(self) -> str | None:
        info = self.snapshot.principal
        return info.name if info.kind.value == "user" and not self.snapshot.is_root else None

    @property
    def groups(self) -> tuple[str, ...]:
        return tuple(group.group_name for group in self.snapshot.groups)

    @property
    def group_arns(self) -> tuple[str, ...]:
        return tuple(group.arn for group in self.snapshot.groups)

    @property
    def is_root(self) -> bool:
        return self.snapshot.is_root


def caller_policies(
    snapshot: AuthorizationSnapshot, caller: CallerIdentity, context: Mapping[str, ContextValue]
) -> CallerPolicies:
    """Who calls and every policy that decides for them: identity, boundary, session."""
    return CallerPolicies(
        principal=engine_principal_of(snapshot, caller),
        identity_policies=snapshot.policies,
        permissions_boundary=snapshot.permissions_boundary,
        session_policies=snapshot.session_policies or None,
        context=context,
    )


def resource_account(resource: str) -> str | None:
    """The account field of an ARN (None when empty or not an ARN: the caller's account)."""
    if not resource.startswith("arn:"):
        return None
    parts = resource.split(":", 5)
    return parts[4] or None if len(parts) == 6 else None


@dataclass(slots=True)
class _Prepared:
    """What a snapshot gives every request of the same key (kept while the snapshot is)."""

    snapshot: AuthorizationSnapshot
    policies: CallerPolicies
    keys: dict[str, str]


class IAMRequest:
    """One request's authorization state, in ``scope["sigv4.iam"]``.

    ``await``-free: the snapshot is loaded, so :meth:`authorize` is pure
    evaluation. The app (or the framework helpers) calls it after routing.
    """

    __slots__ = ("_context", "_prepared", "caller", "scope", "user")

    def __init__(
        self,
        *,
        scope: Scope,
        caller: CallerIdentity,
        prepared: _Prepared,
        context: dict[str, ContextValue],
    ) -> None:
        self.scope = scope
        self.caller = caller
        self._prepared = prepared
        self._context = context
        self.user = IAMUser(caller, prepared.snapshot)

    @property
    def account_id(self) -> str:
        """The caller's account: what ``{account}`` fills in a resource template."""
        return self._prepared.snapshot.principal.account_id

    @property
    def region(self) -> str:
        """The signed credential scope's region: what ``{region}`` fills."""
        return self.caller.sigv4.region

    @property
    def context(self) -> Mapping[str, ContextValue]:
        """The request context the conditions see (without a decision's extra keys)."""
        return self._context

    def decide(
        self, action: str, resource: str, context: Mapping[str, ContextValue] | None = None
    ) -> Decision:
        """The policy engine's decision, without recording or raising."""
        keys = self._context
        if context:
            # The app's keys first: it may not override what the request says.
            keys = {**context, **self._context}
        return decide(self._prepared.policies, action, resource, context=keys,
                      resource_account=resource_account(resource))

    def authorize(
        self, action: str, resource: str, context: Mapping[str, ContextValue] | None = None
    ) -> AuthorizationRecord:
        """Decide and record; :class:`sigv4kit.AccessDenied` (AWS's message) when refused."""
        decision = self.decide(action, resource, context)
        if decision.allowed:
            allowed_by = decision.matched[0].policy_id if decision.matched else ""
            record = AuthorizationRecord(action=action, resource=resource, allowed=True,
                                         reason=allowed_by or "")
            self.scope[AUTHORIZATION_KEY] = record
            return record
        message = denial_message(self._prepared.policies.principal.arn, action, resource,
                                 decision)
        self.scope[AUTHORIZATION_KEY] = AuthorizationRecord(
            action=action, resource=resource, allowed=False, reason=message
        )
        raise AccessDenied(message)


def refuse_undecided(scope: Scope, principal_arn: str) -> AccessDenied:
    """The refusal of a request that reached a response with no decision (and its record)."""
    message = (f"User: {principal_arn} is not authorized to perform this request: "
               "the service declares no action for it")
    scope[AUTHORIZATION_KEY] = AuthorizationRecord(action="", resource="", allowed=False,
                                                   reason=message)
    logger.warning("refused %s %s: no authorization decision was made for it (declare its "
                   "action and resource)", scope.get("method", ""), scope.get("path", ""))
    return AccessDenied(message)


class _Clock:
    """``aws:CurrentTime`` / ``aws:EpochTime`` of now, formatted once per second."""

    __slots__ = ("_clock", "_keys", "_second")

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self._clock = clock
        self._second = -1
        self._keys: dict[str, str] = {}

    def keys(self) -> tuple[datetime, dict[str, str]]:
        now = self._clock()
        second = int(now.timestamp())
        if second != self._second:
            self._keys = {"aws:CurrentTime": w3c_time(now), "aws:EpochTime": str(second)}
            self._second = second
        return now, self._keys


def _system_clock() -> datetime:
    return datetime.now(UTC)


class IAMAuthorizer:
    """Authorize every request by the caller's IAM policies (the middleware's ``authorizer``).

    ```python
    from sigv4kit.middleware import ErrorFormat, SigV4Middleware, open_store
    from sigv4kit.middleware.iam.authz import IAMAuthorizer, Resolution
    from sigv4kit.middleware.iam.entities import IAMStore

    def resolver(scope):
        iam = scope["sigv4.iam"]
        return Resolution(action="orders:ListOrders",
                          resource=f"arn:aws:orders:{iam.region}:{iam.account_id}:order/*")

    store = open_store("sqlite:///iam.db")
    app = SigV4Middleware(app, store=store, authorizer=IAMAuthorizer(IAMStore(store),
                          resolver=resolver), error_format=ErrorFormat.JSON)
    ```

    Options: ``resolver`` (``(scope) -> Resolution | None``; None leaves the
    decision to the app), ``require_decision`` (fail closed, default True: see
    the module docstring), ``trusted_proxies`` (the middleware's: whose
    ``X-Forwarded-For`` / ``-Proto`` give ``aws:SourceIp`` / ``aws:SecureTransport``),
    ``clock`` (aware UTC datetimes: ``aws:CurrentTime``), ``max_age`` (how
    stale a snapshot may be, in seconds, for changes made by other processes),
    ``cache`` (a :class:`SnapshotCache` to share).
    """

    def __init__(
        self,
        iam: IAMStore,
        *,
        resolver: Resolver | None = None,
        require_decision: bool = True,
        trusted_proxies: Iterable[str] = (),
        clock: Callable[[], datetime] | None = None,
        max_age: float = 1.0,
        cache: SnapshotCache | None = None,
    ) -> None:
        self.iam = iam
        self.resolver = resolver
        self.require_decision = require_decision
        self.trusted_proxies: TrustedProxies = parse_trusted_proxies(trusted_proxies)
        self.cache = cache or SnapshotCache(iam, max_age=max_age)
        self._clock = _Clock(clock or _system_clock)
        self._prepared: dict[str, _Prepared] = {}
        self._guarded = False

    def __repr__(self) -> str:
        return (f"IAMAuthorizer(resolver={self.resolver!r}, "
                f"require_decision={self.require_decision})")

    def guard(self, app: ASGIApp, *, error_format: ErrorFormat = ErrorFormat.S3_XML) -> ASGIApp:
        """Wrap the app so decisions made after routing are enforced (see :class:`DecisionGuard`).

        Use the middleware's ``error_format``.
        """
        self._guarded = True
        return DecisionGuard(app, error_format=error_format)

    def _prepare(self, caller: CallerIdentity, snapshot: AuthorizationSnapshot) -> _Prepared:
        prepared = self._prepared.get(caller.access_key_id)
        if prepared is not None and prepared.snapshot is snapshot:
            return prepared
        keys = principal_keys(snapshot, caller)
        prepared = _Prepared(snapshot=snapshot, policies=caller_policies(snapshot, caller, {}),
                             keys=keys)
        if len(self._prepared) >= _PREPARED_SIZE:
            self._prepared.clear()
        self._prepared[caller.access_key_id] = prepared
        return prepared

    async def load(self, caller: CallerIdentity, scope: Scope) -> IAMRequest:
        """The request's :class:`IAMRequest` (snapshot loaded, context built), put in the scope."""
        try:
            snapshot = await self.cache.get(caller.access_key_id)
        except StoreUnavailableError:
            raise ServiceUnavailable() from None
        if snapshot is None:
            scope[AUTHORIZATION_KEY] = AuthorizationRecord(
                action="", resource="", allowed=False, reason="no IAM identity")
            raise AccessDenied(f"User: {caller.arn} is not authorized to perform this request: "
                               "its access key belongs to no IAM identity")
        prepared = self._prepare(caller, snapshot)
        now, time_keys = self._clock.keys()
        context: dict[str, ContextValue] = {**prepared.keys, **time_keys}
        context |= request_keys(scope, caller, self.trusted_proxies)
        if snapshot.session is not None:
            # STS's session record: MFA, source identity, federated provider.
            context |= session_context_keys(snapshot.session, now)
        elif caller.session.temporary:
            context |= session_keys(caller, now)
        request = IAMRequest(scope=scope, caller=caller, prepared=prepared, context=context)
        scope[IAM_REQUEST_KEY] = request
        scope["user"] = request.user
        return request

    async def authorize(self, caller: CallerIdentity, scope: Scope) -> None:
        """The seam: load, resolve, decide (or leave the decision to the app behind the guard)."""
        request = await self.load(caller, scope)
        resolution: Resolution | None = None
        if self.resolver is not None:
            found = self.resolver(scope)
            resolution = (found if found is None or type(found) is Resolution
                          else await found if inspect.isawaitable(found) else found)
        if resolution is not None:
            try:
                request.authorize(resolution.action, resolution.resource, resolution.context)
            except AccessDenied:
                scope.pop(IAM_REQUEST_KEY, None)  # refused: the app never runs (see the guard)
                raise
            return
        if self.require_decision and (not self._guarded or scope.get("type") != "http"):
            raise refuse_undecided(scope, request.user.arn)


class DecisionGuard:
    """ASGI wrapper enforcing decisions made inside the app (fail closed).

    For an HTTP request that went through :class:`IAMAuthorizer`:

    * a response started after an allowed decision passes through;
    * a response started with no decision, or after a refused one (the app's
      own answer, or the 500 a framework makes of the ``AccessDenied`` a
      dependency raised), is replaced by the 403 AccessDenied of that
      decision in ``error_format``; the app's response is dropped;
    * a :class:`~._template.ResourceTemplateError` (a route whose template
      does not fit) becomes 500 InternalError, logged.

    Requests the middleware let through unauthenticated (exempt paths) pass
    unless the app refused one.
    """

    def __init__(self, app: ASGIApp, *, error_format: ErrorFormat = ErrorFormat.S3_XML) -> None:
        self.app = app
        self.error_format = error_format

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = {"replaced": False, "started": False}

        async def guarded_send(message: Message) -> None:
            if state["replaced"]:
                return
            if message["type"] == "http.response.start":
                refusal = self._refusal(scope)
                if refusal is not None:
                    state["replaced"] = True
                    await self._answer(send, scope, refusal)
                    return
                state["started"] = True
            await send(message)

        try:
            await self.app(scope, receive, guarded_send)
        except (AccessDenied, ResourceTemplateError) as exc:
            if state["replaced"]:
                return
            if state["started"]:
                raise
            if isinstance(exc, ResourceTemplateError):
                scope[TEMPLATE_ERROR_KEY] = exc
            await self._answer(send, scope, self._refusal(scope) or exc)
        finally:
            # The request is over: its IAMRequest (which holds the scope, to record
            # decisions) leaves the scope, so the two are freed by reference counting
            # instead of waiting, with everything the scope holds, for the cycle collector.
            scope.pop(IAM_REQUEST_KEY, None)

    @staticmethod
    def _refusal(scope: Scope) -> AccessDenied | InternalError | None:
        broken = scope.get(TEMPLATE_ERROR_KEY)
        if broken is not None:
            # The route's template does not fit its path: the service's bug, not the caller's.
            logger.error("refused %s %s: %s", scope.get("method", ""), scope.get("path", ""),
                         broken)
            return InternalError()
        record = scope.get(AUTHORIZATION_KEY)
        if isinstance(record, AuthorizationRecord):
            return None if record.allowed else AccessDenied(record.reason)
        request = scope.get(IAM_REQUEST_KEY)
        if isinstance(request, IAMRequest):
            return refuse_undecided(scope, request.user.arn)
        return None  # not through the authorizer: an exempt path

    async def _answer(
        self, send: Send, scope: Scope, error: AccessDenied | InternalError | ResourceTemplateError
    ) -> None:
        if isinstance(error, ResourceTemplateError):  # pragma: no cover - _refusal answered it
            error = InternalError()
        await send_error(send, error, scope, new_request_id(), self.error_format)
