"""Parsing and validation of IAM JSON policy documents, in IAM's check order.

:func:`parse_document` runs the checks IAM runs, in the order IAM reports
them (moto's ``policy_validation.py`` reproduces the order against IAM; IAM.md
§1.7), and raises :class:`MalformedPolicyDocument` with IAM's message for the
first problem:

0. size and characters (before any parsing: hostile input stops here)
1. syntax: JSON, element names and types, ``Effect`` (any case), operators
2. version
3. legacy parse: ``Effect`` case, date values, resource ARN shape
4. unique Sids (and their characters, where IAM restricts them)
5. actions present; 6. resources present; principals as the type requires
7. resource formats; 8. action vendors; trust-policy actions, then ``Resource``
9. conditions: key vendors, policy variables outside String/Arn/Bool values

What differs between policy types comes from the settings row
(:func:`._rules.rules_for`), never from a branch on the type.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

from ._elements import Condition, PolicyType, PrincipalSpec, Statement
from ._errors import MalformedPolicyDocument, PolicyDocumentValidationError, PolicySizeQuotaExceeded
from ._formats import legacy_resource, resource_error, valid_date
from ._json import JsonError, JsonNumber, decode, statement_spans
from ._rules import (
    MAX_DOCUMENT_LENGTH,
    OPERATOR_FAMILIES,
    VARIABLE_FAMILIES,
    Messages,
    Need,
    TypeRules,
    rules_for,
)

__all__ = ["ParsedDocument", "parse_document"]

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
_EXCLUSIVE = (("Action", "NotAction"), ("Resource", "NotResource"), ("Principal", "NotPrincipal"))
_QUALIFIERS = ("ForAllValues", "ForAnyValue")
_VERSIONS = frozenset({"2012-10-17", "2008-10-17"})

_BAD_CHARACTER = re.compile(r"[^\t\n\r\x20-\xff]")
_WHITESPACE = str.maketrans("", "", " \t\n\r")
_SID = re.compile(r"[0-9A-Za-z]*")
_VENDOR = re.compile(r"[a-zA-Z0-9.\-]+")


class ParsedDocument(NamedTuple):
    """What :func:`parse_document` hands to :class:`Policy`."""

    text: str
    version: str | None
    id: str | None
    statements: tuple[Statement, ...]


class _Doc(NamedTuple):
    version: str | None
    id: str | None
    statements: list[dict[str, Any]]
    rules: TypeRules


def _fail(message: str) -> MalformedPolicyDocument:
    return MalformedPolicyDocument(message)


# -- 0. size and characters ---------------------------------------------------


def _as_text(text: object) -> str:
    if isinstance(text, str):
        return text
    if isinstance(text, bytes | bytearray):
        try:
            return bytes(text).decode("utf-8")
        except UnicodeDecodeError:
            raise _fail(Messages.SYNTAX) from None
    raise _fail(Messages.SYNTAX)


def _check_size(text: str, rules: TypeRules) -> None:
    if len(text) > MAX_DOCUMENT_LENGTH:
        raise PolicyDocumentValidationError(Messages.TOO_LONG.format(limit=MAX_DOCUMENT_LENGTH))
    if _BAD_CHARACTER.search(text):
        raise PolicyDocumentValidationError(Messages.CHARACTERS)
    size = len(text) if rules.size_counts_whitespace else len(text.translate(_WHITESPACE))
    if size > rules.size_limit:
        raise PolicySizeQuotaExceeded(
            Messages.QUOTA.format(quota=rules.size_quota, limit=rules.size_limit)
        )


# -- 1. syntax ----------------------------------------------------------------


def _is_string(value: object) -> bool:
    # JsonNumber is a str subclass: a number is not a string here.
    return type(value) is str


def _strings(value: object) -> tuple[str, ...] | None:
    """A string or a list of strings as a tuple; ``None`` for anything else."""
    if type(value) is str:
        return (value,)
    if type(value) is list and all(type(item) is str for item in value):
        return tuple(value)
    return None


def _condition_value(value: object) -> str | None:
    if type(value) is str:
        return value
    if isinstance(value, JsonNumber):
        return str.__str__(value)
    if value is True or value is False:
        return "true" if value else "false"
    return None


def _condition_values(value: object) -> tuple[str, ...] | None:
    items = value if type(value) is list else [value]
    out = tuple(_condition_value(item) for item in items)
    return None if None in out else out  # type: ignore[return-value]


def split_operator(operator: str) -> tuple[str, str, bool] | None:
    """``(qualifier, base, if_exists)`` for a known operator, else ``None``."""
    qualifier, _, rest = operator.rpartition(":")
    if qualifier and qualifier not in _QUALIFIERS:
        return None
    if_exists = rest.endswith("IfExists")
    base = rest[: -len("IfExists")] if if_exists else rest
    return (qualifier, base, if_exists) if base in OPERATOR_FAMILIES else None


def _check_principal_syntax(value: object) -> bool:
    if value == "*" and _is_string(value):
        return True
    if type(value) is not dict or not value:
        return False
    return all(k in _PRINCIPAL_KEYS and _strings(v) is not None for k, v in value.items())


def _check_condition_syntax(value: object) -> bool:
    if type(value) is not dict:
        return False
    for operator, block in value.items():
        if type(block) is not dict:
            return False
        # An operator IAM does not know is refused unless its block is empty
        # (moto's _validate_condition_syntax; IAM.md §1.5).
        if block and split_operator(operator) is None:
            return False
        if any(_condition_values(values) is None for values in block.values()):
            return False
    return True


def _check_statement_syntax(statement: object) -> bool:
    if type(statement) is not dict or not statement.keys() <= _STATEMENT_ELEMENTS:
        return False
    if any(a in statement and b in statement for a, b in _EXCLUSIVE):
        return False
    effect = statement.get("Effect")
    if type(effect) is not str or effect.lower() not in ("allow", "deny"):
        return False
    for name in ("Action", "NotAction", "Resource", "NotResource"):
        if name in statement and _strings(statement[name]) is None:
            return False
    if "Sid" in statement and not _is_string(statement["Sid"]):
        return False
    for name in ("Principal", "NotPrincipal"):
        if name in statement and not _check_principal_syntax(statement[name]):
            return False
    return "Condition" not in statement or _check_condition_syntax(statement["Condition"])


def _check_syntax(text: str, rules: TypeRules) -> _Doc:
    try:
        doc = decode(text)
    except JsonError:
        raise _fail(Messages.SYNTAX) from None
    if type(doc) is not dict or not doc.keys() <= _TOP_ELEMENTS:
        raise _fail(Messages.SYNTAX)
    version = doc.get("Version")
    if version is not None and (not _is_string(version) or version not in _VERSIONS):
        raise _fail(Messages.SYNTAX)
    if "Id" in doc and not _is_string(doc["Id"]):
        raise _fail(Messages.SYNTAX)
    raw = doc.get("Statement")
    statements = [raw] if type(raw) is dict else raw
    if type(statements) is not list or not statements:
        raise _fail(Messages.SYNTAX)
    if not all(_check_statement_syntax(statement) for statement in statements):
        raise _fail(Messages.SYNTAX)
    return _Doc(version, doc.get("Id"), statements, rules)


# -- 2. version -----------------------------------------------------------------


def _check_version(doc: _Doc) -> None:
    if doc.version not in doc.rules.versions:
        raise _fail(Messages.VERSION)


# -- 3. legacy parse (and the first resource-format error, reported later) ----


def _check_legacy(doc: _Doc) -> str | None:
    """Raise for legacy-parse failures; return the first resource-format error."""
    first_error: str | None = None
    for statement in doc.statements:
        if statement["Effect"] not in ("Allow", "Deny"):
            raise _fail(Messages.LEGACY)
        for operator, block in statement.get("Condition", {}).items():
            parsed = split_operator(operator)
            if parsed is None or OPERATOR_FAMILIES[parsed[1]] != "Date":
                continue
            for values in block.values():
                if not all(valid_date(v) for v in _condition_values(values) or ()):
                    raise _fail(Messages.LEGACY)
        for name in ("Resource", "NotResource"):
            for resource in _strings(statement.get(name)) or ():
                error = resource_error(resource)
                if first_error is None and error is not None:
                    first_error = error
                if first_error is None and not legacy_resource(resource):
                    raise _fail(Messages.LEGACY)
    return first_error


# -- 4..9 -----------------------------------------------------------------------


def _check_sids(doc: _Doc) -> None:
    seen: set[str] = set()
    for statement in doc.statements:
        sid = statement.get("Sid")
        if sid:
            if sid in seen:
                raise _fail(Messages.SID_UNIQUE)
            seen.add(sid)
    if doc.rules.alphanumeric_sid:
        for statement in doc.statements:
            if not _SID.fullmatch(statement.get("Sid", "")):
                raise _fail(Messages.SID_CHARACTERS)


def _check_present(doc: _Doc, names: tuple[str, str], message: str) -> None:
    for statement in doc.statements:
        present = [statement[name] for name in names if name in statement]
        if not present or present[0] == []:
            raise _fail(message)


def _check_actions(doc: _Doc) -> None:
    _check_present(doc, ("Action", "NotAction"), Messages.ACTIONS)


def _check_resources(doc: _Doc) -> None:
    if doc.rules.resource is Need.REQUIRED:
        _check_present(doc, ("Resource", "NotResource"), Messages.RESOURCES)


def _check_principals(doc: _Doc) -> None:
    rules = doc.rules
    for statement in doc.statements:
        has_principal = "Principal" in statement or "NotPrincipal" in statement
        if rules.principal is Need.FORBIDDEN and has_principal:
            raise _fail(Messages.NO_PRINCIPAL)
        if rules.principal is Need.REQUIRED and not has_principal:
            raise _fail(Messages.PRINCIPAL_REQUIRED)
        if rules.not_principal is Need.FORBIDDEN and "NotPrincipal" in statement:
            raise _fail(Messages.NOT_PRINCIPAL)


def _actions(statement: dict[str, Any]) -> tuple[str, ...]:
    return _strings(statement.get("Action", statement.get("NotAction"))) or ()


def _check_vendors(doc: _Doc) -> None:
    for statement in doc.statements:
        for action in _actions(statement):
            parts = action.split(":")
            if len(parts) == 1 and action != "*":
                raise _fail(Messages.VENDOR)
            if len(parts) > 2:
                raise _fail(Messages.ONE_COLON)
            if parts[0] != "*" and not _VENDOR.fullmatch(parts[0]):
                raise _fail(Messages.VENDOR_INVALID.format(vendor=parts[0]))


def _check_trust(doc: _Doc) -> None:
    if doc.rules.sts_actions_only:
        for statement in doc.statements:
            if any(a.split(":")[0].lower() != "sts" for a in _actions(statement)):
                raise _fail(Messages.TRUST_ACTIONS)
    if doc.rules.resource is Need.FORBIDDEN:
        for statement in doc.statements:
            if "Resource" in statement or "NotResource" in statement:
                raise _fail(Messages.TRUST_RESOURCE)


def _variables_in(values: Iterable[str]) -> bool:
    return any("${" in value for value in values)


def _check_conditions(doc: _Doc) -> None:
    # Without Version 2012-10-17 a "${...}" is literal text, so it is legal anywhere.
    variables_matter = doc.version == "2012-10-17"
    for statement in doc.statements:
        if variables_matter and _variables_in(_actions(statement)):
            name = "Action" if "Action" in statement else "NotAction"
            raise _fail(Messages.VARIABLE.format(element=name))
        for operator, block in statement.get("Condition", {}).items():
            for key, values in block.items():
                if ":" not in key:
                    raise _fail(Messages.VENDOR)
                if not variables_matter:
                    continue
                if "${" in key:
                    raise _fail(Messages.VARIABLE.format(element="condition keys"))
                base = split_operator(operator)
                family = OPERATOR_FAMILIES[base[1]] if base else ""
                if family not in VARIABLE_FAMILIES and _variables_in(
                    _condition_values(values) or ()
                ):
                    raise _fail(Messages.VARIABLE_OPERATOR.format(operator=operator))
        for name in ("Principal", "NotPrincipal"):
            principal = statement.get(name)
            if (
                variables_matter
                and type(principal) is dict
                and any(_variables_in(_strings(v) or ()) for v in principal.values())
            ):
                raise _fail(Messages.VARIABLE.format(element=name))


# The checks between the legacy parse and the resource-format error, in IAM's order.
_CHECKS: tuple[Callable[[_Doc], None], ...] = (
    _check_sids,
    _check_actions,
    _check_resources,
    _check_principals,
)
_LATE_CHECKS: tuple[Callable[[_Doc], None], ...] = (
    _check_vendors,
    _check_trust,
    _check_conditions,
)


# -- building -----------------------------------------------------------------


def _principal(value: Any) -> PrincipalSpec | None:
    if value is None:
        return None
    if type(value) is str:
        return PrincipalSpec(any=True)
    fields = {_PRINCIPAL_KEYS[k]: _strings(v) or () for k, v in value.items()}
    return PrincipalSpec(any="*" in fields.get("aws", ()), **fields)


def _conditions(value: dict[str, Any]) -> tuple[Condition, ...]:
    out: list[Condition] = []
    for operator, block in value.items():
        parsed = split_operator(operator)
        if parsed is None:
            continue  # an unknown operator with an empty block: nothing to test
        qualifier, base, if_exists = parsed
        for key, values in block.items():
            out.append(
                Condition(
                    operator=operator,
                    base=base,
                    qualifier=qualifier,
                    if_exists=if_exists,
                    key=key,
                    values=_condition_values(values) or (),
                )
            )
    return tuple(out)


def _build(text: str, doc: _Doc) -> tuple[Statement, ...]:
    spans = statement_spans(text)
    return tuple(
        Statement(
            index=index,
            sid=statement.get("Sid"),
            effect=statement["Effect"],
            actions=_strings(statement.get("Action")),
            not_actions=_strings(statement.get("NotAction")),
            resources=_strings(statement.get("Resource")),
            not_resources=_strings(statement.get("NotResource")),
            principal=_principal(statement.get("Principal")),
            not_principal=_principal(statement.get("NotPrincipal")),
            conditions=_conditions(statement.get("Condition", {})),
            start=spans[index][0],
            end=spans[index][1],
        )
        for index, statement in enumerate(doc.statements)
    )


def parse_document(text: str | bytes, policy_type: PolicyType) -> ParsedDocument:
    """Validate ``text`` as a policy of ``policy_type`` and build its statements.

    Raises:
        MalformedPolicyDocument: the first problem in IAM's check order, with
            IAM's message (or one of its two subclasses for size and characters).
    """
    rules = rules_for(policy_type)
    source = _as_text(text)
    _check_size(source, rules)
    doc = _check_syntax(source, rules)
    _check_version(doc)
    resource_error = _check_legacy(doc)
    for check in _CHECKS:
        check(doc)
    if resource_error is not None:
        raise _fail(resource_error)
    for check in _LATE_CHECKS:
        check(doc)
    return ParsedDocument(source, doc.version, doc.id, _build(source, doc))
