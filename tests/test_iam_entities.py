"""The IAM store contract: every identity operation and error, on SQLite and PostgreSQL.

Expected values are written by hand: IAM's messages as the AWS IAM API
Reference and IAM's observed answers give them (EntityAlreadyExists "User
with name bob already exists.", NoSuchEntity "The user with name bob cannot
be found.", DeleteConflict "Cannot delete entity, must ...", LimitExceeded
"Cannot exceed quota for AccessKeysPerUser: 2", "A managed policy can have up
to 5 versions. ..."), unique ids from a randomness source whose bytes are
chosen here, and ARNs in IAM's format (reference_identifiers.md).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sigv4kit.middleware import MasterKey, PostgresKeyStore, PrincipalKind, SQLiteKeyStore
from sigv4kit.middleware.iam.entities import (
    DeleteConflict,
    EntityAlreadyExists,
    EntityFilter,
    IAMStore,
    InvalidInput,
    LimitExceeded,
    NoSuchEntity,
    PolicyRef,
    SnapshotCache,
    Tag,
    ValidationError,
)
from sigv4kit.middleware.iam.entities import PrincipalKind as IAMKind
from sigv4kit.middleware.iam.policy import MalformedPolicyDocument

ACCT = "123456789012"
OTHER = "210987654321"
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def allow(action: str = "s3:GetObject", resource: str = "*", sid: str = "") -> str:
    statement: dict[str, Any] = {"Effect": "Allow", "Action": action, "Resource": resource}
    if sid:
        statement["Sid"] = sid
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCT}:root"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)


class CountingRandom:
    """Call k (from 0) returns bytes (17k + j) % 256: ids are predictable by hand."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, n: int) -> bytes:
        start = 17 * self.calls
        self.calls += 1
        return bytes((start + j) % 256 for j in range(n))


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@pytest.fixture(params=["sqlite", "postgres"])
async def opener(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Any]:
    """Opens key stores on one database (each one like another process's)."""
    key = MasterKey.generate()
    url = request.getfixturevalue("pg_url") if request.param == "postgres" else None
    opened: list[Any] = []

    def open_store() -> Any:
        store: Any
        if url is not None:
            store = PostgresKeyStore(url, master_key=key, listen=False)
        else:
            store = SQLiteKeyStore(tmp_path / "keys.db", master_key=key)
        opened.append(store)
        return store

    yield open_store
    for store in opened:
        await store.aclose()


@pytest.fixture
def backend(opener: Any) -> Any:
    return opener()


@pytest.fixture
async def iam(backend: Any) -> IAMStore:
    store = IAMStore(backend, random=CountingRandom(), clock=Clock())
    await store.create_account(ACCT)
    return store


async def raises(exc: type[Exception], message: str, coro: Any) -> Any:
    with pytest.raises(exc) as info:
        await coro
    assert str(info.value) == message
    return info.value


# -- accounts ------------------------------------------------------------------------


async def test_accounts(backend: Any) -> None:
    # Bytes 0..15 are all below 250, so the digits are b % 10: 0123456789012345.
    iam = IAMStore(backend, random=CountingRandom(), clock=Clock())
    account = await iam.create_account(alias="acme")
    assert account.account_id == "012345678901"
    assert account.root_arn == "arn:aws:iam::012345678901:root"
    await iam.create_account(ACCT)
    await raises(
        EntityAlreadyExists, f"Account with id {ACCT} already exists.", iam.create_account(ACCT)
    )
    await raises(
        EntityAlreadyExists,
        "The account alias acme already exists.",
        iam.create_account(OTHER, alias="acme"),
    )
    ids = [a.account_id for a in await iam.list_accounts()]
    assert ids == ["000000000000", "012345678901", ACCT]  # the default account is migrated
    assert (await iam.set_account_alias(ACCT, "tenant-a")).alias == "tenant-a"
    assert (await iam.get_account(ACCT)).alias == "tenant-a"
    assert (await iam.set_account_alias(ACCT, None)).alias is None
    await raises(
        NoSuchEntity, f"The account with id {OTHER} cannot be found.", iam.get_account(OTHER)
    )
    with pytest.raises(ValidationError):
        await iam.create_account("12345")
    with pytest.raises(ValidationError):
        await iam.set_account_alias(ACCT, "Bad_Alias")


# -- users ------------------------------------------------------------------------------


async def test_user_ids_arns_and_errors(iam: IAMStore) -> None:
    # An explicit account id draws nothing: the first draw is bytes 0..16 -> A..Q,
    # the second 17..33 -> R..Z, 2..7, then 32 % 32 = 0 -> A and 33 -> B.
    bob = await iam.create_user(ACCT, "bob", path="/staff/", tags={"team": "a"})
    assert bob.user_id == "AIDAABCDEFGHIJKLMNOPQ"
    assert len(bob.user_id) == 21
    assert bob.arn == "arn:aws:iam::123456789012:user/staff/bob"
    assert bob.tags == (Tag(key="team", value="a"),)
    assert bob.create_date == T0 + timedelta(seconds=2)
    got = await iam.get_user(ACCT, "bob")
    assert got == bob
    # IAM names are unique ignoring case, and found ignoring case.
    await raises(
        EntityAlreadyExists, "User with name BOB already exists.", iam.create_user(ACCT, "BOB")
    )
    assert (await iam.get_user(ACCT, "BoB")).user_name == "bob"
    await raises(
        NoSuchEntity, "The user with name carol cannot be found.", iam.get_user(ACCT, "carol")
    )
    # Another account does not see bob.
    await iam.create_account(OTHER)
    await raises(
        NoSuchEntity, "The user with name bob cannot be found.", iam.get_user(OTHER, "bob")
    )
    # A user and a role may share a name.
    role = await iam.create_role(ACCT, "bob", TRUST)
    assert role.role_id == "AROARSTUVWXYZ234567AB"
    assert role.arn == "arn:aws:iam::123456789012:role/bob"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (
            "bob smith",
            "1 validation error detected: Value 'bob smith' at 'userName' failed to satisfy "
            r"constraint: Member must satisfy regular expression pattern: [\w+=,.@-]+",
        ),
        (
            "a" * 65,
            f"1 validation error detected: Value '{'a' * 65}' at 'userName' failed to satisfy "
            "constraint: Member must have length less than or equal to 64",
        ),
        (
            "",
            "1 validation error detected: Value '' at 'userName' failed to satisfy "
            "constraint: Member must have length greater than or equal to 1",
        ),
    ],
)
async def test_user_name_rules(iam: IAMStore, name: str, message: str) -> None:
    await raises(ValidationError, message, iam.create_user(ACCT, name))


