"""Last use per principal and service (``service_last_used``), on SQLite and PostgreSQL.

What GetServiceLastAccessedDetails and RoleLastUsed read: every service a
user or role used, each with its latest time and region, whichever key was
used and after that key is gone. Uses are noted like the middleware notes
them (``record_use`` with the signing scope's region and service) and
written by the store's batched flush; expected values are the times and
regions the test wrote.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sigv4kit.middleware import MasterKey, PostgresKeyStore, SQLiteKeyStore
from sigv4kit.middleware.iam._access_report import (
    ServiceAccess,
    policy_services,
    services_last_accessed,
)
from sigv4kit.middleware.iam.entities import IAMStore
from sigv4kit.middleware.iam.policy import Policy
from sigv4kit.middleware.iam.sts import SessionRequest, issue_session

ACCT = "123456789012"
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
TRUST = json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCT}:root"},
                   "Action": "sts:AssumeRole"}],
})


@pytest.fixture(params=["sqlite", "postgres"])
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Any]:
    store: Any
    if request.param == "postgres":
        store = PostgresKeyStore(request.getfixturevalue("pg_url"),
                                 master_key=MasterKey.generate(), listen=False)
    else:
        store = SQLiteKeyStore(tmp_path / "keys.db", master_key=MasterKey.generate())
    yield store
    await store.aclose()


@pytest.fixture
async def iam(backend: Any) -> IAMStore:
    store = IAMStore(backend)
    await store.create_account(ACCT)
    return store


async def user_with_key(iam: IAMStore, name: str) -> str:
    await iam.create_user(ACCT, name)
    return (await iam.create_access_key(ACCT, name)).access_key_id


async def test_every_service_a_key_used_is_listed_newest_first(iam: IAMStore, backend: Any
                                                               ) -> None:
    kid = await user_with_key(iam, "alice")
    assert await iam.service_activity(ACCT, "user", "alice") == []
    # One key, two services, all between two flushes (one batch).
    backend.record_use(kid, at=T0, region="us-east-1", service="s3")
    backend.record_use(kid, at=T0 + HOUR, region="eu-west-1", service="sqs")
    backend.record_use(kid, at=T0 - HOUR, region="ap-south-1", service="s3")  # older: ignored
    await backend.flush()
    assert await iam.service_activity(ACCT, "user", "alice") == [
        ("sqs", T0 + HOUR, "eu-west-1"),
        ("s3", T0, "us-east-1"),
    ]
    # The key's own last use is still its latest one, whatever the service.
    used = await iam.get_access_key_last_used(kid)
    assert (used.last_used_date, used.service_name, used.region) == (
        T0 + HOUR, "sqs", "eu-west-1")


async def test_a_later_flush_never_moves_a_service_back(iam: IAMStore, backend: Any) -> None:
    kid = await user_with_key(iam, "alice")
    other = (await iam.create_access_key(ACCT, "alice")).access_key_id
    backend.record_use(kid, at=T0 + HOUR, region="eu-west-1", service="s3")
    await backend.flush()
    # An older use arriving later (another key, another worker's batch) is not newer.
    backend.record_use(other, at=T0, region="us-east-1", service="s3")
    await backend.flush()
    assert await iam.service_activity(ACCT, "user", "alice") == [("s3", T0 + HOUR, "eu-west-1")]
    backend.record_use(other, at=T0 + 2 * HOUR, region="us-west-2", service="s3")
    await backend.flush()
    assert await iam.service_activity(ACCT, "user", "alice") == [
        ("s3", T0 + 2 * HOUR, "us-west-2")]


async def test_uses_outlive_the_key(iam: IAMStore, backend: Any) -> None:
    kid = await user_with_key(iam, "alice")
    backend.record_use(kid, at=T0, region="us-east-1", service="s3")
    await backend.flush()
    # Noted but not yet flushed when the key is deleted: DeleteAccessKey writes it first.
    backend.record_use(kid, at=T0 + HOUR, region="eu-west-1", service="sqs")
    await iam.delete_access_key(ACCT, kid)
    expected = [("sqs", T0 + HOUR, "eu-west-1"), ("s3", T0, "us-east-1")]
    assert await iam.service_activity(ACCT, "user", "alice") == expected
    [alice] = [p for p in await iam.principal_activity(ACCT) if p.name == "alice"]
    assert alice.keys == ()
    assert (alice.last_used_at, alice.last_used_region) == (T0 + HOUR, "eu-west-1")
    # The store's own delete (sigv4kit keys delete) keeps them too.
    await iam.create_user(ACCT, "bob")
    bob_key = (await iam.create_access_key(ACCT, "bob")).access_key_id
    backend.record_use(bob_key, at=T0, region="us-east-1", service="dynamodb")
    await backend.delete_key(bob_key)
    assert await iam.service_activity(ACCT, "user", "bob") == [("dynamodb", T0, "us-east-1")]


async def test_a_role_sessions_uses_count_for_the_role(iam: IAMStore, backend: Any) -> None:
    role = await iam.create_role(ACCT, "deployer", TRUST)
    session = await issue_session(
        backend, SessionRequest(principal_id=role.role_id, duration_seconds=900, name="ci"),
        now=T0)
    backend.record_use(session.access_key_id, at=T0 + timedelta(minutes=1),
                       region="us-east-1", service="s3")
    backend.record_use(session.access_key_id, at=T0 + timedelta(minutes=2),
                       region="us-east-1", service="ec2")
    await backend.flush()
    expected = [("ec2", T0 + timedelta(minutes=2), "us-east-1"),
                ("s3", T0 + timedelta(minutes=1), "us-east-1")]
    assert await iam.service_activity(ACCT, "role", "deployer") == expected
    # The expired session's key is purged; the role's record stays.
    assert await backend.delete_expired_sessions(now=T0 + HOUR) == 1
    assert await iam.service_activity(ACCT, "role", "deployer") == expected
    assert await iam.role_last_used(ACCT, "deployer") == (
        T0 + timedelta(minutes=2), "us-east-1")


async def test_rows_go_with_their_principal(iam: IAMStore, backend: Any) -> None:
    kid = await user_with_key(iam, "alice")
    backend.record_use(kid, at=T0, region="us-east-1", service="s3")
    await backend.flush()
    await iam.delete_access_key(ACCT, kid)
    await iam.delete_user(ACCT, "alice")
    assert await iam.service_activity(ACCT, "user", "alice") is None
    await iam.create_user(ACCT, "alice")  # a new user of that name starts with nothing
    assert await iam.service_activity(ACCT, "user", "alice") == []


def test_services_a_policy_allows_are_the_prefixes_of_its_allowed_actions() -> None:
    policy = Policy.parse(json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["s3:GetObject", "SQS:Send*", "*", "*:Describe*"],
         "Resource": "*"},
        {"Effect": "Allow", "NotAction": "kms:*", "Resource": "*"},  # everything but kms
        {"Effect": "Deny", "Action": "dynamodb:*", "Resource": "*"},
    ]}))
    other = Policy.parse(json.dumps({"Version": "2012-10-17", "Statement": {
        "Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "*"}}))
    # "*", the "*" vendor and NotAction name no one service; Deny allows nothing.
    assert policy_services([policy, other]) == {"s3", "sqs", "execute-api"}
    assert policy_services([]) == set()


def _policy(*statements: dict[str, Any]) -> Policy:
    return Policy.parse(json.dumps({"Version": "2012-10-17", "Statement": list(statements)}))


ALLOW_FIVE = {"Effect": "Allow", "Resource": "*", "Action": [
    "s3:GetObject", "sqs:SendMessage", "dynamodb:GetItem", "kms:Decrypt", "ec2:Describe*"]}


def test_a_deny_of_a_whole_service_removes_it() -> None:
    deny = _policy(
        {"Effect": "Deny", "Action": ["S3:*", "sqs:Send*"], "Resource": "*"},  # s3 wholly
        {"Effect": "Deny", "Action": "dynamodb:*", "Resource": ["arn:aws:s3:::b", "*"]},
        # Narrower: some resources, a condition, NotResource, NotAction.
        {"Effect": "Deny", "Action": "kms:*", "Resource": "arn:aws:kms:*:*:key/k"},
        {"Effect": "Deny", "Action": "ec2:*", "Resource": "*",
         "Condition": {"StringEquals": {"aws:RequestedRegion": "us-east-1"}}},
        {"Effect": "Deny", "Action": "sqs:*", "NotResource": "arn:aws:sqs:*:*:q"},
        {"Effect": "Deny", "NotAction": "sqs:*", "Resource": "*"},
    )
    # The Deny may sit in another policy than the Allow.
    assert policy_services([_policy(ALLOW_FIVE), deny]) == {"sqs", "kms", "ec2"}
    everything = _policy({"Effect": "Deny", "Action": "*", "Resource": "*"})
    assert policy_services([_policy(ALLOW_FIVE), everything]) == set()
    conditional = _policy({"Effect": "Deny", "Action": "*", "Resource": "*",
                           "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "false"}}})
    assert len(policy_services([_policy(ALLOW_FIVE), conditional])) == 5


async def test_uses_older_than_the_tracking_period_are_not_reported(
    iam: IAMStore, backend: Any
) -> None:
    kid = await user_with_key(iam, "alice")
    day = timedelta(days=1)
    backend.record_use(kid, at=T0 - 400 * day, region="us-east-1", service="s3")  # the edge
    backend.record_use(kid, at=T0 - 400 * day - timedelta(seconds=1), region="us-east-1",
                       service="sqs")  # allowed: listed as not used
    backend.record_use(kid, at=T0 - 500 * day, region="us-east-1", service="ec2")  # gone
    backend.record_use(kid, at=T0 - day, region="eu-west-1", service="iam")
    await backend.flush()
    uses = await iam.service_activity(ACCT, "user", "alice")
    allow = _policy({"Effect": "Allow", "Action": ["s3:*", "sqs:*"], "Resource": "*"})
    assert services_last_accessed(uses or [], [allow], now=T0) == [
        ServiceAccess(namespace="iam", last_authenticated=T0 - day, region="eu-west-1"),
        ServiceAccess(namespace="s3", last_authenticated=T0 - 400 * day, region="us-east-1"),
        ServiceAccess(namespace="sqs"),
    ]
    # A job a day later: the s3 use has left the period too.
    assert services_last_accessed(uses or [], [allow], now=T0 + day) == [
        ServiceAccess(namespace="iam", last_authenticated=T0 - day, region="eu-west-1"),
        ServiceAccess(namespace="s3"),
        ServiceAccess(namespace="sqs"),
    ]
