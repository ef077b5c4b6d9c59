"""Condition operators: every family IAM documents, compiled once per policy.

Semantics (reference_policies_elements_condition_operators, reference_policies_elements_condition,
reference_policies_multi-value-conditions):

* One condition is one operator x one key. The statement ANDs its conditions (across operators and
  keys); a condition ORs its policy values; a *negated* operator (``StringNotEquals``,
  ``NumericNotEquals``, ``DateNotEquals``, ``NotIpAddress``, ``ArnNotEquals``, ``ArnNotLike``,
  ``StringNotLike``, ``StringNotEqualsIgnoreCase``) matches when the value matches *none* of them
  (NOR).
* Missing key: positive operators are false, negated ones true; ``...IfExists`` is true;
  ``ForAllValues:`` is true and ``ForAnyValue:`` false (also for an empty multivalued value).
* Without a set qualifier a multivalued request value (a list) does not match, whatever the
  operator: single-valued operators compare one value ("Set operator is required for a multi-value
  key").
* ``ForAllValues:<op>``: every request value passes ``<op>``; ``ForAnyValue:<op>``: at least one
  does. For a negated ``<op>`` the per-value test is "matches none of the policy values". A single
  request value is a one-element set.
* ``Null``: ``"true"`` means the key is absent, ``"false"`` that it is present (``IfExists`` and set
  qualifiers do not apply to it).
* Policy variables are substituted in String, ARN and Bool values only (see ``_variables``).

Errors fail closed: an unknown operator, a policy value that is not of the operator's type, or a
request value that cannot be read (``NumericLessThan`` on ``"abc"``) raises :class:`ConditionError`
when the condition is evaluated; the evaluator decides what the statement does with it (an Allow
does not apply, a Deny does, and the decision is never Allow).
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any

from ._match import Matcher
from ._model import Condition
from ._variables import (
    Literal,
    Lookup,
    Template,
    Variable,
    VariableSyntaxError,
    as_text,
    has_variables,
    literal_parts,
    parse_template,
    pattern_matcher,
    substitute,
)

__all__ = ["OPERATORS", "CompiledCondition", "ConditionError", "compile_condition"]


class ConditionError(ValueError):
    """A condition that cannot be evaluated (the evaluator fails closed)."""


# -- value readers: request and policy values into comparable Python values ------------------------

_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
_EPOCH = re.compile(r"[+-]?\d+(?:\.\d+)?")
# W3C "Year and month" (https://www.w3.org/TR/NOTE-datetime), which the Date operators cite.
_YEAR_MONTH = re.compile(r"\d{4}-\d{2}")
_EPOCH_START = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def read_number(text: str) -> Decimal:
    """An integer or decimal, as IAM's Numeric operators take them."""
    if not _NUMBER.fullmatch(text):
        raise ValueError(f"{text!r} is not a number")
    return Decimal(text)


@lru_cache(maxsize=1024)
def read_date(text: str) -> int:
    """A date as microseconds since the epoch: W3C/ISO 8601 or epoch seconds.

    Digits alone are epoch seconds (``aws:EpochTime``), so the W3C profile's bare year ``YYYY``
    is read as seconds too; its ``YYYY-MM`` is the first of the month; a date without an offset
    is UTC.
    """
    if _EPOCH.fullmatch(text):
        return int(Decimal(text) * 1_000_000)
    if _YEAR_MONTH.fullmatch(text):
        text += "-01"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not an ISO 8601 date or epoch seconds") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH_START) // _MICROSECOND


def read_bool(text: str) -> str:
    """``"true"`` or ``"false"``, any case."""
    value = text.lower()
    if value not in ("true", "false"):
        raise ValueError(f"{text!r} is not true or false")
    return value


def read_binary(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"{text!r} is not base64") from None


@lru_cache(maxsize=1024)
def read_ip(text: str) -> tuple[int, int]:
    """An IPv4 or IPv6 address as (version, integer)."""
    address = ipaddress.ip_address(text)
    return address.version, int(address)


