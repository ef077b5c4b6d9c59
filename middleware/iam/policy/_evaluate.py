"""Policy evaluation: the decision AWS would reach for one request.

``evaluate(request, identity_policies=..., resource_policy=..., permissions_boundary=...,
session_policies=..., service_control_policies=...)`` follows the documented order
(reference_policies_evaluation-logic, ..._cross-account, access_policies_boundaries,
access_policies#policies_session)::

    1. an explicit Deny in any policy wins (ExplicitDeny);
    2. SCPs, when given, must allow (the list holds the SCPs that apply to the account; one
       allowing is enough: levels of an OU hierarchy are not modelled);
    3. same account: identity-based OR resource-based, then AND permissions boundary, AND session
       policies. A resource-based policy naming the IAM user or the session principal (role
       session, federated user, or "*") directly allows on its own; one naming the role ARN joins
       the identity side and stays limited by the boundary and session policies; one naming the
       account only delegates to the account's own policies;
    3'. cross-account (``resource_account`` is not the principal's account): the identity side
       (AND boundary AND session) and the resource policy must both allow;
    4. nothing allowed: ImplicitDeny.

``sts:GetCallerIdentity`` is allowed even under an explicit Deny (it needs no permission). The
account root user (``PrincipalType.ACCOUNT``) has full access on the identity side, still subject to
explicit denies and SCPs (an Allow for it may match no statement). A federated user
(GetFederationToken) without a session policy has no identity-side permissions.

Trust policies: pass the role's trust policy as ``resource_policy`` (policy type TRUST), the action
(``sts:AssumeRole``, ``sts:AssumeRoleWithWebIdentity``, ...) and the role's ARN as the resource, and
the caller's identity policies (and boundary) when you want the whole AssumeRole decision. A trust
policy must always allow the principal: no identity policy can stand in for it. When it names the
caller directly that is enough (same account); when it names the caller's account, or the caller is
in another account, the caller's identity policies must allow the action too.

Fail closed: an error met while evaluating (an unknown operator, a value of the wrong type, a
malformed variable) makes an Allow statement not apply and a Deny statement apply, is reported in
``Decision.errors``, and the decision is never Allow.

Unsupported policy element uses are decided conservatively and documented here: ``NotPrincipal``
with ``Allow`` never applies (current AWS documentation: "must be used with Deny; using it with
Allow is not supported"); ``Deny`` + ``NotPrincipal`` applies to every principal that has a
permissions boundary (access_policies_boundaries), and otherwise exempts only a principal all of
whose names (user or session ARN, role ARN, account) are listed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import NamedTuple

from ._compile import (
    CompiledStatement,
    MatchedStatement,
    PrincipalMatch,
    candidates,
    describe,
)
from ._conditions import ConditionError
from ._model import Policy, PolicyType
from ._variables import Lookup

__all__ = [
    "AuthorizationRequest",
    "Decision",
    "DecisionEffect",
    "MatchedStatement",
    "Principal",
    "PrincipalType",
    "evaluate",
]

ContextValue = str | Sequence[str]

_SOLE_ALLOWS_SIZE = 4096
_REMEMBERED_LISTS = 4096  # candidate lists whose condition outcomes are remembered
_SIGNATURES = 256  # context signatures remembered per list (then it starts afresh)

_UNCONDITIONAL_ACTIONS = frozenset({"sts:getcalleridentity"})
"""Needs no permission and is allowed even under an explicit Deny (STS API reference)."""



class PrincipalType(StrEnum):
    """The values of ``aws:PrincipalType``."""

    ACCOUNT = "Account"
    USER = "User"
    ASSUMED_ROLE = "AssumedRole"
    FEDERATED_USER = "FederatedUser"
    WEB_IDENTITY = "WebIdentityUser"
    SERVICE = "Service"
    ANONYMOUS = "Anonymous"


@dataclass(frozen=True, slots=True, kw_only=True)
class Principal:
    """Who is asking.

    ``arn`` is the user ARN, ``arn:aws:iam::<acct>:root``, the role session
    ``arn:aws:sts::<acct>:assumed-role/<role>/<session>`` or the federated user's ARN;
    ``role_arn`` is the role's ARN for a role session (what ``aws:PrincipalArn`` holds).
    """

    arn: str
    account: str | None
    type: PrincipalType
    role_arn: str | None = None
    federated_provider: str | None = None
    service: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthorizationRequest:
    """One request to authorize.

    ``context`` maps condition keys (``aws:SourceIp``, ``aws:PrincipalTag/team``...) to one value
    (a ``str``) or several (a list or tuple: a multivalued key); keys match case-insensitively.
    ``resource_account`` is the resource owner's account; None means the principal's account.
    """

    principal: Principal
    action: str
    resource: str
    context: Mapping[str, ContextValue] = field(default_factory=dict)
    resource_account: str | None = None


class DecisionEffect(StrEnum):
    ALLOW = "Allow"
    EXPLICIT_DENY = "ExplicitDeny"
    IMPLICIT_DENY = "ImplicitDeny"


@dataclass(frozen=True, slots=True, kw_only=True)
class Decision:
    """The outcome of :func:`evaluate`.

    ``matched``: for Allow the allowing statements, for ExplicitDeny the denying ones, else empty.
    ``missing_context_keys``: condition keys (and policy variables) that statements which would
    otherwise apply referenced but the context lacked, sorted. ``denied_by``: for ImplicitDeny the
    policy type with no Allow, for ExplicitDeny the denying policy's type. ``errors``: evaluation
    errors met; any error means the request is not allowed.
    """

    effect: DecisionEffect
    matched: tuple[MatchedStatement, ...] = ()
    missing_context_keys: tuple[str, ...] = ()
    denied_by: PolicyType | None = None
    errors: tuple[str, ...] = ()

    @property
    def allowed(self) -> bool:
        return self.effect is DecisionEffect.ALLOW


def _context_lookup(values: Mapping[str, ContextValue]) -> Lookup:
    """Case-insensitive reads of the request context (a lower-cased copy only if needed)."""
    lowered: dict[str, ContextValue] = {}

    def lookup(key: str) -> ContextValue | None:
        value = values.get(key)
        if value is None:
            if not lowered and values:
                lowered.update({name.lower(): item for name, item in values.items()})
            value = lowered.get(key.lower())
        if value is None or type(value) is str:
            return value
        return _checked_value(key, value)

    return lookup


def _checked_value(key: str, value: object) -> ContextValue:
    """A multivalued context value: a list or tuple of strings (else an evaluation error)."""
    if isinstance(value, list | tuple) and all(type(item) is str for item in value):
        return tuple(value)
    raise ConditionError(f"the context value of {key} is not a string or a list of strings")


class _Layer:
    """What the policies of one type said about the request."""

    __slots__ = ("allows", "denies", "errors")

    def __init__(self) -> None:
        self.allows: list[tuple[CompiledStatement, PrincipalMatch]] = []
        self.denies: list[CompiledStatement] = []
        self.errors: list[str] = []


_UNCONDITIONAL = Decision(effect=DecisionEffect.ALLOW)
_SILENT = _Layer()  # shared by every policy type with nothing to say (never written to)


class _Said(NamedTuple):
    """What each kind of policy said."""

    scp: _Layer
    resource: _Layer  # resource-based or trust policy
    identity: _Layer
    boundary: _Layer
    session: _Layer


class _Run:
    """Per-request state shared by every statement check."""

    __slots__ = ("failed", "has_boundary", "lookup", "missing", "principal", "resource",
                 "resource_hits")

    def __init__(self, request: AuthorizationRequest, *, has_boundary: bool) -> None:
        self.principal = request.principal
        self.resource = request.resource
        self.lookup = _context_lookup(request.context)
        self.has_boundary = has_boundary
        self.missing: set[str] = set()
        self.failed = False  # a Deny applied or an error was met
        # Each (shared) resource check's answer for this request: the resource and the
        # context are fixed for the run, so a check repeated by many statements runs once.
        self.resource_hits: dict[object, bool] = {}


def evaluate(
    request: AuthorizationRequest,
    *,
    identity_policies: Sequence[Policy] = (),
    resource_policy: Policy | None = None,
    permissions_boundary: Policy | None = None,
    session_policies: Sequence[Policy] | None = None,
    service_control_policies: Sequence[Policy] | None = None,
) -> Decision:
    """Decide ``request`` against the policies that apply to it (see the module docstring).

    ``session_policies`` / ``service_control_policies``: None (or empty) when none apply.
    Never raises for policy content: evaluation errors deny and are listed in ``Decision.errors``.

    ```python
    decision = evaluate(AuthorizationRequest(principal=alice, action="s3:GetObject",
                                             resource="arn:aws:s3:::bucket/key"),
                        identity_policies=[policy])
    decision.allowed
    ```
    """
    action = request.action.lower()
    if action in _UNCONDITIONAL_ACTIONS:
        return _UNCONDITIONAL
    run = _Run(request, has_boundary=permissions_boundary is not None)
    identity = _layer(run, action, identity_policies)
    if (resource_policy is None and permissions_boundary is None and not session_policies
            and not service_control_policies and not _cross_account(request)
            and request.principal.type is not PrincipalType.FEDERATED_USER):
        # Only identity-based policies apply (the common case): they alone decide.
        return _decide_identity_only(run, identity)
    said = _Said(
        _layer(run, action, service_control_policies),
        _layer(run, action, (resource_policy,) if resource_policy else None, principals=True),
        identity,
        _layer(run, action, (permissions_boundary,) if permissions_boundary else None),
        _layer(run, action, session_policies),
    )
    trust = resource_policy is not None and resource_policy.policy_type is PolicyType.TRUST
    resource_type = PolicyType.TRUST if trust else PolicyType.RESOURCE
    missing = tuple(sorted(run.missing)) if run.missing else ()
    if run.failed:
        return _failed(said, resource_type, missing)
    denied_by = _implicit_denial(request, said, resource_type,
                                 scps=bool(service_control_policies),
                                 boundary=permissions_boundary is not None,
                                 sessions=bool(session_policies))
    if denied_by is not None:
        return Decision(effect=DecisionEffect.IMPLICIT_DENY, denied_by=denied_by,
                        missing_context_keys=missing)
    matched = [s.matched for s, _ in said.identity.allows]
    for layer in (said.resource, said.boundary, said.session, said.scp):
        if layer.allows:
            matched.extend(s.matched for s, _ in layer.allows)
    return Decision(effect=DecisionEffect.ALLOW, matched=tuple(matched),
                    missing_context_keys=missing)


def _decide_identity_only(run: _Run, identity: _Layer) -> Decision:
    """The general rules when only identity-based policies are given, without their overhead."""
    missing = tuple(sorted(run.missing)) if run.missing else ()
    if run.failed:
        return _failed(_Said(_SILENT, _SILENT, identity, _SILENT, _SILENT), PolicyType.RESOURCE,
                       missing)
    if not identity.allows and not _is_root(run.principal):
        return Decision(effect=DecisionEffect.IMPLICIT_DENY, denied_by=PolicyType.IDENTITY,
                        missing_context_keys=missing)
    if len(identity.allows) == 1 and not missing:
        return _sole_allow(identity.allows[0][0])
    return Decision(effect=DecisionEffect.ALLOW,
                    matched=tuple(s.matched for s, _ in identity.allows),
                    missing_context_keys=missing)


_sole_allows: dict[int, tuple[CompiledStatement, Decision]] = {}


def _sole_allow(statement: CompiledStatement) -> Decision:
    """The (immutable, hence shared) Allow decided by this one statement alone."""
    cached = _sole_allows.get(id(statement))
    if cached is not None and cached[0] is statement:
        return cached[1]
    decision = Decision(effect=DecisionEffect.ALLOW, matched=(statement.matched,))
    if len(_sole_allows) >= _SOLE_ALLOWS_SIZE:
        _sole_allows.clear()
    _sole_allows[id(statement)] = (statement, decision)
    return decision


def _failed(said: _Said, resource_type: PolicyType, missing: tuple[str, ...]) -> Decision:
    """An explicit Deny, or an evaluation error: never Allow.

    Policy types are visited in a fixed order so the decision does not depend on the order the
    policies were given in.
    """
    by_type = ((PolicyType.SCP, said.scp), (resource_type, said.resource),
               (PolicyType.IDENTITY, said.identity), (PolicyType.BOUNDARY, said.boundary),
               (PolicyType.SESSION, said.session))
    errors = tuple(error for _, layer in by_type for error in layer.errors)
    denied = [(kind, layer.denies) for kind, layer in by_type if layer.denies]
    if denied:
        return Decision(effect=DecisionEffect.EXPLICIT_DENY, denied_by=denied[0][0],
                        matched=tuple(s.matched for _, denies in denied for s in denies),
                        missing_context_keys=missing, errors=errors)
    first = next(kind for kind, layer in by_type if layer.errors)
    return Decision(effect=DecisionEffect.IMPLICIT_DENY, denied_by=first,
                    missing_context_keys=missing, errors=errors)


def _implicit_denial(
    request: AuthorizationRequest,
    said: _Said,
    resource_type: PolicyType,
    *,
    scps: bool,
    boundary: bool,
    sessions: bool,
) -> PolicyType | None:
    """The policy type that fails to allow, or None when the request is allowed."""
    if scps and not said.scp.allows:
        return PolicyType.SCP
    boundary_allows = not boundary or bool(said.boundary.allows)
    # A GetFederationToken session without a session policy has no identity-side permissions.
    session_allows = (bool(said.session.allows) if sessions
                      else request.principal.type is not PrincipalType.FEDERATED_USER)
    grant = max((kind for _, kind in said.resource.allows), default=None)
    if grant is None and (resource_type is PolicyType.TRUST or _cross_account(request)):
        return resource_type  # trust policies, and other accounts' resources, must allow
    if grant is PrincipalMatch.DIRECT and not _cross_account(request):
        return None
    identity_allows = bool(said.identity.allows) or _is_root(request.principal) or (
        grant is PrincipalMatch.ROLE and not _cross_account(request))
    return _identity_side(identity_allows, boundary_allows, session_allows)


def _identity_side(identity: bool, boundary: bool, session: bool) -> PolicyType | None:
    if not identity:
        return PolicyType.IDENTITY
    if not boundary:
        return PolicyType.BOUNDARY
    if not session:
        return PolicyType.SESSION
    return None


def _is_root(principal: Principal) -> bool:
    """The account's root user: full access on the identity side (EL: "By default, all requests
    are implicitly denied with the exception of the AWS account root user, which has full
    access"); explicit denies, SCPs and other accounts' resource policies still apply."""
    return principal.type is PrincipalType.ACCOUNT


