"""GetAccountAuthorizationDetails and the policy simulator over boto3."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from _iam_api import TRUST_EC2, Server, error_of, iam_server, policy_document, unique
from botocore.exceptions import ClientError

READ = {"Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with iam_server(f"sqlite:///{tmp_path_factory.mktemp('iam') / 'iam.db'}") as running:
        yield running


@pytest.fixture(scope="module")
def iam(server: Server) -> Any:
    return server.client()


def test_account_authorization_details(server: Server, iam: Any) -> None:
    user, group, role = unique("u"), unique("g"), unique("r")
    iam.create_user(UserName=user)
    iam.create_group(GroupName=group)
    iam.add_user_to_group(GroupName=group, UserName=user)
    iam.put_user_policy(UserName=user, PolicyName="inline", PolicyDocument=json.dumps(READ))
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(TRUST_EC2))
    arn = iam.create_policy(PolicyName=unique("p"), PolicyDocument=json.dumps(READ))["Policy"]
    iam.attach_group_policy(GroupName=group, PolicyArn=arn["Arn"])
    details = iam.get_account_authorization_details()
    users = {u["UserName"]: u for u in details["UserDetailList"]}
    assert users[user]["GroupList"] == [group]
    assert users[user]["UserPolicyList"] == [{"PolicyName": "inline", "PolicyDocument": READ}]
    groups = {g["GroupName"]: g for g in details["GroupDetailList"]}
    assert groups[group]["AttachedManagedPolicies"] == [
        {"PolicyName": arn["PolicyName"], "PolicyArn": arn["Arn"]}]
    roles = {r["RoleName"]: r for r in details["RoleDetailList"]}
    assert roles[role]["AssumeRolePolicyDocument"] == TRUST_EC2
    policies = {p["Arn"]: p for p in details["Policies"]}
    versions = policies[arn["Arn"]]["PolicyVersionList"]
    assert [(v["VersionId"], v["IsDefaultVersion"], v["Document"]) for v in versions] == [
        ("v1", True, READ)]
    only_roles = iam.get_account_authorization_details(Filter=["Role"])
    assert only_roles["UserDetailList"] == []
    assert only_roles["RoleDetailList"]


def test_account_authorization_details_paginates(iam: Any) -> None:
    pages = list(iam.get_paginator("get_account_authorization_details").paginate(
        PaginationConfig={"PageSize": 1}))
    assert len(pages) > 2
    names = [u["UserName"] for p in pages for u in p["UserDetailList"]]
    assert "admin" in names
    assert len(names) == len(set(names))


def test_simulate_custom_policy(iam: Any) -> None:
    results = iam.simulate_custom_policy(
        PolicyInputList=[json.dumps(READ)],
        ActionNames=["s3:GetObject", "s3:PutObject"],
    )["EvaluationResults"]
    assert [(r["EvalActionName"], r["EvalDecision"]) for r in results] == [
        ("s3:GetObject", "allowed"), ("s3:PutObject", "implicitDeny")]
    assert results[0]["MatchedStatements"][0]["SourcePolicyId"] == "PolicyInputList.1"


def test_simulate_custom_policy_with_context(iam: Any) -> None:
    document = policy_document({
        "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
        "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}})
    inside = iam.simulate_custom_policy(
        PolicyInputList=[document], ActionNames=["s3:GetObject"],
        ContextEntries=[{"ContextKeyName": "aws:SourceIp", "ContextKeyValues": ["10.1.2.3"],
                         "ContextKeyType": "ip"}])["EvaluationResults"][0]
    assert inside["EvalDecision"] == "allowed"
    missing = iam.simulate_custom_policy(
        PolicyInputList=[document], ActionNames=["s3:GetObject"])["EvaluationResults"][0]
    assert missing["EvalDecision"] == "implicitDeny"
    assert missing["MissingContextValues"] == ["aws:SourceIp"]


def test_simulate_custom_policy_pages(iam: Any) -> None:
    actions = [f"s3:Action{n}" for n in range(5)]
    pages = list(iam.get_paginator("simulate_custom_policy").paginate(
        PolicyInputList=[json.dumps(READ)], ActionNames=actions,
        PaginationConfig={"PageSize": 2}))
    assert [len(p["EvaluationResults"]) for p in pages] == [2, 2, 1]
    assert [r["EvalActionName"] for p in pages for r in p["EvaluationResults"]] == actions


def test_simulate_bad_input(iam: Any) -> None:
    with pytest.raises(ClientError) as exc:
        iam.simulate_custom_policy(PolicyInputList=[json.dumps(READ)], ActionNames=["s3:*"])
    assert error_of(exc)[0::2] == ("InvalidInput", 400)
    with pytest.raises(ClientError) as exc:
        iam.simulate_custom_policy(PolicyInputList=["{"], ActionNames=["s3:GetObject"])
    assert error_of(exc)[0::2] == ("MalformedPolicyDocument", 400)
    with pytest.raises(ClientError) as exc:
        iam.simulate_custom_policy(
            PolicyInputList=[json.dumps(READ)], ActionNames=["s3:GetObject"],
            ContextEntries=[{"ContextKeyName": "aws:SourceIp", "ContextKeyValues": ["nope"],
                             "ContextKeyType": "ip"}])
    assert error_of(exc)[0::2] == ("InvalidInput", 400)


def test_simulate_principal_policy_of_a_user_and_its_groups(server: Server, iam: Any) -> None:
    user, group = unique("sim"), unique("simg")
    iam.create_user(UserName=user)
    iam.create_group(GroupName=group)
    iam.add_user_to_group(GroupName=group, UserName=user)
    iam.put_group_policy(GroupName=group, PolicyName="read", PolicyDocument=json.dumps(READ))
    arn = f"arn:aws:iam::{server.account_id}:user/{user}"
    results = iam.simulate_principal_policy(
        PolicySourceArn=arn, ActionNames=["s3:GetObject", "s3:DeleteObject"])
    assert [r["EvalDecision"] for r in results["EvaluationResults"]] == [
        "allowed", "implicitDeny"]
    # Extra policies in the request join the principal's own.
    extra = policy_document({"Effect": "Deny", "Action": "s3:GetObject", "Resource": "*"})
    denied = iam.simulate_principal_policy(PolicySourceArn=arn, ActionNames=["s3:GetObject"],
                                           PolicyInputList=[extra])
    assert denied["EvaluationResults"][0]["EvalDecision"] == "explicitDeny"


def test_simulate_principal_policy_of_a_role_with_boundary(server: Server, iam: Any) -> None:
    role = unique("simr")
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(TRUST_EC2))
    iam.put_role_policy(RoleName=role, PolicyName="all", PolicyDocument=policy_document(
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}))
    boundary = iam.create_policy(PolicyName=unique("bound"), PolicyDocument=json.dumps(READ))
    iam.put_role_permissions_boundary(RoleName=role,
                                      PermissionsBoundary=boundary["Policy"]["Arn"])
    results = iam.simulate_principal_policy(
        PolicySourceArn=f"arn:aws:iam::{server.account_id}:role/{role}",
        ActionNames=["s3:GetObject", "s3:PutObject"])["EvaluationResults"]
    assert [r["EvalDecision"] for r in results] == ["allowed", "implicitDeny"]


def test_simulate_principal_policy_of_an_unknown_user(server: Server, iam: Any) -> None:
    with pytest.raises(ClientError) as exc:
        iam.simulate_principal_policy(
            PolicySourceArn=f"arn:aws:iam::{server.account_id}:user/none-such",
            ActionNames=["s3:GetObject"])
    assert error_of(exc)[0::2] == ("NoSuchEntity", 404)


def test_simulate_principal_policy_of_a_group(server: Server, iam: Any) -> None:
    group = unique("sg")
    iam.create_group(GroupName=group, Path="/sim/")
    iam.put_group_policy(GroupName=group, PolicyName="read", PolicyDocument=json.dumps(READ))
    write = iam.create_policy(PolicyName=unique("w"), PolicyDocument=policy_document(
        {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"}))["Policy"]["Arn"]
    iam.attach_group_policy(GroupName=group, PolicyArn=write)
    results = iam.simulate_principal_policy(
        PolicySourceArn=f"arn:aws:iam::{server.account_id}:group/sim/{group}",
        ActionNames=["s3:GetObject", "s3:PutObject", "s3:DeleteObject"])["EvaluationResults"]
    assert [r["EvalDecision"] for r in results] == ["allowed", "allowed", "implicitDeny"]
    assert results[1]["MatchedStatements"][0]["SourcePolicyId"] == write
    with pytest.raises(ClientError) as exc:  # the path is part of the ARN
        iam.simulate_principal_policy(
            PolicySourceArn=f"arn:aws:iam::{server.account_id}:group/{group}",
            ActionNames=["s3:GetObject"])
    assert error_of(exc)[0::2] == ("NoSuchEntity", 404)
