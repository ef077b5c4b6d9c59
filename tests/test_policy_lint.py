"""lint(): Access Analyzer-style findings, each with its source.

* [AA] IAM User Guide, "IAM policy validation check reference"
  (``access-analyzer-reference-policy-checks.md``): issue codes, finding types
  and ``findingDetails`` texts, copied as the expected values.
* [keys] ``reference_policies_condition-keys.md`` (aws:MultiFactorAuthPresent,
  multivalued keys) and ``reference_policies_examples_ec2_require-mfa.md``.
* [notaction] ``reference_policies_elements_notaction.md``.
"""

from __future__ import annotations

import json

import pytest
from sigv4kit.middleware.iam.policy import (
    Finding,
    Policy,
    PolicyType,
    Position,
    Severity,
    lint,
)


def policy(*statements: dict[str, object], policy_type: PolicyType = PolicyType.IDENTITY) -> Policy:
    text = json.dumps({"Version": "2012-10-17", "Statement": list(statements)})
    return Policy.parse(text, policy_type=policy_type)


def stmt(effect: str = "Allow", **elements: object) -> dict[str, object]:
    return {"Effect": effect, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*", **elements}


def codes(p: Policy) -> list[str]:
    return [f.code for f in lint(p)]


def only(p: Policy) -> Finding:
    (finding,) = lint(p)
    return finding


def test_clean_policy_has_no_findings() -> None:
    assert lint(policy(stmt(), stmt("Deny", Action="s3:DeleteObject"))) == ()


def test_allow_with_not_principal() -> None:
    # [AA] Security Warning - Allow with NotPrincipal.
    p = policy(
        stmt(Sid="Open", NotPrincipal={"AWS": "111122223333"}), policy_type=PolicyType.RESOURCE
    )
    finding = only(p)
    assert finding == Finding(
        severity=Severity.SECURITY_WARNING,
        code="ALLOW_WITH_NOT_PRINCIPAL",
        message="Using Allow with NotPrincipal can be overly permissive. "
        "We recommend that you use Principal instead.",
        statement_index=0,
        sid="Open",
        position=Position(1, 42),  # counted by hand: "{" at column 41
    )


def test_deny_with_not_principal_is_the_documented_use() -> None:
    p = policy(stmt("Deny", NotPrincipal={"AWS": "111122223333"}), policy_type=PolicyType.RESOURCE)
    assert lint(p) == ()


def test_allow_with_not_action() -> None:
    # [notaction] "Be careful using NotAction with Allow".
    statement = {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}
    finding = only(policy(statement))
    assert (finding.severity, finding.code) == (Severity.SECURITY_WARNING, "ALLOW_WITH_NOT_ACTION")
    assert lint(policy({**statement, "Effect": "Deny"})) == ()


def test_allow_all_actions_on_all_resources() -> None:
    finding = only(policy(stmt(Action="*", Resource="*")))
    assert (finding.severity, finding.code) == (
        Severity.SECURITY_WARNING,
        "ALLOW_ALL_ACTIONS_ON_ALL_RESOURCES",
    )
    assert lint(policy(stmt("Deny", Action="*", Resource="*"))) == ()
    assert lint(policy(stmt(Action="*"))) == ()
    assert lint(policy(stmt(Action="s3:*", Resource="*"))) == ()


@pytest.mark.parametrize("key", ["aws:PrincipalTag/team", "aws:RequestedRegion", "s3:prefix"])
def test_forallvalues_with_single_valued_key(key: str) -> None:
    # [AA] Security Warning - ForAllValues with single valued key.
    finding = only(policy(stmt(Condition={"ForAllValues:StringEquals": {key: ["a", "b"]}})))
    assert finding.severity is Severity.SECURITY_WARNING
    assert finding.code == "FORALLVALUES_WITH_SINGLE_VALUED_KEY"
    assert finding.message == (
        f"Using ForAllValues qualifier with the single-valued condition key {key} can be "
        "overly permissive. We recommend that you remove ForAllValues:."
    )


@pytest.mark.parametrize(
    "key",
    [
        "aws:TagKeys",
        "AWS:tagkeys",  # key names are case-insensitive
        "aws:PrincipalServiceNamesList",
        "aws:CalledVia",
        "dynamodb:Attributes",
        "cognito-identity.amazonaws.com:amr",
    ],
)
def test_forallvalues_on_multivalued_keys_is_fine(key: str) -> None:
    # [keys] the documented multivalued keys; ForAnyValue is never flagged.
    assert lint(policy(stmt(Condition={"ForAllValues:StringLike": {key: "a*"}}))) == ()
    assert lint(policy(stmt(Condition={"ForAnyValue:StringLike": {"aws:username": "a*"}}))) == ()


def test_null_with_if_exists() -> None:
    # [AA] Error - Null with if exists.
    finding = only(policy(stmt(Condition={"NullIfExists": {"aws:TokenIssueTime": "true"}})))
    assert (finding.severity, finding.code) == (Severity.ERROR, "NULL_WITH_IF_EXISTS")
    assert finding.message == (
        "The Null condition operator cannot be used with the IfExists suffix. "
        "Update the operator or the suffix."
    )


@pytest.mark.parametrize("operator", ["StringEquals", "StringNotEqualsIgnoreCase"])
def test_wildcard_without_like_operator(operator: str) -> None:
    # [AA] General Warning - Wildcard without like operator.
    finding = only(policy(stmt(Condition={operator: {"s3:prefix": "home/*"}})))
    assert (finding.severity, finding.code) == (Severity.WARNING, "WILDCARD_WITHOUT_LIKE_OPERATOR")
    assert finding.message == (
        "Your condition value includes a * or ? character. If you meant to use a wildcard "
        "(*, ?), update the condition operator to include Like."
    )


@pytest.mark.parametrize(
    "condition",
    [
        {"StringLike": {"s3:prefix": "home/*"}},
        {"StringEquals": {"s3:prefix": "home/${*}"}},  # the escape for a literal *
        {"StringEquals": {"s3:prefix": "home/${aws:username}"}},
    ],
)
def test_no_wildcard_warning(condition: dict[str, object]) -> None:
    assert lint(policy(stmt(Condition=condition))) == ()


def test_deny_with_bool_mfa_false() -> None:
    # [keys] "Deny ... Bool aws:MultiFactorAuthPresent false" does not deny long-term keys.
    condition = {"Bool": {"aws:MultiFactorAuthPresent": "false"}}
    finding = only(policy(stmt("Deny", Condition=condition)))
    assert (finding.severity, finding.code) == (
        Severity.SECURITY_WARNING,
        "DENY_MFA_WITHOUT_IF_EXISTS",
    )
    # The documented fix raises nothing; nor does a JSON false written without quotes.
    assert lint(policy(stmt("Deny", Condition={"BoolIfExists": condition["Bool"]}))) == ()
    assert codes(
        policy(stmt("Deny", Condition={"Bool": {"aws:multifactorauthpresent": False}}))
    ) == ["DENY_MFA_WITHOUT_IF_EXISTS"]


def test_allow_with_bool_if_exists_mfa_true() -> None:
    # [keys] Allow + BoolIfExists true also allows long-term keys; Allow + Bool true is strict.
    condition = {"aws:MultiFactorAuthPresent": "true"}
    finding = only(policy(stmt(Condition={"BoolIfExists": condition})))
    assert (finding.severity, finding.code) == (Severity.SECURITY_WARNING, "ALLOW_MFA_IF_EXISTS")
    assert lint(policy(stmt(Condition={"Bool": condition}))) == ()


def test_duplicate_condition_keys_with_different_case() -> None:
    # [AA] Error - Duplicate keys with different case.
    condition = {"StringEquals": {"aws:PrincipalTag/team": "a", "aws:principaltag/TEAM": "b"}}
    finding = only(policy(stmt(Condition=condition)))
    assert (finding.severity, finding.code) == (
        Severity.ERROR,
        "DUPLICATE_KEYS_WITH_DIFFERENT_CASE",
    )
    # The same key under two operators is ordinary.
    two_ops = {"StringLike": {"s3:prefix": "a*"}, "StringNotLike": {"S3:Prefix": "a/b*"}}
    assert lint(policy(stmt(Condition=two_ops))) == ()


def test_findings_most_serious_first_then_by_statement() -> None:
    p = policy(
        stmt(Sid="W", Condition={"StringEquals": {"s3:prefix": "a*"}}),
        stmt(Sid="S", Action="*", Resource="*"),
        stmt(Sid="E", Condition={"NullIfExists": {"aws:x": "true"}}),
        stmt(Sid="S2", Condition={"ForAllValues:StringEquals": {"aws:username": "a"}}),
    )
    assert [(f.severity, f.sid, f.statement_index) for f in lint(p)] == [
        (Severity.ERROR, "E", 2),
        (Severity.SECURITY_WARNING, "S", 1),
        (Severity.SECURITY_WARNING, "S2", 3),
        (Severity.WARNING, "W", 0),
    ]


def test_missing_version() -> None:
    # [AA] General Warning - Missing version: a document-level finding.
    text = json.dumps({"Statement": [stmt(Principal="*")]})
    finding = only(Policy.parse(text, policy_type=PolicyType.RESOURCE))
    assert finding == Finding(
        severity=Severity.WARNING,
        code="MISSING_VERSION",
        message="We recommend that you specify the Version element to help you with "
        "debugging permission issues.",
        statement_index=None,
        sid=None,
        position=None,
    )


def test_document_findings_sort_before_statement_findings_of_their_severity() -> None:
    text = json.dumps(
        {"Statement": [stmt(Principal="*", Condition={"StringEquals": {"s3:prefix": "a*"}})]}
    )
    assert codes(Policy.parse(text, policy_type=PolicyType.RESOURCE)) == [
        "MISSING_VERSION",
        "WILDCARD_WITHOUT_LIKE_OPERATOR",
    ]