def _cross_account(request: AuthorizationRequest) -> bool:
    owner, account = request.resource_account, request.principal.account
    # Anonymous and service principals belong to no account: only a resource policy can grant.
    return owner is not None and account is not None and owner != account


class _Outcome(NamedTuple):
    """What a statement's conditions said for one context: hold (all true), the first error
    met, the keys they needed but did not find."""

    holds: bool
    error: str | None
    missing: frozenset[str]


class _Remembered:
    """The condition outcomes of one candidate list, per context signature.

    A condition's answer depends only on the values of the keys it ``reads``, so the
    values of every key the list's conditions read (the signature) decide every outcome:
    requests of the same caller repeat them (source IP, region, tags, the current second).
    For a new signature every statement's conditions are evaluated once; the statements
    that can still say something (conditions hold, keys missing, an error, a resource check
    that reads the context) are kept with their outcome, so a request checks the resources
    of only those. The others would be rejected whatever the resource.
    """

    __slots__ = ("reads", "seen", "statements")

    def __init__(self, statements: tuple[CompiledStatement, ...]) -> None:
        self.statements = statements
        reads: dict[str, str] = {}
        for statement in statements:
            for condition in statement.conditions:
                for key in condition.reads:
                    reads.setdefault(key.lower(), key)
        self.reads = tuple(reads.values())
        self.seen: dict[tuple[ContextValue | None, ...], _Live] = {}

    def live(self, lookup: Lookup) -> _Live:
        """The statements that may apply in this context, with their outcomes."""
        try:
            signature = tuple([lookup(key) for key in self.reads])
        except ConditionError:
            # A malformed context value: each statement reports it as it meets it.
            return self._live(lookup)
        found = self.seen.get(signature)
        if found is None:
            if len(self.seen) >= _SIGNATURES:
                self.seen.clear()
            found = self.seen[signature] = self._live(lookup)
        return found

    def _live(self, lookup: Lookup) -> _Live:
        live = []
        for statement in self.statements:
            outcome = _conditions_outcome(statement, lookup)
            if (outcome.holds or outcome.missing or statement.error is not None
                    or statement.resource_reads_context):
                live.append((statement, outcome))
        return tuple(live)


