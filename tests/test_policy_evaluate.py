"""Policy evaluation: the documented order, policy types, principals, and failing closed.

Expected outcomes come from the IAM User Guide: reference_policies_evaluation-logic (EL),
reference_policies_evaluation-logic-cross-account (XA), access_policies_boundaries (PB),
access_policies#policies_session (SP), reference_policies_elements_principal (P),
reference_policies_elements_notprincipal (NP), reference_policies_elements_notaction (NA),
reference_policies_elements_notresource (NR), reference_policies_variables (V), and the STS API
reference for GetCallerIdentity.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from _policy_principals import ACCOUNT, ALICE, OTHER, ROLE_ARN, SESSION
from sigv4kit.middleware.iam.policy import (
    AuthorizationRequest,
    Decision,
    DecisionEffect,
    Policy,
    PolicyType,
    Principal,
    PrincipalType,
    evaluate,
)

FEDERATED = Principal(arn=f"arn:aws:sts::{ACCOUNT}:federated-user/bob", account=ACCOUNT,
                      type=PrincipalType.FEDERATED_USER)
CAROL = Principal(arn=f"arn:aws:iam::{OTHER}:user/carol", account=OTHER, type=PrincipalType.USER)
ANONYMOUS = Principal(arn="anonymous", account=None, type=PrincipalType.ANONYMOUS)
OBJECT = "arn:aws:s3:::reports/2026/q3.csv"


def policy(*statements: dict[str, Any], kind: PolicyType = PolicyType.IDENTITY,
           name: str = "p") -> Policy:
    document = {"Version": "2012-10-17", "Statement": list(statements)}
    return Policy.parse(json.dumps(document), policy_type=kind, policy_id=name)


def allow(action: str = "s3:GetObject", resource: str = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action: str = "s3:GetObject", resource: str = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def resource_policy(*statements: dict[str, Any]) -> Policy:
    return policy(*statements, kind=PolicyType.RESOURCE, name="bucket-policy")


def ask(principal: Principal = ALICE, action: str = "s3:GetObject", resource: str = OBJECT,
        **extra: Any) -> AuthorizationRequest:
    return AuthorizationRequest(principal=principal, action=action, resource=resource, **extra)


def sids(decision: Decision) -> list[str | None]:
    return [m.sid for m in decision.matched]


# -- the basics (EL) -------------------------------------------------------------------------------


def test_an_identity_allow_allows() -> None:
    decision = evaluate(ask(), identity_policies=[policy(allow(Sid="Read"))])
    assert decision.effect is DecisionEffect.ALLOW
    assert decision.allowed
    assert sids(decision) == ["Read"]
    assert decision.matched[0].policy_id == "p"
    assert decision.matched[0].policy_type is PolicyType.IDENTITY
    assert decision.denied_by is None
    assert decision.errors == ()


def test_nothing_matched_is_an_implicit_deny() -> None:
    decision = evaluate(ask(), identity_policies=[policy(allow("s3:PutObject"))])
    assert decision.effect is DecisionEffect.IMPLICIT_DENY
    assert not decision.allowed
    assert decision.matched == ()
    assert decision.denied_by is PolicyType.IDENTITY
    assert evaluate(ask()).effect is DecisionEffect.IMPLICIT_DENY


def test_an_explicit_deny_wins_over_any_allow() -> None:
    decision = evaluate(ask(), identity_policies=[policy(allow(Sid="A")),
                                                  policy(deny(Sid="D"), name="q")])
    assert decision.effect is DecisionEffect.EXPLICIT_DENY
    assert sids(decision) == ["D"]
    assert decision.matched[0].policy_id == "q"
    assert decision.denied_by is PolicyType.IDENTITY


def test_actions_match_case_insensitively_resources_case_sensitively() -> None:
    # reference_policies_elements_action: the prefix and the action name are case insensitive.
    assert evaluate(ask(action="S3:getobject"),
                    identity_policies=[policy(allow("s3:GetObject"))]).allowed
    assert evaluate(ask(), identity_policies=[policy(deny("S3:GETOBJECT"), allow())]).effect \
        is DecisionEffect.EXPLICIT_DENY
    assert not evaluate(ask(resource="arn:aws:s3:::Reports/x"),
                        identity_policies=[policy(allow(resource="arn:aws:s3:::reports/*"))]).allowed


def test_action_and_resource_wildcards() -> None:
    granted = policy(allow("s3:Get*", "arn:aws:s3:::reports/*"))
    assert evaluate(ask(), identity_policies=[granted]).allowed
    assert not evaluate(ask(action="s3:PutObject"), identity_policies=[granted]).allowed
    assert not evaluate(ask(resource="arn:aws:s3:::reports"), identity_policies=[granted]).allowed
    assert evaluate(ask(action="ec2:DescribeInstances", resource="*"),
                    identity_policies=[policy(allow("*"))]).allowed


def test_an_unmet_allow_condition_is_neutral_not_a_deny() -> None:
    conditional = policy(allow(Condition={"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}))
    decision = evaluate(ask(context={"aws:SourceIp": "192.0.2.1"}),
                        identity_policies=[conditional, policy(allow(Sid="Other"), name="q")])
    assert decision.allowed
    assert sids(decision) == ["Other"]
    alone = evaluate(ask(context={"aws:SourceIp": "192.0.2.1"}), identity_policies=[conditional])
    assert alone.effect is DecisionEffect.IMPLICIT_DENY


def test_context_keys_are_case_insensitive() -> None:
    granted = policy(allow(Condition={"StringEquals": {"AWS:UserName": "alice"}}))
    assert evaluate(ask(context={"aws:username": "alice"}), identity_policies=[granted]).allowed


def test_missing_context_keys_are_reported() -> None:
    granted = policy(allow(Condition={"StringEquals": {"aws:PrincipalTag/team": "ops"},
                                      "BoolIfExists": {"aws:MultiFactorAuthPresent": "true"}}))
    decision = evaluate(ask(), identity_policies=[granted])
    assert decision.effect is DecisionEffect.IMPLICIT_DENY
    assert decision.missing_context_keys == ("aws:MultiFactorAuthPresent", "aws:PrincipalTag/team")


# -- NotAction / NotResource (NA, NR) --------------------------------------------------------------


def test_allow_with_not_action_grants_every_other_action() -> None:
    everything_but_iam = policy({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})
    assert evaluate(ask(), identity_policies=[everything_but_iam]).allowed
    assert not evaluate(ask(action="iam:CreateUser", resource="*"),
                        identity_policies=[everything_but_iam]).allowed


def test_deny_with_not_action_denies_every_other_action() -> None:
    policies = [policy(allow("*")),
                policy({"Effect": "Deny", "NotAction": "s3:*", "Resource": "*"})]
    assert evaluate(ask(), identity_policies=policies).allowed
    assert evaluate(ask(action="iam:CreateUser", resource="*"),
                    identity_policies=policies).effect is DecisionEffect.EXPLICIT_DENY


def test_deny_with_not_resource_denies_everything_else() -> None:
    policies = [policy(allow("s3:*")), policy({"Effect": "Deny", "Action": "s3:*",
                                               "NotResource": "arn:aws:s3:::reports/*"})]
    assert evaluate(ask(), identity_policies=policies).allowed
    assert evaluate(ask(resource="arn:aws:s3:::secrets/key"),
                    identity_policies=policies).effect is DecisionEffect.EXPLICIT_DENY


def test_allow_with_not_resource() -> None:
    granted = policy({"Effect": "Allow", "Action": "s3:GetObject",
                      "NotResource": "arn:aws:s3:::secrets/*"})
    assert evaluate(ask(), identity_policies=[granted]).allowed
    assert not evaluate(ask(resource="arn:aws:s3:::secrets/x"), identity_policies=[granted]).allowed


# -- policy variables in resources (V) -------------------------------------------------------------


def test_variable_in_a_resource() -> None:
    home = policy(allow("s3:*", "arn:aws:s3:::home/${aws:username}/*"))
    assert evaluate(ask(resource="arn:aws:s3:::home/alice/a.txt",
                        context={"aws:username": "alice"}), identity_policies=[home]).allowed
    assert not evaluate(ask(resource="arn:aws:s3:::home/bob/a.txt",
                            context={"aws:username": "alice"}), identity_policies=[home]).allowed
    unresolved = evaluate(ask(resource="arn:aws:s3:::home/alice/a.txt"), identity_policies=[home])
    assert not unresolved.allowed
    assert unresolved.missing_context_keys == ("aws:username",)


def test_a_substituted_wildcard_is_literal() -> None:
    team = policy(allow("s3:*", "arn:aws:s3:::teams/${aws:PrincipalTag/team}/*"))
    context = {"aws:PrincipalTag/team": "*"}
    assert not evaluate(ask(resource="arn:aws:s3:::teams/finance/x", context=context),
                        identity_policies=[team]).allowed
    assert evaluate(ask(resource="arn:aws:s3:::teams/*/x", context=context),
                    identity_policies=[team]).allowed


def test_variables_are_literal_in_a_2008_policy() -> None:
    document = {"Version": "2008-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
         "Resource": "arn:aws:s3:::home/${aws:username}/*"}]}
    legacy = Policy.parse(json.dumps(document), policy_type=PolicyType.RESOURCE)
    context = {"aws:username": "alice"}
    assert not evaluate(ask(resource="arn:aws:s3:::home/alice/x", context=context),
                        resource_policy=legacy).allowed
    assert evaluate(ask(resource="arn:aws:s3:::home/${aws:username}/x", context=context),
                    resource_policy=legacy).allowed


# -- SCPs (EL) -------------------------------------------------------------------------------------


def test_scps_must_allow() -> None:
    scp_ec2_only = policy(allow("ec2:*"), kind=PolicyType.SCP, name="scp")
    decision = evaluate(ask(), identity_policies=[policy(allow())],
                        service_control_policies=[scp_ec2_only])
    assert decision.effect is DecisionEffect.IMPLICIT_DENY
    assert decision.denied_by is PolicyType.SCP
    scp_all = policy(allow("*"), kind=PolicyType.SCP, name="FullAWSAccess")
    assert evaluate(ask(), identity_policies=[policy(allow())],
                    service_control_policies=[scp_all]).allowed


def test_an_scp_allow_grants_nothing_by_itself() -> None:
    scp_all = policy(allow("*"), kind=PolicyType.SCP)
    assert evaluate(ask(), service_control_policies=[scp_all]).denied_by is PolicyType.IDENTITY


def test_an_scp_deny_wins() -> None:
    scp = policy(allow("*"), deny("s3:*"), kind=PolicyType.SCP)
    decision = evaluate(ask(), identity_policies=[policy(allow())], service_control_policies=[scp])
    assert decision.effect is DecisionEffect.EXPLICIT_DENY
    assert decision.denied_by is PolicyType.SCP


# -- permissions boundaries and session policies (PB, SP) ------------------------------------------


def test_boundary_intersects_identity_permissions() -> None:
    boundary = policy(allow("s3:*"), kind=PolicyType.BOUNDARY, name="boundary")
    granted = policy(allow("*"))
    assert evaluate(ask(), identity_policies=[granted], permissions_boundary=boundary).allowed
    decision = evaluate(ask(action="iam:CreateUser", resource="*"), identity_policies=[granted],
                        permissions_boundary=boundary)
    assert decision.effect is DecisionEffect.IMPLICIT_DENY
    assert decision.denied_by is PolicyType.BOUNDARY
    # The boundary grants nothing by itself.
    alone = evaluate(ask(), permissions_boundary=boundary)
    assert alone.denied_by is PolicyType.IDENTITY


def test_session_policy_intersects_role_permissions() -> None:
    role_policy = policy(allow("s3:*"))
    session_policy = policy(allow("s3:GetObject"), kind=PolicyType.SESSION, name="session")
    assert evaluate(ask(SESSION), identity_policies=[role_policy],
                    session_policies=[session_policy]).allowed
    decision = evaluate(ask(SESSION, action="s3:PutObject"), identity_policies=[role_policy],
                        session_policies=[session_policy])
    assert decision.denied_by is PolicyType.SESSION
    # Without a session policy a role session has the role's permissions.
    assert evaluate(ask(SESSION, action="s3:PutObject"), identity_policies=[role_policy]).allowed


def test_federated_user_needs_a_session_policy() -> None:
    # EL: a GetFederationToken session without a session policy is denied.
    user_policy = policy(allow())
    decision = evaluate(ask(FEDERATED), identity_policies=[user_policy])
    assert decision.denied_by is PolicyType.SESSION
    session_policy = policy(allow(), kind=PolicyType.SESSION)
    assert evaluate(ask(FEDERATED), identity_policies=[user_policy],
                    session_policies=[session_policy]).allowed


# -- resource-based policies (EL, PB, SP, XA, P) ---------------------------------------------------


def principal_allow(aws: str | list[str], **extra: Any) -> dict[str, Any]:
    return allow(resource="arn:aws:s3:::reports/*", Principal={"AWS": aws}, **extra)


def test_resource_policy_naming_the_user_allows_without_an_identity_allow() -> None:
    bucket = resource_policy(principal_allow(ALICE.arn, Sid="Alice"))
    decision = evaluate(ask(), resource_policy=bucket)
    assert decision.allowed
    assert sids(decision) == ["Alice"]
    assert decision.matched[0].policy_type is PolicyType.RESOURCE


def test_resource_policy_naming_the_user_is_not_limited_by_the_boundary() -> None:
    # PB: resource-based policies naming the user ARN are not limited by an implicit deny in the
    # permissions boundary.
    bucket = resource_policy(principal_allow(ALICE.arn))
    boundary = policy(allow("ec2:*"), kind=PolicyType.BOUNDARY)
    assert evaluate(ask(), resource_policy=bucket, permissions_boundary=boundary).allowed
    # An explicit deny in the boundary still wins.
    boundary_deny = policy(allow("*"), deny("s3:*"), kind=PolicyType.BOUNDARY)
    assert evaluate(ask(), resource_policy=bucket, permissions_boundary=boundary_deny).effect \
        is DecisionEffect.EXPLICIT_DENY


def test_resource_policy_naming_the_role_is_limited_by_boundary_and_session_policy() -> None:
    bucket = resource_policy(principal_allow(ROLE_ARN))
    assert evaluate(ask(SESSION), resource_policy=bucket).allowed  # joins the identity side
    boundary = policy(allow("ec2:*"), kind=PolicyType.BOUNDARY)
    assert evaluate(ask(SESSION), resource_policy=bucket,
                    permissions_boundary=boundary).denied_by is PolicyType.BOUNDARY
    session_policy = policy(allow("ec2:*"), kind=PolicyType.SESSION)
    assert evaluate(ask(SESSION), resource_policy=bucket,
                    session_policies=[session_policy]).denied_by is PolicyType.SESSION


def test_resource_policy_naming_the_session_is_not_limited_by_session_policy() -> None:
    # SP: a resource-based policy naming the session ARN is not limited by the session policy.
    bucket = resource_policy(principal_allow(SESSION.arn))
    session_policy = policy(allow("ec2:*"), kind=PolicyType.SESSION)
    boundary = policy(allow("ec2:*"), kind=PolicyType.BOUNDARY)
    assert evaluate(ask(SESSION), resource_policy=bucket, session_policies=[session_policy],
                    permissions_boundary=boundary).allowed


def test_resource_policy_naming_the_account_delegates_to_identity_policies() -> None:
    # P: "AWS": "<account>" is the account (any of its principals its policies allow), not root.
    for account in (ACCOUNT, f"arn:aws:iam::{ACCOUNT}:root"):
        bucket = resource_policy(principal_allow(account))
        assert evaluate(ask(), resource_policy=bucket).denied_by is PolicyType.IDENTITY
        assert evaluate(ask(), resource_policy=bucket,
                        identity_policies=[policy(allow())]).allowed


def test_resource_policy_for_someone_else_does_not_apply() -> None:
    bucket = resource_policy(principal_allow(f"arn:aws:iam::{ACCOUNT}:user/bob"),
                             {**deny(), "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/bob"}})
    assert evaluate(ask(), resource_policy=bucket, identity_policies=[policy(allow())]).allowed


def test_public_resource_policy_allows_anonymous() -> None:
    bucket = resource_policy(allow(resource="arn:aws:s3:::reports/*", Principal="*"))
    assert evaluate(ask(ANONYMOUS), resource_policy=bucket).allowed
    other_bucket = resource_policy(principal_allow(ALICE.arn))
    assert evaluate(ask(ANONYMOUS), resource_policy=other_bucket).denied_by is PolicyType.IDENTITY


def test_cross_account_needs_both_sides() -> None:
    # XA: the identity policy in the requester's account and the resource policy must both allow.
    bucket = resource_policy(principal_allow(OTHER))
    identity = [policy(allow())]
    request = ask(CAROL, resource_account=ACCOUNT)
    assert evaluate(request, resource_policy=bucket, identity_policies=identity).allowed
    assert evaluate(request, resource_policy=bucket).denied_by is PolicyType.IDENTITY
    assert evaluate(request, identity_policies=identity).denied_by is PolicyType.RESOURCE
    # Naming the user directly does not spare it its own account's identity policies.
    direct = resource_policy(principal_allow(CAROL.arn))
    assert evaluate(request, resource_policy=direct).denied_by is PolicyType.IDENTITY
    # A resource policy naming another account does not apply.
    stranger = resource_policy(principal_allow("999988887777"))
    assert evaluate(request, resource_policy=stranger,
                    identity_policies=identity).denied_by is PolicyType.RESOURCE


def test_cross_account_boundary_still_applies() -> None:
    bucket = resource_policy(principal_allow(OTHER))
    boundary = policy(allow("ec2:*"), kind=PolicyType.BOUNDARY)
    decision = evaluate(ask(CAROL, resource_account=ACCOUNT), resource_policy=bucket,
                        identity_policies=[policy(allow())], permissions_boundary=boundary)
    assert decision.denied_by is PolicyType.BOUNDARY


# -- NotPrincipal (NP, PB) -------------------------------------------------------------------------


def not_principal_deny(names: list[str]) -> dict[str, Any]:
    return deny("s3:*", "arn:aws:s3:::reports/*", NotPrincipal={"AWS": names})


def test_deny_not_principal_exempts_a_principal_listed_with_its_account() -> None:
    bucket = resource_policy(not_principal_deny([ALICE.arn, f"arn:aws:iam::{ACCOUNT}:root"]),
                             principal_allow(ALICE.arn))
    assert evaluate(ask(), resource_policy=bucket).allowed
    assert evaluate(ask(Principal(arn=f"arn:aws:iam::{ACCOUNT}:user/bob", account=ACCOUNT,
                                  type=PrincipalType.USER)),
                    resource_policy=bucket).effect is DecisionEffect.EXPLICIT_DENY


def test_deny_not_principal_without_the_account_denies() -> None:
    # NP: "you must also specify the account ARN of the not-denied principal".
    bucket = resource_policy(not_principal_deny([ALICE.arn]), principal_allow(ALICE.arn))
    assert evaluate(ask(), resource_policy=bucket).effect is DecisionEffect.EXPLICIT_DENY


def test_deny_not_principal_for_a_role_session_needs_session_role_and_account() -> None:
    names = [SESSION.arn, ROLE_ARN, f"arn:aws:iam::{ACCOUNT}:root"]
    exempt = resource_policy(not_principal_deny(names), principal_allow(SESSION.arn))
    assert evaluate(ask(SESSION), resource_policy=exempt).allowed
    without_role = resource_policy(not_principal_deny([SESSION.arn, ACCOUNT]),
                                   principal_allow(SESSION.arn))
    assert evaluate(ask(SESSION), resource_policy=without_role).effect \
        is DecisionEffect.EXPLICIT_DENY


def test_deny_not_principal_always_denies_a_principal_with_a_boundary() -> None:
    # PB, "Important": NotPrincipal with Deny always denies a principal that has a boundary.
    bucket = resource_policy(not_principal_deny([ALICE.arn, ACCOUNT]), principal_allow(ALICE.arn))
    boundary = policy(allow("*"), kind=PolicyType.BOUNDARY)
    decision = evaluate(ask(), resource_policy=bucket, permissions_boundary=boundary,
                        identity_policies=[policy(allow())])
    assert decision.effect is DecisionEffect.EXPLICIT_DENY


# -- trust policies --------------------------------------------------------------------------------


def trust(principal: dict[str, Any] | str) -> Policy:
    return policy({"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"},
                  kind=PolicyType.TRUST, name="trust")


def assume(principal: Principal, **extra: Any) -> AuthorizationRequest:
    return ask(principal, action="sts:AssumeRole", resource=ROLE_ARN, **extra)


def test_trust_policy_naming_the_user_allows_alone() -> None:
    assert evaluate(assume(ALICE), resource_policy=trust({"AWS": ALICE.arn})).allowed


def test_trust_policy_must_allow_even_when_identity_policies_do() -> None:
    decision = evaluate(assume(ALICE), resource_policy=trust({"AWS": "arn:aws:iam::1:user/x"}),
                        identity_policies=[policy(allow("sts:AssumeRole"))])
    assert decision.denied_by is PolicyType.TRUST


def test_trust_policy_naming_the_account_needs_the_callers_identity_policy() -> None:
    trusted = trust({"AWS": ACCOUNT})
    assert evaluate(assume(ALICE), resource_policy=trusted).denied_by is PolicyType.IDENTITY
    assert evaluate(assume(ALICE), resource_policy=trusted,
                    identity_policies=[policy(allow("sts:AssumeRole"))]).allowed


def test_cross_account_trust() -> None:
    trusted = trust({"AWS": OTHER})
    request = assume(CAROL, resource_account=ACCOUNT)
    assert evaluate(request, resource_policy=trusted).denied_by is PolicyType.IDENTITY
    assert evaluate(request, resource_policy=trusted,
                    identity_policies=[policy(allow("sts:AssumeRole", ROLE_ARN))]).allowed


def test_service_principal_in_a_trust_policy() -> None:
    ec2 = Principal(arn="ec2.amazonaws.com", account=None, type=PrincipalType.SERVICE,
                    service="ec2.amazonaws.com")
    assert evaluate(assume(ec2), resource_policy=trust({"Service": "ec2.amazonaws.com"})).allowed
    assert not evaluate(assume(ec2), resource_policy=trust({"Service": "lambda.amazonaws.com"})
                        ).allowed


# -- GetCallerIdentity, failing closed -------------------------------------------------------------


def test_get_caller_identity_is_allowed_even_under_an_explicit_deny() -> None:
    deny_all = policy(deny("*"))
    decision = evaluate(ask(action="sts:GetCallerIdentity", resource="*"),
                        identity_policies=[deny_all], service_control_policies=[deny_all])
    assert decision.allowed


def with_operator(source: Policy, operator: str) -> Policy:
    """The policy with its first statement's first condition renamed (the parser refuses it)."""
    statement = source.statements[0]
    bad = dataclasses.replace(statement.conditions[0], operator=operator, base=operator)
    return dataclasses.replace(
        source, statements=(dataclasses.replace(statement, conditions=(bad,)),
                            *source.statements[1:]))