async def test_name_and_path_rules(iam: IAMStore) -> None:
    await iam.create_user(ACCT, "a+b=c,d.e@f-g_h" + "x" * 49)  # 64 characters, every symbol
    await iam.create_group(ACCT, "g" * 128)
    with pytest.raises(ValidationError):
        await iam.create_group(ACCT, "g" * 129)
    await iam.create_policy(ACCT, "p" * 128, allow())
    with pytest.raises(ValidationError):
        await iam.create_policy(ACCT, "p" * 129, allow())
    for bad in ("staff/", "/staff", "//x y/", "/" + "a" * 511 + "/"):
        with pytest.raises(ValidationError):
            await iam.create_user(ACCT, "pathy", path=bad)
    user = await iam.create_user(ACCT, "pathy", path="/" + "a" * 510 + "/")
    assert len(user.path) == 512


async def test_update_and_delete_user(iam: IAMStore, backend: Any) -> None:
    await iam.create_user(ACCT, "bob")
    await iam.create_user(ACCT, "carol")
    key = await iam.create_access_key(ACCT, "bob")
    assert (await backend.get_key(key.access_key_id)).principal == "bob"
    await raises(
        EntityAlreadyExists,
        "User with name Carol already exists.",
        iam.update_user(ACCT, "bob", new_user_name="Carol"),
    )
    renamed = await iam.update_user(ACCT, "bob", new_user_name="robert", new_path="/x/")
    assert renamed.arn == "arn:aws:iam::123456789012:user/x/robert"
    # The key cache held the old name: a rename evicts it.
    assert (await backend.get_key(key.access_key_id)).principal == "robert"
    # Only the case changes: allowed.
    assert (await iam.update_user(ACCT, "robert", new_user_name="Robert")).user_name == "Robert"
    await raises(
        DeleteConflict,
        "Cannot delete entity, must delete access keys first.",
        iam.delete_user(ACCT, "Robert"),
    )
    await iam.delete_access_key(ACCT, key.access_key_id)
    await iam.put_user_policy(ACCT, "Robert", "inline", allow())
    await raises(
        DeleteConflict,
        "Cannot delete entity, must delete policies first.",
        iam.delete_user(ACCT, "Robert"),
    )
    await iam.delete_user_policy(ACCT, "Robert", "inline")
    policy = await iam.create_policy(ACCT, "p", allow())
    await iam.attach_user_policy(ACCT, "Robert", policy.arn)
    await raises(
        DeleteConflict,
        "Cannot delete entity, must detach all policies first.",
        iam.delete_user(ACCT, "Robert"),
    )
    await iam.detach_user_policy(ACCT, "Robert", policy.arn)
    await iam.create_group(ACCT, "devs")
    await iam.add_user_to_group(ACCT, "devs", "Robert")
    await raises(
        DeleteConflict,
        "Cannot delete entity, must remove users from group first.",
        iam.delete_user(ACCT, "Robert"),
    )
    await iam.remove_user_from_group(ACCT, "devs", "Robert")
    await iam.delete_user(ACCT, "Robert")
    await raises(
        NoSuchEntity, "The user with name Robert cannot be found.", iam.delete_user(ACCT, "Robert")
    )
    assert [u.user_name for u in (await iam.list_users(ACCT)).items] == ["carol"]


