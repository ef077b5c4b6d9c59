"""Step 1 of IAM's checks, syntax: the decoded JSON has the policy grammar's shape.

:func:`read_statements` turns the decoded document into :class:`RawStatement`
rows (strings as tuples, principals and conditions as model objects) or
answers ``None`` for anything IAM calls "Syntax errors in policy.": an
unknown element, a wrong JSON type (a number where a string belongs), both
``Action`` and ``NotAction``, an ``Effect`` other than allow/deny in any case,
a condition operator IAM does not know (with a non-empty block, as IAM
accepts an empty one). The later checks and the model are built from the rows,
so each value is converted once.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, NamedTuple

from ._elements import Condition, PrincipalSpec
from ._json import JsonNumber
from ._rules import OPERATOR_FAMILIES

__all__ = ["RawStatement", "read_document", "split_operator"]

_TOP_ELEMENTS = frozenset({"Version", "Id", "Statement"})
_STATEMENT_ELEMENTS = frozenset(
    {
        "Sid",
        "Effect",
        "Principal",
        "NotPrincipal",
        "Action",
        "NotAction",
        "Resource",
        "NotResource",
        "Condition",
    }
)
_PRINCIPAL_KEYS = {
    "AWS": "aws",
    "Federated": "federated",
    "Service": "service",
    "CanonicalUser": "canonical_user",
}
_QUALIFIERS = ("ForAllValues", "ForAnyValue")
_VERSIONS = frozenset({"2012-10-17", "2008-10-17"})
_ONLY_STR = frozenset({str})


class RawStatement(NamedTuple):
    """One statement after the syntax check; ``*_name`` says which element was used."""

    sid: str | None
    effect: str
    action_name: str | None  # "Action", "NotAction" or None (missing)
    actions: tuple[str, ...]
    resource_name: str | None  # "Resource", "NotResource" or None
    resources: tuple[str, ...]
    principal_name: str | None  # "Principal", "NotPrincipal" or None
    principal: PrincipalSpec | None
    conditions: tuple[Condition, ...]


class Document(NamedTuple):
    """The top level of a policy after the syntax check."""

    version: str | None
    id: str | None
    statements: list[RawStatement]


def strings(value: object) -> tuple[str, ...] | None:
    """A string or a list of strings as a tuple; ``None`` for anything else."""
    if type(value) is str:
        return (value,)
    # type() rather than isinstance: a JsonNumber (a str subclass) is no string.
    if type(value) is list and {*map(type, value)} <= _ONLY_STR:
        return tuple(value)
    return None


def _condition_value(value: object) -> str | None:
    if type(value) is str:
        return value
    if type(value) is JsonNumber:
        return str.__str__(value)  # the number's JSON text, as a plain str
    if type(value) is bool:
        return "true" if value else "false"
    return None


def _condition_values(value: object) -> tuple[str, ...] | None:
    fast = strings(value)
    if fast is not None:
        return fast
    out = [_condition_value(item) for item in (value if type(value) is list else [value])]
    return None if None in out else tuple(out)  # type: ignore[arg-type]


def split_operator(operator: str) -> tuple[str, str, bool] | None:
    """``(qualifier, base, if_exists)`` for a condition operator IAM knows, else ``None``."""
    # The longest known operator, "ForAllValues:StringNotEqualsIgnoreCaseIfExists",
    # has 46 characters; longer text is unknown and stays out of the cache.
    return _split_operator(operator) if len(operator) <= 64 else None


@lru_cache(maxsize=256)
def _split_operator(operator: str) -> tuple[str, str, bool] | None:
    qualifier, _, rest = operator.rpartition(":")
    if qualifier and qualifier not in _QUALIFIERS:
        return None
    if_exists = rest.endswith("IfExists")
    base = rest[: -len("IfExists")] if if_exists else rest
    return (qualifier, base, if_exists) if base in OPERATOR_FAMILIES else None


def _principal(value: object) -> PrincipalSpec | None:
    if value == "*" and type(value) is str:
        return PrincipalSpec(any=True)
    if type(value) is not dict or not value or not value.keys() <= _PRINCIPAL_KEYS.keys():
        return None
    fields = {_PRINCIPAL_KEYS[k]: strings(v) for k, v in value.items()}
    if None in fields.values():
        return None
    return PrincipalSpec(any="*" in (fields.get("aws") or ()), **fields)  # type: ignore[arg-type]


def _conditions(value: object) -> tuple[Condition, ...] | None:
    if type(value) is not dict:
        return None
    out: list[Condition] = []
    for operator, block in value.items():
        if type(block) is not dict:
            return None
        parsed = split_operator(operator)
        if parsed is None:
            if block:  # IAM accepts an unknown operator only with an empty block
                return None
            continue
        qualifier, base, if_exists = parsed
        for key, raw in block.items():
            values = _condition_values(raw)
            if values is None:
                return None
            out.append(
                Condition(
                    operator=operator,
                    base=base,
                    qualifier=qualifier,
                    if_exists=if_exists,
                    key=key,
                    values=values,
                )
            )
    return tuple(out)


def _one_of(statement: dict[str, Any], first: str, second: str) -> str | bool | None:
    """Which of two exclusive elements is present; ``False`` when both are."""
    if first in statement:
        return False if second in statement else first
    return second if second in statement else None


def _statement(statement: object) -> RawStatement | None:
    if type(statement) is not dict or not statement.keys() <= _STATEMENT_ELEMENTS:
        return None
    effect = statement.get("Effect")
    if type(effect) is not str or effect.lower() not in ("allow", "deny"):
        return None
    sid = statement.get("Sid")
    if "Sid" in statement and type(sid) is not str:
        return None
    names = (
        _one_of(statement, "Action", "NotAction"),
        _one_of(statement, "Resource", "NotResource"),
        _one_of(statement, "Principal", "NotPrincipal"),
    )
    if False in names:
        return None
    action_name, resource_name, principal_name = names
    actions = strings(statement[action_name]) if action_name else ()
    resources = strings(statement[resource_name]) if resource_name else ()
    principal = _principal(statement[principal_name]) if principal_name else None
    conditions = _conditions(statement["Condition"]) if "Condition" in statement else ()
    if actions is None or resources is None or conditions is None:
        return None
    if principal_name and principal is None:
        return None
    return RawStatement(
        sid,
        effect,
        action_name,  # type: ignore[arg-type]
        actions,
        resource_name,  # type: ignore[arg-type]
        resources,
        principal_name,  # type: ignore[arg-type]
        principal,
        conditions,
    )


def read_document(doc: object) -> Document | None:
    """The document's parts, or ``None`` when it has a syntax error."""
    if type(doc) is not dict or not doc.keys() <= _TOP_ELEMENTS:
        return None
    version = doc.get("Version")
    if "Version" in doc and (type(version) is not str or version not in _VERSIONS):
        return None
    doc_id = doc.get("Id")
    if "Id" in doc and type(doc_id) is not str:
        return None
    raw = doc.get("Statement")
    items = [raw] if type(raw) is dict else raw
    if type(items) is not list or not items:
        return None
    statements = [_statement(item) for item in items]
    if None in statements:
        return None
    return Document(version, doc_id, statements)  # type: ignore[arg-type]
