"""Policies compiled for evaluation: parse once, evaluate many.

A :class:`Policy` is compiled once (and cached by identity) into a :class:`CompiledPolicy`:

* an index from lower-cased action names to the statements that list them exactly, plus short lists
  of statements with wildcard actions and with ``NotAction``; the statements that apply to an action
  are memoized per policy set, so a request only looks at the few statements that name its action,
  and the literal prefix of each statement's resources rejects most of those with one call;
* each statement's resource patterns as ready matchers (ARN segment by segment, policy variables
  substituted per request only where they occur);
* each condition as a compiled function (``_conditions``);
* ``Principal``/``NotPrincipal`` as sets of account ids, ARNs, providers and services.

A statement that cannot be compiled (a malformed policy variable in a resource) keeps its error and
fails closed when a request reaches it.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Protocol

from ._conditions import CompiledCondition, compile_condition
from ._match import ARN_SEGMENTS, Matcher, compile_glob, glob_tokens
from ._model import Policy, PolicyType, Position, PrincipalSpec, Statement
from ._variables import (
    Literal,
    Lookup,
    Template,
    Variable,
    VariableSyntaxError,
    has_variables,
    literal_parts,
    parse_template,
    pattern_matcher,
    substitute,
)

__all__ = [
    "CompiledPolicy",
    "CompiledPrincipal",
    "CompiledStatement",
    "MatchedStatement",
    "Named",
    "PrincipalMatch",
    "candidates",
    "compile_policy",
    "describe",
]

VARIABLES_VERSION = "2012-10-17"
"""Policy variables are substituted only in policies of this Version (else literal text)."""

_ACCOUNT_ID_LENGTH = 12
_CACHE_SIZE = 4096
_MEMO_SIZE = 1024

ResourceCheck = Callable[[str, Lookup, set[str]], bool]


class PrincipalMatch(IntEnum):
    """How a resource-based policy's ``Principal`` names the requester (stronger is larger).

    reference_policies_evaluation-logic and access_policies_boundaries: a resource-based policy that
    names the IAM user or the session principal directly grants on its own; one that names the role
    ARN is added to the identity-based permissions (and limited by the boundary and session policy);
    one that names the account delegates to the account's own policies.
    """

    ACCOUNT = 1
    ROLE = 2
    DIRECT = 3


class Named(Protocol):
    """The names a requester answers to in ``Principal``/``NotPrincipal`` (as ``Principal``)."""

    @property
    def arn(self) -> str: ...
    @property
    def account(self) -> str | None: ...
    @property
    def role_arn(self) -> str | None: ...
    @property
    def federated_provider(self) -> str | None: ...
    @property
    def service(self) -> str | None: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class CompiledPrincipal:
    """A ``Principal``/``NotPrincipal`` element as sets, ready to test against an identity."""

    anyone: bool
    accounts: frozenset[str]
    arns: frozenset[str]
    federated: frozenset[str]
    services: frozenset[str]

    def match(self, who: Named) -> PrincipalMatch | None:
        """How strongly this element names ``who`` (None: not at all)."""
        if self.anyone or who.arn in self.arns:
            return PrincipalMatch.DIRECT
        if (who.federated_provider in self.federated) or (who.service in self.services):
            return PrincipalMatch.DIRECT
        if who.role_arn is not None and who.role_arn in self.arns:
            return PrincipalMatch.ROLE
        if who.account is not None and who.account in self.accounts:
            return PrincipalMatch.ACCOUNT
        return None

    def exempts(self, who: Named) -> bool:
        """``NotPrincipal``: every name of ``who`` is listed (account, role, session or user).

        reference_policies_elements_notprincipal: AWS may check the account first, then the role,
        then the session, so an exemption must list all of them (the documented examples do).
        """
        if self.anyone:
            return True
        root_of = _account_of(who.arn)
        names_listed = [
            root_of in self.accounts if root_of is not None else (
                who.arn in self.arns
                or who.federated_provider in self.federated
                or who.service in self.services)
        ]
        if who.role_arn is not None:
            names_listed.append(who.role_arn in self.arns)
        if who.account is not None:
            names_listed.append(who.account in self.accounts)
        return all(names_listed)


def _account_of(entry: str) -> str | None:
    """``"123456789012"`` and ``"arn:<partition>:iam::123456789012:root"`` name an account."""
    if len(entry) == _ACCOUNT_ID_LENGTH and entry.isdigit():
        return entry
    parts = entry.split(":")
    is_root = len(parts) == ARN_SEGMENTS and parts[2] == "iam" and parts[5] == "root"
    return parts[4] if is_root and parts[0] == "arn" else None


def compile_principal(spec: PrincipalSpec) -> CompiledPrincipal:
    accounts = {account for entry in spec.aws if (account := _account_of(entry)) is not None}
    return CompiledPrincipal(
        anyone=spec.any or "*" in spec.aws,
        accounts=frozenset(accounts),
        arns=frozenset(entry for entry in spec.aws if _account_of(entry) is None),
        federated=frozenset(spec.federated),
        services=frozenset(spec.service),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class MatchedStatement:
    """A statement that decided: which policy, which statement, where in the text."""

    policy_id: str
    policy_type: PolicyType
    sid: str | None
    index: int
    effect: str
    start: Position
    end: Position


@dataclass(frozen=True, slots=True, kw_only=True)
class CompiledStatement:
    """One statement, compiled; ``error`` is set when it could not be.

    ``prefixes``: every resource the statement's ``Resource`` can match starts with one of these
    (the literal text before the first wildcard or variable), so one ``str.startswith`` call rejects
    most statements; ``("",)`` for ``NotResource`` and trust policies. The evaluator must test them
    before ``resource_check``, which assumes it (for ``literal*`` patterns it checks nothing more).
    ``resource_reads_context``: the Resource/NotResource patterns hold policy variables (their
    check reads the request context, and may report missing keys or errors).
    """

    policy: Policy
    statement: Statement
    allow: bool
    prefixes: tuple[str, ...]
    resource_check: ResourceCheck | None  # None: the prefix test is the whole check
    principal: CompiledPrincipal | None
    not_principal: CompiledPrincipal | None
    conditions: tuple[CompiledCondition, ...]
    matched: MatchedStatement
    error: str | None = None
    resource_reads_context: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class CompiledPolicy:
    """A policy's statements indexed by lower-cased action."""

    policy: Policy
    exact: dict[str, tuple[CompiledStatement, ...]]
    wildcard: tuple[tuple[Matcher, CompiledStatement], ...]
    not_action: tuple[tuple[tuple[Matcher, ...], CompiledStatement], ...]

    def candidates(self, action: str) -> list[CompiledStatement]:
        """The statements whose Action/NotAction covers ``action`` (lower-cased), in order."""
        hits = {id(s): s for s in self.exact.get(action, ())}
        hits.update((id(s), s) for matcher, s in self.wildcard if matcher(action))
        hits.update((id(s), s) for matchers, s in self.not_action
                    if not any(matcher(action) for matcher in matchers))
        return sorted(hits.values(), key=lambda s: s.statement.index)