def test_an_unknown_operator_in_an_allow_does_not_allow() -> None:
    granted = with_operator(policy(allow(Condition={"StringEquals": {"aws:username": "alice"}})),
                            "StringEqualsTypo")
    decision = evaluate(ask(context={"aws:username": "alice"}), identity_policies=[granted])
    assert decision.effect is DecisionEffect.IMPLICIT_DENY
    assert len(decision.errors) == 1
    assert "StringEqualsTypo" in decision.errors[0]


def test_an_unknown_operator_in_a_deny_denies() -> None:
    denied = with_operator(policy(deny(Condition={"StringEquals": {"aws:username": "bob"}})),
                           "StringEqualsTypo")
    decision = evaluate(ask(context={"aws:username": "alice"}),
                        identity_policies=[denied, policy(allow(), name="q")])
    assert decision.effect is DecisionEffect.EXPLICIT_DENY
    assert decision.errors


def test_any_error_prevents_an_allow() -> None:
    broken = policy(allow(Condition={"NumericLessThan": {"aws:MultiFactorAuthAge": "abc"}}))
    decision = evaluate(ask(context={"aws:MultiFactorAuthAge": "5"}),
                        identity_policies=[broken, policy(allow(Sid="Clean"), name="q")])
    assert not decision.allowed
    assert decision.effect is DecisionEffect.IMPLICIT_DENY
    assert decision.errors
    assert decision.denied_by is PolicyType.IDENTITY


