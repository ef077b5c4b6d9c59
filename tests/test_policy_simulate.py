"""simulate(): IAM's SimulateCustomPolicy as a function, and its AWS JSON shape.

Oracles: the AWS CLI's own documented example for ``aws iam simulate-custom-policy``
(awscli/examples/iam/simulate-custom-policy.rst, installed with awscli), botocore's IAM
service model (``SimulatePolicyResponse``, ``EvaluationResult``, ``Statement``,
``Position``) validated with botocore's own ``ParamValidator``, and the API reference's
parameter rules quoted from the same model.
"""

from __future__ import annotations

import json
from typing import Any

import botocore.loaders
import pytest
from _policy_util import policy_text
from botocore.model import ServiceModel
from botocore.validate import ParamValidator
from sigv4kit.middleware.iam.policy import (
    InvalidInput,
    MalformedPolicyDocument,
    PolicyType,
    parse_context_entries,
    simulate,
    simulation_policies,
)
from sigv4kit.middleware.iam.policy._simulate import caller_principal

# awscli/examples/iam/simulate-custom-policy.rst, Examples 1 and 2 (verbatim policy text)
DOC_POLICY = (
    '{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"dynamodb:*","Resource":"*",'
    '"Condition":{"DateGreaterThan":{"aws:CurrentTime":"2018-08-16T12:00:00Z"}}}}'
)
ALLOW_GET = policy_text("Allow", Action="s3:GetObject")
CALLER = "arn:aws:iam::111122223333:user/alice"


@pytest.fixture(scope="module")
def iam_model() -> ServiceModel:
    return ServiceModel(
        botocore.loaders.create_loader().load_service_model("iam", "service-2"), "iam"
    )


def _doc_example(current_time: str) -> list[dict[str, object]]:
    entries = parse_context_entries(
        [f"ContextKeyName='aws:CurrentTime',ContextKeyValues='{current_time}',ContextKeyType=date"]
    )
    results = simulate(
        policies=simulation_policies([DOC_POLICY]),
        action_names=["dynamodb:CreateBackup"],
        context_entries=entries,
    )
    return [r.to_aws() for r in results]


def test_aws_cli_documented_example_allowed() -> None:
    (result,) = _doc_example("2019-04-25T11:00:00Z")
    matched = result["MatchedStatements"]
    assert isinstance(matched, list)
    # The documented output omits SourcePolicyType; real responses carry it (see _simulate).
    assert matched[0].pop("SourcePolicyType") == "IAM Policy"
    assert result == {
        "EvalActionName": "dynamodb:CreateBackup",
        "EvalResourceName": "*",
        "EvalDecision": "allowed",
        "MatchedStatements": [
            {
                "SourcePolicyId": "PolicyInputList.1",
                "StartPosition": {"Line": 1, "Column": 38},
                "EndPosition": {"Line": 1, "Column": 167},
            }
        ],
        "MissingContextValues": [],
    }


def test_aws_cli_documented_example_denied() -> None:
    assert _doc_example("2014-04-25T11:00:00Z") == [
        {
            "EvalActionName": "dynamodb:CreateBackup",
            "EvalResourceName": "*",
            "EvalDecision": "implicitDeny",
            "MatchedStatements": [],
            "MissingContextValues": [],
        }
    ]