@dataclass(frozen=True, slots=True, kw_only=True)
class _PolicySet:
    policies: tuple[Policy, ...]
    compiled: tuple[CompiledPolicy, ...]
    memo: dict[str, tuple[CompiledStatement, ...]]
    source: object = None  # the tuple this entry was found by (keeps it alive: ids stay unique)


_policies: dict[int, CompiledPolicy] = {}
_sets: dict[tuple[int, ...], _PolicySet] = {}
_tuples: dict[int, _PolicySet] = {}


def compile_policy(policy: Policy) -> CompiledPolicy:
    """The compiled form of ``policy``, cached by object identity (the cache holds the policy)."""
    compiled = _policies.get(id(policy))
    if compiled is None or compiled.policy is not policy:
        compiled = _compile_policy(policy)
        if len(_policies) >= _CACHE_SIZE:
            _policies.clear()
        _policies[id(policy)] = compiled
    return compiled


def candidates(policies: Sequence[Policy], action: str) -> tuple[CompiledStatement, ...]:
    """The statements of ``policies`` whose Action/NotAction covers ``action`` (lower-cased).

    Memoized per policy set (by identity) and action, so a repeated principal costs one lookup;
    a tuple given again (the same object) is recognised without looking at its policies.
    """
    if type(policies) is tuple:
        entry = _tuples.get(id(policies))
        if entry is not None and entry.source is policies:
            found = entry.memo.get(action)
            return found if found is not None else _memoized(entry, action)
    key = tuple(map(id, policies))
    entry = _sets.get(key)
    if entry is None or not all(map(operator.is_, entry.policies, policies)):
        entry = _PolicySet(policies=tuple(policies),
                           compiled=tuple(compile_policy(policy) for policy in policies), memo={})
        if len(_sets) >= _CACHE_SIZE:
            _sets.clear()
        _sets[key] = entry
    if type(policies) is tuple:
        if len(_tuples) >= _CACHE_SIZE:
            _tuples.clear()
        _tuples[id(policies)] = _PolicySet(policies=entry.policies, compiled=entry.compiled,
                                           memo=entry.memo, source=policies)
    return _memoized(entry, action)


