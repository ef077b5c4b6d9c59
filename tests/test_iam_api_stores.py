"""A representative IAM API session on both databases: SQLite and PostgreSQL.

The same scenario (users, groups, policies, versions, attachments, pagination,
errors, the API's own authorization) through boto3 against ``sigv4kit
serve``'s app under uvicorn, once per store.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _iam_api import Server, error_of, iam_server, param_store_url, policy_document
from botocore.exceptions import ClientError

READ_IAM = policy_document({"Effect": "Allow", "Action": ["iam:Get*", "iam:List*"],
                            "Resource": "*"})


@pytest.fixture(params=["sqlite", "postgresql"])
def server(request: pytest.FixtureRequest, tmp_path: Path,
           monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    url = param_store_url(request, tmp_path, monkeypatch)
    with iam_server(url, "--account-id", "210987654321") as running:
        yield running


def test_a_session_on_each_store(server: Server) -> None:
    admin = server.client()
    account = "210987654321"
    assert server.account_id == account
    admin.create_group(GroupName="readers")
    readers = admin.create_policy(PolicyName="ReadIAM", PolicyDocument=READ_IAM)["Policy"]
    admin.attach_group_policy(GroupName="readers", PolicyArn=readers["Arn"])
    for n in range(3):
        admin.create_user(UserName=f"user{n}", Path="/people/",
                          Tags=[{"Key": "n", "Value": str(n)}])
    admin.add_user_to_group(GroupName="readers", UserName="user0")
    key = admin.create_access_key(UserName="user0")["AccessKey"]
    reader = server.client(key)

    # Reads pass through the group's policy; pagination follows Marker.
    pages = list(reader.get_paginator("list_users").paginate(
        PathPrefix="/people/", PaginationConfig={"PageSize": 2}))
    assert [[u["UserName"] for u in p["Users"]] for p in pages] == [
        ["user0", "user1"], ["user2"]]
    assert reader.get_policy(PolicyArn=readers["Arn"])["Policy"]["AttachmentCount"] == 1

    # Writes are refused with AWS's message.
    with pytest.raises(ClientError) as exc:
        reader.create_user(UserName="user9")
    assert error_of(exc) == (
        "AccessDenied",
        f"User: arn:aws:iam::{account}:user/people/user0 is not authorized to perform: "
        f"iam:CreateUser on resource: arn:aws:iam::{account}:user/user9 because no "
        "identity-based policy allows the iam:CreateUser action",
        403,
    )

    # A new default version takes effect on the next call.
    admin.create_policy_version(PolicyArn=readers["Arn"], SetAsDefault=True,
                                PolicyDocument=policy_document(
                                    {"Effect": "Allow", "Action": "iam:*", "Resource": "*"}))
    reader.create_user(UserName="user9")
    version = admin.get_policy_version(PolicyArn=readers["Arn"], VersionId="v1")
    assert version["PolicyVersion"]["Document"] == json.loads(READ_IAM)

    # Errors with IAM's codes.
    with pytest.raises(ClientError) as exc:
        admin.create_group(GroupName="READERS")
    assert error_of(exc)[0::2] == ("EntityAlreadyExists", 409)
    with pytest.raises(ClientError) as exc:
        admin.delete_group(GroupName="readers")
    assert error_of(exc)[0::2] == ("DeleteConflict", 409)
    with pytest.raises(ClientError) as exc:
        admin.get_role(RoleName="none")
    assert error_of(exc)[0::2] == ("NoSuchEntity", 404)
    tags: Any = admin.list_user_tags(UserName="user2")["Tags"]
    assert tags == [{"Key": "n", "Value": "2"}]