def read_network(text: str) -> tuple[int, int, int]:
    """A CIDR block as (version, netmask, network); a bare address is a /32 or /128 block."""
    network = ipaddress.ip_network(text, strict=False)
    return network.version, int(network.netmask), int(network.network_address)


def _in_network(address: tuple[int, int], network: tuple[int, int, int]) -> bool:
    version, value = address
    return version == network[0] and value & network[1] == network[2]


def _like(value: str, matcher: Matcher) -> bool:
    return matcher(value)


# -- the operator table --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Operator:
    """One base operator: how to read each side and the positive per-value test."""

    name: str
    read_request: Callable[[str], Any]
    prepare: Callable[[Sequence[str | Literal]], Any]  # resolved policy value -> comparable
    test: Callable[[Any, Any], bool]  # (request value, prepared policy value)
    negated: bool = False
    variables: bool = False  # policy variables allowed in values


def _text(parts: Sequence[str | Literal]) -> str:
    return as_text(parts)


def _folded(parts: Sequence[str | Literal]) -> str:
    return as_text(parts).casefold()


def _glob(parts: Sequence[str | Literal]) -> Matcher:
    return pattern_matcher(parts, arn=False)


def _arn(parts: Sequence[str | Literal]) -> Matcher:
    return pattern_matcher(parts, arn=True)


def _typed(reader: Callable[[str], Any]) -> Callable[[Sequence[str | Literal]], Any]:
    return lambda parts: reader(as_text(parts))


def _identity(text: str) -> str:
    return text


def _casefold(text: str) -> str:
    return text.casefold()


def _family(
    names: Sequence[tuple[str, Callable[[Any, Any], bool], bool]],
    *,
    read_request: Callable[[str], Any],
    prepare: Callable[[Sequence[str | Literal]], Any],
    variables: bool = False,
) -> dict[str, Operator]:
    return {
        name: Operator(name=name, read_request=read_request, prepare=prepare, test=test,
                       negated=negated, variables=variables)
        for name, test, negated in names
    }


_EQ, _LT, _LE, _GT, _GE = operator.eq, operator.lt, operator.le, operator.gt, operator.ge
_ORDERED = (("Equals", _EQ, False), ("NotEquals", _EQ, True), ("LessThan", _LT, False),
            ("LessThanEquals", _LE, False), ("GreaterThan", _GT, False),
            ("GreaterThanEquals", _GE, False))

OPERATORS: dict[str, Operator] = {
    **_family([("StringEquals", _EQ, False), ("StringNotEquals", _EQ, True)],
              read_request=_identity, prepare=_text, variables=True),
    **_family([("StringEqualsIgnoreCase", _EQ, False), ("StringNotEqualsIgnoreCase", _EQ, True)],
              read_request=_casefold, prepare=_folded, variables=True),
    **_family([("StringLike", _like, False), ("StringNotLike", _like, True)],
              read_request=_identity, prepare=_glob, variables=True),
    **_family([("Numeric" + suffix, test, negated) for suffix, test, negated in _ORDERED],
              read_request=read_number, prepare=_typed(read_number)),
    **_family([("Date" + suffix, test, negated) for suffix, test, negated in _ORDERED],
              read_request=read_date, prepare=_typed(read_date)),
    **_family([("Bool", _EQ, False)], read_request=read_bool, prepare=_typed(read_bool),
              variables=True),
    **_family([("BinaryEquals", _EQ, False)], read_request=read_binary,
              prepare=_typed(read_binary)),
    **_family([("IpAddress", _in_network, False), ("NotIpAddress", _in_network, True)],
              read_request=read_ip, prepare=_typed(read_network)),
    **_family([("ArnEquals", _like, False), ("ArnLike", _like, False),
               ("ArnNotEquals", _like, True), ("ArnNotLike", _like, True)],
              read_request=_identity, prepare=_arn, variables=True),
}
"""Base operator name -> :class:`Operator` (``Null`` is handled on its own)."""

