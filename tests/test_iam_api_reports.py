"""GenerateCredentialReport / GetCredentialReport through ``sigv4kit serve`` with boto3.

The expected columns are IAM's documented list (IAM User Guide, "Getting
credential reports"), written out here, not taken from the code under test.
"""

from __future__ import annotations

import asyncio
import csv
import io
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from _iam_api import Server, error_of, iam_server, param_store_url, policy_document
from _sts import ASSUME_ANY, client, new_role, new_user, trust
from botocore.exceptions import ClientError
from sigv4kit.middleware import open_store

AWS_COLUMNS = [
    "user", "arn", "user_creation_time", "password_enabled", "password_last_used",
    "password_last_changed", "password_next_rotation", "mfa_active",
    "access_key_1_active", "access_key_1_last_rotated", "access_key_1_last_used_date",
    "access_key_1_last_used_region", "access_key_1_last_used_service",
    "access_key_2_active", "access_key_2_last_rotated", "access_key_2_last_used_date",
    "access_key_2_last_used_region", "access_key_2_last_used_service",
    "cert_1_active", "cert_1_last_rotated", "cert_2_active", "cert_2_last_rotated",
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    path: Path = tmp_path_factory.mktemp("iam") / "iam.db"
    with iam_server(f"sqlite:///{path}") as running:
        yield running


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_credential_report(server: Server) -> None:
    iam = server.client()
    with pytest.raises(ClientError) as missing:
        iam.get_credential_report()
    assert error_of(missing)[0] == "ReportNotPresent"
    assert error_of(missing)[2] == 410

    iam.create_user(UserName="rita", Path="/ops/")
    first = iam.create_access_key(UserName="rita")["AccessKey"]
    second = iam.create_access_key(UserName="rita")["AccessKey"]
    iam.update_access_key(UserName="rita", AccessKeyId=second["AccessKeyId"], Status="Inactive")
    iam.create_user(UserName="sam")
    # rita's first key is used (region us-east-1, service iam; the call itself is
    # denied, the key still authenticated); last use is written about a second late.
    with pytest.raises(ClientError):
        server.client(first).get_user()
    time.sleep(1.5)
    # The middleware recorded the use: GetAccessKeyLastUsed sees it too.
    used = iam.get_access_key_last_used(AccessKeyId=first["AccessKeyId"])["AccessKeyLastUsed"]
    assert (used["ServiceName"], used["Region"]) == ("iam", "us-east-1")
    assert abs(used["LastUsedDate"] - datetime.now(UTC)) < timedelta(minutes=1)

    started = iam.generate_credential_report()
    assert started["State"] == "STARTED"
    assert iam.generate_credential_report()["State"] == "COMPLETE"
    report = iam.get_credential_report()
    assert report["ReportFormat"] == "text/csv"
    assert abs(report["GeneratedTime"] - datetime.now(UTC)) < timedelta(minutes=1)
    content: bytes = report["Content"]
    rows = list(csv.DictReader(io.StringIO(content.decode())))
    assert content.decode().splitlines()[0].split(",") == AWS_COLUMNS

    root = rows[0]
    assert root["user"] == "<root_account>"
    assert root["arn"] == f"arn:aws:iam::{server.account_id}:root"
    assert root["password_enabled"] == "not_supported"

    by_name = {row["user"]: row for row in rows[1:]}
    assert set(by_name) >= {"admin", "rita", "sam"}
    rita = by_name["rita"]
    assert rita["arn"] == f"arn:aws:iam::{server.account_id}:user/ops/rita"
    assert abs(parse_time(rita["user_creation_time"]) - datetime.now(UTC)) < timedelta(minutes=1)
    assert (rita["password_enabled"], rita["password_last_used"]) == ("false", "N/A")
    assert rita["mfa_active"] == "false"
    assert rita["access_key_1_active"] == "true"
    assert parse_time(rita["access_key_1_last_rotated"]) == first["CreateDate"].replace(
        microsecond=0)
    assert parse_time(rita["access_key_1_last_used_date"]) >= parse_time(
        rita["access_key_1_last_rotated"])
    assert rita["access_key_1_last_used_region"] == "us-east-1"
    assert rita["access_key_1_last_used_service"] == "iam"
    assert rita["access_key_2_active"] == "false"
    assert rita["access_key_2_last_used_date"] == "N/A"
    assert (rita["cert_1_active"], rita["cert_1_last_rotated"]) == ("false", "N/A")

    sam = by_name["sam"]
    assert sam["access_key_1_active"] == "false"
    assert sam["access_key_1_last_rotated"] == "N/A"
    assert sam["access_key_2_last_used_service"] == "N/A"


def test_a_user_without_the_permission_is_denied(server: Server) -> None:
    iam = server.client()
    iam.create_user(UserName="tess")
    key = iam.create_access_key(UserName="tess")["AccessKey"]
    with pytest.raises(ClientError) as denied:
        server.client(key).generate_credential_report()
    code, message, status = error_of(denied)
    assert (code, status) == ("AccessDenied", 403)
    assert "iam:GenerateCredentialReport" in message




async def _role_key(url: str, role: str) -> dict[str, str]:
    from sigv4kit.middleware import open_store

    store = open_store(url)
    try:
        key = await store.create_key(role)
    finally:
        await store.aclose()
    return {"AccessKeyId": key.access_key_id, "SecretAccessKey": key.secret_access_key}


def test_role_last_used(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'iam.db'}"
    with iam_server(url, "--account-id", "000000000000") as server:
        iam = server.client()
        trust = ('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": '
                 '{"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}')
        iam.create_role(RoleName="worker", AssumeRolePolicyDocument=trust)
        assert iam.get_role(RoleName="worker")["Role"]["RoleLastUsed"] == {}
        key = asyncio.run(_role_key(url, "worker"))
        # A call signed with the role's key (denied: the role has no policy) is a use.
        with pytest.raises(ClientError):
            server.client(key).list_users()
        time.sleep(1.5)
        used = iam.get_role(RoleName="worker")["Role"]["RoleLastUsed"]
        assert used["Region"] == "us-east-1"
        assert abs(used["LastUsedDate"] - datetime.now(UTC)) < timedelta(minutes=1)


def test_service_last_accessed_details(server: Server) -> None:
    iam = server.client()
    iam.create_user(UserName="uma")
    key = iam.create_access_key(UserName="uma")["AccessKey"]
    arn = f"arn:aws:iam::{server.account_id}:user/uma"
    empty = iam.get_service_last_accessed_details(
        JobId=iam.generate_service_last_accessed_details(Arn=arn)["JobId"])
    assert empty["JobStatus"] == "COMPLETED"
    assert empty["ServicesLastAccessed"] == []
    with pytest.raises(ClientError):
        server.client(key).list_users()  # denied; the key was used with iam
    time.sleep(1.5)
    job = iam.generate_service_last_accessed_details(Arn=arn, Granularity="SERVICE_LEVEL")
    details = iam.get_service_last_accessed_details(JobId=job["JobId"])
    assert details["JobType"] == "SERVICE_LEVEL"
    assert details["IsTruncated"] is False
    assert details["JobCompletionDate"] >= details["JobCreationDate"]
    [entry] = details["ServicesLastAccessed"]
    assert entry["ServiceNamespace"] == "iam"
    assert entry["ServiceName"] == "AWS Identity and Access Management"
    assert entry["LastAuthenticatedEntity"] == arn
    assert entry["LastAuthenticatedRegion"] == "us-east-1"
    assert abs(entry["LastAuthenticated"] - datetime.now(UTC)) < timedelta(minutes=1)

    with pytest.raises(ClientError) as bad:
        iam.generate_service_last_accessed_details(Arn="arn:aws:s3:::some-bucket")
    assert error_of(bad)[0] == "InvalidInput"
    with pytest.raises(ClientError) as missing:
        iam.generate_service_last_accessed_details(
            Arn=f"arn:aws:iam::{server.account_id}:role/nobody")
    assert error_of(missing)[0] == "NoSuchEntity"
    with pytest.raises(ClientError) as unknown:
        iam.get_service_last_accessed_details(JobId="00000000-0000-4000-8000-000000000000")
    assert error_of(unknown)[:2] == ("NoSuchEntity", "The job with id "
                                     "00000000-0000-4000-8000-000000000000 cannot be found.")


def _services(server: Server, arn: str) -> list[dict[str, object]]:
    iam = server.client()
    job = iam.generate_service_last_accessed_details(Arn=arn)
    entries: list[dict[str, object]] = iam.get_service_last_accessed_details(
        JobId=job["JobId"])["ServicesLastAccessed"]
    return entries


def test_every_service_used_is_listed_and_outlives_the_key(server: Server) -> None:
    # Allowed by the user's policy: iam and s3 (named), dynamodb (a wildcard action);
    # "*" names no service. sts:GetCallerIdentity needs no permission.
    allow = {"Effect": "Allow", "Action": ["iam:ListUsers", "s3:GetObject", "DynamoDB:*"],
             "Resource": "*"}
    name, key = new_user(server, allow, {"Effect": "Allow", "Action": "*",
                                         "Resource": "arn:aws:s3:::nothing"})
    arn = f"arn:aws:iam::{server.account_id}:user/{name}"
    before = datetime.now(UTC)
    # sts, then iam, with one key, within one flush interval.
    client(server, "sts", key).get_caller_identity()
    client(server, "iam", key).list_users()
    time.sleep(1.5)
    entries = _services(server, arn)
    used, unused = entries[:2], entries[2:]
    assert [e["ServiceNamespace"] for e in used] == ["iam", "sts"]  # newest first
    for entry in used:
        assert entry["LastAuthenticatedEntity"] == arn
        assert entry["LastAuthenticatedRegion"] == "us-east-1"
        assert entry["TotalAuthenticatedEntities"] == 1
        assert before - timedelta(seconds=1) <= entry["LastAuthenticated"] <= datetime.now(UTC)
    assert used[0]["LastAuthenticated"] >= used[1]["LastAuthenticated"]
    # Allowed, never used: only the two required members (IAM leaves the rest null).
    assert unused == [
        {"ServiceName": "Amazon DynamoDB", "ServiceNamespace": "dynamodb"},
        {"ServiceName": "Amazon Simple Storage Service", "ServiceNamespace": "s3"},
    ]
    server.client().delete_access_key(UserName=name, AccessKeyId=key["AccessKeyId"])
    assert _services(server, arn)[:2] == used


def test_a_role_sessions_use_is_listed_under_the_role(server: Server) -> None:
    name, key = new_user(server, ASSUME_ANY)
    role = new_role(server, trust({"AWS": f"arn:aws:iam::{server.account_id}:user/{name}"}))
    credentials = client(server, "sts", key).assume_role(
        RoleArn=role["Arn"], RoleSessionName="report")["Credentials"]
    with pytest.raises(ClientError):
        client(server, "iam", credentials).list_users()  # denied; the session was used
    time.sleep(1.5)
    [entry] = _services(server, role["Arn"])
    assert (entry["ServiceNamespace"], entry["LastAuthenticatedEntity"]) == ("iam", role["Arn"])
    # The user's own key was used with sts (AssumeRole), not iam.
    user_arn = f"arn:aws:iam::{server.account_id}:user/{name}"
    assert [e["ServiceNamespace"] for e in _services(server, user_arn)
            if "LastAuthenticated" in e] == ["sts"]


@pytest.fixture(params=["sqlite", "postgresql"])
def any_store_server(request: pytest.FixtureRequest, tmp_path: Path,
                     monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    url = param_store_url(request, tmp_path, monkeypatch)
    with iam_server(url) as running:
        yield running


async def _record_uses(store_url: str, key_id: str, uses: list[tuple[str, datetime]]) -> None:
    """Uses written straight to the server's store, at times the middleware cannot make."""
    store = open_store(store_url)
    try:
        for service, at in uses:
            store.record_use(key_id, at=at, region="eu-west-1", service=service)
        await store.flush()  # type: ignore[attr-defined]
    finally:
        await store.aclose()


def test_service_last_accessed_lists_what_iam_would(any_store_server: Server) -> None:
    server = any_store_server
    iam = server.client()
    name, key = new_user(server, {
        "Effect": "Allow", "Resource": "*",
        "Action": ["s3:GetObject", "sqs:SendMessage", "dynamodb:GetItem", "kms:Decrypt",
                   "sns:Publish"]})
    iam.put_user_policy(UserName=name, PolicyName="deny", PolicyDocument=policy_document(
        # Denies every sqs request: sqs is not allowed.
        {"Effect": "Deny", "Action": "SQS:*", "Resource": "*"},
        # Narrower denials leave room for some request: still allowed.
        {"Effect": "Deny", "Action": "kms:*", "Resource": "*",
         "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
        {"Effect": "Deny", "Action": "dynamodb:*",
         "Resource": "arn:aws:dynamodb:us-east-1:111122223333:table/t"},
    ))
    # IAM's last accessed data ignores permissions boundaries: nothing removed.
    boundary = iam.create_policy(PolicyName=f"{name}-boundary", PolicyDocument=policy_document(
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}))["Policy"]["Arn"]
    iam.put_user_permissions_boundary(UserName=name, PermissionsBoundary=boundary)
    now = datetime.now(UTC).replace(microsecond=0)
    # IAM tracks 400 days: sns and ec2 were used before that (sns is allowed: listed as
    # not used; ec2 is not: not listed), s3 within it.
    asyncio.run(_record_uses(server.store_url, key["AccessKeyId"], [
        ("s3", now - timedelta(days=399)),
        ("sns", now - timedelta(days=401)),
        ("ec2", now - timedelta(days=401)),
    ]))
    arn = f"arn:aws:iam::{server.account_id}:user/{name}"
    assert _services(server, arn) == [
        {"ServiceName": "Amazon Simple Storage Service", "ServiceNamespace": "s3",
         "LastAuthenticated": now - timedelta(days=399), "LastAuthenticatedEntity": arn,
         "LastAuthenticatedRegion": "eu-west-1", "TotalAuthenticatedEntities": 1},
        {"ServiceName": "Amazon DynamoDB", "ServiceNamespace": "dynamodb"},
        {"ServiceName": "AWS Key Management Service", "ServiceNamespace": "kms"},
        {"ServiceName": "Amazon Simple Notification Service", "ServiceNamespace": "sns"},
    ]
    # Deny "*" on "*" leaves nothing allowed; the tracked use stays listed.
    iam.put_user_policy(UserName=name, PolicyName="deny", PolicyDocument=policy_document(
        {"Effect": "Deny", "Action": "*", "Resource": "*"}))
    assert [e["ServiceNamespace"] for e in _services(server, arn)] == ["s3"]
