"""Non-fatal policy checks in the spirit of IAM Access Analyzer's policy validation.

:func:`lint` reads a parsed :class:`Policy` and returns :class:`Finding` rows,
most serious first. Nothing here refuses a policy; :meth:`Policy.parse` does
that. Where Access Analyzer has the check, the finding uses its issue code and
its ``findingDetails`` text (IAM User Guide, "IAM policy validation check
reference", ``access-analyzer-reference-policy-checks.md``); the checks it
lacks carry our own code, marked below, with the documentation page that
warns about the pattern::

    findings = lint(Policy.parse(text))
    for f in findings:
        print(f.severity, f.code, f.sid, f.message)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum

from ._elements import Condition, Position, Statement
from ._model import Policy

__all__ = ["MULTIVALUED_KEYS", "Finding", "Severity", "lint"]


class Severity(StrEnum):
    """Access Analyzer's finding types (ValidatePolicyFinding.findingType)."""

    ERROR = "ERROR"
    SECURITY_WARNING = "SECURITY_WARNING"
    WARNING = "WARNING"
    SUGGESTION = "SUGGESTION"


_ORDER = {s: i for i, s in enumerate(Severity)}


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """One lint finding, tied to a statement (its index, Sid and start position).

    A finding about the whole document (a missing ``Version``) has
    ``statement_index``, ``sid`` and ``position`` all ``None``.
    """

    severity: Severity
    code: str
    message: str
    statement_index: int | None
    sid: str | None
    position: Position | None


# Multivalued condition keys (reference_policies_condition-keys.md, "Value type:
# Multivalued"; reference_policies_condition-single-vs-multi-valued-context-keys.md),
# lower-case as keys match case-insensitively. Global keys completely; service
# keys only those whose pages mark them multivalued (ArrayOf...). Every other key
# is single-valued for the ForAllValues check.
MULTIVALUED_KEYS = frozenset(
    {
        "aws:calledvia",
        "aws:principalorgpaths",
        "aws:principalservicenameslist",
        "aws:resourceorgpaths",
        "aws:sourceorgpaths",
        "aws:tagkeys",
        "aws:vpceorgpaths",
        "dynamodb:attributes",
        "dynamodb:leadingkeys",
        "kms:encryptioncontextkeys",
        "kms:grantoperations",
    }
)
# OIDC "amr" claims are lists (e.g. cognito-identity.amazonaws.com:amr,
# id_roles_providers_oidc_user-id.md).
_MULTIVALUED_SUFFIXES = (":amr",)

_MFA_KEY = "aws:multifactorauthpresent"
_EQUALS_OPERATORS = frozenset(
    {"StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase"}
)

_Check = Callable[[Statement], Iterator[tuple[Severity, str, str]]]


def _allow_with_not_principal(statement: Statement) -> Iterator[tuple[Severity, str, str]]:
    # Access Analyzer: Security Warning - Allow with NotPrincipal.
    if statement.effect == "Allow" and statement.not_principal is not None:
        yield (
            Severity.SECURITY_WARNING,
            "ALLOW_WITH_NOT_PRINCIPAL",
            "Using Allow with NotPrincipal can be overly permissive. "
            "We recommend that you use Principal instead.",
        )


def _allow_with_not_action(statement: Statement) -> Iterator[tuple[Severity, str, str]]:
    # Ours. reference_policies_elements_notaction.md: Allow with NotAction grants
    # every action not listed, including ones added later (IAM.md §1.3, prowler #5035).
    if statement.effect == "Allow" and statement.not_actions is not None:
        yield (
            Severity.SECURITY_WARNING,
            "ALLOW_WITH_NOT_ACTION",
            "Using Allow with NotAction grants every action that is not listed, including "
            "actions of other services and ones added later. We recommend that you list the "
            "allowed actions in Action instead.",
        )


def _allow_all(statement: Statement) -> Iterator[tuple[Severity, str, str]]:
    # Ours. best-practices.md: grant least privilege; "*" on "*" is full administrator access.
    actions = statement.actions or ()
    if statement.effect == "Allow" and "*" in actions and "*" in (statement.resources or ()):
        yield (
            Severity.SECURITY_WARNING,
            "ALLOW_ALL_ACTIONS_ON_ALL_RESOURCES",
            'Using Allow with "Action": "*" and "Resource": "*" grants every action on every '
            "resource (full administrator access). We recommend that you grant only the "
            "actions and resources that are needed.",
        )


def _is_multivalued(key: str) -> bool:
    lowered = key.lower()
    return lowered in MULTIVALUED_KEYS or lowered.endswith(_MULTIVALUED_SUFFIXES)