def test_response_validates_against_botocore_model(iam_model: ServiceModel) -> None:
    deny = policy_text("Deny", Sid="NoPut", Action="s3:PutObject")
    bucket = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": CALLER},
                    "Action": "s3:ListBucket",
                    "Resource": "arn:aws:s3:::b",
                }
            ],
        }
    )
    from sigv4kit.middleware.iam.policy import Policy

    results = simulate(
        policies=simulation_policies([ALLOW_GET, deny]),
        action_names=["s3:GetObject", "s3:PutObject", "s3:ListBucket", "s3:DeleteObject"],
        resource_arns=["arn:aws:s3:::b", "arn:aws:s3:::b/k"],
        resource_policy=Policy.parse(
            bucket, policy_type=PolicyType.RESOURCE, policy_id="ResourcePolicy"
        ),
        caller_arn=CALLER,
    )
    response = {"EvaluationResults": [r.to_aws() for r in results]}
    shape = iam_model.operation_model("SimulateCustomPolicy").output_shape
    report = ParamValidator().validate(response, shape)
    assert not report.has_errors(), report.generate_report()
    decisions = iam_model.shape_for("PolicyEvaluationDecisionType").enum
    members = set(iam_model.shape_for("Statement").members)
    for result in response["EvaluationResults"]:
        assert result["EvalDecision"] in decisions
        for statement in result["MatchedStatements"]:
            assert set(statement) == members
    by_pair = {
        (r["EvalActionName"], r["EvalResourceName"]): r["EvalDecision"]
        for r in response["EvaluationResults"]
    }
    assert by_pair == {
        ("s3:GetObject", "arn:aws:s3:::b"): "allowed",
        ("s3:GetObject", "arn:aws:s3:::b/k"): "allowed",
        ("s3:PutObject", "arn:aws:s3:::b"): "explicitDeny",
        ("s3:PutObject", "arn:aws:s3:::b/k"): "explicitDeny",
        ("s3:ListBucket", "arn:aws:s3:::b"): "allowed",
        ("s3:ListBucket", "arn:aws:s3:::b/k"): "implicitDeny",
        ("s3:DeleteObject", "arn:aws:s3:::b"): "implicitDeny",
        ("s3:DeleteObject", "arn:aws:s3:::b/k"): "implicitDeny",
    }
    put = next(r for r in response["EvaluationResults"] if r["EvalActionName"] == "s3:PutObject")
    assert [(s["SourcePolicyId"], s["SourcePolicyType"]) for s in put["MatchedStatements"]] == [
        ("PolicyInputList.2", "IAM Policy")
    ]
    listed = next(
        r for r in response["EvaluationResults"] if r["EvalActionName"] == "s3:ListBucket"
    )
    assert listed["MatchedStatements"][0]["SourcePolicyType"] == "Resource Policy"


def test_results_come_action_by_action_then_resource() -> None:
    results = simulate(
        policies=simulation_policies([ALLOW_GET]),
        action_names=["s3:GetObject", "s3:PutObject"],
        resource_arns=["arn:aws:s3:::a/1", "arn:aws:s3:::a/2"],
    )
    assert [(r.action, r.resource, r.decision) for r in results] == [
        ("s3:GetObject", "arn:aws:s3:::a/1", "allowed"),
        ("s3:GetObject", "arn:aws:s3:::a/2", "allowed"),
        ("s3:PutObject", "arn:aws:s3:::a/1", "implicitDeny"),
        ("s3:PutObject", "arn:aws:s3:::a/2", "implicitDeny"),
    ]


def test_missing_context_values_are_reported() -> None:
    needs_ip = policy_text(
        "Allow", {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}, Action="s3:*"
    )
    (result,) = simulate(policies=simulation_policies([needs_ip]), action_names=["s3:GetObject"])
    assert result.to_aws()["MissingContextValues"] == ["aws:SourceIp"]
    assert result.decision == "implicitDeny"
    entries = parse_context_entries(
        ["ContextKeyName=aws:SourceIp,ContextKeyValues=203.0.113.9,ContextKeyType=ip"]
    )
    (result,) = simulate(
        policies=simulation_policies([needs_ip]),
        action_names=["s3:GetObject"],
        context_entries=entries,
    )
    assert (result.decision, result.missing_context_values) == ("allowed", ())


def test_multivalued_context_entries_reach_the_conditions() -> None:
    forany = policy_text(
        "Allow", {"ForAnyValue:StringEquals": {"aws:TagKeys": "webserver"}}, Action="ec2:CreateTags"
    )
    entries = parse_context_entries(
        ["ContextKeyName=aws:TagKeys,ContextKeyValues=env,webserver,ContextKeyType=stringList"]
    )
    (result,) = simulate(
        policies=simulation_policies([forany]),
        action_names=["ec2:CreateTags"],
        context_entries=entries,
    )
    assert result.decision == "allowed"