_Live = tuple[tuple[CompiledStatement, "_Outcome"], ...]
_remembered: dict[int, _Remembered] = {}


def _remembered_for(statements: tuple[CompiledStatement, ...]) -> _Remembered:
    found = _remembered.get(id(statements))
    if found is None or found.statements is not statements:
        if len(_remembered) >= _REMEMBERED_LISTS:
            _remembered.clear()
        found = _remembered[id(statements)] = _Remembered(statements)
    return found


def _layer(
    run: _Run, action: str, policies: Sequence[Policy] | None, *, principals: bool = False
) -> _Layer:
    """Check every statement of ``policies`` that covers the action (``principals``: a
    resource-based or trust policy, whose Principal/NotPrincipal must name the requester)."""
    if not policies:
        return _SILENT
    layer = _Layer()
    statements = candidates(policies, action)
    if not statements:
        return layer
    resource, direct = run.resource, PrincipalMatch.DIRECT
    for statement, outcome in _remembered_for(statements).live(run.lookup):
        if not resource.startswith(statement.prefixes):
            continue  # cheap rejection: no Resource pattern can match
        grant = _principal_match(run, statement) if principals else direct
        if grant is not None and _check_resource(run, statement, layer):
            _apply(run, statement, grant, layer, outcome)
    return layer