def _memoized(entry: _PolicySet, action: str) -> tuple[CompiledStatement, ...]:
    found = entry.memo.get(action)
    if found is None:
        found = tuple(s for compiled in entry.compiled for s in compiled.candidates(action))
        if len(entry.memo) >= _MEMO_SIZE:
            entry.memo.clear()
        entry.memo[action] = found
    return found


def _compile_policy(policy: Policy) -> CompiledPolicy:
    variables = policy.version == VARIABLES_VERSION
    statements = tuple(_compile_statement(policy, s, variables=variables)
                       for s in policy.statements)
    exact: dict[str, list[CompiledStatement]] = {}
    wildcard: list[tuple[Matcher, CompiledStatement]] = []
    not_action: list[tuple[tuple[Matcher, ...], CompiledStatement]] = []
    for compiled in statements:
        statement = compiled.statement
        if statement.actions is None:
            matchers = tuple(_action_matcher(a) for a in statement.not_actions or ())
            not_action.append((matchers, compiled))
            continue
        for action in statement.actions:
            name = action.lower()
            if "*" in name or "?" in name:
                wildcard.append((_action_matcher(name), compiled))
            else:
                exact.setdefault(name, []).append(compiled)
    return CompiledPolicy(
        policy=policy,
        exact={name: tuple(found) for name, found in exact.items()},
        wildcard=tuple(wildcard),
        not_action=tuple(not_action),
    )


def _action_matcher(action: str) -> Matcher:
    return compile_glob(glob_tokens(action.lower()))


def _compile_statement(
    policy: Policy, statement: Statement, *, variables: bool
) -> CompiledStatement:
    error: str | None = None
    prefixes: tuple[str, ...] = ("",)
    resource_check: ResourceCheck | None
    patterns = statement.resources if statement.resources is not None else statement.not_resources
    try:
        reads_context = any(has_variables(parse_template(pattern, variables=variables))
                            for pattern in patterns or ())
        resource_check = _resource_check(statement, variables=variables)
        if statement.resources is not None:
            templates = [parse_template(pattern, variables=variables)
                         for pattern in statement.resources]
            prefixes = tuple(_literal_prefix(template) for template in templates)
            if templates and all(_prefix_only(template) for template in templates):
                resource_check = None  # the caller's prefix test is the whole check
    except VariableSyntaxError as exc:
        resource_check, error = _nothing, f"{describe(policy, statement)}: {exc}"
        reads_context = True
    return CompiledStatement(
        policy=policy,
        statement=statement,
        allow=statement.effect == "Allow",
        prefixes=prefixes,
        resource_check=resource_check,
        principal=compile_principal(statement.principal) if statement.principal else None,
        not_principal=(compile_principal(statement.not_principal)
                       if statement.not_principal else None),
        conditions=tuple(compile_condition(c, variables=variables) for c in statement.conditions),
        matched=MatchedStatement(policy_id=policy.policy_id, policy_type=policy.policy_type,
                                 sid=statement.sid, index=statement.index, effect=statement.effect,
                                 start=statement.start, end=statement.end),
        error=error,
        resource_reads_context=reads_context,
    )


