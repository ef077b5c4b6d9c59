"""IAM users, tags and access keys through ``sigv4kit serve`` with boto3's ``iam`` client.

Expected values come from IAM's API reference (shapes, messages, quotas), not
from the code under test.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _iam_api import Server, error_of, iam_server, unique
from botocore.exceptions import ClientError

# IAM's documented identifier prefixes and formats (reference_identifiers).
USER_ID = re.compile(r"AIDA[A-Z0-9]{16,}")
ACCESS_KEY_ID = re.compile(r"AKIA[A-Z0-9]{16}")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    path: Path = tmp_path_factory.mktemp("iam") / "iam.db"
    with iam_server(f"sqlite:///{path}") as running:
        yield running


@pytest.fixture(scope="module")
def iam(server: Server) -> Any:
    return server.client()


def test_create_get_user_with_path_and_tags(server: Server, iam: Any) -> None:
    name = unique("alice")
    created = iam.create_user(UserName=name, Path="/staff/",
                              Tags=[{"Key": "team", "Value": "red"}])["User"]
    assert created["UserName"] == name
    assert created["Path"] == "/staff/"
    assert created["Arn"] == f"arn:aws:iam::{server.account_id}:user/staff/{name}"
    assert USER_ID.fullmatch(created["UserId"])
    assert created["Tags"] == [{"Key": "team", "Value": "red"}]
    got = iam.get_user(UserName=name)["User"]
    assert got["UserId"] == created["UserId"]
    assert got["CreateDate"] == created["CreateDate"]


def test_get_user_without_name_is_the_caller(server: Server, iam: Any) -> None:
    me = iam.get_user()["User"]
    assert me["UserName"] == "admin"
    assert me["Arn"] == server.admin["arn"]


def test_list_users_by_path_prefix(iam: Any) -> None:
    prefix = f"/{unique('team')}/"
    names = sorted(unique("u") for _ in range(3))
    for name in names:
        iam.create_user(UserName=name, Path=prefix)
    listed = iam.list_users(PathPrefix=prefix)
    assert [u["UserName"] for u in listed["Users"]] == names
    assert listed["IsTruncated"] is False
    # ListUsers leaves out tags (IAM: "does not return ... tags").
    assert all("Tags" not in u for u in listed["Users"])


def test_list_users_paginates_with_boto3s_paginator(iam: Any) -> None:
    prefix = f"/{unique('page')}/"
    names = sorted(unique("p") for _ in range(5))
    for name in names:
        iam.create_user(UserName=name, Path=prefix)
    first = iam.list_users(PathPrefix=prefix, MaxItems=2)
    assert len(first["Users"]) == 2
    assert first["IsTruncated"] is True
    assert first["Marker"]
    pages = list(iam.get_paginator("list_users").paginate(
        PathPrefix=prefix, PaginationConfig={"PageSize": 2}))
    assert [len(p["Users"]) for p in pages] == [2, 2, 1]
    assert [u["UserName"] for p in pages for u in p["Users"]] == names


def test_update_user_renames_and_moves(server: Server, iam: Any) -> None:
    old, new = unique("old"), unique("new")
    iam.create_user(UserName=old)
    iam.update_user(UserName=old, NewUserName=new, NewPath="/moved/")
    got = iam.get_user(UserName=new)["User"]
    assert got["Arn"] == f"arn:aws:iam::{server.account_id}:user/moved/{new}"
    with pytest.raises(ClientError) as exc:
        iam.get_user(UserName=old)
    assert error_of(exc) == ("NoSuchEntity", f"The user with name {old} cannot be found.", 404)


def test_create_existing_user_is_entity_already_exists(iam: Any) -> None:
    name = unique("dup")
    iam.create_user(UserName=name)
    with pytest.raises(ClientError) as exc:
        iam.create_user(UserName=name.upper())  # IAM names ignore case
    code, message, status = error_of(exc)
    assert (code, status) == ("EntityAlreadyExists", 409)
    assert message == f"User with name {name.upper()} already exists."


def test_bad_user_name_is_validation_error_with_aws_message(iam: Any) -> None:
    with pytest.raises(ClientError) as exc:
        iam.create_user(UserName="no spaces")
    assert error_of(exc) == (
        "ValidationError",
        "1 validation error detected: Value 'no spaces' at 'userName' failed to satisfy "
        "constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+",
        400,
    )


def test_tags_tag_untag_list(iam: Any) -> None:
    name = unique("tagged")
    iam.create_user(UserName=name)
    iam.tag_user(UserName=name, Tags=[{"Key": "b", "Value": "2"}, {"Key": "a", "Value": "1"}])
    tags = iam.list_user_tags(UserName=name)
    assert sorted((t["Key"], t["Value"]) for t in tags["Tags"]) == [("a", "1"), ("b", "2")]
    assert tags["IsTruncated"] is False
    iam.untag_user(UserName=name, TagKeys=["a"])
    assert [t["Key"] for t in iam.list_user_tags(UserName=name)["Tags"]] == ["b"]


def test_delete_user_with_keys_is_delete_conflict_then_works(iam: Any) -> None:
    name = unique("gone")
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    with pytest.raises(ClientError) as exc:
        iam.delete_user(UserName=name)
    code, _message, status = error_of(exc)
    assert (code, status) == ("DeleteConflict", 409)
    iam.delete_access_key(UserName=name, AccessKeyId=key["AccessKeyId"])
    iam.delete_user(UserName=name)
    with pytest.raises(ClientError) as exc:
        iam.get_user(UserName=name)
    assert error_of(exc)[0] == "NoSuchEntity"


def test_access_keys_create_list_update_and_quota(server: Server, iam: Any) -> None:
    name = unique("keys")
    iam.create_user(UserName=name)
    first = iam.create_access_key(UserName=name)["AccessKey"]
    assert ACCESS_KEY_ID.fullmatch(first["AccessKeyId"])
    assert len(first["SecretAccessKey"]) == 40
    assert first["Status"] == "Active"
    second = iam.create_access_key(UserName=name)["AccessKey"]
    with pytest.raises(ClientError) as exc:
        iam.create_access_key(UserName=name)
    assert error_of(exc) == (
        "LimitExceeded", "Cannot exceed quota for AccessKeysPerUser: 2", 409)
    listed = iam.list_access_keys(UserName=name)["AccessKeyMetadata"]
    assert sorted(k["AccessKeyId"] for k in listed) == sorted(
        [first["AccessKeyId"], second["AccessKeyId"]])
    assert all("SecretAccessKey" not in k for k in listed)
    iam.update_access_key(UserName=name, AccessKeyId=first["AccessKeyId"], Status="Inactive")
    statuses = {k["AccessKeyId"]: k["Status"] for k in
                iam.list_access_keys(UserName=name)["AccessKeyMetadata"]}
    assert statuses[first["AccessKeyId"]] == "Inactive"
    # The new key signs for its user, who has no policy yet: refused, named by its ARN.
    with pytest.raises(ClientError) as exc:
        server.client(second).get_user()
    arn = f"arn:aws:iam::{server.account_id}:user/{name}"
    assert error_of(exc) == (
        "AccessDenied",
        f"User: {arn} is not authorized to perform: iam:GetUser on resource: {arn} "
        "because no identity-based policy allows the iam:GetUser action",
        403,
    )


def test_inactive_key_is_refused(server: Server, iam: Any) -> None:
    name = unique("off")
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    iam.update_access_key(UserName=name, AccessKeyId=key["AccessKeyId"], Status="Inactive")
    with pytest.raises(ClientError) as exc:
        server.client(key).get_user()
    assert error_of(exc)[2] == 403


def test_access_key_last_used_never_then_used(server: Server, iam: Any) -> None:
    name = unique("used")
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    never = iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"])
    assert never["UserName"] == name
    # IAM answers N/A for a key never used (GetAccessKeyLastUsed reference).
    assert never["AccessKeyLastUsed"]["ServiceName"] == "N/A"
    assert never["AccessKeyLastUsed"]["Region"] == "N/A"
    assert "LastUsedDate" not in never["AccessKeyLastUsed"]


def test_unknown_key_is_refused_with_403(server: Server) -> None:
    with pytest.raises(ClientError) as exc:
        server.client({"AccessKeyId": "AKIAAAAAAAAAAAAAAAAA",
                       "SecretAccessKey": "x" * 40}).list_users()
    assert error_of(exc)[2] == 403