def _check_resource(run: _Run, statement: CompiledStatement, layer: _Layer) -> bool:
    """Does the statement's Resource/NotResource cover the request? (Errors are recorded.)"""
    if statement.error is not None:
        _record_error(run, statement, statement.error, layer)
        return False
    check = statement.resource_check
    if check is None:
        return True
    try:
        hit = run.resource_hits.get(check)
        if hit is None:
            hit = run.resource_hits[check] = check(run.resource, run.lookup, run.missing)
    except ConditionError as exc:
        _record_error(run, statement, f"{describe(statement.policy, statement.statement)}: {exc}",
                      layer)
        return False
    return hit


def _conditions_outcome(statement: CompiledStatement, lookup: Lookup) -> _Outcome:
    """Evaluate every condition of the statement (all of them: missing keys are reported)."""
    if not statement.conditions:
        return _ALWAYS
    failed: str | None = None
    holds = True
    missing: set[str] = set()
    for condition in statement.conditions:
        try:
            if not condition.evaluate(lookup, missing):
                holds = False
        except ConditionError as exc:
            failed = failed or str(exc)
    return _Outcome(holds, failed, frozenset(missing))


_ALWAYS = _Outcome(True, None, frozenset())


def _apply(run: _Run, statement: CompiledStatement, grant: PrincipalMatch, layer: _Layer,
           said: _Outcome) -> None:
    """A statement whose resource matched: records an allow, a deny or an error."""
    if said.missing:
        run.missing.update(said.missing)
    if not said.holds:  # one false condition: the statement does not apply, errors or not (AND)
        return
    if said.error is not None:
        where = describe(statement.policy, statement.statement)
        _record_error(run, statement, f"{where}: {said.error}", layer)
    elif statement.allow:
        layer.allows.append((statement, grant))
    else:
        layer.denies.append(statement)
        run.failed = True


def _record_error(run: _Run, statement: CompiledStatement, message: str, layer: _Layer) -> None:
    """Fail closed: a Deny that cannot be evaluated applies; an Allow does not."""
    run.failed = True
    layer.errors.append(message)
    if not statement.allow:
        layer.denies.append(statement)


def _principal_match(run: _Run, statement: CompiledStatement) -> PrincipalMatch | None:
    """How a resource-based statement's Principal/NotPrincipal names the requester (or None)."""
    if statement.principal is not None:
        return statement.principal.match(run.principal)
    if statement.not_principal is None or statement.allow:
        return None  # no principal at all, or Allow + NotPrincipal (unsupported): never applies
    if run.has_boundary or not statement.not_principal.exempts(run.principal):
        return PrincipalMatch.DIRECT
    return None