_BY_LOWER = {name.lower(): op for name, op in OPERATORS.items()}


# -- compiled conditions -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class CompiledCondition:
    """A condition ready to evaluate against a context :data:`Lookup`.

    ``evaluate(lookup, missing)`` returns whether the condition holds, adds to ``missing`` the keys
    it needed but did not find (the condition key, or a policy variable's key), and raises
    :class:`ConditionError` when it cannot be evaluated. ``reads``: every context key it may
    read (the condition key and the keys of the policy variables in its values): its answer
    depends on the values of these keys alone.
    """

    key: str  # as written
    evaluate: Callable[[Lookup, set[str]], bool]
    reads: tuple[str, ...] = ()


def compile_condition(condition: Condition, *, variables: bool) -> CompiledCondition:
    """Compile one condition; ``variables`` is whether the policy's Version enables them.

    Never raises: a condition that cannot be compiled evaluates by raising :class:`ConditionError`.
    """
    key = condition.key
    try:
        evaluate = _compile(condition, variables=variables)
    except (ValueError, VariableSyntaxError) as exc:
        evaluate = _failing(f"{condition.operator} on {key}: {exc}")
    return CompiledCondition(key=key, evaluate=evaluate,
                             reads=_reads(condition, variables=variables))


def _reads(condition: Condition, *, variables: bool) -> tuple[str, ...]:
    """The condition key and the keys of the variables its values may hold (more is safe)."""
    keys = [condition.key]
    if variables:
        for value in condition.values:
            try:
                template = parse_template(value, variables=True)
            except VariableSyntaxError:
                continue  # such a condition fails whatever the context holds
            keys.extend(part.key for part in template if isinstance(part, Variable))
    return tuple(keys)


def _failing(message: str) -> Callable[[Lookup, set[str]], bool]:
    def evaluate(lookup: Lookup, missing: set[str]) -> bool:
        raise ConditionError(message)

    return evaluate


def _compile(condition: Condition, *, variables: bool) -> Callable[[Lookup, set[str]], bool]:
    if condition.base.lower() == "null":
        return _null(condition)
    op = OPERATORS.get(condition.base) or _BY_LOWER.get(condition.base.lower())
    if op is None or condition.qualifier not in ("", "ForAllValues", "ForAnyValue"):
        raise ValueError(f"unsupported condition operator {condition.operator!r}")
    policy_values = _policy_values(op, condition.values, variables=variables)
    per_value = _per_value_test(op, policy_values, condition.operator)
    return _with_key_rules(condition, op, per_value, pure=isinstance(policy_values, tuple))


def _policy_values(
    op: Operator, values: Sequence[str], *, variables: bool
) -> tuple[Any, ...] | Callable[[Lookup, set[str]], list[Any]]:
    """The prepared policy values, or (when they hold variables) a function resolving them."""
    templates = [parse_template(value, variables=variables and op.variables) for value in values]
    if not any(has_variables(template) for template in templates):
        return tuple(_prepare(op, literal_parts(template)) for template in templates)

    def resolve(lookup: Lookup, missing: set[str]) -> list[Any]:
        return [prepared for template in templates
                if (prepared := _resolve_one(op, template, lookup, missing)) is not _UNRESOLVED]

    return resolve


_UNRESOLVED = object()


def _resolve_one(op: Operator, template: Template, lookup: Lookup, missing: set[str]) -> Any:
    """One policy value with its variables substituted; an unresolvable one matches nothing."""
    parts = substitute(template, lookup)
    if isinstance(parts, Variable):
        missing.add(parts.key)
        return _UNRESOLVED
    return _prepare(op, parts)


def _prepare(op: Operator, parts: Sequence[str | Literal]) -> Any:
    try:
        return op.prepare(parts)
    except ValueError as exc:
        raise ConditionError(f"{op.name}: {exc}") from None


