"""Managed policies, versions, attachments, inline policies and boundaries over boto3."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from _iam_api import TRUST_EC2, Server, error_of, iam_server, policy_document, unique
from botocore.exceptions import ClientError

POLICY_ID = re.compile(r"ANPA[A-Z0-9]{16,}")
READ = {"Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
WRITE = {"Version": "2012-10-17",
         "Statement": [{"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"}]}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with iam_server(f"sqlite:///{tmp_path_factory.mktemp('iam') / 'iam.db'}") as running:
        yield running


@pytest.fixture(scope="module")
def iam(server: Server) -> Any:
    return server.client()


def _policy(iam: Any, document: dict[str, Any] = READ, **kw: Any) -> dict[str, Any]:
    created: dict[str, Any] = iam.create_policy(
        PolicyName=unique("pol"), PolicyDocument=json.dumps(document), **kw)["Policy"]
    return created


def test_create_get_list_delete_policy(server: Server, iam: Any) -> None:
    policy = _policy(iam, Path="/app/", Description="read only")
    assert POLICY_ID.fullmatch(policy["PolicyId"])
    assert policy["Arn"] == f"arn:aws:iam::{server.account_id}:policy/app/{policy['PolicyName']}"
    assert policy["DefaultVersionId"] == "v1"
    assert policy["AttachmentCount"] == 0
    assert policy["IsAttachable"] is True
    got = iam.get_policy(PolicyArn=policy["Arn"])["Policy"]
    assert got["Description"] == "read only"
    assert policy["Arn"] in [p["Arn"] for p in iam.list_policies(Scope="Local",
                                                                 PathPrefix="/app/")["Policies"]]
    iam.delete_policy(PolicyArn=policy["Arn"])
    with pytest.raises(ClientError) as exc:
        iam.get_policy(PolicyArn=policy["Arn"])
    # GetPolicy's wording differs from the attach operations' (AWS CLI output).
    assert error_of(exc) == ("NoSuchEntity", f"Policy {policy['Arn']} was not found.", 404)


def test_malformed_policy_document_has_iams_message(iam: Any) -> None:
    with pytest.raises(ClientError) as exc:
        iam.create_policy(PolicyName=unique("bad"), PolicyDocument=json.dumps(
            {"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}))
    # IAM requires Version 2012-10-17 in managed policies (recorded against AWS by moto).
    assert error_of(exc) == (
        "MalformedPolicyDocument", "Policy document must be version 2012-10-17 or greater.", 400)


def test_versions_create_get_list_default_delete(iam: Any) -> None:
    arn = _policy(iam)["Arn"]
    v2 = iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(WRITE),
                                   SetAsDefault=True)["PolicyVersion"]
    assert v2["VersionId"] == "v2"
    assert v2["IsDefaultVersion"] is True
    got = iam.get_policy_version(PolicyArn=arn, VersionId="v2")["PolicyVersion"]
    assert got["Document"] == WRITE  # decoded by boto3
    assert iam.get_policy_version(PolicyArn=arn, VersionId="v1")["PolicyVersion"]["Document"] \
        == READ
    versions = iam.list_policy_versions(PolicyArn=arn)["Versions"]
    assert sorted((v["VersionId"], v["IsDefaultVersion"]) for v in versions) == [
        ("v1", False), ("v2", True)]
    with pytest.raises(ClientError) as exc:
        iam.delete_policy_version(PolicyArn=arn, VersionId="v2")
    assert error_of(exc)[0::2] == ("DeleteConflict", 409)
    iam.set_default_policy_version(PolicyArn=arn, VersionId="v1")
    iam.delete_policy_version(PolicyArn=arn, VersionId="v2")
    assert [v["VersionId"] for v in iam.list_policy_versions(PolicyArn=arn)["Versions"]] == ["v1"]


def test_sixth_version_is_limit_exceeded(iam: Any) -> None:
    arn = _policy(iam)["Arn"]
    for _ in range(4):
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(WRITE))
    with pytest.raises(ClientError) as exc:
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(WRITE))
    assert error_of(exc) == (
        "LimitExceeded",
        "A managed policy can have up to 5 versions. Before you create a new version, you "
        "must delete an existing version.",
        409,
    )


def test_attach_list_entities_detach(server: Server, iam: Any) -> None:
    policy = _policy(iam)
    arn = policy["Arn"]
    user, group, role = unique("u"), unique("g"), unique("r")
    iam.create_user(UserName=user)
    iam.create_group(GroupName=group)
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(TRUST_EC2))
    iam.attach_user_policy(UserName=user, PolicyArn=arn)
    iam.attach_group_policy(GroupName=group, PolicyArn=arn)
    iam.attach_role_policy(RoleName=role, PolicyArn=arn)
    expected = [{"PolicyName": policy["PolicyName"], "PolicyArn": arn}]
    assert iam.list_attached_user_policies(UserName=user)["AttachedPolicies"] == expected
    assert iam.list_attached_group_policies(GroupName=group)["AttachedPolicies"] == expected
    assert iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"] == expected
    assert iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"] == 3
    entities = iam.list_entities_for_policy(PolicyArn=arn)
    assert [u["UserName"] for u in entities["PolicyUsers"]] == [user]
    assert [g["GroupName"] for g in entities["PolicyGroups"]] == [group]
    assert [r["RoleName"] for r in entities["PolicyRoles"]] == [role]
    only_roles = iam.list_entities_for_policy(PolicyArn=arn, EntityFilter="Role")
    assert only_roles["PolicyUsers"] == []
    assert len(only_roles["PolicyRoles"]) == 1
    with pytest.raises(ClientError) as exc:
        iam.delete_policy(PolicyArn=arn)
    assert error_of(exc)[0::2] == ("DeleteConflict", 409)
    iam.detach_user_policy(UserName=user, PolicyArn=arn)
    iam.detach_group_policy(GroupName=group, PolicyArn=arn)
    iam.detach_role_policy(RoleName=role, PolicyArn=arn)
    assert iam.list_attached_user_policies(UserName=user)["AttachedPolicies"] == []
    iam.delete_policy(PolicyArn=arn)


def test_attach_unknown_policy_is_no_such_entity(server: Server, iam: Any) -> None:
    user = unique("u")
    iam.create_user(UserName=user)
    arn = f"arn:aws:iam::{server.account_id}:policy/none-such"
    with pytest.raises(ClientError) as exc:
        iam.attach_user_policy(UserName=user, PolicyArn=arn)
    assert error_of(exc) == (
        "NoSuchEntity", f"Policy {arn} does not exist or is not attachable.", 404)


def test_eleventh_attachment_is_limit_exceeded(iam: Any) -> None:
    user = unique("many")
    iam.create_user(UserName=user)
    for _ in range(10):
        iam.attach_user_policy(UserName=user, PolicyArn=_policy(iam)["Arn"])
    with pytest.raises(ClientError) as exc:
        iam.attach_user_policy(UserName=user, PolicyArn=_policy(iam)["Arn"])
    assert error_of(exc) == (
        "LimitExceeded", "Cannot exceed quota for PoliciesPerUser: 10", 409)


@pytest.mark.parametrize("kind", ["user", "group", "role"])
def test_inline_policies_put_get_list_delete(iam: Any, kind: str) -> None:
    name = unique(kind)
    title = kind.title()
    if kind == "role":
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST_EC2))
    else:
        getattr(iam, f"create_{kind}")(**{f"{title}Name": name})
    entity = {f"{title}Name": name}
    getattr(iam, f"put_{kind}_policy")(**entity, PolicyName="inline1",
                                       PolicyDocument=json.dumps(READ))
    got = getattr(iam, f"get_{kind}_policy")(**entity, PolicyName="inline1")
    assert got[f"{title}Name"] == name
    assert got["PolicyName"] == "inline1"
    assert got["PolicyDocument"] == READ
    assert getattr(iam, f"list_{kind}_policies")(**entity)["PolicyNames"] == ["inline1"]
    getattr(iam, f"delete_{kind}_policy")(**entity, PolicyName="inline1")
    assert getattr(iam, f"list_{kind}_policies")(**entity)["PolicyNames"] == []
    with pytest.raises(ClientError) as exc:
        getattr(iam, f"get_{kind}_policy")(**entity, PolicyName="inline1")
    assert error_of(exc)[0::2] == ("NoSuchEntity", 404)


@pytest.mark.parametrize("kind", ["user", "role"])
def test_permissions_boundary_put_get_delete(iam: Any, kind: str) -> None:
    boundary = _policy(iam)["Arn"]
    name = unique(kind)
    title = kind.title()
    if kind == "role":
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST_EC2))
    else:
        iam.create_user(UserName=name)
    entity = {f"{title}Name": name}
    getattr(iam, f"put_{kind}_permissions_boundary")(**entity, PermissionsBoundary=boundary)
    got = getattr(iam, f"get_{kind}")(**entity)[title]
    assert got["PermissionsBoundary"] == {
        "PermissionsBoundaryType": "PermissionsBoundaryPolicy",
        "PermissionsBoundaryArn": boundary,
    }
    assert iam.get_policy(PolicyArn=boundary)["Policy"]["PermissionsBoundaryUsageCount"] == 1
    getattr(iam, f"delete_{kind}_permissions_boundary")(**entity)
    assert "PermissionsBoundary" not in getattr(iam, f"get_{kind}")(**entity)[title]


def test_policy_listing_paginates(iam: Any) -> None:
    path = f"/{unique('many')}/"
    arns = sorted(_policy(iam, Path=path)["Arn"] for _ in range(3))
    pages = list(iam.get_paginator("list_policies").paginate(
        Scope="Local", PathPrefix=path, PaginationConfig={"PageSize": 2}))
    assert [len(p["Policies"]) for p in pages] == [2, 1]
    assert sorted(p["Arn"] for page in pages for p in page["Policies"]) == arns


def test_inline_policy_document_keeps_its_text(iam: Any) -> None:
    """IAM returns the document as sent (whitespace included), only URL-encoded."""
    user = unique("ws")
    iam.create_user(UserName=user)
    text = policy_document({"Effect": "Allow", "Action": "s3:*", "Resource": "*"})
    text = text.replace(", ", ",\n  ")
    iam.put_user_policy(UserName=user, PolicyName="p", PolicyDocument=text)
    raw: list[bytes] = []
    iam.meta.events.register("after-call.iam.GetUserPolicy",
                             lambda http_response, **_: raw.append(http_response.content))
    try:
        assert iam.get_user_policy(UserName=user, PolicyName="p")["PolicyDocument"] == \
            json.loads(text)
    finally:
        iam.meta.events.unregister("after-call.iam.GetUserPolicy")
    assert b"%2C%0A%20%20" in raw[0]  # ",\n  " percent-encoded


def test_aws_managed_scope_is_empty(iam: Any) -> None:
    _policy(iam)
    assert iam.list_policies(Scope="AWS")["Policies"] == []
    assert iam.list_policies(Scope="Local")["Policies"]