def _prefix_only(template: Template) -> bool:
    """``literal*``: matching is exactly ``startswith(literal)``."""
    if len(template) != 1 or not isinstance(template[0], str):
        return False
    text = template[0]
    return "?" not in text and text.find("*") == len(text) - 1


def _literal_prefix(template: Template) -> str:
    """The literal text every match starts with: up to the first wildcard or variable."""
    prefix: list[str] = []
    for part in template:
        if isinstance(part, Variable):
            break
        if isinstance(part, Literal):
            prefix.append(part.text)
            continue
        cut = min((i for i in (part.find("*"), part.find("?")) if i >= 0), default=-1)
        if cut >= 0:
            prefix.append(part[:cut])
            break
        prefix.append(part)
    return "".join(prefix)


def describe(policy: Policy, statement: Statement) -> str:
    """How errors name a statement: ``"PolicyInputList.1 statement 0 (Sid)"``."""
    sid = f" ({statement.sid})" if statement.sid else ""
    return f"{policy.policy_id or policy.policy_type.value} statement {statement.index}{sid}"


def _nothing(resource: str, lookup: Lookup, missing: set[str]) -> bool:
    return False


def _everything(resource: str, lookup: Lookup, missing: set[str]) -> bool:
    return True


def _resource_check(statement: Statement, *, variables: bool) -> ResourceCheck:
    """``Resource``: any pattern matches; ``NotResource``: none does; neither: all resources.

    An empty list matches no resource either way (an empty ``NotResource`` never grants).
    """
    if statement.resources is not None:
        return _shared_resource_check(tuple(statement.resources), variables, False)
    if statement.not_resources is not None:
        return _shared_resource_check(tuple(statement.not_resources), variables, True)
    return _everything  # trust policies have no Resource element


@functools.lru_cache(maxsize=4096)
def _shared_resource_check(patterns: tuple[str, ...], variables: bool, negate: bool
                           ) -> ResourceCheck:
    """One check per distinct pattern list: statements that repeat a ``Resource`` (the common
    case across a principal's policies) share it, so an evaluation checks it once
    (``_evaluate._check`` remembers each check's answer for the request)."""
    return _any_resource(patterns, variables=variables, negate=negate)


def _any_resource(patterns: Sequence[str], *, variables: bool, negate: bool) -> ResourceCheck:
    if not patterns:
        return _nothing
    static: list[Matcher] = []
    dynamic = []
    for pattern in patterns:
        template = parse_template(pattern, variables=variables)
        if has_variables(template):
            dynamic.append(template)
        else:
            static.append(pattern_matcher(literal_parts(template), arn=True))

    def check(resource: str, lookup: Lookup, missing: set[str]) -> bool:
        hit = any(matcher(resource) for matcher in static)
        for template in dynamic:
            if hit:
                break
            parts = substitute(template, lookup)
            if isinstance(parts, Variable):  # unresolvable: this pattern matches no resource
                missing.add(parts.key)
                continue
            hit = pattern_matcher(parts, arn=True)(resource)
        return hit != negate

    if not dynamic and len(static) == 1 and not negate:
        only = static[0]
        return lambda resource, lookup, missing: only(resource)
    return check
