"""STS through ``sigv4kit serve`` (real uvicorn) with boto3's ``sts`` and ``iam`` clients.

GetCallerIdentity, GetSessionToken, AssumeRole (trust policy conditions,
ExternalId, durations and role chaining, session policies, session tags,
SourceIdentity), expiry, revocation and GetAccessKeyInfo.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from _cli_util import run_cli
from _iam_api import Server, bootstrap, error_of, iam_server, policy_document
from _sts import ASSUME_ANY, client, new_role, new_user, trust
from botocore.exceptions import ClientError

GET_USER = {"Effect": "Allow", "Action": "iam:GetUser", "Resource": "*"}
READ_IAM = {"Effect": "Allow", "Action": ["iam:Get*", "iam:List*"], "Resource": "*"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with iam_server(f"sqlite:///{tmp_path_factory.mktemp('sts') / 'iam.db'}") as running:
        yield running


def user_arn(server: Server, name: str) -> str:
    return f"arn:aws:iam::{server.account_id}:user/{name}"


def assumer(server: Server, *statements: dict[str, Any]) -> tuple[str, Any]:
    """A user allowed to assume any role (plus ``statements``): ``(name, sts client)``."""
    name, key = new_user(server, ASSUME_ANY, *statements)
    return name, client(server, "sts", key)


# -- GetCallerIdentity -------------------------------------------------------------------------


def test_get_caller_identity_of_a_user_and_under_an_explicit_deny(server: Server) -> None:
    deny_all = {"Effect": "Deny", "Action": "*", "Resource": "*"}
    name, key = new_user(server, deny_all)
    who = client(server, "sts", key).get_caller_identity()
    assert who["Arn"] == user_arn(server, name)
    assert who["Account"] == server.account_id
    assert who["UserId"].startswith("AIDA")
    # The same Deny refuses everything else.
    with pytest.raises(ClientError) as exc:
        client(server, "iam", key).get_user()
    assert error_of(exc)[0::2] == ("AccessDenied", 403)


# -- GetSessionToken ---------------------------------------------------------------------------


def test_get_session_token_defaults_to_twelve_hours(server: Server) -> None:
    _name, key = new_user(server)
    before = datetime.now(UTC)
    creds = client(server, "sts", key).get_session_token()["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA")
    assert len(creds["SessionToken"]) >= 43  # 256 bits in URL-safe base64 at least
    lifetime = creds["Expiration"] - before
    assert timedelta(hours=12) - timedelta(seconds=5) <= lifetime <= timedelta(hours=12, seconds=5)
    who = client(server, "sts", creds).get_caller_identity()
    assert who["Arn"] == client(server, "sts", key).get_caller_identity()["Arn"]


def test_get_session_token_duration_bounds_and_session_credentials(server: Server) -> None:
    _name, key = new_user(server)
    sts = client(server, "sts", key, validate=False)
    for bad in (899, 129601):
        with pytest.raises(ClientError) as exc:
            sts.get_session_token(DurationSeconds=bad)
        code, message, status = error_of(exc)
        assert (code, status) == ("ValidationError", 400)
        assert "durationSeconds" in message
    creds = sts.get_session_token(DurationSeconds=900)["Credentials"]
    with pytest.raises(ClientError) as exc:
        client(server, "sts", creds).get_session_token()
    assert error_of(exc) == (
        "AccessDenied", "Cannot call GetSessionToken with session credentials", 403)
    # Without MFA, GetSessionToken credentials cannot call IAM at all.
    with pytest.raises(ClientError) as exc:
        client(server, "iam", creds).get_user()
    assert error_of(exc)[0::2] == ("InvalidClientTokenId", 403)


# -- AssumeRole --------------------------------------------------------------------------------


def test_assume_role_acts_as_the_role_session(server: Server) -> None:
    name, sts = assumer(server)
    role = new_role(server, trust({"AWS": user_arn(server, name)}), GET_USER)
    answer = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="build@ci.example")
    session_arn = (f"arn:aws:sts::{server.account_id}:assumed-role/"
                   f"{role['RoleName']}/build@ci.example")
    assert answer["AssumedRoleUser"] == {
        "Arn": session_arn, "AssumedRoleId": f"{role['RoleId']}:build@ci.example"}
    creds = answer["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA")
    assert "PackedPolicySize" not in answer
    who = client(server, "sts", creds).get_caller_identity()
    assert (who["Arn"], who["UserId"]) == (session_arn, f"{role['RoleId']}:build@ci.example")
    iam = client(server, "iam", creds)
    assert iam.get_user(UserName=name)["User"]["UserName"] == name
    with pytest.raises(ClientError) as exc:
        iam.list_users()
    code, message, status = error_of(exc)
    assert (code, status) == ("AccessDenied", 403)
    assert message.startswith(f"User: {session_arn} is not authorized to perform: iam:ListUsers")


def test_assume_role_needs_both_the_caller_policy_and_the_trust_policy(server: Server) -> None:
    # The trust policy names the account: the caller's own policies must allow too.
    role = new_role(server, trust({"AWS": f"arn:aws:iam::{server.account_id}:root"}))
    name, key = new_user(server)  # no sts:AssumeRole
    with pytest.raises(ClientError) as exc:
        client(server, "sts", key).assume_role(RoleArn=role["Arn"], RoleSessionName="s1")
    assert error_of(exc) == (
        "AccessDenied",
        f"User: {user_arn(server, name)} is not authorized to perform: sts:AssumeRole on "
        f"resource: {role['Arn']}", 403)
    _allowed, sts = assumer(server)
    assert sts.assume_role(RoleArn=role["Arn"], RoleSessionName="s1")["Credentials"]
    # A trust policy naming someone else refuses an allowed caller; so does a missing role.
    other = new_role(server, trust({"AWS": user_arn(server, "somebody-else")}))
    missing = f"arn:aws:iam::{server.account_id}:role/no-such-role"
    for arn in (other["Arn"], missing):
        with pytest.raises(ClientError) as exc:
            sts.assume_role(RoleArn=arn, RoleSessionName="s1")
        code, message, _ = error_of(exc)
        assert code == "AccessDenied"
        assert message.endswith(f"sts:AssumeRole on resource: {arn}")


def test_role_session_name_rules(server: Server) -> None:
    name, key = new_user(server, ASSUME_ANY)
    sts = client(server, "sts", key, validate=False)
    role = new_role(server, trust({"AWS": user_arn(server, name)}))
    for bad in ("a", "has space", "x" * 65):
        with pytest.raises(ClientError) as exc:
            sts.assume_role(RoleArn=role["Arn"], RoleSessionName=bad)
        code, message, status = error_of(exc)
        assert (code, status) == ("ValidationError", 400)
        assert "roleSessionName" in message


def test_duration_limits_and_role_chaining(server: Server) -> None:
    name, sts = assumer(server)
    role = new_role(server, trust({"AWS": user_arn(server, name)}), ASSUME_ANY,
                    max_session=7200)
    with pytest.raises(ClientError) as exc:
        sts.assume_role(RoleArn=role["Arn"], RoleSessionName="s1", DurationSeconds=7201)
    assert error_of(exc) == (
        "ValidationError",
        "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.", 400)
    first = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="s1", DurationSeconds=7200)
    assert first["Credentials"]["Expiration"] - datetime.now(UTC) > timedelta(seconds=7100)
    # The role session assumes a second role: chaining, one hour at most.
    second_role = new_role(server, trust({"AWS": role["Arn"]}))
    chained = client(server, "sts", first["Credentials"])
    with pytest.raises(ClientError) as exc:
        chained.assume_role(RoleArn=second_role["Arn"], RoleSessionName="c1",
                            DurationSeconds=3601)
    assert error_of(exc) == (
        "ValidationError",
        "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by "
        "role chaining.", 400)
    ok = chained.assume_role(RoleArn=second_role["Arn"], RoleSessionName="c1")
    assert ok["AssumedRoleUser"]["Arn"].endswith(f"assumed-role/{second_role['RoleName']}/c1")


def test_external_id_condition(server: Server) -> None:
    name, sts = assumer(server)
    role = new_role(server, trust({"AWS": user_arn(server, name)},
                                  {"StringEquals": {"sts:ExternalId": "tenant-42"}}))
    for extra in ({}, {"ExternalId": "tenant-41"}):
        with pytest.raises(ClientError) as exc:
            sts.assume_role(RoleArn=role["Arn"], RoleSessionName="s1", **extra)
        assert error_of(exc)[0::2] == ("AccessDenied", 403)
    assert sts.assume_role(RoleArn=role["Arn"], RoleSessionName="s1", ExternalId="tenant-42")


def test_trust_conditions_on_session_name_and_principal_tags(server: Server) -> None:
    iam = server.client()
    name, sts = assumer(server)
    iam.tag_user(UserName=name, Tags=[{"Key": "team", "Value": "blue"}])
    role = new_role(server, trust(
        {"AWS": user_arn(server, name)},
        {"StringEquals": {"aws:PrincipalTag/team": "blue"},
         "StringLike": {"sts:RoleSessionName": "${aws:username}-*"}}))
    assert sts.assume_role(RoleArn=role["Arn"], RoleSessionName=f"{name}-1")
    with pytest.raises(ClientError) as exc:
        sts.assume_role(RoleArn=role["Arn"], RoleSessionName="someone-else-1")
    assert error_of(exc)[0] == "AccessDenied"
    iam.tag_user(UserName=name, Tags=[{"Key": "team", "Value": "red"}])
    with pytest.raises(ClientError) as exc:
        sts.assume_role(RoleArn=role["Arn"], RoleSessionName=f"{name}-2")
    assert error_of(exc)[0] == "AccessDenied"


def test_session_policy_intersects_the_role_permissions(server: Server) -> None:
    name, sts = assumer(server)
    role = new_role(server, trust({"AWS": user_arn(server, name)}), READ_IAM)
    only_get_user = policy_document(GET_USER, {"Effect": "Allow", "Action": "iam:CreateUser",
                                               "Resource": "*"})
    answer = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="narrow",
                             Policy=only_get_user)
    assert 0 < answer["PackedPolicySize"] <= 100
    iam = client(server, "iam", answer["Credentials"])
    assert iam.get_user(UserName=name)["User"]["UserName"] == name
    with pytest.raises(ClientError) as exc:  # the role allows it, the session policy does not
        iam.list_users()
    assert error_of(exc)[1].endswith("because no session policy allows the iam:ListUsers action")
    with pytest.raises(ClientError) as exc:  # the session policy allows it, the role does not
        iam.create_user(UserName="never")
    assert error_of(exc)[1].endswith(
        "because no identity-based policy allows the iam:CreateUser action")
    # A managed policy passed as PolicyArns works the same way.
    managed = server.client().create_policy(
        PolicyName=f"list-only-{name}",
        PolicyDocument=policy_document({"Effect": "Allow", "Action": "iam:ListUsers",
                                        "Resource": "*"}))["Policy"]
    listing = client(server, "iam", sts.assume_role(
        RoleArn=role["Arn"], RoleSessionName="managed",
        PolicyArns=[{"arn": managed["Arn"]}])["Credentials"])
    assert isinstance(listing.list_users()["Users"], list)
    with pytest.raises(ClientError) as exc:
        listing.get_user(UserName=name)
    assert error_of(exc)[0] == "AccessDenied"


def test_malformed_and_oversized_session_policies(server: Server) -> None:
    name, sts = assumer(server)
    role = new_role(server, trust({"AWS": user_arn(server, name)}))
    with pytest.raises(ClientError) as exc:
        sts.assume_role(RoleArn=role["Arn"], RoleSessionName="s1", Policy='{"Version": 1')
    code, _message, status = error_of(exc)
    assert (code, status) == ("MalformedPolicyDocument", 400)
    not_a_policy = f"arn:aws:iam::{server.account_id}:user/{name}"
    with pytest.raises(ClientError) as exc:
        sts.assume_role(RoleArn=role["Arn"], RoleSessionName="s1",
                        PolicyArns=[{"arn": not_a_policy}])
    assert error_of(exc) == ("ValidationError", f"The policy ARN {not_a_policy} is invalid.", 400)
    tags = [{"Key": f"k{n:02d}-" + "x" * 100, "Value": "v" * 200} for n in range(20)]
    with pytest.raises(ClientError) as exc:
        sts.assume_role(RoleArn=role["Arn"], RoleSessionName="s1", Tags=tags)
    assert error_of(exc)[0::2] == ("PackedPolicyTooLarge", 400)


def test_session_tags_transitive_through_chaining(server: Server) -> None:
    name, sts = assumer(server)
    tagged_only = {"StringEquals": {"aws:PrincipalTag/project": "apollo"}}
    second = new_role(server, trust({"AWS": f"arn:aws:iam::{server.account_id}:root"},
                                    action=["sts:AssumeRole", "sts:TagSession"]),
                      {**GET_USER, "Condition": tagged_only})
    first = new_role(server, trust({"AWS": user_arn(server, name)},
                                   {"StringEquals": {"aws:RequestTag/project": "apollo"}},
                                   action=["sts:AssumeRole", "sts:TagSession"]), ASSUME_ANY)
    with pytest.raises(ClientError) as exc:
        sts.assume_role(RoleArn=first["Arn"], RoleSessionName="s1",
                        Tags=[{"Key": "project", "Value": "gemini"}])
    assert error_of(exc)[0] == "AccessDenied"
    with pytest.raises(ClientError) as exc:
        sts.assume_role(RoleArn=first["Arn"], RoleSessionName="s1",
                        Tags=[{"Key": "a", "Value": "1"}, {"Key": "A", "Value": "2"}])
    assert error_of(exc) == ("ValidationError", "Duplicate tag keys found. Please note that "
                             "Tag keys are case insensitive.", 400)
    session = sts.assume_role(RoleArn=first["Arn"], RoleSessionName="s1",
                              Tags=[{"Key": "project", "Value": "apollo"}],
                              TransitiveTagKeys=["project"])
    chained = client(server, "sts", session["Credentials"]).assume_role(
        RoleArn=second["Arn"], RoleSessionName="c1")
    iam = client(server, "iam", chained["Credentials"])
    assert iam.get_user(UserName=name)["User"]["UserName"] == name
    # Without the transitive key the chained session has no project tag.
    plain = sts.assume_role(RoleArn=first["Arn"], RoleSessionName="p1",
                            Tags=[{"Key": "project", "Value": "apollo"}])
    untagged = client(server, "sts", plain["Credentials"]).assume_role(
        RoleArn=second["Arn"], RoleSessionName="c1")
    with pytest.raises(ClientError) as exc:
        client(server, "iam", untagged["Credentials"]).get_user(UserName=name)
    assert error_of(exc)[0] == "AccessDenied"


def test_source_identity_persists_through_chaining(server: Server) -> None:
    name, sts = assumer(server)
    needs_source = {"StringEquals": {"aws:SourceIdentity": "alice@example.com"}}
    second = new_role(server, trust({"AWS": f"arn:aws:iam::{server.account_id}:root"},
                                    action=["sts:AssumeRole", "sts:SetSourceIdentity"]),
                      {**GET_USER, "Condition": needs_source})
    first = new_role(server, trust({"AWS": user_arn(server, name)},
                                   {"StringEquals": {"sts:SourceIdentity": "alice@example.com"}},
                                   action=["sts:AssumeRole", "sts:SetSourceIdentity"]),
                     ASSUME_ANY)
    session = sts.assume_role(RoleArn=first["Arn"], RoleSessionName="s1",
                              SourceIdentity="alice@example.com")
    assert session["SourceIdentity"] == "alice@example.com"
    chained_sts = client(server, "sts", session["Credentials"])
    chained = chained_sts.assume_role(RoleArn=second["Arn"], RoleSessionName="c1")
    assert chained["SourceIdentity"] == "alice@example.com"
    assert client(server, "iam", chained["Credentials"]).get_user(UserName=name)
    with pytest.raises(ClientError) as exc:
        chained_sts.assume_role(RoleArn=second["Arn"], RoleSessionName="c1",
                                SourceIdentity="mallory")
    assert error_of(exc)[0] == "AccessDenied"


def test_mfa_condition_keys_absent_for_long_term_keys(server: Server) -> None:
    """``Deny`` + ``Bool {aws:MultiFactorAuthPresent: false}`` denies a role session made
    without MFA but not a long-term key (the key is absent); ``BoolIfExists`` denies both."""
    def deny(operator: str) -> dict[str, Any]:
        return {"Effect": "Deny", "Action": "iam:GetUser", "Resource": "*",
                "Condition": {operator: {"aws:MultiFactorAuthPresent": "false"}}}

    name, key = new_user(server, ASSUME_ANY, GET_USER, deny("Bool"))
    assert client(server, "iam", key).get_user(UserName=name)
    role = new_role(server, trust({"AWS": user_arn(server, name)}), GET_USER, deny("Bool"))
    creds = client(server, "sts", key).assume_role(
        RoleArn=role["Arn"], RoleSessionName="s1")["Credentials"]
    with pytest.raises(ClientError) as exc:
        client(server, "iam", creds).get_user(UserName=name)
    assert "with an explicit deny in an identity-based policy" in error_of(exc)[1]
    strict, strict_key = new_user(server, GET_USER, deny("BoolIfExists"))
    with pytest.raises(ClientError) as exc:
        client(server, "iam", strict_key).get_user(UserName=strict)
    assert "with an explicit deny in an identity-based policy" in error_of(exc)[1]


def test_expired_credentials_are_refused_before_the_signature(server: Server) -> None:
    name, sts = assumer(server)
    role = new_role(server, trust({"AWS": user_arn(server, name)}), GET_USER)
    creds = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="s1")["Credentials"]
    database = server.store_url.removeprefix("sqlite:///")
    past = (datetime.now(UTC) - timedelta(seconds=1)).isoformat(timespec="microseconds")
    with sqlite3.connect(database) as conn:
        conn.execute("UPDATE access_keys SET expires_at = ? WHERE access_key_id = ?",
                     (past, creds["AccessKeyId"]))
    with pytest.raises(ClientError) as exc:
        client(server, "iam", creds).get_user(UserName=name)
    assert error_of(exc) == (
        "ExpiredToken", "The security token included in the request is expired", 400)
    # A wrong secret with the expired key: still ExpiredToken (checked before the signature).
    with pytest.raises(ClientError) as exc:
        client(server, "sts", {**creds, "SecretAccessKey": "x" * 40}).get_caller_identity()
    assert error_of(exc)[0] == "ExpiredToken"


def test_revoke_sessions_denies_older_sessions(server: Server) -> None:
    name, sts = assumer(server)
    role = new_role(server, trust({"AWS": user_arn(server, name)}), GET_USER)
    old = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="old")["Credentials"]
    assert client(server, "iam", old).get_user(UserName=name)
    time.sleep(1.1)
    result = run_cli("iam", "revoke-sessions", role["RoleName"], "--store", server.store_url,
                     "--account-id", server.account_id)
    assert result.code == 0, result.err
    document = server.client().get_role_policy(
        RoleName=role["RoleName"], PolicyName="AWSRevokeOlderSessions")["PolicyDocument"]
    statement = document["Statement"][0]
    assert statement["Effect"] == "Deny"
    assert "aws:TokenIssueTime" in statement["Condition"]["DateLessThan"]
    with pytest.raises(ClientError) as exc:
        client(server, "iam", old).get_user(UserName=name)
    assert "with an explicit deny" in error_of(exc)[1]
    time.sleep(1.1)
    new = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="new")["Credentials"]
    assert client(server, "iam", new).get_user(UserName=name)


def test_get_access_key_info(server: Server) -> None:
    _name, key = new_user(server)
    sts = client(server, "sts")
    assert sts.get_access_key_info(AccessKeyId=key["AccessKeyId"])["Account"] == (
        server.account_id)


def test_unsigned_requests_other_than_web_identity_are_refused(server: Server) -> None:
    for body in ("Action=GetCallerIdentity&Version=2011-06-15",
                 "Action=ListUsers&Version=2010-05-08",
                 "Action=AssumeRole&Version=2011-06-15&RoleArn=x&RoleSessionName=yy"):
        response = httpx.post(server.url, content=body,
                              headers={"content-type": "application/x-www-form-urlencoded"})
        assert response.status_code in (400, 403), body
        assert b"<Error>" in response.content or b"<Code>" in response.content


def test_cross_account_assumption_needs_both_accounts_to_allow(server: Server) -> None:
    other = bootstrap(server.store_url, "admin", "--account-id", "222233334444")
    other_admin = client(server, "iam", {"AccessKeyId": other["access_key_id"],
                                         "SecretAccessKey": other["secret_access_key"]})
    _name, sts = assumer(server)
    blocked_name, blocked_key = new_user(server)
    role = other_admin.create_role(
        RoleName="partner-access",
        AssumeRolePolicyDocument=json.dumps(trust(
            {"AWS": f"arn:aws:iam::{server.account_id}:root"})))["Role"]
    other_admin.put_role_policy(RoleName="partner-access", PolicyName="p",
                                PolicyDocument=policy_document(GET_USER))
    answer = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="partner")
    assert answer["AssumedRoleUser"]["Arn"] == (
        "arn:aws:sts::222233334444:assumed-role/partner-access/partner")
    who = client(server, "sts", answer["Credentials"]).get_caller_identity()
    assert who["Account"] == "222233334444"
    assert client(server, "iam", answer["Credentials"]).get_user(UserName="admin")
    # The trusted account's user without its own Allow is refused.
    with pytest.raises(ClientError) as exc:
        client(server, "sts", blocked_key).assume_role(RoleArn=role["Arn"],
                                                       RoleSessionName="partner")
    assert error_of(exc)[1] == (
        f"User: {user_arn(server, blocked_name)} is not authorized to perform: sts:AssumeRole "
        f"on resource: {role['Arn']}")
    # A role whose trust policy does not name the account refuses even an allowed caller.
    other_admin.create_role(RoleName="internal", AssumeRolePolicyDocument=json.dumps(trust(
        {"AWS": "arn:aws:iam::222233334444:root"})))
    with pytest.raises(ClientError) as exc:
        sts.assume_role(RoleArn="arn:aws:iam::222233334444:role/internal",
                        RoleSessionName="partner")
    assert error_of(exc)[0] == "AccessDenied"
