"""Root access keys (issue 16): only from the local CLI, only with the flag, always with a warning.

The CLI runs in-process (``sigv4kit iam create-root-access-key`` and friends);
the key is then used through ``sigv4kit serve`` with boto3 (SQLite and
PostgreSQL) and through examples/orders_service.py: it signs as
``arn:aws:iam::<acct>:root`` with every permission in its account, is not an
IAM user, and the credential report and ``sigv4kit iam report`` show it.
Expected messages are written out here (IAM's wording where IAM has one).
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from _authz_util import ACCOUNT, serve, signing_client
from _cli_util import Result, run_cli
from _iam_api import Server, bootstrap, error_of, iam_server, param_store_url, unique
from _sts import client
from botocore.exceptions import ClientError
from sigv4kit.middleware import MasterKey

from examples.orders_service import create_app

UNSAFE = "--i-understand-root-keys-are-unsafe"
WARNING = "WARNING: this is an access key of the root user of account {}."
OTHER = "109876543210"


def create_root_key(store_url: str, account: str, *extra: str) -> Result:
    return run_cli("iam", "create-root-access-key", "--store", store_url,
                   "--account-id", account, *extra)


def root_keys(store_url: str, account: str) -> list[dict[str, Any]]:
    result = run_cli("iam", "list-root-access-keys", "--store", store_url,
                     "--account-id", account, "--json")
    assert result.code == 0, result.err
    listed: list[dict[str, Any]] = json.loads(result.out)
    return listed


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    """A SQLite store with account ACCOUNT (bootstrapped: it has an administrator)."""
    url = f"sqlite:///{tmp_path / 'iam.db'}"
    bootstrap(url, "admin", "--account-id", ACCOUNT)
    return url


# -- the CLI -------------------------------------------------------------------------


def test_refused_without_the_flag_saying_why(store_url: str) -> None:
    refused = create_root_key(store_url, ACCOUNT)
    assert refused.code == 2
    assert refused.out == ""
    assert refused.err == (
        "error: refusing to create a root access key: root access keys have unrestricted "
        "access to every resource of the account, and no IAM policy can limit them; AWS "
        "advises using IAM users or roles instead. To create one anyway, pass "
        f"{UNSAFE}.\n")
    assert root_keys(store_url, ACCOUNT) == []


def test_refused_before_touching_a_store(tmp_path: Path) -> None:
    refused = create_root_key(f"sqlite:///{tmp_path / 'none.db'}", ACCOUNT)
    assert refused.code == 2
    assert UNSAFE in refused.err
    assert list(tmp_path.iterdir()) == []


def test_create_warns_and_prints_the_secret_once(store_url: str) -> None:
    made = create_root_key(store_url, ACCOUNT, UNSAFE)
    assert made.code == 0, made.err
    lines = dict(line.split(": ", 1) for line in made.out.splitlines())
    assert list(lines) == ["account_id", "arn", "access_key_id", "secret_access_key"]
    assert lines["account_id"] == ACCOUNT
    assert lines["arn"] == f"arn:aws:iam::{ACCOUNT}:root"
    assert lines["access_key_id"].startswith("AKIA")
    assert len(lines["secret_access_key"]) == 40
    assert made.err.startswith(WARNING.format(ACCOUNT))
    for advice in ("unrestricted access", "no IAM policy can limit them",
                   "Use IAM users or roles instead", "delete it when you are done"):
        assert advice in made.err
    assert "shown this once" in made.err
    assert lines["secret_access_key"] not in made.err

    as_json = create_root_key(store_url, ACCOUNT, UNSAFE, "--json")
    assert as_json.code == 0, as_json.err
    fields = json.loads(as_json.out)
    assert set(fields) == {"account_id", "arn", "access_key_id", "secret_access_key"}
    assert (fields["account_id"], fields["arn"]) == (ACCOUNT, f"arn:aws:iam::{ACCOUNT}:root")
    assert as_json.err.startswith(WARNING.format(ACCOUNT))  # the warning every time

    listed = root_keys(store_url, ACCOUNT)
    assert [k["access_key_id"] for k in listed] == [lines["access_key_id"],
                                                    fields["access_key_id"]]
    assert {k["status"] for k in listed} == {"Active"}
    assert {k["principal"] for k in listed} == {"<root_account>"}
    text = run_cli("iam", "list-root-access-keys", "--store", store_url, "--account-id", ACCOUNT)
    assert text.code == 0
    for secret in (lines["secret_access_key"], fields["secret_access_key"]):
        assert secret not in text.out + json.dumps(listed)
    assert lines["access_key_id"] in text.out


def test_two_keys_per_account_as_iam(store_url: str) -> None:
    for _ in range(2):
        assert create_root_key(store_url, ACCOUNT, UNSAFE).code == 0
    third = create_root_key(store_url, ACCOUNT, UNSAFE)
    assert third.code == 1
    assert third.out == ""
    assert third.err.endswith(
        "error: LimitExceeded: Cannot exceed quota for AccessKeysPerUser: 2\n")
    assert len(root_keys(store_url, ACCOUNT)) == 2


def test_keys_of_keys_create_root_count_toward_the_limit(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'keys.db'}"
    legacy = run_cli("keys", "create", "--principal", "ops-root", "--root", UNSAFE,
                     "--store", url, "--json")
    assert legacy.code == 0, legacy.err
    assert WARNING.format("000000000000") in legacy.err
    assert create_root_key(url, "000000000000", UNSAFE).code == 0
    assert create_root_key(url, "000000000000", UNSAFE).code == 1
    listed = root_keys(url, "000000000000")
    assert [k["principal"] for k in listed] == ["ops-root", "<root_account>"]
    assert listed[0]["access_key_id"] == json.loads(legacy.out)["access_key_id"]


def test_a_named_root_principal_is_no_iam_user(tmp_path: Path) -> None:
    """``keys create --root --principal ops-root`` makes a root principal: IAM's user
    operations by that name must not find it (DeleteUser would remove the root's keys)."""
    from sigv4kit.middleware import open_store
    from sigv4kit.middleware.iam.entities import IAMStore, NoSuchEntity

    url = f"sqlite:///{tmp_path / 'keys.db'}"
    legacy = run_cli("keys", "create", "--principal", "ops-root", "--root", UNSAFE,
                     "--store", url, "--json")
    assert legacy.code == 0, legacy.err
    account = "000000000000"

    async def attempts() -> list[str]:
        store = open_store(url)
        iam = IAMStore(store)
        calls = {
            "get_user": lambda: iam.get_user(account, "ops-root"),
            "delete_user": lambda: iam.delete_user(account, "ops-root"),
            "create_access_key": lambda: iam.create_access_key(account, "ops-root"),
            "list_access_keys": lambda: iam.list_access_keys(account, "ops-root"),
            "put_user_policy": lambda: iam.put_user_policy(
                account, "ops-root", "p", '{"Version":"2012-10-17","Statement":[{"Effect":'
                '"Allow","Action":"*","Resource":"*"}]}'),
        }
        refused = []
        try:
            for name, call in calls.items():
                with pytest.raises(NoSuchEntity) as caught:
                    await call()
                assert str(caught.value) == "The user with name ops-root cannot be found."
                refused.append(name)
        finally:
            await store.aclose()
        return refused

    assert len(asyncio.run(attempts())) == 5
    # The root key is still there and still the root's.
    assert [k["principal"] for k in root_keys(url, account)] == ["ops-root"]


def test_unknown_or_malformed_account(store_url: str) -> None:
    unknown = create_root_key(store_url, OTHER, UNSAFE)
    assert unknown.code == 1
    assert unknown.out == ""
    assert unknown.err == f"error: NoSuchEntity: The account with id {OTHER} cannot be found.\n"
    for action in ("list-root-access-keys", "delete-root-access-key"):
        extra = ["--access-key-id", "AKIAEXAMPLEEXAMPLE23"] if action.startswith("delete") else []
        result = run_cli("iam", action, "--store", store_url, "--account-id", OTHER, *extra)
        assert result.code == 1
        assert "NoSuchEntity: The account with id" in result.err
    malformed = create_root_key(store_url, "12345", UNSAFE)
    assert malformed.code == 2
    assert "'12345' is not a 12-digit account id" in malformed.err


def test_delete_only_root_keys_of_that_account(store_url: str) -> None:
    assert run_cli("iam", "bootstrap", "--store", store_url, "--user", "admin",
                   "--account-id", OTHER).code == 0
    mine = json.loads(create_root_key(store_url, ACCOUNT, UNSAFE, "--json").out)
    theirs = json.loads(create_root_key(store_url, OTHER, UNSAFE, "--json").out)
    user_key = bootstrap(store_url, "ops", "--account-id", ACCOUNT)["access_key_id"]

    def delete(account: str, key_id: str) -> Result:
        return run_cli("iam", "delete-root-access-key", "--store", store_url,
                       "--account-id", account, "--access-key-id", key_id)

    # Another account's root key, and an IAM user's key, are not found here.
    for key_id in (theirs["access_key_id"], user_key):
        refused = delete(ACCOUNT, key_id)
        assert refused.code == 1
        assert refused.err == (
            f"error: NoSuchEntity: The Access Key with id {key_id} cannot be found.\n")
    done = delete(ACCOUNT, mine["access_key_id"])
    assert done.code == 0, done.err
    assert done.out == f"deleted {mine['access_key_id']} (root user of account {ACCOUNT})\n"
    assert root_keys(store_url, ACCOUNT) == []
    assert [k["access_key_id"] for k in root_keys(store_url, OTHER)] == [theirs["access_key_id"]]
    assert delete(ACCOUNT, mine["access_key_id"]).code == 1
    # The user's key is still there.
    listed = run_cli("keys", "show", user_key, "--store", store_url, "--json")
    assert listed.code == 0
    assert json.loads(listed.out)["status"] == "Active"


# -- using the key: sigv4kit serve with boto3, on both databases ---------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def server(request: pytest.FixtureRequest, tmp_path: Path,
           monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    url = param_store_url(request, tmp_path, monkeypatch)
    with iam_server(url, "--account-id", ACCOUNT) as running:
        yield running


def test_root_key_is_the_root_user_with_every_permission(server: Server) -> None:
    made = create_root_key(server.store_url, ACCOUNT, UNSAFE, "--json")
    assert made.code == 0, made.err
    fields = json.loads(made.out)
    key = {"AccessKeyId": fields["access_key_id"],
           "SecretAccessKey": fields["secret_access_key"]}
    root = server.client(key)
    admin = server.client()

    who = client(server, "sts", key).get_caller_identity()
    assert (who["Arn"], who["Account"], who["UserId"]) == (
        f"arn:aws:iam::{ACCOUNT}:root", ACCOUNT, ACCOUNT)
    # Its GetSessionToken session is the root user too (one hour at most, as STS).
    session = client(server, "sts", key).get_session_token()["Credentials"]
    assert session["Expiration"] - datetime.now(UTC) <= timedelta(hours=1)
    assert client(server, "sts", session).get_caller_identity()["Arn"] == (
        f"arn:aws:iam::{ACCOUNT}:root")
    me = root.get_user()["User"]
    assert (me["Arn"], me["UserId"]) == (f"arn:aws:iam::{ACCOUNT}:root", ACCOUNT)

    # Every permission, without any policy.
    name = unique("by-root")
    root.create_user(UserName=name)
    root.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(
        {"Version": "2012-10-17",
         "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}))
    root.delete_user_policy(UserName=name, PolicyName="p")
    root.delete_user(UserName=name)

    # Not an IAM user: not listed, not in the authorization details.
    users = [u["UserName"] for u in admin.list_users()["Users"]]
    assert users == ["admin"]
    details = root.get_account_authorization_details(Filter=["User"])
    assert [u["UserName"] for u in details["UserDetailList"]] == ["admin"]

    # The API makes no root key: CreateAccessKey without UserName is refused for root.
    with pytest.raises(ClientError) as exc:
        root.create_access_key()
    assert error_of(exc)[0] == "ValidationError"
    assert len(root_keys(server.store_url, ACCOUNT)) == 1

    # The credential report's root row shows the key, used.
    time.sleep(1.5)  # last use is written in batches, about a second late
    admin.generate_credential_report()
    content = admin.get_credential_report()["Content"].decode()
    row = next(csv.DictReader(io.StringIO(content)))
    assert (row["user"], row["arn"]) == ("<root_account>", f"arn:aws:iam::{ACCOUNT}:root")
    assert row["access_key_1_active"] == "true"
    assert row["access_key_1_last_used_date"] != "N/A"
    assert row["access_key_2_active"] == "false"

    # sigv4kit iam report flags it, present and used.
    report = run_cli("iam", "report", "--store", server.store_url, "--account-id", ACCOUNT,
                     "--json")
    assert report.code == 0, report.err
    found = {(f["code"], f["resource"]): f["message"]
             for f in json.loads(report.out)["findings"]}
    root_arn = f"arn:aws:iam::{ACCOUNT}:root"
    assert found[("ROOT_ACCESS_KEY", root_arn)] == (
        f"The root user has an active access key ({fields['access_key_id']}); "
        "AWS recommends none.")
    assert ("ROOT_ACCESS_KEY_USED", root_arn) in found
    assert run_cli("iam", "report", "--store", server.store_url, "--account-id", ACCOUNT,
                   "--fail-on", "SECURITY_WARNING").code == 4

    # Deleted, the report has nothing to say about the root user any more.
    assert run_cli("iam", "delete-root-access-key", "--store", server.store_url,
                   "--account-id", ACCOUNT, "--access-key-id", fields["access_key_id"]).code == 0
    again = run_cli("iam", "report", "--store", server.store_url, "--account-id", ACCOUNT,
                    "--json")
    assert not [f for f in json.loads(again.out)["findings"] if f["resource"] == root_arn]


# -- using the key: examples/orders_service.py -----------------------------------------


async def test_root_key_may_do_everything_in_the_orders_service(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SIGV4KIT_MASTER_KEY", MasterKey.generate().to_base64())
    url = f"sqlite:///{tmp_path}/iam.db"
    app = create_app(url)
    try:
        from sigv4kit.middleware.iam.entities import IAMStore

        await IAMStore(app.store).create_account(ACCOUNT)
        # The CLI runs its own event loop: in a thread, beside the test's.
        made = await asyncio.to_thread(create_root_key, url, ACCOUNT, UNSAFE, "--json")
        assert made.code == 0, made.err
        fields = json.loads(made.out)
        async with serve(app) as base, signing_client(
            fields["access_key_id"], fields["secret_access_key"]
        ) as http:
            for method in ("GET", "PUT", "DELETE"):
                response = await http.request(method, base + "/orders/7")
                assert response.status_code == 200, response.text
                assert response.json()["caller"] == f"arn:aws:iam::{ACCOUNT}:root"
                assert response.json()["resource"] == (
                    f"arn:aws:orders:us-east-1:{ACCOUNT}:order/7")
    finally:
        await app.aclose()
