"""The IAM API authorizes itself: ``iam:<Action>`` on the entity's ARN, with AWS's messages."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from _iam_api import Server, bootstrap, error_of, iam_server, policy_document, unique
from botocore.exceptions import ClientError


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with iam_server(f"sqlite:///{tmp_path_factory.mktemp('iam') / 'iam.db'}") as running:
        yield running


@pytest.fixture(scope="module")
def admin(server: Server) -> Any:
    return server.client()


def _user_with_key(admin: Any, *, path: str = "/") -> tuple[str, dict[str, Any]]:
    name = unique("caller")
    admin.create_user(UserName=name, Path=path)
    return name, admin.create_access_key(UserName=name)["AccessKey"]


def _denied(server: Server, caller: str, action: str, resource: str) -> str:
    arn = f"arn:aws:iam::{server.account_id}:user/{caller}"
    return (f"User: {arn} is not authorized to perform: {action} on resource: {resource} "
            f"because no identity-based policy allows the {action} action")


def test_the_bootstrap_admin_may_create_users(admin: Any) -> None:
    name = unique("made")
    assert admin.create_user(UserName=name)["User"]["UserName"] == name


def test_a_user_without_iam_create_user_is_refused_with_aws_message(
    server: Server, admin: Any
) -> None:
    caller, key = _user_with_key(admin)
    target = unique("victim")
    with pytest.raises(ClientError) as exc:
        server.client(key).create_user(UserName=target)
    resource = f"arn:aws:iam::{server.account_id}:user/{target}"
    assert error_of(exc) == (
        "AccessDenied", _denied(server, caller, "iam:CreateUser", resource), 403)
    # Nothing was created.
    with pytest.raises(ClientError) as missing:
        admin.get_user(UserName=target)
    assert error_of(missing)[0] == "NoSuchEntity"


def test_resource_scoped_allow(server: Server, admin: Any) -> None:
    caller, key = _user_with_key(admin)
    prefix = unique("app")
    admin.put_user_policy(UserName=caller, PolicyName="users-under-prefix", PolicyDocument=
                          policy_document({"Effect": "Allow", "Action": "iam:CreateUser",
                                           "Resource": f"arn:aws:iam::*:user/{prefix}-*"}))
    client = server.client(key)
    client.create_user(UserName=f"{prefix}-ok")
    with pytest.raises(ClientError) as exc:
        client.create_user(UserName="elsewhere-" + prefix)
    assert error_of(exc)[0::2] == ("AccessDenied", 403)


def test_path_of_a_new_user_is_in_the_resource(server: Server, admin: Any) -> None:
    caller, key = _user_with_key(admin)
    admin.put_user_policy(UserName=caller, PolicyName="only-contractors", PolicyDocument=
                          policy_document({"Effect": "Allow", "Action": "iam:CreateUser",
                                           "Resource": "arn:aws:iam::*:user/contractors/*"}))
    client = server.client(key)
    client.create_user(UserName=unique("c"), Path="/contractors/")
    target = unique("staff")
    with pytest.raises(ClientError) as exc:
        client.create_user(UserName=target, Path="/staff/")
    resource = f"arn:aws:iam::{server.account_id}:user/staff/{target}"
    assert error_of(exc)[1] == _denied(server, caller, "iam:CreateUser", resource)


def test_explicit_deny_names_the_policy(server: Server, admin: Any) -> None:
    caller, key = _user_with_key(admin)
    admin.attach_user_policy(UserName=caller,
                             PolicyArn=f"arn:aws:iam::{server.account_id}:policy/AdministratorAccess")
    deny = admin.create_policy(PolicyName=unique("deny"), PolicyDocument=policy_document(
        {"Effect": "Deny", "Action": "iam:DeleteUser", "Resource": "*"}))["Policy"]["Arn"]
    admin.attach_user_policy(UserName=caller, PolicyArn=deny)
    target = unique("kept")
    admin.create_user(UserName=target)
    with pytest.raises(ClientError) as exc:
        server.client(key).delete_user(UserName=target)
    arn = f"arn:aws:iam::{server.account_id}:user/{caller}"
    resource = f"arn:aws:iam::{server.account_id}:user/{target}"
    assert error_of(exc) == (
        "AccessDenied",
        f"User: {arn} is not authorized to perform: iam:DeleteUser on resource: {resource} "
        f"with an explicit deny in an identity-based policy: {deny}",
        403,
    )


def test_group_policies_grant(server: Server, admin: Any) -> None:
    caller, key = _user_with_key(admin)
    group = unique("readers")
    admin.create_group(GroupName=group)
    admin.put_group_policy(GroupName=group, PolicyName="list", PolicyDocument=policy_document(
        {"Effect": "Allow", "Action": "iam:ListUsers", "Resource": "*"}))
    client = server.client(key)
    with pytest.raises(ClientError) as exc:
        client.list_users()
    assert error_of(exc)[1] == _denied(server, caller, "iam:ListUsers", "*")
    admin.add_user_to_group(GroupName=group, UserName=caller)
    assert any(u["UserName"] == caller for u in client.list_users()["Users"])


def test_get_user_of_oneself_needs_a_policy_with_aws_username(server: Server, admin: Any) -> None:
    caller, key = _user_with_key(admin)
    admin.put_user_policy(UserName=caller, PolicyName="self", PolicyDocument=policy_document(
        {"Effect": "Allow", "Action": ["iam:GetUser", "iam:*AccessKey*"],
         "Resource": "arn:aws:iam::*:user/${aws:username}"}))
    client = server.client(key)
    assert client.get_user()["User"]["UserName"] == caller
    assert [k["AccessKeyId"] for k in client.list_access_keys()["AccessKeyMetadata"]] == [
        key["AccessKeyId"]]
    with pytest.raises(ClientError) as exc:
        client.get_user(UserName="admin")
    assert error_of(exc)[0] == "AccessDenied"


def test_existing_users_path_is_in_the_resource(server: Server, admin: Any) -> None:
    caller, key = _user_with_key(admin)
    admin.put_user_policy(UserName=caller, PolicyName="ops", PolicyDocument=policy_document(
        {"Effect": "Allow", "Action": "iam:TagUser", "Resource": "arn:aws:iam::*:user/ops/*"}))
    ops, other = unique("o"), unique("x")
    admin.create_user(UserName=ops, Path="/ops/")
    admin.create_user(UserName=other)
    client = server.client(key)
    client.tag_user(UserName=ops, Tags=[{"Key": "k", "Value": "v"}])
    with pytest.raises(ClientError) as exc:
        client.tag_user(UserName=other, Tags=[{"Key": "k", "Value": "v"}])
    resource = f"arn:aws:iam::{server.account_id}:user/{other}"
    assert error_of(exc)[1] == _denied(server, caller, "iam:TagUser", resource)


def test_permissions_boundary_limits_the_caller(server: Server, admin: Any) -> None:
    caller, key = _user_with_key(admin)
    admin.attach_user_policy(UserName=caller,
                             PolicyArn=f"arn:aws:iam::{server.account_id}:policy/AdministratorAccess")
    boundary = admin.create_policy(PolicyName=unique("b"), PolicyDocument=policy_document(
        {"Effect": "Allow", "Action": "iam:List*", "Resource": "*"}))["Policy"]["Arn"]
    admin.put_user_permissions_boundary(UserName=caller, PermissionsBoundary=boundary)
    client = server.client(key)
    client.list_groups()
    target = unique("t")
    with pytest.raises(ClientError) as exc:
        client.create_group(GroupName=target)
    arn = f"arn:aws:iam::{server.account_id}:user/{caller}"
    resource = f"arn:aws:iam::{server.account_id}:group/{target}"
    assert error_of(exc)[1] == (
        f"User: {arn} is not authorized to perform: iam:CreateGroup on resource: {resource} "
        "because no permissions boundary allows the iam:CreateGroup action")


def test_policy_arn_is_the_resource_of_policy_calls(server: Server, admin: Any) -> None:
    caller, key = _user_with_key(admin)
    mine = admin.create_policy(PolicyName=unique("mine"), PolicyDocument=policy_document(
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}))["Policy"]["Arn"]
    other = admin.create_policy(PolicyName=unique("other"), PolicyDocument=policy_document(
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}))["Policy"]["Arn"]
    admin.put_user_policy(UserName=caller, PolicyName="p", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "iam:GetPolicy", "Resource": mine}]}))
    client = server.client(key)
    assert client.get_policy(PolicyArn=mine)["Policy"]["Arn"] == mine
    with pytest.raises(ClientError) as exc:
        client.get_policy(PolicyArn=other)
    assert error_of(exc)[1] == _denied(server, caller, "iam:GetPolicy", other)


def test_policy_changes_apply_to_the_next_call(server: Server, admin: Any) -> None:
    caller, key = _user_with_key(admin)
    client = server.client(key)
    with pytest.raises(ClientError):
        client.list_roles()
    admin.put_user_policy(UserName=caller, PolicyName="roles", PolicyDocument=policy_document(
        {"Effect": "Allow", "Action": "iam:ListRoles", "Resource": "*"}))
    client.list_roles()
    admin.delete_user_policy(UserName=caller, PolicyName="roles")
    with pytest.raises(ClientError) as exc:
        client.list_roles()
    assert error_of(exc)[0] == "AccessDenied"


def test_condition_on_the_boundary_a_create_user_sets(server: Server, admin: Any) -> None:
    """Delegated administration: CreateUser only with a given permissions boundary."""
    boundary = admin.create_policy(PolicyName=unique("guard"), PolicyDocument=policy_document(
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}))["Policy"]["Arn"]
    caller, key = _user_with_key(admin)
    admin.put_user_policy(UserName=caller, PolicyName="delegate", PolicyDocument=policy_document(
        {"Effect": "Allow", "Action": "iam:CreateUser", "Resource": "*",
         "Condition": {"StringEquals": {"iam:PermissionsBoundary": boundary}}}))
    client = server.client(key)
    made = client.create_user(UserName=unique("bounded"), PermissionsBoundary=boundary)
    assert made["User"]["PermissionsBoundary"]["PermissionsBoundaryArn"] == boundary
    with pytest.raises(ClientError) as exc:
        client.create_user(UserName=unique("free"))
    assert error_of(exc)[0] == "AccessDenied"


def test_conditions_on_request_and_resource_tags(server: Server, admin: Any) -> None:
    caller, key = _user_with_key(admin)
    admin.put_user_policy(UserName=caller, PolicyName="tags", PolicyDocument=policy_document(
        {"Effect": "Allow", "Action": "iam:TagUser", "Resource": "*",
         "Condition": {"StringEquals": {"aws:ResourceTag/team": "red",
                                        "aws:RequestTag/env": "dev"},
                       "ForAllValues:StringEquals": {"aws:TagKeys": ["env"]}}}))
    red, blue = unique("red"), unique("blue")
    admin.create_user(UserName=red, Tags=[{"Key": "team", "Value": "red"}])
    admin.create_user(UserName=blue, Tags=[{"Key": "team", "Value": "blue"}])
    client = server.client(key)
    client.tag_user(UserName=red, Tags=[{"Key": "env", "Value": "dev"}])
    refused = [
        {"UserName": blue, "Tags": [{"Key": "env", "Value": "dev"}]},  # resource tag
        {"UserName": red, "Tags": [{"Key": "env", "Value": "prod"}]},  # request tag
        {"UserName": red, "Tags": [{"Key": "env", "Value": "dev"},     # tag keys
                                   {"Key": "owner", "Value": "me"}]},
    ]
    for call in refused:
        with pytest.raises(ClientError) as exc:
            client.tag_user(**call)
        assert error_of(exc)[0] == "AccessDenied", call


def test_condition_on_the_policy_an_attach_names(server: Server, admin: Any) -> None:
    allowed = admin.create_policy(PolicyName=unique("ok"), PolicyDocument=policy_document(
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}))["Policy"]["Arn"]
    caller, key = _user_with_key(admin)
    admin.put_user_policy(UserName=caller, PolicyName="attach", PolicyDocument=policy_document(
        {"Effect": "Allow", "Action": "iam:AttachUserPolicy", "Resource": "*",
         "Condition": {"ArnEquals": {"iam:PolicyARN": allowed}}}))
    target = unique("t")
    admin.create_user(UserName=target)
    client = server.client(key)
    client.attach_user_policy(UserName=target, PolicyArn=allowed)
    admin_policy = f"arn:aws:iam::{server.account_id}:policy/AdministratorAccess"
    with pytest.raises(ClientError) as exc:
        client.attach_user_policy(UserName=target, PolicyArn=admin_policy)
    assert error_of(exc)[0] == "AccessDenied"


def test_access_key_last_used_stays_in_the_account(
    server: Server, admin: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A second account in the same store cannot look up the first account's keys."""
    other = bootstrap(server.store_url, unique("tenant"), "--account-id", "999988887777")
    foreign = server.client({"AccessKeyId": other["access_key_id"],
                             "SecretAccessKey": other["secret_access_key"]})
    assert foreign.get_user()["User"]["Arn"].startswith("arn:aws:iam::999988887777:")
    with pytest.raises(ClientError) as exc:
        foreign.get_access_key_last_used(AccessKeyId=server.admin["access_key_id"])
    assert error_of(exc) == (
        "NoSuchEntity",
        f"The Access Key with id {server.admin['access_key_id']} cannot be found.", 404)
    # Each account sees its own users only.
    assert [u["UserName"] for u in foreign.list_users()["Users"]] == [other["user"]]
    own = admin.get_access_key_last_used(AccessKeyId=server.admin["access_key_id"])
    assert own["UserName"] == "admin"