def test_permissions_boundary_limits_the_simulation() -> None:
    boundary = policy_text("Allow", Action="ec2:*")
    (result,) = simulate(
        policies=simulation_policies([ALLOW_GET]),
        permissions_boundary_policies=simulation_policies(
            [boundary], policy_type=PolicyType.BOUNDARY, prefix="PermissionsBoundaryPolicyInputList"
        ),
        action_names=["s3:GetObject"],
    )
    assert result.decision == "implicitDeny"


def test_resource_owner_makes_the_request_cross_account() -> None:
    from sigv4kit.middleware.iam.policy import Policy

    bucket = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": CALLER},
                    "Action": "s3:GetObject",
                    "Resource": "arn:aws:s3:::b/*",
                }
            ],
        }
    )
    resource_policy = Policy.parse(
        bucket, policy_type=PolicyType.RESOURCE, policy_id="ResourcePolicy"
    )
    same_account = simulate(
        policies=[],
        action_names=["s3:GetObject"],
        resource_arns=["arn:aws:s3:::b/k"],
        resource_policy=resource_policy,
        caller_arn=CALLER,
    )
    other_account = simulate(
        policies=[],
        action_names=["s3:GetObject"],
        resource_arns=["arn:aws:s3:::b/k"],
        resource_policy=resource_policy,
        caller_arn=CALLER,
        resource_owner="arn:aws:iam::444455556666:root",
    )
    # same account: the resource policy alone allows; across accounts the caller's side must
    # allow too (reference_policies_evaluation-logic-cross-account.html)
    assert [r.decision for r in same_account + other_account] == ["allowed", "implicitDeny"]


def test_policy_inputs_are_numbered_like_iam() -> None:
    policies = simulation_policies([ALLOW_GET, ALLOW_GET])
    assert [p.policy_id for p in policies] == ["PolicyInputList.1", "PolicyInputList.2"]
    with pytest.raises(MalformedPolicyDocument) as info:
        simulation_policies(["{not json"])
    assert info.value.message == "Syntax errors in policy."


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"action_names": []}, "at least one action"),
        ({"action_names": ["s3:*"]}, "cannot contain wildcards"),
        ({"action_names": ["GetObject"]}, "must be service:Action"),
        ({"caller_arn": "arn:aws:sts::111122223333:assumed-role/R/s"}, "Invalid CallerArn"),
        ({"caller_arn": "arn:aws:iam::111122223333:group/admins"}, "Invalid CallerArn"),
        ({"resource_owner": "111122223333"}, "Invalid ResourceOwner"),
        ({"permissions_boundary_policies": "two"}, "Only one permissions boundary"),
        ({"resource_policy": "any"}, "CallerArn is required"),
    ],
)
def test_invalid_input_is_refused_with_iams_error(kwargs: dict[str, Any], message: str) -> None:
    from sigv4kit.middleware.iam.policy import Policy

    arguments: dict[str, Any] = {
        "policies": simulation_policies([ALLOW_GET]),
        "action_names": ["s3:GetObject"],
    }
    arguments.update(kwargs)
    if arguments.get("permissions_boundary_policies") == "two":
        arguments["permissions_boundary_policies"] = simulation_policies(
            [ALLOW_GET, ALLOW_GET], policy_type=PolicyType.BOUNDARY
        )
    if arguments.get("resource_policy") == "any":
        bucket = policy_text("Allow", Principal="*", Action="s3:*")
        arguments["resource_policy"] = Policy.parse(bucket, policy_type=PolicyType.RESOURCE)
    with pytest.raises(InvalidInput, match=message) as info:
        simulate(**arguments)
    assert (info.value.code, info.value.status) == ("InvalidInput", 400)


def test_caller_arns_become_principals() -> None:
    user = caller_principal("arn:aws:iam::111122223333:user/path/alice")
    role = caller_principal("arn:aws:iam::111122223333:role/Admin")
    assert (user.type.value, user.account) == ("User", "111122223333")
    assert (role.type.value, role.role_arn) == (
        "AssumedRole",
        "arn:aws:iam::111122223333:role/Admin",
    )