def _condition_findings(
    statement: Statement, condition: Condition
) -> Iterator[tuple[Severity, str, str]]:
    if condition.qualifier == "ForAllValues" and not _is_multivalued(condition.key):
        # Access Analyzer: Security Warning - ForAllValues with single valued key.
        yield (
            Severity.SECURITY_WARNING,
            "FORALLVALUES_WITH_SINGLE_VALUED_KEY",
            f"Using ForAllValues qualifier with the single-valued condition key "
            f"{condition.key} can be overly permissive. We recommend that you remove "
            "ForAllValues:.",
        )
    if condition.base == "Null" and condition.if_exists:
        # Access Analyzer: Error - Null with if exists.
        yield (
            Severity.ERROR,
            "NULL_WITH_IF_EXISTS",
            "The Null condition operator cannot be used with the IfExists suffix. "
            "Update the operator or the suffix.",
        )
    if condition.base in _EQUALS_OPERATORS and any(map(_has_wildcard, condition.values)):
        # Access Analyzer: General Warning - Wildcard without like operator.
        yield (
            Severity.WARNING,
            "WILDCARD_WITHOUT_LIKE_OPERATOR",
            "Your condition value includes a * or ? character. If you meant to use a "
            "wildcard (*, ?), update the condition operator to include Like.",
        )
    yield from _mfa_findings(statement, condition)


def _has_wildcard(value: str) -> bool:
    # ${*} and ${?} are the escapes for a literal * and ? (reference_policies_variables.md).
    plain = value.replace("${*}", "").replace("${?}", "")
    return "*" in plain or "?" in plain


def _mfa_findings(
    statement: Statement, condition: Condition
) -> Iterator[tuple[Severity, str, str]]:
    # Ours. reference_policies_condition-keys.md (aws:MultiFactorAuthPresent) and
    # reference_policies_examples_ec2_require-mfa.md: the key is absent for
    # long-term access keys, so Bool and BoolIfExists answer differently there.
    if condition.base != "Bool" or condition.key.lower() != _MFA_KEY:
        return
    values = {v.lower() for v in condition.values}
    if statement.effect == "Deny" and not condition.if_exists and "false" in values:
        yield (
            Severity.SECURITY_WARNING,
            "DENY_MFA_WITHOUT_IF_EXISTS",
            'Deny with "Bool": {"aws:MultiFactorAuthPresent": "false"} does not deny '
            "requests signed with long-term access keys, which carry no "
            "aws:MultiFactorAuthPresent key. We recommend BoolIfExists.",
        )
    if statement.effect == "Allow" and condition.if_exists and "true" in values:
        yield (
            Severity.SECURITY_WARNING,
            "ALLOW_MFA_IF_EXISTS",
            'Allow with "BoolIfExists": {"aws:MultiFactorAuthPresent": "true"} also allows '
            "requests signed with long-term access keys, which never use MFA. "
            "We recommend Bool to require MFA.",
        )


def _duplicate_key_case(statement: Statement) -> Iterator[tuple[Severity, str, str]]:
    # Access Analyzer: Error - Duplicate keys with different case.
    seen: dict[tuple[str, str], str] = {}
    for condition in statement.conditions:
        folded = (condition.operator, condition.key.lower())
        if seen.setdefault(folded, condition.key) != condition.key:
            yield (
                Severity.ERROR,
                "DUPLICATE_KEYS_WITH_DIFFERENT_CASE",
                "The condition key appears more than once with different capitalization in "
                "the same condition block. Remove the duplicate condition keys.",
            )
            return


def _conditions(statement: Statement) -> Iterator[tuple[Severity, str, str]]:
    for condition in statement.conditions:
        yield from _condition_findings(statement, condition)


_CHECKS: tuple[_Check, ...] = (
    _allow_with_not_principal,
    _allow_with_not_action,
    _allow_all,
    _duplicate_key_case,
    _conditions,
)


def _document_findings(policy: Policy) -> Iterator[Finding]:
    if policy.version is None:
        # Access Analyzer: General Warning - Missing version. Without it, policy
        # variables are literal text (reference_policies_elements_version.md).
        yield Finding(
            severity=Severity.WARNING,
            code="MISSING_VERSION",
            message="We recommend that you specify the Version element to help you with "
            "debugging permission issues.",
            statement_index=None,
            sid=None,
            position=None,
        )


def lint(policy: Policy) -> tuple[Finding, ...]:
    """Findings for ``policy``, most serious first, then in document order."""
    findings = [*_document_findings(policy)]
    findings += [
        Finding(
            severity=severity,
            code=code,
            message=message,
            statement_index=statement.index,
            sid=statement.sid,
            position=statement.start,
        )
        for statement in policy.statements
        for check in _CHECKS
        for severity, code, message in check(statement)
    ]
    findings.sort(
        key=lambda f: (_ORDER[f.severity], -1 if f.statement_index is None else f.statement_index)
    )
    return tuple(findings)