async def test_list_users_pages_and_path_prefix(iam: IAMStore) -> None:
    names = ["dave", "Zed", "alice", "bob", "carol", "erin", "frank"]
    for n, name in enumerate(names):
        await iam.create_user(ACCT, name, path="/eng/" if n % 2 else "/")
    expected = ["Zed", "alice", "bob", "carol", "dave", "erin", "frank"]  # byte order
    whole = await iam.list_users(ACCT)
    assert [u.user_name for u in whole.items] == expected
    assert (whole.is_truncated, whole.marker) == (False, None)
    # Every page size returns every user exactly once, in order.
    for size in range(1, 9):
        seen: list[str] = []
        marker = None
        pages = 0
        while True:
            page = await iam.list_users(ACCT, marker=marker, max_items=size)
            pages += 1
            seen += [u.user_name for u in page.items]
            assert len(page.items) <= size
            if not page.is_truncated:
                assert page.marker is None
                break
            marker = page.marker
        assert seen == expected
        assert pages == max(1, -(-len(expected) // size))
    eng = await iam.list_users(ACCT, path_prefix="/eng/")
    assert [u.user_name for u in eng.items] == ["Zed", "bob", "erin"]  # names[1], [3], [5]
    assert (await iam.list_users(ACCT, path_prefix="/nope/")).items == ()
    # Lists omit boundaries and tags, as IAM's ListUsers does.
    assert all(u.tags == () and u.permissions_boundary is None for u in whole.items)


async def test_paging_parameters(iam: IAMStore) -> None:
    await raises(
        ValidationError,
        "1 validation error detected: Value '0' at 'maxItems' failed to satisfy constraint: "
        "Member must have value greater than or equal to 1",
        iam.list_users(ACCT, max_items=0),
    )
    await raises(
        ValidationError,
        "1 validation error detected: Value '1001' at 'maxItems' failed to satisfy constraint: "
        "Member must have value less than or equal to 1000",
        iam.list_users(ACCT, max_items=1001),
    )
    await raises(InvalidInput, "Invalid Marker.", iam.list_users(ACCT, marker="not a marker!"))
    assert (await iam.list_users(ACCT, max_items=1000)).items == ()


# -- tags -------------------------------------------------------------------------------


async def test_tags(iam: IAMStore) -> None:
    await iam.create_user(ACCT, "bob", tags=[Tag(key="Team", value="a")])
    await iam.tag_user(ACCT, "bob", {"team": "b", "env": ""})  # same key ignoring case replaces
    tags = await iam.list_user_tags(ACCT, "bob")
    assert tags.items == (Tag(key="env", value=""), Tag(key="team", value="b"))
    await iam.untag_user(ACCT, "bob", ["TEAM", "missing"])
    assert (await iam.list_user_tags(ACCT, "bob")).items == (Tag(key="env", value=""),)
    await raises(
        InvalidInput,
        "Duplicate tag keys found. Please note that Tag keys are case insensitive.",
        iam.tag_user(ACCT, "bob", [Tag(key="a", value="1"), Tag(key="A", value="2")]),
    )
    await iam.tag_user(ACCT, "bob", {f"k{n}": "v" for n in range(49)})  # 50 with env
    await raises(
        LimitExceeded,
        "The number of tags has reached the maximum limit.",
        iam.tag_user(ACCT, "bob", {"one-more": "v"}),
    )
    await iam.tag_user(ACCT, "bob", {"K1": "replaced"})  # replacing stays at 50
    with pytest.raises(ValidationError):
        await iam.create_user(ACCT, "many", tags={f"k{n}": "v" for n in range(51)})
    with pytest.raises(ValidationError):
        await iam.tag_user(ACCT, "bob", {"k" * 129: "v"})
    with pytest.raises(ValidationError):
        await iam.tag_user(ACCT, "bob", {"k": "v" * 257})
    with pytest.raises(ValidationError):
        await iam.tag_user(ACCT, "bob", {"bad*key": "v"})
    page = await iam.list_user_tags(ACCT, "bob", max_items=20)
    assert page.is_truncated
    assert len(page.items) == 20
    rest = await iam.list_user_tags(ACCT, "bob", marker=page.marker, max_items=100)
    assert len(page.items) + len(rest.items) == 50
    await iam.create_role(ACCT, "r", TRUST, tags={"x": "1"})
    await iam.tag_role(ACCT, "r", {"y": "2"})
    await iam.untag_role(ACCT, "r", ["x"])
    assert (await iam.list_role_tags(ACCT, "r")).items == (Tag(key="y", value="2"),)
    assert (await iam.get_role(ACCT, "r")).tags == (Tag(key="y", value="2"),)


# -- groups -----------------------------------------------------------------------------


async def test_groups_and_membership(iam: IAMStore) -> None:
    devs = await iam.create_group(ACCT, "devs", path="/eng/")
    assert devs.group_id == "AGPAABCDEFGHIJKLMNOPQ"
    assert devs.arn == "arn:aws:iam::123456789012:group/eng/devs"
    await raises(
        EntityAlreadyExists, "Group with name DEVS already exists.", iam.create_group(ACCT, "DEVS")
    )
    await iam.create_group(ACCT, "ops")
    for name in ("carol", "alice", "bob"):
        await iam.create_user(ACCT, name)
        await iam.add_user_to_group(ACCT, "devs", name)
    await iam.add_user_to_group(ACCT, "devs", "alice")  # again: no change
    await iam.add_user_to_group(ACCT, "ops", "alice")
    detail = await iam.get_group(ACCT, "devs")
    assert detail.group == devs
    assert [u.user_name for u in detail.users.items] == ["alice", "bob", "carol"]
    first = await iam.get_group(ACCT, "devs", max_items=2)
    assert [u.user_name for u in first.users.items] == ["alice", "bob"]
    assert first.users.is_truncated
    rest = await iam.get_group(ACCT, "devs", marker=first.users.marker)
    assert [u.user_name for u in rest.users.items] == ["carol"]
    groups = await iam.list_groups_for_user(ACCT, "alice")
    assert [g.group_name for g in groups.items] == ["devs", "ops"]
    assert [g.group_name for g in (await iam.list_groups(ACCT)).items] == ["devs", "ops"]
    assert [g.group_name for g in (await iam.list_groups(ACCT, path_prefix="/eng")).items] == [
        "devs"
    ]
    await raises(
        NoSuchEntity,
        "The group with name nope cannot be found.",
        iam.add_user_to_group(ACCT, "nope", "alice"),
    )
    await raises(
        NoSuchEntity,
        "The user with name nobody cannot be found.",
        iam.add_user_to_group(ACCT, "devs", "nobody"),
    )
    await raises(
        DeleteConflict,
        "Cannot delete entity, must remove users from group first.",
        iam.delete_group(ACCT, "devs"),
    )
    for name in ("alice", "bob", "carol"):
        await iam.remove_user_from_group(ACCT, "devs", name)
    await raises(
        NoSuchEntity,
        "User alice not in group devs",
        iam.remove_user_from_group(ACCT, "devs", "alice"),
    )
    await iam.put_group_policy(ACCT, "devs", "inline", allow())
    await raises(
        DeleteConflict,
        "Cannot delete entity, must delete policies first.",
        iam.delete_group(ACCT, "devs"),
    )
    await iam.delete_group_policy(ACCT, "devs", "inline")
    policy = await iam.create_policy(ACCT, "p", allow())
    await iam.attach_group_policy(ACCT, "devs", policy.arn)
    await raises(
        DeleteConflict,
        "Cannot delete entity, must detach all policies first.",
        iam.delete_group(ACCT, "devs"),
    )
    await iam.detach_group_policy(ACCT, "devs", policy.arn)
    moved = await iam.update_group(ACCT, "devs", new_group_name="developers", new_path="/")
    assert moved.arn == "arn:aws:iam::123456789012:group/developers"
    await iam.delete_group(ACCT, "developers")
    await raises(
        NoSuchEntity,
        "The group with name developers cannot be found.",
        iam.get_group(ACCT, "developers"),
    )


# -- roles ------------------------------------------------------------------------------


async def test_roles(iam: IAMStore) -> None:
    role = await iam.create_role(
        ACCT, "deployer", TRUST, path="/ci/", description="CI", max_session_duration=7200
    )
    assert role.role_id == "AROAABCDEFGHIJKLMNOPQ"
    assert role.arn == "arn:aws:iam::123456789012:role/ci/deployer"
    assert role.assume_role_policy_document == TRUST  # as sent
    assert (role.description, role.max_session_duration) == ("CI", 7200)
    assert await iam.get_role(ACCT, "DEPLOYER") == role
    await raises(
        EntityAlreadyExists,
        "Role with name deployer already exists.",
        iam.create_role(ACCT, "deployer", TRUST),
    )
    await raises(
        NoSuchEntity, "The role with name nope cannot be found.", iam.get_role(ACCT, "nope")
    )
    await raises(
        ValidationError,
        "1 validation error detected: Value '3599' at 'maxSessionDuration' failed to satisfy "
        "constraint: Member must have value greater than or equal to 3600",
        iam.create_role(ACCT, "short", TRUST, max_session_duration=3599),
    )
    await raises(
        ValidationError,
        "1 validation error detected: Value '43201' at 'maxSessionDuration' failed to satisfy "
        "constraint: Member must have value less than or equal to 43200",
        iam.update_role(ACCT, "deployer", max_session_duration=43201),
    )
    # Trust policies are parsed as trust policies: no Resource (IAM.md §1.7).
    with_resource = TRUST.replace('"Action"', '"Resource": "*", "Action"')
    await raises(
        MalformedPolicyDocument,
        "Has prohibited field Resource.",
        iam.create_role(ACCT, "bad", with_resource),
    )
    await raises(
        MalformedPolicyDocument,
        "Missing required field Principal",
        iam.update_assume_role_policy(ACCT, "deployer", allow()),
    )
    await iam.update_role(ACCT, "deployer", description="CD", max_session_duration=43200)
    spaced = TRUST.replace(",", ", ")
    await iam.update_assume_role_policy(ACCT, "deployer", spaced)
    updated = await iam.get_role(ACCT, "deployer")
    assert (updated.description, updated.max_session_duration) == ("CD", 43200)
    assert updated.assume_role_policy_document == spaced
    await iam.create_role(ACCT, "app", TRUST)
    assert [r.role_name for r in (await iam.list_roles(ACCT)).items] == ["app", "deployer"]
    assert [r.role_name for r in (await iam.list_roles(ACCT, path_prefix="/ci/")).items] == [
        "deployer"
    ]
    await iam.put_role_policy(ACCT, "app", "inline", allow())
    await raises(
        DeleteConflict,
        "Cannot delete entity, must delete policies first.",
        iam.delete_role(ACCT, "app"),
    )
    await iam.delete_role_policy(ACCT, "app", "inline")
    await iam.delete_role(ACCT, "app")
    assert [r.role_name for r in (await iam.list_roles(ACCT)).items] == ["deployer"]


# -- managed policies -------------------------------------------------------------------


async def test_managed_policies_and_versions(iam: IAMStore) -> None:
    policy = await iam.create_policy(ACCT, "read", allow(), path="/app/", description="reads")
    arn = "arn:aws:iam::123456789012:policy/app/read"
    assert (policy.arn, policy.policy_id) == (arn, "ANPAABCDEFGHIJKLMNOPQ")
    assert (policy.default_version_id, policy.attachment_count, policy.is_attachable) == (
        "v1",
        0,
        True,
    )
    await raises(
        EntityAlreadyExists,
        "A policy called READ already exists. Duplicate names are not allowed.",
        iam.create_policy(ACCT, "READ", allow()),
    )
    await raises(
        NoSuchEntity,
        "Policy arn:aws:iam::123456789012:policy/read was not found.",
        iam.get_policy(ACCT, "arn:aws:iam::123456789012:policy/read"),  # wrong path
    )
    await raises(InvalidInput, "ARN not-an-arn is not valid.", iam.get_policy(ACCT, "not-an-arn"))
    # Identity-policy rules: a 2008 Version is refused at CreatePolicy (IAM.md §1.1).
    old = allow().replace("2012-10-17", "2008-10-17")
    await raises(
        MalformedPolicyDocument,
        "Policy document must be version 2012-10-17 or greater.",
        iam.create_policy(ACCT, "old", old),
    )
    for n in range(2, 6):
        version = await iam.create_policy_version(ACCT, arn, allow(f"s3:Get{n}"))
        assert (version.version_id, version.is_default_version) == (f"v{n}", False)
    await raises(
        LimitExceeded,
        "A managed policy can have up to 5 versions. Before you create a new version, "
        "you must delete an existing version.",
        iam.create_policy_version(ACCT, arn, allow()),
    )
    listed = await iam.list_policy_versions(ACCT, arn)
    assert [v.version_id for v in listed.items] == ["v5", "v4", "v3", "v2", "v1"]
    assert [v.is_default_version for v in listed.items] == [False] * 4 + [True]
    paged = await iam.list_policy_versions(ACCT, arn, max_items=2)
    assert [v.version_id for v in paged.items] == ["v5", "v4"]
    rest = await iam.list_policy_versions(ACCT, arn, marker=paged.marker)
    assert [v.version_id for v in rest.items] == ["v3", "v2", "v1"]
    await raises(
        DeleteConflict,
        "Cannot delete the default version of a policy.",
        iam.delete_policy_version(ACCT, arn, "v1"),
    )
    await iam.set_default_policy_version(ACCT, arn, "v3")
    assert (await iam.get_policy(ACCT, arn)).default_version_id == "v3"
    got = await iam.get_policy_version(ACCT, arn, "v3")
    assert (got.document, got.is_default_version) == (allow("s3:Get3"), True)
    await iam.delete_policy_version(ACCT, arn, "v5")
    # Version ids are never reused.
    assert (
        await iam.create_policy_version(ACCT, arn, allow(), set_as_default=True)
    ).version_id == ("v6")
    assert (await iam.get_policy(ACCT, arn)).default_version_id == "v6"
    await raises(
        NoSuchEntity,
        f"Policy {arn} version v5 does not exist or is not attachable.",
        iam.get_policy_version(ACCT, arn, "v5"),
    )
    with pytest.raises(ValidationError):
        await iam.get_policy_version(ACCT, arn, "5")
    await iam.create_policy(ACCT, "write", allow("s3:PutObject"))
    names = [p.policy_name for p in (await iam.list_policies(ACCT)).items]
    assert names == ["read", "write"]
    assert [p.policy_name for p in (await iam.list_policies(ACCT, path_prefix="/app/")).items] == [
        "read"
    ]
    await iam.delete_policy(ACCT, arn)
    await raises(NoSuchEntity, f"Policy {arn} was not found.", iam.get_policy(ACCT, arn))


async def test_policy_size_quotas(iam: IAMStore) -> None:
    def sized(total: int) -> str:
        # Pad the resource so the document has ``total`` characters not counting
        # whitespace (reference_iam-quotas.md: IAM does not count white space).
        base = allow("s3:GetObject", "arn:aws:s3:::b/")
        return base.replace("b/", "b/" + "k" * (total - len(base.replace(" ", ""))))

    assert len(sized(6144).replace(" ", "")) == 6144
    await iam.create_policy(ACCT, "max", sized(6144))
    await raises(
        LimitExceeded,
        "Cannot exceed quota for PolicySize: 6144",
        iam.create_policy(ACCT, "over", sized(6145)),
    )
    await iam.create_user(ACCT, "bob")
    await iam.put_user_policy(ACCT, "bob", "a", sized(1024))
    await iam.put_user_policy(ACCT, "bob", "b", sized(1024))  # 2,048 in all
    await iam.put_user_policy(ACCT, "bob", "b", sized(1024))  # replacing is not adding
    await raises(
        LimitExceeded,
        "Cannot exceed quota for UserPolicySize: 2048",
        iam.put_user_policy(ACCT, "bob", "c", sized(120)),
    )
    await iam.create_group(ACCT, "g")
    await iam.put_group_policy(ACCT, "g", "a", sized(5120))
    await raises(
        LimitExceeded,
        "Cannot exceed quota for GroupPolicySize: 5120",
        iam.put_group_policy(ACCT, "g", "b", sized(120)),
    )
    await iam.create_role(ACCT, "r", TRUST)
    await iam.put_role_policy(ACCT, "r", "a", sized(10240))
    await raises(
        LimitExceeded,
        "Cannot exceed quota for RolePolicySize: 10240",
        iam.put_role_policy(ACCT, "r", "b", sized(120)),
    )


# -- attachments, inline policies, boundaries -----------------------------------------------


async def test_attachments(iam: IAMStore) -> None:
    await iam.create_user(ACCT, "bob")
    arns = [(await iam.create_policy(ACCT, f"p{n:02}", allow())).arn for n in range(11)]
    for arn in arns[:10]:
        await iam.attach_user_policy(ACCT, "bob", arn)
    await iam.attach_user_policy(ACCT, "bob", arns[0])  # again: no change
    await raises(
        LimitExceeded,
        "Cannot exceed quota for PoliciesPerUser: 10",
        iam.attach_user_policy(ACCT, "bob", arns[10]),
    )
    attached = await iam.list_attached_user_policies(ACCT, "bob", max_items=4)
    assert [p.policy_name for p in attached.items] == ["p00", "p01", "p02", "p03"]
    assert attached.items[0] == PolicyRef(
        policy_name="p00", policy_arn="arn:aws:iam::123456789012:policy/p00"
    )
    assert (await iam.get_policy(ACCT, arns[0])).attachment_count == 1
    missing = "arn:aws:iam::123456789012:policy/missing"
    await raises(
        NoSuchEntity,
        f"Policy {missing} does not exist or is not attachable.",
        iam.attach_user_policy(ACCT, "bob", missing),
    )
    # Another account's policy is not attachable here.
    foreign = "arn:aws:iam::210987654321:policy/p00"
    await raises(
        NoSuchEntity,
        f"Policy {foreign} does not exist or is not attachable.",
        iam.attach_user_policy(ACCT, "bob", foreign),
    )
    await raises(
        NoSuchEntity,
        f"Policy {arns[10]} was not found.",
        iam.detach_user_policy(ACCT, "bob", arns[10]),
    )
    await raises(
        DeleteConflict,
        "Cannot delete a policy attached to entities.",
        iam.delete_policy(ACCT, arns[0]),
    )
    await iam.create_role(ACCT, "r", TRUST)
    await iam.create_group(ACCT, "g")
    await iam.attach_role_policy(ACCT, "r", arns[0])
    await iam.attach_group_policy(ACCT, "g", arns[0])
    assert (await iam.get_policy(ACCT, arns[0])).attachment_count == 3
    counts = [(p.policy_name, p.attachment_count) for p in (await iam.list_policies(ACCT)).items]
    assert counts == [("p00", 3)] + [(f"p{n:02}", 1) for n in range(1, 10)] + [("p10", 0)]
    entities = await iam.list_entities_for_policy(ACCT, arns[0])
    assert [g.group_name for g in entities.policy_groups] == ["g"]
    assert [u.name for u in entities.policy_users] == ["bob"]
    assert [r.name for r in entities.policy_roles] == ["r"]
    only_roles = await iam.list_entities_for_policy(ACCT, arns[0], entity_filter=EntityFilter.ROLE)
    assert (only_roles.policy_groups, only_roles.policy_users) == ((), ())
    first = await iam.list_entities_for_policy(ACCT, arns[0], max_items=2)
    assert (len(first.policy_groups), len(first.policy_users), first.is_truncated) == (1, 1, True)
    second = await iam.list_entities_for_policy(ACCT, arns[0], marker=first.marker)
    assert [r.name for r in second.policy_roles] == ["r"]
    assert [p.policy_name for p in (await iam.list_attached_role_policies(ACCT, "r")).items] == [
        "p00"
    ]
    assert [p.policy_name for p in (await iam.list_attached_group_policies(ACCT, "g")).items] == [
        "p00"
    ]
    await iam.detach_role_policy(ACCT, "r", arns[0])
    await iam.detach_group_policy(ACCT, "g", arns[0])
    assert (await iam.list_policies(ACCT, only_attached=True, max_items=1000)).items[
        0
    ].policy_name == ("p00")


async def test_inline_policies(iam: IAMStore) -> None:
    await iam.create_user(ACCT, "bob")
    doc = allow("s3:GetObject") + "\n"  # stored and returned as sent
    await iam.put_user_policy(ACCT, "bob", "read", doc)
    await iam.put_user_policy(ACCT, "bob", "Another", allow())
    got = await iam.get_user_policy(ACCT, "bob", "read")
    assert (got.entity_name, got.policy_name, got.policy_document) == ("bob", "read", doc)
    assert (await iam.list_user_policies(ACCT, "bob")).items == ("Another", "read")
    await raises(
        NoSuchEntity,
        "The user policy with name nope cannot be found.",
        iam.get_user_policy(ACCT, "bob", "nope"),
    )
    await raises(
        MalformedPolicyDocument,
        "Syntax errors in policy.",
        iam.put_user_policy(ACCT, "bob", "bad", "{not json"),
    )
    await iam.delete_user_policy(ACCT, "bob", "read")
    assert (await iam.list_user_policies(ACCT, "bob")).items == ("Another",)
    await iam.create_role(ACCT, "r", TRUST)
    await iam.put_role_policy(ACCT, "r", "x", allow())
    assert (await iam.get_role_policy(ACCT, "r", "x")).entity_name == "r"
    assert (await iam.list_role_policies(ACCT, "r")).items == ("x",)
    await raises(
        NoSuchEntity,
        "The role policy with name y cannot be found.",
        iam.delete_role_policy(ACCT, "r", "y"),
    )
    await iam.create_group(ACCT, "g")
    await iam.put_group_policy(ACCT, "g", "x", allow())
    assert (await iam.get_group_policy(ACCT, "g", "x")).policy_document == allow()
    assert (await iam.list_group_policies(ACCT, "g")).items == ("x",)
    await raises(
        NoSuchEntity,
        "The group policy with name y cannot be found.",
        iam.get_group_policy(ACCT, "g", "y"),
    )


async def test_permissions_boundaries(iam: IAMStore) -> None:
    boundary = await iam.create_policy(ACCT, "boundary", allow("s3:*"))
    ref = PolicyRef(policy_name="boundary", policy_arn=boundary.arn)
    user = await iam.create_user(ACCT, "bob", permissions_boundary=boundary.arn)
    assert user.permissions_boundary == ref
    await iam.create_role(ACCT, "r", TRUST)
    await iam.put_role_permissions_boundary(ACCT, "r", boundary.arn)
    assert (await iam.get_role(ACCT, "r")).permissions_boundary == ref
    assert (await iam.get_policy(ACCT, boundary.arn)).permissions_boundary_usage_count == 2
    await raises(
        DeleteConflict,
        "Cannot delete a policy attached to entities.",
        iam.delete_policy(ACCT, boundary.arn),
    )
    await iam.delete_user_permissions_boundary(ACCT, "bob")
    await iam.delete_role_permissions_boundary(ACCT, "r")
    await iam.delete_role_permissions_boundary(ACCT, "r")  # none set: no change
    assert (await iam.get_user(ACCT, "bob")).permissions_boundary is None
    missing = "arn:aws:iam::123456789012:policy/none"
    await raises(
        NoSuchEntity,
        f"Policy {missing} does not exist or is not attachable.",
        iam.put_user_permissions_boundary(ACCT, "bob", missing),
    )
    await iam.delete_policy(ACCT, boundary.arn)


# -- access keys ---------------------------------------------------------------------------


async def test_access_keys(iam: IAMStore, backend: Any) -> None:
    await iam.create_user(ACCT, "bob")
    first = await iam.create_access_key(ACCT, "bob")
    second = await iam.create_access_key(ACCT, "bob")
    assert "secret_access_key" not in repr(first)
    assert first.status == "Active"
    record = await backend.get_key(first.access_key_id)
    assert record.secret_access_key == first.secret_access_key
    assert record.principal == "bob"
    await raises(
        LimitExceeded,
        "Cannot exceed quota for AccessKeysPerUser: 2",
        iam.create_access_key(ACCT, "bob"),
    )
    listed = await iam.list_access_keys(ACCT, "bob")
    assert sorted(k.access_key_id for k in listed.items) == sorted(
        [first.access_key_id, second.access_key_id]
    )
    await iam.update_access_key(ACCT, first.access_key_id, "Inactive", user_name="bob")
    assert (await backend.get_key(first.access_key_id)).active is False  # cache evicted
    with pytest.raises(ValidationError):
        await iam.update_access_key(ACCT, first.access_key_id, "Disabled")
    await iam.create_user(ACCT, "carol")
    # The key is not carol's.
    await raises(
        NoSuchEntity,
        f"The Access Key with id {first.access_key_id} cannot be found.",
        iam.delete_access_key(ACCT, first.access_key_id, user_name="carol"),
    )
    last = await iam.get_access_key_last_used(first.access_key_id)
    assert (last.user_name, last.last_used_date, last.service_name, last.region) == (
        "bob",
        None,
        None,
        None,
    )
    backend.record_use(second.access_key_id, at=T0, region="eu-west-1", service="orders")
    await backend.flush()
    used = await iam.get_access_key_last_used(second.access_key_id, account_id=ACCT)
    assert (used.last_used_date, used.service_name, used.region) == (T0, "orders", "eu-west-1")
    # Another tenant does not see the key.
    await iam.create_account(OTHER)
    await raises(
        NoSuchEntity,
        f"The Access Key with id {second.access_key_id} cannot be found.",
        iam.get_access_key_last_used(second.access_key_id, account_id=OTHER),
    )
    await iam.delete_access_key(ACCT, first.access_key_id)
    assert await backend.get_key(first.access_key_id) is None
    await raises(
        NoSuchEntity,
        "The Access Key with id AKIANOTAKEY000000000 cannot be found.",
        iam.get_access_key_last_used("AKIANOTAKEY000000000"),
    )


async def test_key_manager_api_keeps_working(iam: IAMStore, backend: Any) -> None:
    # Today's key API works in the default account, beside IAM's accounts.
    await backend.create_principal("legacy")
    key = await backend.create_key("legacy")
    assert (await backend.get_key(key.access_key_id)).principal == "legacy"
    await iam.create_user(ACCT, "legacy")  # same name, other account: no clash
    assert [p.name for p in await backend.list_principals()] == ["legacy"]
    snapshot = await iam.load_authorization(key.access_key_id)
    assert snapshot is not None
    assert snapshot.principal.arn == "arn:aws:iam::000000000000:user/legacy"
    assert (await iam.get_user("000000000000", "legacy")).user_name == "legacy"
    await backend.create_principal("deployer", kind=PrincipalKind.ROLE)
    assert (await iam.get_role("000000000000", "deployer")).assume_role_policy_document == ""


# -- the authorization snapshot and the change counter --------------------------------------


async def test_authorization_snapshot(iam: IAMStore, backend: Any) -> None:
    boundary = await iam.create_policy(ACCT, "boundary", allow("s3:*"))
    shared = await iam.create_policy(ACCT, "shared", allow("s3:GetObject"))
    user_only = await iam.create_policy(ACCT, "user-only", allow("s3:PutObject"))
    group_only = await iam.create_policy(ACCT, "group-only", allow("s3:DeleteObject"))
    await iam.create_user(
        ACCT, "bob", path="/eng/", permissions_boundary=boundary.arn, tags={"team": "red"}
    )
    await iam.create_group(ACCT, "devs")
    await iam.create_group(ACCT, "all")
    await iam.add_user_to_group(ACCT, "devs", "bob")
    await iam.add_user_to_group(ACCT, "all", "bob")
    await iam.attach_user_policy(ACCT, "bob", shared.arn)
    await iam.attach_user_policy(ACCT, "bob", user_only.arn)
    await iam.attach_group_policy(ACCT, "devs", shared.arn)  # also on the user: applies once
    await iam.attach_group_policy(ACCT, "devs", group_only.arn)
    await iam.put_user_policy(ACCT, "bob", "mine", allow("s3:ListBucket", sid="Mine"))
    await iam.put_group_policy(ACCT, "all", "everyone", allow("s3:ListAllMyBuckets"))
    await iam.set_default_policy_version(
        ACCT,
        shared.arn,
        (await iam.create_policy_version(ACCT, shared.arn, allow("s3:GetObjectAcl"))).version_id,
    )
    key = await iam.create_access_key(ACCT, "bob")
    generation = await iam.current_generation()
    assert iam.local_generation == generation

    snap = await iam.load_authorization(key.access_key_id)
    assert snap is not None
    bob = await iam.get_user(ACCT, "bob")
    p = snap.principal
    assert (p.kind, p.account_id, p.arn, p.unique_id, p.name, p.path) == (
        IAMKind.USER,
        ACCT,
        "arn:aws:iam::123456789012:user/eng/bob",
        bob.user_id,
        "bob",
        "/eng/",
    )
    assert dict(p.tags) == {"team": "red"}
    assert [(g.group_name, g.arn) for g in snap.groups] == [
        ("all", "arn:aws:iam::123456789012:group/all"),
        ("devs", "arn:aws:iam::123456789012:group/devs"),
    ]
    by_id = {policy.policy_id: policy.text for policy in snap.policies}
    assert by_id == {
        "arn:aws:iam::123456789012:group/all#everyone": allow("s3:ListAllMyBuckets"),
        "arn:aws:iam::123456789012:policy/group-only": allow("s3:DeleteObject"),
        "arn:aws:iam::123456789012:policy/shared": allow("s3:GetObjectAcl"),  # the default
        "arn:aws:iam::123456789012:policy/user-only": allow("s3:PutObject"),
        "arn:aws:iam::123456789012:user/eng/bob#mine": allow("s3:ListBucket", sid="Mine"),
    }
    assert len(snap.policies) == 5
    assert snap.permissions_boundary is not None
    assert snap.permissions_boundary.policy_id == "arn:aws:iam::123456789012:policy/boundary"
    assert (snap.is_root, snap.generation) == (False, generation)
    # By unique id: the same.
    assert await iam.load_authorization(principal_id=bob.user_id) == snap

    # Reads do not move the generation; every write does, once.
    await iam.list_users(ACCT)
    assert await iam.current_generation() == generation
    await iam.detach_group_policy(ACCT, "devs", group_only.arn)
    assert await iam.current_generation() == generation + 1
    after = await iam.load_authorization(key.access_key_id)
    assert after is not None
    assert after.generation == generation + 1
    assert "arn:aws:iam::123456789012:policy/group-only" not in {
        policy.policy_id for policy in after.policies
    }
    # A failed write moves nothing.
    with pytest.raises(EntityAlreadyExists):
        await iam.create_user(ACCT, "bob")
    assert await iam.current_generation() == generation + 1

    assert await iam.load_authorization("AKIAUNKNOWN000000000") is None
    assert await iam.load_authorization(principal_id="AIDAUNKNOWN") is None
    root = await iam.load_authorization(principal_id=ACCT)
    assert root is not None
    assert (root.principal.kind, root.principal.arn, root.principal.unique_id, root.is_root) == (
        IAMKind.ROOT,
        "arn:aws:iam::123456789012:root",
        ACCT,
        True,
    )
    assert await iam.load_authorization(principal_id=OTHER) is None
    with pytest.raises(TypeError):
        await iam.load_authorization()


async def test_role_snapshot(iam: IAMStore) -> None:
    await iam.create_role(ACCT, "app", TRUST, tags={"tier": "web"})
    policy = await iam.create_policy(ACCT, "read", allow())
    await iam.attach_role_policy(ACCT, "app", policy.arn)
    await iam.put_role_policy(ACCT, "app", "inline", allow("s3:PutObject"))
    role = await iam.get_role(ACCT, "app")
    snap = await iam.load_authorization(principal_id=role.role_id)
    assert snap is not None
    assert (snap.principal.kind, snap.principal.arn, dict(snap.principal.tags)) == (
        IAMKind.ROLE,
        "arn:aws:iam::123456789012:role/app",
        {"tier": "web"},
    )
    assert [p.policy_id for p in snap.policies] == [
        "arn:aws:iam::123456789012:policy/read",
        "arn:aws:iam::123456789012:role/app#inline",
    ]
    assert (snap.groups, snap.permissions_boundary) == ((), None)


async def test_postgres_announces_iam_changes(pg_url: str) -> None:
    import psycopg
    from sigv4kit.middleware.store.engine import postgres_conninfo_from_url

    store = PostgresKeyStore(pg_url, master_key=MasterKey.generate(), listen=False)
    try:
        iam = IAMStore(store)
        await iam.create_account(ACCT)
        conninfo, schema = postgres_conninfo_from_url(pg_url)
        async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
            await conn.execute(f'LISTEN "sigv4kit_keys.{schema}"')
            await iam.create_user(ACCT, "bob")
            generation = await iam.current_generation()
            payloads = []
            async for notify in conn.notifies(timeout=5, stop_after=1):
                payloads.append(notify.payload)
            assert payloads == [f"iam:{generation}"]
    finally:
        await store.aclose()


async def test_account_authorization_details(iam: IAMStore) -> None:
    policy = await iam.create_policy(ACCT, "read", allow())
    await iam.create_policy_version(ACCT, policy.arn, allow("s3:PutObject"))
    await iam.create_user(ACCT, "bob", tags={"a": "1"})
    await iam.create_user(ACCT, "alice")
    await iam.create_group(ACCT, "devs")
    await iam.add_user_to_group(ACCT, "devs", "bob")
    await iam.attach_user_policy(ACCT, "bob", policy.arn)
    await iam.put_group_policy(ACCT, "devs", "g", allow())
    await iam.create_role(ACCT, "r", TRUST, permissions_boundary=policy.arn)
    await iam.create_account(OTHER)
    await iam.create_user(OTHER, "stranger")
    details = await iam.get_account_authorization_details(ACCT)
    assert [d.user.user_name for d in details.user_detail_list] == ["alice", "bob"]
    bob = details.user_detail_list[1]
    assert (bob.group_list, bob.user.tags) == (("devs",), (Tag(key="a", value="1"),))
    assert [p.policy_name for p in bob.attached_managed_policies] == ["read"]
    assert [g.group.group_name for g in details.group_detail_list] == ["devs"]
    assert [i.policy_name for i in details.group_detail_list[0].group_policy_list] == ["g"]
    assert [r.role.role_name for r in details.role_detail_list] == ["r"]
    assert details.role_detail_list[0].role.permissions_boundary == PolicyRef(
        policy_name="read", policy_arn=policy.arn
    )
    (managed,) = details.policies
    assert [v.version_id for v in managed.policy_version_list] == ["v2", "v1"]
    assert (managed.policy.attachment_count, managed.policy.permissions_boundary_usage_count) == (
        1,
        1,
    )
    only = await iam.get_account_authorization_details(ACCT, filter=[EntityFilter.ROLE])
    assert (len(only.user_detail_list), len(only.role_detail_list)) == (0, 1)
    # Five entries (2 users, 1 group, 1 role, 1 policy) in pages of 2.
    seen: list[str] = []
    marker = None
    while True:
        page = await iam.get_account_authorization_details(ACCT, marker=marker, max_items=2)
        seen += [d.user.user_name for d in page.user_detail_list]
        seen += [d.group.group_name for d in page.group_detail_list]
        seen += [d.role.role_name for d in page.role_detail_list]
        seen += [d.policy.policy_name for d in page.policies]
        if not page.is_truncated:
            break
        marker = page.marker
    assert seen == ["alice", "bob", "devs", "r", "read"]


async def test_concurrent_writers_respect_names_and_quotas(backend: Any) -> None:
    # Every IAM write locks the generation row first, so checks cannot race.
    iam = IAMStore(backend)
    await iam.create_account(ACCT)
    results = await asyncio.gather(
        *(iam.create_user(ACCT, name) for name in ("bob", "BOB", "Bob", "bOb")),
        return_exceptions=True,
    )
    assert sum(not isinstance(r, BaseException) for r in results) == 1
    assert all(isinstance(r, EntityAlreadyExists) for r in results if isinstance(r, BaseException))
    keys = await asyncio.gather(
        *(iam.create_access_key(ACCT, "bob") for _ in range(4)), return_exceptions=True
    )
    assert sum(not isinstance(k, BaseException) for k in keys) == 2
    assert all(isinstance(k, LimitExceeded) for k in keys if isinstance(k, BaseException))


async def test_snapshot_cache_sees_changes_within_max_age(backend: Any, opener: Any) -> None:
    class Ticks:
        now = 0.0

        def __call__(self) -> float:
            return self.now

    ticks = Ticks()
    here = IAMStore(backend)
    elsewhere = IAMStore(opener())  # another process's store on the same database
    await here.create_account(ACCT)
    await here.create_user(ACCT, "bob")
    key = await here.create_access_key(ACCT, "bob")
    policy = await here.create_policy(ACCT, "read", allow())
    cache = SnapshotCache(here, max_age=1.0, clock=ticks)
    first = await cache.get(key.access_key_id)
    assert first is not None
    assert first.policies == ()
    assert await cache.get(key.access_key_id) is first  # from memory
    # A change elsewhere: not seen before max_age has passed, seen after.
    await elsewhere.attach_user_policy(ACCT, "bob", policy.arn)
    ticks.now = 0.5
    assert await cache.get(key.access_key_id) is first
    ticks.now = 1.0
    second = await cache.get(key.access_key_id)
    assert second is not None
    assert [p.policy_id for p in second.policies] == [policy.arn]
    # A change made in this process (any IAMStore on the same key store): seen at once.
    await IAMStore(backend).detach_user_policy(ACCT, "bob", policy.arn)
    third = await cache.get(key.access_key_id)
    assert third is not None
    assert third.policies == ()
    assert cache.generation == await here.current_generation()
    assert await cache.get("AKIAUNKNOWN000000000") is None
    with pytest.raises(ValueError, match="max_age"):
        SnapshotCache(here, max_age=-1)


async def test_snapshot_cache_checks_and_loads_once_for_concurrent_requests(
    backend: Any, opener: Any
) -> None:
    """Requests arriving while the generation is read (or a key is loaded) wait for that one
    read: under load every request would otherwise start its own query."""

    class Counting(IAMStore):
        generations = 0
        loads = 0

        async def current_generation(self) -> int:
            Counting.generations += 1
            await asyncio.sleep(0.01)  # a query's latency: others arrive meanwhile
            return await super().current_generation()

        async def load_authorization(self, access_key_id: str) -> Any:
            Counting.loads += 1
            await asyncio.sleep(0.01)
            return await super().load_authorization(access_key_id)

    class Ticks:
        now = 0.0

        def __call__(self) -> float:
            return self.now

    here = IAMStore(backend)
    await here.create_account(ACCT)
    await here.create_user(ACCT, "bob")
    key = await here.create_access_key(ACCT, "bob")
    ticks = Ticks()
    cache = SnapshotCache(Counting(opener()), max_age=1.0, clock=ticks)
    found = await asyncio.gather(*(cache.get(key.access_key_id) for _ in range(32)))
    assert Counting.generations == 1
    assert Counting.loads == 1
    assert all(snapshot is found[0] for snapshot in found)
    assert found[0] is not None
    ticks.now = 1.5  # due again: one check for all, no load (the generation did not move)
    await asyncio.gather(*(cache.get(key.access_key_id) for _ in range(32)))
    assert Counting.generations == 2
    assert Counting.loads == 1
    # A cancelled waiter does not cancel the check the others wait for.
    ticks.now = 3.0
    first = asyncio.ensure_future(cache.get(key.access_key_id))
    second = asyncio.ensure_future(cache.get(key.access_key_id))
    await asyncio.sleep(0)
    first.cancel()
    assert await second is found[0]
    assert Counting.generations == 3


async def test_docs_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = (Path(__file__).parent.parent / "docs" / "iam-entities.md").read_text()
    block = text.split("```python\n", 1)[1].split("```", 1)[0]
    body = "".join(f"    {line}\n" for line in block.splitlines())
    namespace: dict[str, Any] = {}
    exec(compile(f"async def example():\n{body}", "docs/iam-entities.md", "exec"), namespace)
    monkeypatch.chdir(tmp_path)
    await namespace["example"]()
