"""The ten classic mistakes of policy engines, one named test each (issue 14, IAM.md §6 and §8).

Every expectation comes from the IAM User Guide (cited per test) or from issue 14's
statement of the rule; none was taken from this engine's output.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from _policy_util import ALLOW_ALL, SESSION, USER, decide, document, policy, statement
from sigv4kit.middleware.iam.policy import (
    AuthorizationRequest,
    MalformedPolicyDocument,
    PolicyType,
    evaluate,
)


def _effect(*identity: dict[str, object], **kwargs: object) -> str:
    return decide(*identity, **kwargs).effect.value  # type: ignore[arg-type]


def test_mistake_01_notaction_and_notresource_semantics() -> None:
    """NotAction is "everything except", not "these"; Deny+NotResource denies, never grants.

    reference_policies_elements_notaction.html: Allow+NotAction "iam:*" allows "every action
    in every AWS service except for IAM"; reference_policies_elements_notresource.html:
    Deny+NotResource "explicitly denies access to all ... resources other than the listed
    resources" and "does not grant the user access to any resources".
    """
    all_but_iam = document(statement("Allow", NotAction="iam:*"))
    assert _effect(all_but_iam, action="s3:GetObject") == "Allow"
    assert _effect(all_but_iam, action="iam:CreateUser", resource="*") == "ImplicitDeny"
    only_payroll = document(
        statement("Deny", Action="s3:*", NotResource=["arn:aws:s3:::hr/payroll/*"])
    )
    assert _effect(ALLOW_ALL, only_payroll, resource="arn:aws:s3:::hr/payroll/a.csv") == "Allow"
    assert (
        _effect(ALLOW_ALL, only_payroll, resource="arn:aws:s3:::hr/other/a.csv") == "ExplicitDeny"
    )
    assert _effect(only_payroll, resource="arn:aws:s3:::hr/payroll/a.csv") == "ImplicitDeny"
    deny_but_reads = document(statement("Deny", NotAction=["s3:Get*", "s3:List*"]))
    assert _effect(ALLOW_ALL, deny_but_reads, action="s3:GetObject") == "Allow"
    assert _effect(ALLOW_ALL, deny_but_reads, action="s3:PutObject") == "ExplicitDeny"


def test_mistake_02_missing_keys() -> None:
    """Missing key: positive false, negated true, IfExists true, ForAllValues true, ForAnyValue
    false.

    Condition operators page ("the values do not match ... except ...IfExists and Null"),
    variables page ("Inverted condition operators ... do match against a null value"),
    multivalued conditions page (ForAllValues true / ForAnyValue false with no key).
    """
    cases = {
        "StringEquals": False,
        "StringNotEquals": True,
        "StringEqualsIfExists": True,
        "ForAllValues:StringEquals": True,
        "ForAnyValue:StringEquals": False,
        "NotIpAddress": True,
        "IpAddress": False,
    }
    for operator, applies in cases.items():
        value = "10.0.0.0/8" if "Ip" in operator else "x"
        body = document(statement("Allow", {operator: {"ex:absent": value}}))
        assert _effect(body) == ("Allow" if applies else "ImplicitDeny"), operator
    missing = decide(document(statement("Allow", {"StringEquals": {"aws:PrincipalTag/team": "a"}})))
    assert list(missing.missing_context_keys) == ["aws:PrincipalTag/team"]


def test_mistake_03_unknown_operators_do_not_fail_open() -> None:
    """An operator the engine does not know must never be skipped as "true".

    Issue 14 (Validate): unknown condition operators are refused; IAM answers
    MalformedPolicyDocument. Evaluation itself fails closed ("Any error while evaluating
    denies"), so an unevaluable condition never grants.
    """
    for operator in ("StringEqualsAnything", "ForSomeValues:StringEquals", "stringequals", "Bool2"):
        text = document(statement("Allow", {operator: {"aws:username": "alice"}}))
        with pytest.raises(MalformedPolicyDocument):
            policy(text)
    # Should one reach the evaluator anyway (a policy object built by hand), it must not grant.
    parsed = policy(document(statement("Allow", {"StringEquals": {"aws:username": "alice"}})))
    (stmt,) = parsed.statements
    unknown = replace(stmt.conditions[0], operator="StringSoundsLike", base="StringSoundsLike")
    forged = replace(parsed, statements=(replace(stmt, conditions=(unknown,)),))
    request = AuthorizationRequest(
        principal=USER, action="s3:GetObject", resource="*", context={"aws:username": "alice"}
    )
    decision = evaluate(request, identity_policies=[forged])
    assert not decision.allowed
    # A value of the wrong type for its operator is an evaluation error: never an allow.
    numeric = document(statement("Allow", {"NumericLessThan": {"s3:max-keys": "10"}}))
    wrong_type = decide(numeric, context={"s3:max-keys": "ten"})
    assert not wrong_type.allowed
    assert wrong_type.errors
    numeric_deny = document(statement("Deny", {"NumericLessThan": {"s3:max-keys": "10"}}))
    assert not decide(ALLOW_ALL, numeric_deny, context={"s3:max-keys": "ten"}).allowed


def test_mistake_04_unmet_allow_condition_is_neutral_not_a_deny() -> None:
    """A statement whose condition fails does not apply: neither allow nor deny.

    reference_policies_evaluation-logic.html: "An implicit denial occurs when there is no
    applicable Deny statement but also no applicable Allow statement"; a resource policy that
    names someone else does not deny either.
    """
    needs_mfa = document(statement("Allow", {"Bool": {"aws:MultiFactorAuthPresent": "true"}}))
    other = document(statement("Allow", Action="s3:GetObject"))
    assert _effect(needs_mfa) == "ImplicitDeny"
    assert _effect(needs_mfa, other) == "Allow"
    assert _effect(other, needs_mfa) == "Allow"
    bucket = policy(
        document(
            statement(
                "Allow", Principal={"AWS": "arn:aws:iam::123456789012:user/bob"}, Action="s3:*"
            )
        ),
        policy_type=PolicyType.RESOURCE,
        policy_id="bucket",
    )
    assert _effect(other, resource_policy=bucket) == "Allow"
    assert _effect(resource_policy=bucket) == "ImplicitDeny"


def test_mistake_05_case_sensitivity() -> None:
    """Actions and condition-key names ignore case; values, resources and Effect do not.

    reference_policies_elements_action.html ("The prefix and the action name are case
    insensitive"), reference_policies_elements_condition.html ("Condition key names are not
    case-sensitive"), condition operators page (StringEquals "case sensitive"; ARN matching
    "Case-sensitive"), grammar (Effect is "Allow" | "Deny").
    """
    deny_lower = document(statement("Deny", Action="s3:deleteobject"))
    assert _effect(ALLOW_ALL, deny_lower, action="S3:DeleteObject") == "ExplicitDeny"
    key_case = document(statement("Allow", {"StringEquals": {"AWS:PrincipalTag/Team": "red"}}))
    assert _effect(key_case, context={"aws:principaltag/team": "red"}) == "Allow"
    assert _effect(key_case, context={"aws:PrincipalTag/Team": "RED"}) == "ImplicitDeny"
    resource_case = document(statement("Allow", Resource="arn:aws:s3:::bucket/Key"))
    assert _effect(resource_case, resource="arn:aws:s3:::bucket/Key") == "Allow"
    assert _effect(resource_case, resource="arn:aws:s3:::bucket/key") == "ImplicitDeny"
    with pytest.raises(MalformedPolicyDocument):
        policy(document({"Effect": "allow", "Action": "*", "Resource": "*"}))


@pytest.mark.timeout(60)
def test_mistake_06_wildcards_are_not_regular_expressions() -> None:
    """Only ``*`` and ``?`` are special; no regex, no catastrophic backtracking.

    reference_policies_elements_resource.html / condition operators page: "*" and "?" are the
    wildcards; awsdocs/iam-user-guide PR #289 removed an example that implied regex. A
    pattern like ``*a*a*...*b`` against a long run of ``a`` is the classic ReDoS case: a linear
    matcher answers at once, a backtracking one never does (the timeout catches that hang; it
    is not a speed assertion).
    """
    dotted = document(statement("Allow", Resource="arn:aws:s3:::my.bucket/*"))
    assert _effect(dotted, resource="arn:aws:s3:::my.bucket/key") == "Allow"
    assert _effect(dotted, resource="arn:aws:s3:::myxbucket/key") == "ImplicitDeny"
    plus = document(statement("Allow", Resource="arn:aws:s3:::a+b/*"))
    assert _effect(plus, resource="arn:aws:s3:::aab/key") == "ImplicitDeny"
    question = document(statement("Allow", Resource="arn:aws:s3:::bucket/file?.txt"))
    assert _effect(question, resource="arn:aws:s3:::bucket/file1.txt") == "Allow"
    assert _effect(question, resource="arn:aws:s3:::bucket/file12.txt") == "ImplicitDeny"
    assert _effect(question, resource="arn:aws:s3:::bucket/file.txt") == "ImplicitDeny"
    evil = "arn:aws:s3:::" + "*a" * 40 + "*b"
    redos = document(statement("Allow", Resource=evil))
    assert _effect(redos, resource="arn:aws:s3:::" + "a" * 5000) == "ImplicitDeny"
    redos_condition = document(statement("Allow", {"StringLike": {"ex:key": "*a" * 40 + "*b"}}))
    assert _effect(redos_condition, context={"ex:key": "a" * 5000}) == "ImplicitDeny"


def test_mistake_07_substituted_variables_are_literal() -> None:
    """A ``*`` or ``?`` inside a substituted value is a character, not a wildcard.

    reference_policies_variables.html, "Special characters": inserting an asterisk "would be
    interpreted as a wildcard" -- which is why a value coming from the request must be
    matched literally (issue 14; minio/minio PR #7791 was the security bug). An unset
    variable matches nothing ("Policy variables with no value").
    """
    team = document(statement("Allow", Resource="arn:aws:s3:::teams/${aws:PrincipalTag/team}/*"))
    assert (
        _effect(team, resource="arn:aws:s3:::teams/red/x", context={"aws:PrincipalTag/team": "red"})
        == "Allow"
    )
    assert (
        _effect(team, resource="arn:aws:s3:::teams/blue/x", context={"aws:PrincipalTag/team": "*"})
        == "ImplicitDeny"
    )
    assert (
        _effect(team, resource="arn:aws:s3:::teams/*/x", context={"aws:PrincipalTag/team": "*"})
        == "Allow"
    )
    assert (
        _effect(team, resource="arn:aws:s3:::teams/b/x", context={"aws:PrincipalTag/team": "?"})
        == "ImplicitDeny"
    )
    assert _effect(team, resource="arn:aws:s3:::teams//x") == "ImplicitDeny"
    like = document(statement("Allow", {"StringLike": {"s3:prefix": "home/${aws:username}/*"}}))
    assert _effect(like, context={"aws:username": "*", "s3:prefix": "home/bob/x"}) == "ImplicitDeny"
    assert _effect(like, context={"aws:username": "bob", "s3:prefix": "home/bob/x"}) == "Allow"


def test_mistake_08_negated_multi_value_logic() -> None:
    """Negated operators combine their values with NOR, and negate per value inside a set.

    reference_policies_condition-logic-multiple-context-keys-or-values.html ("those values are
    evaluated using a logical NOR"); multivalued examples table for ForAllValues:StringNotLike.
    """
    nor = document(statement("Allow", {"StringNotEquals": {"ex:key": ["a", "b"]}}))
    assert _effect(nor, context={"ex:key": "a"}) == "ImplicitDeny"
    assert _effect(nor, context={"ex:key": "b"}) == "ImplicitDeny"
    assert _effect(nor, context={"ex:key": "c"}) == "Allow"
    for_all = document(statement("Allow", {"ForAllValues:StringNotEquals": {"ex:key": ["a", "b"]}}))
    assert _effect(for_all) == "Allow"
    assert _effect(for_all, context={"ex:key": ("c", "d")}) == "Allow"
    assert _effect(for_all, context={"ex:key": ("c", "a")}) == "ImplicitDeny"
    for_any = document(statement("Allow", {"ForAnyValue:StringNotEquals": {"ex:key": ["a", "b"]}}))
    assert _effect(for_any) == "ImplicitDeny"
    assert _effect(for_any, context={"ex:key": ("a", "c")}) == "Allow"
    assert _effect(for_any, context={"ex:key": ("a", "b")}) == "ImplicitDeny"


def test_mistake_09_evaluation_order_and_composition() -> None:
    """Deny wins wherever it is; nothing matched is an implicit deny; the layers intersect.

    reference_policies_evaluation-logic.html (deny evaluation first, then SCP, resource,
    identity, boundary, session), issue 14 (sts:GetCallerIdentity is allowed even under an
    explicit Deny).
    """
    deny = document(statement("Deny", Action="s3:GetObject"))
    allow = document(statement("Allow", Action="s3:*"))
    assert _effect(allow, deny) == "ExplicitDeny"
    assert _effect(deny, allow) == "ExplicitDeny"
    assert _effect(document(statement("Allow", Action="ec2:*"))) == "ImplicitDeny"
    boundary = policy(
        document(statement("Allow", Action="ec2:*")), policy_type=PolicyType.BOUNDARY, policy_id="b"
    )
    bounded = decide(allow, permissions_boundary=boundary)
    assert (bounded.effect.value, bounded.denied_by) == ("ImplicitDeny", PolicyType.BOUNDARY)
    scp = policy(
        document(statement("Allow", Action="ec2:*")), policy_type=PolicyType.SCP, policy_id="scp"
    )
    fenced = decide(allow, service_control_policies=[scp])
    assert (fenced.effect.value, fenced.denied_by) == ("ImplicitDeny", PolicyType.SCP)
    session = policy(
        document(statement("Allow", Action="s3:ListBucket")),
        policy_type=PolicyType.SESSION,
        policy_id="s",
    )
    assert (
        decide(allow, principal=SESSION, session_policies=[session]).effect.value == "ImplicitDeny"
    )
    explicit = decide(allow, deny)
    assert explicit.denied_by == PolicyType.IDENTITY
    assert [m.effect for m in explicit.matched] == ["Deny"]
    deny_all = document(statement("Deny"))
    assert _effect(ALLOW_ALL, deny_all, action="sts:GetCallerIdentity", resource="*") == "Allow"
    assert _effect(action="sts:GetCallerIdentity", resource="*", principal=USER) == "Allow"


def test_mistake_10_bool_versus_bool_if_exists_for_mfa() -> None:
    """``Deny`` + ``Bool`` false does not deny long-term keys; ``BoolIfExists`` does.

    reference_policies_condition-keys.html#condition-keys-multifactorauthpresent: "This
    statement does not deny access to requests that are made using long-term credentials"
    versus the recommended BoolIfExists, which "also denies requests that are made using
    long-term credentials".
    """
    bool_deny = document(statement("Deny", {"Bool": {"aws:MultiFactorAuthPresent": "false"}}))
    if_exists_deny = document(
        statement("Deny", {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}})
    )
    assert _effect(ALLOW_ALL, bool_deny) == "Allow"
    assert _effect(ALLOW_ALL, if_exists_deny) == "ExplicitDeny"
    no_mfa = {"aws:MultiFactorAuthPresent": "false"}
    assert _effect(ALLOW_ALL, bool_deny, principal=SESSION, context=no_mfa) == "ExplicitDeny"
    assert _effect(ALLOW_ALL, if_exists_deny, principal=SESSION, context=no_mfa) == "ExplicitDeny"
    with_mfa = {"aws:MultiFactorAuthPresent": "true"}
    assert _effect(ALLOW_ALL, if_exists_deny, principal=SESSION, context=with_mfa) == "Allow"
