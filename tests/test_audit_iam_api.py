"""The IAM API's audit trail: exactly one event per call, through ``sigv4kit serve``'s app.

A real uvicorn serves :func:`build_app` with an AuditLog; boto3's ``iam``
client calls it; every call (allowed, failed, denied, refused at
authentication) must be exactly one management event with CloudTrail's
fields, and no secret.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from _audit_util import ListSink, only_event
from _cli_util import run_cli
from _iam_api import NO_RETRIES, Server, iam_server, unique
from botocore.exceptions import ClientError
from sigv4kit.middleware.audit import REDACTED, AuditLog, AuditSettings


@dataclass
class Audited:
    server: Server
    sink: ListSink
    log: AuditLog

    def one_event(self, call: Any) -> dict[str, Any]:
        """Make one API call (its ClientError is fine); the one event it produced."""

        def calling() -> None:
            with contextlib.suppress(ClientError):
                call()

        return only_event(self.log, self.sink, calling)


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Audited]:
    path: Path = tmp_path_factory.mktemp("iam") / "iam.db"
    sink = ListSink()
    log = AuditLog(sink, AuditSettings(flush_interval=0.02))
    with iam_server(f"sqlite:///{path}", audit=log) as server:
        yield Audited(server=server, sink=sink, log=log)


def admin_identity(audited: Audited) -> dict[str, Any]:
    admin = audited.server.admin
    return {
        "type": "IAMUser",
        "arn": f"arn:aws:iam::{audited.server.account_id}:user/admin",
        "accountId": audited.server.account_id,
        "accessKeyId": admin["access_key_id"],
        "userName": "admin",
    }


def check_common(event: dict[str, Any], audited: Audited, name: str, read_only: bool) -> None:
    assert event["eventVersion"] == "1.08"
    assert event["eventSource"] == "iam.amazonaws.com"
    assert event["eventName"] == name
    assert event["readOnly"] is read_only
    assert event["awsRegion"] == "us-east-1"
    assert event["sourceIPAddress"] == "127.0.0.1"
    assert event["userAgent"].startswith("Boto3/")
    assert event["managementEvent"] is True
    assert event["eventCategory"] == "Management"
    assert event["recipientAccountId"] == audited.server.account_id
    identity = dict(event["userIdentity"])
    identity.pop("principalId")
    assert identity == admin_identity(audited)


def test_create_user_records_parameters_and_response(audited: Audited) -> None:
    iam = audited.server.client()
    name = unique("carol")
    event = audited.one_event(lambda: iam.create_user(UserName=name, Path="/staff/"))
    check_common(event, audited, "CreateUser", read_only=False)
    assert event["requestParameters"] == {"userName": name, "path": "/staff/"}
    user = event["responseElements"]["user"]
    assert user["userName"] == name
    assert user["arn"] == f"arn:aws:iam::{audited.server.account_id}:user/staff/{name}"
    assert user["createDate"].endswith("Z")
    assert "errorCode" not in event


def test_create_access_key_hides_the_secret(audited: Audited) -> None:
    iam = audited.server.client()
    name = unique("dave")
    iam.create_user(UserName=name)
    time.sleep(0.1)
    created: dict[str, Any] = {}
    event = audited.one_event(lambda: created.update(iam.create_access_key(UserName=name)))
    key = created["AccessKey"]
    check_common(event, audited, "CreateAccessKey", read_only=False)
    elements = event["responseElements"]["accessKey"]
    assert elements["accessKeyId"] == key["AccessKeyId"]
    assert elements["secretAccessKey"] == REDACTED
    assert key["SecretAccessKey"] not in json.dumps(event)


def test_a_read_only_call_has_no_response_elements(audited: Audited) -> None:
    iam = audited.server.client()
    event = audited.one_event(lambda: iam.list_users(MaxItems=5))
    check_common(event, audited, "ListUsers", read_only=True)
    assert event["requestParameters"] == {"maxItems": 5}
    assert "responseElements" not in event


def test_a_failed_call_has_the_error_code(audited: Audited) -> None:
    iam = audited.server.client()
    event = audited.one_event(lambda: iam.get_user(UserName="nobody-here"))
    check_common(event, audited, "GetUser", read_only=True)
    assert event["errorCode"] == "NoSuchEntity"
    assert event["errorMessage"] == "The user with name nobody-here cannot be found."
    assert "responseElements" not in event


def test_a_denied_call_is_access_denied(audited: Audited) -> None:
    admin = audited.server.client()
    name = unique("erin")
    admin.create_user(UserName=name)
    key = admin.create_access_key(UserName=name)["AccessKey"]
    time.sleep(0.1)
    erin = audited.server.client(key)
    event = audited.one_event(lambda: erin.create_user(UserName=unique("x")))
    assert event["eventName"] == "CreateUser"
    assert event["errorCode"] == "AccessDenied"
    assert event["userIdentity"]["userName"] == name
    assert event["userIdentity"]["accessKeyId"] == key["AccessKeyId"]
    assert "responseElements" not in event


def test_a_bad_signature_is_one_management_event(audited: Audited) -> None:
    admin = audited.server.admin
    client = boto3.client(
        "iam", endpoint_url=audited.server.url, region_name="us-east-1",
        aws_access_key_id=admin["access_key_id"], aws_secret_access_key="wrong" * 8,
        config=NO_RETRIES,
    )
    event = audited.one_event(lambda: client.list_users())
    assert event["userIdentity"] == {"type": "Unknown", "accessKeyId": admin["access_key_id"]}
    assert event["errorCode"] == "SignatureDoesNotMatch"
    assert event["eventSource"] == "iam.amazonaws.com"
    assert event["managementEvent"] is True


def test_every_call_of_a_session_is_one_event(audited: Audited) -> None:
    """A run of mixed calls: the events are the calls, in order, one each."""
    iam = audited.server.client()
    name, group = unique("frank"), unique("ops")
    calls: list[tuple[str, Any]] = [
        ("CreateUser", lambda: iam.create_user(UserName=name)),
        ("CreateGroup", lambda: iam.create_group(GroupName=group)),
        ("AddUserToGroup", lambda: iam.add_user_to_group(GroupName=group, UserName=name)),
        ("PutUserPolicy", lambda: iam.put_user_policy(
            UserName=name, PolicyName="p",
            PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}))),
        ("GetUserPolicy", lambda: iam.get_user_policy(UserName=name, PolicyName="p")),
        ("TagUser", lambda: iam.tag_user(UserName=name, Tags=[{"Key": "k", "Value": "v"}])),
        ("ListGroupsForUser", lambda: iam.list_groups_for_user(UserName=name)),
        ("DeleteUser", lambda: iam.delete_user(UserName=name)),  # DeleteConflict
        ("RemoveUserFromGroup", lambda: iam.remove_user_from_group(GroupName=group,
                                                                   UserName=name)),
        ("DeleteUserPolicy", lambda: iam.delete_user_policy(UserName=name, PolicyName="p")),
        ("DeleteUser", lambda: iam.delete_user(UserName=name)),
        ("DeleteGroup", lambda: iam.delete_group(GroupName=group)),
    ]
    names = []
    for expected, call in calls:
        event = audited.one_event(call)
        assert event["eventName"] == expected
        names.append((event["eventName"], event.get("errorCode")))
    assert ("DeleteUser", "DeleteConflict") in names
    assert names[-1] == ("DeleteGroup", None)


def test_serve_default_trail_is_next_to_the_sqlite_store(tmp_path: Path) -> None:
    """``sigv4kit serve``'s default: a signed JSON-lines trail in STORE.audit, readable
    by ``sigv4kit audit lookup`` and verified by ``audit verify``."""
    import argparse

    from sigv4kit.middleware.iam._cli_serve import add_parser

    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers())
    store = f"sqlite:///{tmp_path / 'iam.db'}"
    args = parser.parse_args(["serve", "--store", store])
    from sigv4kit.middleware.iam._serve_audit import audit_log_from_args

    log = audit_log_from_args(args, store)
    with iam_server(store, audit=log) as server:
        server.client().create_user(UserName="grace")
    trail = tmp_path / "iam.db.audit"
    assert (tmp_path / "iam.db.audit.key.pub").exists()
    found = run_cli("audit", "lookup", str(trail), "--lookup-attributes",
                    "AttributeKey=EventName,AttributeValue=CreateUser")
    assert found.code == 0, found.err
    events = json.loads(found.out)["Events"]
    assert [e["Username"] for e in events] == ["admin"]
    public = str(tmp_path / "iam.db.audit.key.pub")
    verified = run_cli("audit", "verify", str(trail), "--public-key", public)
    assert verified.code == 0, verified.out + verified.err
    # Someone rewrites who made the call: verify names the segment.
    [segment] = trail.glob("audit-*.jsonl")
    segment.write_text(segment.read_text().replace('"userName":"admin"', '"userName":"mallory"'))
    tampered = run_cli("audit", "verify", str(trail), "--public-key", public, "--json")
    assert tampered.code == 4
    assert [(p["kind"], p["target"]) for p in json.loads(tampered.out)["problems"]] == [
        ("modified", segment.name)]