def test_a_false_condition_outweighs_an_error_in_the_same_statement() -> None:
    # AND: one false condition makes the statement not apply, whatever the other one says.
    statement = deny(Condition={"NumericLessThan": {"aws:MultiFactorAuthAge": "abc"},
                                "StringEquals": {"aws:username": "bob"}})
    decision = evaluate(ask(context={"aws:MultiFactorAuthAge": "5", "aws:username": "alice"}),
                        identity_policies=[policy(statement), policy(allow(), name="q")])
    assert decision.allowed
    assert decision.errors == ()


def test_a_request_value_of_the_wrong_type_fails_closed() -> None:
    after_2020 = {"DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}}
    denied = policy(deny(Condition=after_2020), allow())
    decision = evaluate(ask(context={"aws:CurrentTime": "not a date"}), identity_policies=[denied])
    assert decision.effect is DecisionEffect.EXPLICIT_DENY
    assert decision.errors


def test_a_policy_is_compiled_once_and_reused() -> None:
    granted = policy(allow())
    first = evaluate(ask(), identity_policies=(granted,))
    second = evaluate(ask(), identity_policies=(granted,))
    assert first == second
    assert first.allowed


@pytest.mark.parametrize("order", [0, 1])
def test_denied_by_does_not_depend_on_policy_order(order: int) -> None:
    identity_deny = policy(deny(), allow())
    scp_deny = policy(allow("*"), deny(), kind=PolicyType.SCP)
    scps = [scp_deny, policy(allow("*"), kind=PolicyType.SCP)]
    decision = evaluate(ask(), identity_policies=[identity_deny],
                        service_control_policies=scps if order else scps[::-1])
    assert decision.denied_by is PolicyType.SCP


# -- the account root user (EL, access_policies#access_policies-root) ------------------------------

ROOT = Principal(arn=f"arn:aws:iam::{ACCOUNT}:root", account=ACCOUNT, type=PrincipalType.ACCOUNT)


def test_the_root_user_has_full_access_by_default() -> None:
    # EL: "all requests are implicitly denied with the exception of the AWS account root user,
    # which has full access".
    decision = evaluate(ask(ROOT))
    assert decision.allowed
    assert decision.matched == ()


def test_the_root_user_is_limited_by_scps_and_explicit_denies() -> None:
    # access_policies: "the root user is affected by any SCPs for the account".
    scp = policy(allow("ec2:*"), kind=PolicyType.SCP)
    assert evaluate(ask(ROOT), service_control_policies=[scp]).denied_by is PolicyType.SCP
    bucket = resource_policy({**deny(), "Principal": "*"})
    assert evaluate(ask(ROOT), resource_policy=bucket).effect is DecisionEffect.EXPLICIT_DENY


def test_another_accounts_root_needs_the_resource_policy() -> None:
    other_root = Principal(arn=f"arn:aws:iam::{OTHER}:root", account=OTHER,
                           type=PrincipalType.ACCOUNT)
    request = ask(other_root, resource_account=ACCOUNT)
    assert evaluate(request).denied_by is PolicyType.RESOURCE
    assert evaluate(request, resource_policy=resource_policy(principal_allow(OTHER))).allowed


@pytest.mark.parametrize("value", [True, 5, None, ["a", 1], {"a": "b"}])
def test_a_context_value_of_the_wrong_type_fails_closed(value: Any) -> None:
    # The context maps keys to a string or a list of strings; anything else is an error that
    # denies, never a crash (and None simply means the key is absent).
    granted = policy(allow(Condition={"StringEqualsIfExists": {"aws:username": "alice"}}))
    decision = evaluate(ask(context={"aws:username": value}), identity_policies=[granted])
    if value is None:
        assert decision.allowed
    else:
        assert decision.effect is DecisionEffect.IMPLICIT_DENY
        assert decision.errors


def test_a_wrongly_typed_context_value_read_by_a_resource_variable_fails_closed() -> None:
    home = policy(allow("s3:*", "arn:aws:s3:::home/${aws:username}/*"))
    decision = evaluate(ask(resource="arn:aws:s3:::home/alice/x", context={"aws:username": 7}),
                        identity_policies=[home])
    assert not decision.allowed
    assert decision.errors