def test_root_user_is_allowed_everything_and_keys_of_today_are_users(
    server: Server, admin: Any
) -> None:
    """A root principal (``sigv4kit keys create --root``) needs no policy; a plain one does."""
    from _cli_util import run_cli

    made = {}
    for name, extra in (("legacy-root", ["--root", "--i-understand-root-keys-are-unsafe"]),
                        ("legacy-plain", [])):
        result = run_cli("keys", "create", "--store", server.store_url, "--principal",
                         unique(name), "--json", *extra)
        assert result.code == 0, result.err
        made[name] = json.loads(result.out)
    root = server.client({"AccessKeyId": made["legacy-root"]["access_key_id"],
                          "SecretAccessKey": made["legacy-root"]["secret_access_key"]})
    target = unique("by-root")
    root.create_user(UserName=target)
    root.delete_user(UserName=target)
    plain = server.client({"AccessKeyId": made["legacy-plain"]["access_key_id"],
                           "SecretAccessKey": made["legacy-plain"]["secret_access_key"]})
    with pytest.raises(ClientError) as exc:
        plain.list_users()
    arn = f"arn:aws:iam::{server.account_id}:user/{made['legacy-plain']['principal']}"
    assert error_of(exc)[1] == (
        f"User: {arn} is not authorized to perform: iam:ListUsers on resource: * because no "
        "identity-based policy allows the iam:ListUsers action")


def test_rename_needs_permission_on_the_new_name_too(server: Server, admin: Any) -> None:
    caller, key = _user_with_key(admin)
    admin.put_user_policy(UserName=caller, PolicyName="rename", PolicyDocument=policy_document(
        {"Effect": "Allow", "Action": "iam:UpdateUser",
         "Resource": "arn:aws:iam::*:user/team/*"}))
    old = unique("old")
    admin.create_user(UserName=old, Path="/team/")
    client = server.client(key)
    client.update_user(UserName=old, NewUserName=old + "-2")  # stays under /team/
    with pytest.raises(ClientError) as exc:
        client.update_user(UserName=old + "-2", NewPath="/elsewhere/")
    resource = f"arn:aws:iam::{server.account_id}:user/elsewhere/{old}-2"
    assert error_of(exc)[1] == _denied(server, caller, "iam:UpdateUser", resource)
    assert admin.get_user(UserName=old + "-2")["User"]["Path"] == "/team/"