def _per_value_test(
    op: Operator,
    policy_values: tuple[Any, ...] | Callable[[Lookup, set[str]], list[Any]],
    written: str,
) -> Callable[[str, Lookup, set[str]], bool]:
    """``request value -> bool``: OR over the policy values, NOR for a negated operator.

    Three shapes of the same test, chosen once: values with variables (resolved per request),
    fixed values compared for equality (one set lookup), other fixed values (a loop).
    """
    test, negated = op.test, op.negated
    read = _checked_reader(op.read_request, written)  # None: strings are compared as they are
    if not isinstance(policy_values, tuple):
        resolve = policy_values

        def check(raw: str, lookup: Lookup, missing: set[str]) -> bool:
            value = raw if read is None else read(raw)
            return any(test(value, prepared) for prepared in resolve(lookup, missing)) != negated

    elif test is _EQ:
        members = frozenset(policy_values)

        def check(raw: str, lookup: Lookup, missing: set[str]) -> bool:
            return ((raw if read is None else read(raw)) in members) != negated

    else:
        static = policy_values

        def check(raw: str, lookup: Lookup, missing: set[str]) -> bool:
            value = raw if read is None else read(raw)
            for prepared in static:
                if test(value, prepared):
                    return not negated
            return negated

    return check


def _checked_reader(read: Callable[[str], Any], written: str) -> Callable[[str], Any] | None:
    """``read`` raising :class:`ConditionError`; None for strings, which need no reading."""
    if read is _identity:
        return None

    def checked(raw: str) -> Any:
        try:
            return read(raw)
        except ValueError:
            raise ConditionError(
                f"{written}: the request value is not of the operator's type"
            ) from None

    return checked


#: Request values whose answer one condition remembers (then it starts afresh): small, as
#: every compiled condition of every cached policy keeps its own (a time condition sees a new
#: value each second; the rest see a few source IPs, regions and tags).
_REMEMBERED_VALUES = 16


def _with_key_rules(
    condition: Condition,
    op: Operator,
    check: Callable[[str, Lookup, set[str]], bool],
    *,
    pure: bool = False,
) -> Callable[[Lookup, set[str]], bool]:
    """Missing keys, IfExists, multivalued request values and set qualifiers.

    ``pure``: the policy values have no variables, so the answer for one request value
    never changes; a service's requests repeat the same values (source IP, region, tags,
    the current second), so each condition remembers its last answers.
    """
    key = condition.key
    qualifier, if_exists, negated = condition.qualifier, condition.if_exists, op.negated
    if if_exists:
        when_missing = True
    elif qualifier:
        when_missing = qualifier == "ForAllValues"
    else:
        when_missing = negated

    answers: dict[str, bool] = {}

    def evaluate(lookup: Lookup, missing: set[str]) -> bool:
        raw = lookup(key)
        if raw is None:
            missing.add(key)
            return when_missing
        if not qualifier:
            if not isinstance(raw, str):
                return False
            if not pure:
                return check(raw, lookup, missing)
            answer = answers.get(raw)
            if answer is None:
                answer = check(raw, lookup, missing)  # a ConditionError is not remembered
                if len(answers) >= _REMEMBERED_VALUES:
                    answers.clear()
                answers[raw] = answer
            return answer
        # An empty string is an empty data set for the set operators (multi-value-conditions:
        # "resolve to an empty data set (for example, an empty string)").
        values = ((raw,) if raw else ()) if isinstance(raw, str) else tuple(raw)
        if not values:
            return qualifier == "ForAllValues"
        results = [check(value, lookup, missing) for value in values]
        return all(results) if qualifier == "ForAllValues" else any(results)

    return evaluate


def _null(condition: Condition) -> Callable[[Lookup, set[str]], bool]:
    """``Null``: "true" = the key is absent, "false" = it is present (OR over the values)."""
    wanted = {read_bool(value) == "true" for value in condition.values}
    key = condition.key

    def evaluate(lookup: Lookup, missing: set[str]) -> bool:
        raw = lookup(key)
        absent = raw is None or (not isinstance(raw, str) and len(raw) == 0)
        return absent in wanted

    return evaluate
