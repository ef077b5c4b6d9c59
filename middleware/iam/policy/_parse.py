"""Parsing and validation of IAM JSON policy documents, in IAM's check order.

:func:`parse_document` runs the checks IAM runs, in the order IAM reports
them (moto's ``policy_validation.py`` reproduces the order against IAM; IAM.md
§1.7), and raises :class:`MalformedPolicyDocument` with IAM's message for the
first problem:

0. size and characters, before any parsing (so hostile input stops here)
1. syntax (``_syntax``): JSON, element names and types, ``Effect`` in any
   case, known condition operators
2. version
3. legacy parse: ``Effect`` case, ``Date*`` values, the shape of resource ARNs
4. unique Sids, then their characters where IAM restricts them
5. actions present; 6. resources present; principals as the policy type needs
7. the first resource-format error found in step 3
8. action vendors; trust policies: STS actions only, then no ``Resource``
9. conditions: key vendors, policy variables outside Resource and
   String/Arn/Bool condition values (only with Version 2012-10-17: before it
   ``${...}`` is literal text)

A policy with two problems reports the earlier check. What differs between
policy types comes from the settings row (:func:`._rules.rules_for`), never
from a branch on the type.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

from ._elements import PolicyType, Statement
from ._errors import MalformedPolicyDocument, PolicyDocumentValidationError, PolicySizeQuotaExceeded
from ._formats import legacy_resource, resource_error, valid_date
from ._json import JsonError, decode, statement_spans
from ._rules import (
    MAX_DOCUMENT_LENGTH,
    OPERATOR_FAMILIES,
    VARIABLE_FAMILIES,
    Messages,
    Need,
    TypeRules,
    rules_for,
)
from ._syntax import RawStatement, read_document

__all__ = ["ParsedDocument", "parse_document", "policy_size"]

_BAD_CHARACTER = re.compile(r"[^\t\n\r\x20-\xff]")
_WHITESPACE = str.maketrans("", "", " \t\n\r")
_SID = re.compile(r"[0-9A-Za-z]*")
_VENDOR = re.compile(r"[a-zA-Z0-9.\-]+")
# An action that passes every vendor check, tested in one C call per action.
_GOOD_ACTION = re.compile(r"\*|(?:\*|[a-zA-Z0-9.\-]+):[^:]*")


class ParsedDocument(NamedTuple):
    """What :func:`parse_document` hands to :class:`Policy`."""

    text: str
    version: str | None
    id: str | None
    statements: tuple[Statement, ...]


class _Doc(NamedTuple):
    version: str | None
    statements: list[RawStatement]
    rules: TypeRules


def _fail(message: str) -> MalformedPolicyDocument:
    return MalformedPolicyDocument(message)


# -- 0. size and characters ----------------------------------------------------


def _as_text(text: object) -> str:
    if isinstance(text, str):
        return text
    if isinstance(text, bytes | bytearray):
        try:
            return bytes(text).decode("utf-8")
        except UnicodeDecodeError:
            raise _fail(Messages.SYNTAX) from None
    raise _fail(Messages.SYNTAX)


def policy_size(text: str) -> int:
    """A policy's size as IAM counts it against its quotas: characters without whitespace.

    reference_iam-quotas.md: "IAM doesn't count white space when calculating the
    size of a policy". Sum it over an entity's inline policies and compare with
    ``SIZE_QUOTAS`` for the aggregate quotas.
    """
    return len(text.translate(_WHITESPACE))


def _decoded(text: str) -> Any:
    """The strictly decoded document, or ``None`` when it is not JSON."""
    try:
        return decode(text)
    except JsonError:
        return None


def _check_size(text: str, rules: TypeRules, *, decoded: bool) -> None:
    if len(text) > MAX_DOCUMENT_LENGTH:
        raise PolicyDocumentValidationError(Messages.TOO_LONG.format(limit=MAX_DOCUMENT_LENGTH))
    # ASCII text that decoded as JSON holds no character IAM refuses: JSON allows
    # control characters neither in strings (the strict decoder) nor outside them,
    # so the scan is needed only for other text.
    if not (decoded and text.isascii()) and _BAD_CHARACTER.search(text):
        raise PolicyDocumentValidationError(Messages.CHARACTERS)
    size = len(text) if rules.size_counts_whitespace else policy_size(text)
    if size > rules.size_limit:
        raise PolicySizeQuotaExceeded(
            Messages.QUOTA.format(quota=rules.size_quota, limit=rules.size_limit)
        )


# -- 2. version -----------------------------------------------------------------


def _check_version(doc: _Doc) -> None:
    if doc.version not in doc.rules.versions:
        raise _fail(Messages.VERSION)


# -- 3. legacy parse (and the first resource-format error, reported at 7) ----


def _check_legacy(doc: _Doc) -> str | None:
    """Raise for legacy-parse failures; return the first resource-format error."""
    first_error: str | None = None
    for statement in doc.statements:
        if statement.effect not in ("Allow", "Deny"):  # case-sensitive here
            raise _fail(Messages.LEGACY)
        for condition in statement.conditions:
            if OPERATOR_FAMILIES[condition.base] == "Date" and not all(
                map(valid_date, condition.values)
            ):
                raise _fail(Messages.LEGACY)
        for resource in statement.resources:
            if resource == "*":
                continue
            error = resource_error(resource)
            if first_error is None:
                first_error = error
            if first_error is None and not legacy_resource(resource):
                raise _fail(Messages.LEGACY)
    return first_error


# -- 4..6 ---------------------------------------------------------------------------


def _check_sids(doc: _Doc) -> None:
    sids = [s.sid for s in doc.statements if s.sid]
    if len(set(sids)) != len(sids):
        raise _fail(Messages.SID_UNIQUE)
    if doc.rules.alphanumeric_sid and not all(_SID.fullmatch(sid) for sid in sids):
        raise _fail(Messages.SID_CHARACTERS)


def _check_actions(doc: _Doc) -> None:
    if not all(s.actions for s in doc.statements):
        raise _fail(Messages.ACTIONS)


def _check_resources(doc: _Doc) -> None:
    if doc.rules.resource is Need.REQUIRED and not all(s.resources for s in doc.statements):
        raise _fail(Messages.RESOURCES)


def _check_principals(doc: _Doc) -> None:
    rules = doc.rules
    for statement in doc.statements:
        if rules.principal is Need.FORBIDDEN and statement.principal_name:
            raise _fail(Messages.NO_PRINCIPAL)
        if rules.principal is Need.REQUIRED and not statement.principal_name:
            raise _fail(Messages.PRINCIPAL_REQUIRED)
        if rules.not_principal is Need.FORBIDDEN and statement.principal_name == "NotPrincipal":
            raise _fail(Messages.NOT_PRINCIPAL)


# -- 8, 9 ---------------------------------------------------------------------------


def _check_vendors(doc: _Doc) -> None:
    for statement in doc.statements:
        if all(map(_GOOD_ACTION.fullmatch, statement.actions)):
            continue
        for action in statement.actions:
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
            if any(a.partition(":")[0].lower() != "sts" for a in statement.actions):
                raise _fail(Messages.TRUST_ACTIONS)
    if doc.rules.resource is Need.FORBIDDEN and any(s.resource_name for s in doc.statements):
        raise _fail(Messages.TRUST_RESOURCE)


def _has_variable(values: Iterable[str]) -> bool:
    return any("${" in value for value in values)


def _check_conditions(doc: _Doc) -> None:
    variables_matter = doc.version == "2012-10-17"
    for statement in doc.statements:
        for condition in statement.conditions:
            if ":" not in condition.key:
                raise _fail(Messages.VENDOR)
        if not variables_matter:
            continue
        if _has_variable(statement.actions):
            raise _fail(Messages.VARIABLE.format(element=statement.action_name))
        for condition in statement.conditions:
            if "${" in condition.key:
                raise _fail(Messages.VARIABLE.format(element="condition keys"))
            family = OPERATOR_FAMILIES[condition.base]
            if family not in VARIABLE_FAMILIES and _has_variable(condition.values):
                raise _fail(Messages.VARIABLE_OPERATOR.format(operator=condition.operator))
        principal = statement.principal
        if principal is not None and _has_variable(
            principal.aws + principal.federated + principal.service + principal.canonical_user
        ):
            raise _fail(Messages.VARIABLE.format(element=statement.principal_name))


# The checks after the legacy parse, in IAM's order; the resource-format
# error found during the legacy parse is reported between the two groups.
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


def _build(text: str, statements: list[RawStatement]) -> tuple[Statement, ...]:
    spans = statement_spans(text)
    out = []
    for index, raw in enumerate(statements):
        is_action = raw.action_name == "Action"
        is_resource = raw.resource_name == "Resource"
        is_principal = raw.principal_name == "Principal"
        out.append(
            Statement(
                index=index,
                sid=raw.sid,
                effect=raw.effect,
                actions=raw.actions if is_action else None,
                not_actions=None if is_action else raw.actions,
                resources=raw.resources if is_resource else None,
                not_resources=raw.resources if raw.resource_name == "NotResource" else None,
                principal=raw.principal if is_principal else None,
                not_principal=None if is_principal else raw.principal,
                conditions=raw.conditions,
                start=spans[index][0],
                end=spans[index][1],
            )
        )
    return tuple(out)


def parse_document(text: str | bytes, policy_type: PolicyType) -> ParsedDocument:
    """Validate ``text`` as a policy of ``policy_type`` and build its statements.

    Raises:
        MalformedPolicyDocument: the first problem in IAM's check order, with
            IAM's message (or one of its two subclasses for size and characters).
    """
    rules = rules_for(policy_type)
    source = _as_text(text)
    value = _decoded(source) if len(source) <= MAX_DOCUMENT_LENGTH else None
    _check_size(source, rules, decoded=value is not None)
    parts = None if value is None else read_document(value)
    if parts is None:
        raise _fail(Messages.SYNTAX)
    doc = _Doc(parts.version, parts.statements, rules)
    _check_version(doc)
    first_resource_error = _check_legacy(doc)
    for check in _CHECKS:
        check(doc)
    if first_resource_error is not None:
        raise _fail(first_resource_error)
    for check in _LATE_CHECKS:
        check(doc)
    return ParsedDocument(source, parts.version, parts.id, _build(source, parts.statements))
