"""IAM groups and roles through ``sigv4kit serve`` with boto3's ``iam`` client."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from _iam_api import TRUST_EC2, Server, error_of, iam_server, unique
from botocore.exceptions import ClientError

GROUP_ID = re.compile(r"AGPA[A-Z0-9]{16,}")
ROLE_ID = re.compile(r"AROA[A-Z0-9]{16,}")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with iam_server(f"sqlite:///{tmp_path_factory.mktemp('iam') / 'iam.db'}") as running:
        yield running


@pytest.fixture(scope="module")
def iam(server: Server) -> Any:
    return server.client()


# -- groups -----------------------------------------------------------------------------------


def test_group_create_get_list_delete(server: Server, iam: Any) -> None:
    name = unique("devs")
    group = iam.create_group(GroupName=name, Path="/eng/")["Group"]
    assert GROUP_ID.fullmatch(group["GroupId"])
    assert group["Arn"] == f"arn:aws:iam::{server.account_id}:group/eng/{name}"
    got = iam.get_group(GroupName=name)
    assert got["Group"]["GroupId"] == group["GroupId"]
    assert got["Users"] == []
    assert got["IsTruncated"] is False
    assert name in [g["GroupName"] for g in iam.list_groups(PathPrefix="/eng/")["Groups"]]
    iam.delete_group(GroupName=name)
    with pytest.raises(ClientError) as exc:
        iam.get_group(GroupName=name)
    assert error_of(exc) == ("NoSuchEntity", f"The group with name {name} cannot be found.", 404)


def test_membership_add_list_remove(iam: Any) -> None:
    group, user = unique("g"), unique("u")
    iam.create_group(GroupName=group)
    iam.create_user(UserName=user)
    iam.add_user_to_group(GroupName=group, UserName=user)
    assert [u["UserName"] for u in iam.get_group(GroupName=group)["Users"]] == [user]
    assert [g["GroupName"] for g in iam.list_groups_for_user(UserName=user)["Groups"]] == [group]
    # A group with members cannot be deleted (DeleteConflict).
    with pytest.raises(ClientError) as exc:
        iam.delete_group(GroupName=group)
    assert error_of(exc)[0::2] == ("DeleteConflict", 409)
    iam.remove_user_from_group(GroupName=group, UserName=user)
    assert iam.list_groups_for_user(UserName=user)["Groups"] == []
    iam.delete_group(GroupName=group)


def test_get_group_members_paginate(iam: Any) -> None:
    group = unique("big")
    iam.create_group(GroupName=group)
    users = sorted(unique("m") for _ in range(3))
    for user in users:
        iam.create_user(UserName=user)
        iam.add_user_to_group(GroupName=group, UserName=user)
    pages = list(iam.get_paginator("get_group").paginate(
        GroupName=group, PaginationConfig={"PageSize": 2}))
    assert [len(p["Users"]) for p in pages] == [2, 1]
    assert sorted(u["UserName"] for p in pages for u in p["Users"]) == users


def test_add_unknown_user_to_group_is_no_such_entity(iam: Any) -> None:
    group = unique("g")
    iam.create_group(GroupName=group)
    with pytest.raises(ClientError) as exc:
        iam.add_user_to_group(GroupName=group, UserName="nobody-here")
    assert error_of(exc) == (
        "NoSuchEntity", "The user with name nobody-here cannot be found.", 404)


def test_create_existing_group(iam: Any) -> None:
    name = unique("twice")
    iam.create_group(GroupName=name)
    with pytest.raises(ClientError) as exc:
        iam.create_group(GroupName=name)
    assert error_of(exc) == (
        "EntityAlreadyExists", f"Group with name {name} already exists.", 409)


# -- roles ------------------------------------------------------------------------------------


def test_role_create_returns_the_trust_policy_as_a_dict(server: Server, iam: Any) -> None:
    name = unique("ec2")
    role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST_EC2),
                           Description="for instances", MaxSessionDuration=7200,
                           Tags=[{"Key": "env", "Value": "prod"}])["Role"]
    assert ROLE_ID.fullmatch(role["RoleId"])
    assert role["Arn"] == f"arn:aws:iam::{server.account_id}:role/{name}"
    # boto3 decodes the URL-encoded document (botocore handlers.json_decode_policies).
    assert role["AssumeRolePolicyDocument"] == TRUST_EC2
    assert role["Description"] == "for instances"
    assert role["MaxSessionDuration"] == 7200
    got = iam.get_role(RoleName=name)["Role"]
    assert got["AssumeRolePolicyDocument"] == TRUST_EC2
    assert got["Tags"] == [{"Key": "env", "Value": "prod"}]
    listed = [r for r in iam.list_roles()["Roles"] if r["RoleName"] == name]
    assert listed[0]["AssumeRolePolicyDocument"] == TRUST_EC2


def test_policy_document_is_url_encoded_on_the_wire(server: Server, iam: Any) -> None:
    """The raw XML carries the document percent-encoded, exactly as IAM sends it."""
    name = unique("raw")
    text = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": ' \
           '{"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}'
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=text)
    seen: list[bytes] = []
    iam.meta.events.register("after-call.iam.GetRole",
                             lambda http_response, **_: seen.append(http_response.content))
    try:
        iam.get_role(RoleName=name)
    finally:
        iam.meta.events.unregister("after-call.iam.GetRole")
    # urllib.parse.quote(text, safe="") by hand: { -> %7B, " -> %22, space -> %20, : -> %3A
    assert b"<AssumeRolePolicyDocument>%7B%22Version%22%3A%20%222012-10-17%22%2C%20" in seen[0]


def test_update_role_and_trust_policy(iam: Any) -> None:
    name = unique("upd")
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST_EC2))
    iam.update_role(RoleName=name, Description="changed", MaxSessionDuration=43200)
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
         "Action": "sts:AssumeRole"}]}
    iam.update_assume_role_policy(RoleName=name, PolicyDocument=json.dumps(trust))
    role = iam.get_role(RoleName=name)["Role"]
    assert role["Description"] == "changed"
    assert role["MaxSessionDuration"] == 43200
    assert role["AssumeRolePolicyDocument"] == trust


def test_role_max_session_duration_out_of_range(iam: Any) -> None:
    with pytest.raises(ClientError) as exc:
        iam.create_role(RoleName=unique("long"), AssumeRolePolicyDocument=json.dumps(TRUST_EC2),
                        MaxSessionDuration=43201)
    code, message, status = error_of(exc)
    assert (code, status) == ("ValidationError", 400)
    assert "43200" in message


def test_role_with_bad_trust_policy_is_malformed(iam: Any) -> None:
    with pytest.raises(ClientError) as exc:
        iam.create_role(RoleName=unique("bad"), AssumeRolePolicyDocument="{not json")
    code, _message, status = error_of(exc)
    assert (code, status) == ("MalformedPolicyDocument", 400)


def test_role_tags_and_delete(iam: Any) -> None:
    name = unique("t")
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST_EC2))
    iam.tag_role(RoleName=name, Tags=[{"Key": "k", "Value": "v"}])
    assert iam.list_role_tags(RoleName=name)["Tags"] == [{"Key": "k", "Value": "v"}]
    iam.untag_role(RoleName=name, TagKeys=["k"])
    assert iam.list_role_tags(RoleName=name)["Tags"] == []
    iam.delete_role(RoleName=name)
    with pytest.raises(ClientError) as exc:
        iam.get_role(RoleName=name)
    assert error_of(exc) == ("NoSuchEntity", f"The role with name {name} cannot be found.", 404)


def test_duplicate_tag_keys_are_refused(iam: Any) -> None:
    with pytest.raises(ClientError) as exc:
        iam.create_user(UserName=unique("dt"), Tags=[{"Key": "a", "Value": "1"},
                                                      {"Key": "a", "Value": "2"}])
    assert error_of(exc)[2] == 400
