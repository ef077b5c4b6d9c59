"""``sigv4kit iam report`` on a store whose identities were made 200 days ago."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from _cli_util import run_cli
from sigv4kit.middleware import open_store
from sigv4kit.middleware.iam.entities import IAMStore

ACCOUNT = "000000000000"  # the store's default account, where root principals live
PAST = datetime.now(UTC) - timedelta(days=200)
ALLOW_ALL = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
)
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
     "Action": "sts:AssumeRole"}]})


async def populate(url: str) -> None:
    store = open_store(url)
    try:
        await store.create_principal("rootish", root=True, now=PAST)
        await store.create_key("rootish", now=PAST)
        iam = IAMStore(store, clock=lambda: PAST)
        await iam.create_user(ACCOUNT, "old")
        await iam.create_access_key(ACCOUNT, "old")
        await iam.create_role(ACCOUNT, "idle", TRUST)
        policy = await iam.create_policy(ACCOUNT, "Everything", ALLOW_ALL)
        await iam.attach_user_policy(ACCOUNT, "old", policy.arn)
    finally:
        await store.aclose()


def test_report_json_and_fail_on(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'iam.db'}"
    asyncio.run(populate(url))
    result = run_cli("iam", "report", "--store", url, "--json")
    assert result.code == 0, result.err
    report = json.loads(result.out)
    assert report["accountId"] == ACCOUNT
    found = {(f["code"], f["resource"]) for f in report["findings"]}
    user = f"arn:aws:iam::{ACCOUNT}:user/old"
    # Reported as the account's root user, whichever root principal holds the key.
    assert ("ROOT_ACCESS_KEY", f"arn:aws:iam::{ACCOUNT}:root") in found
    assert ("ROOT_ACCESS_KEY", f"arn:aws:iam::{ACCOUNT}:user/rootish") not in found
    assert ("USER_WITHOUT_MFA", user) in found
    assert ("ACCESS_KEY_OLD", user) in found
    assert ("ACCESS_KEY_UNUSED", user) in found
    assert ("ROLE_UNUSED", f"arn:aws:iam::{ACCOUNT}:role/idle") in found
    assert ("ALLOW_ALL_ACTIONS_ON_ALL_RESOURCES",
            f"arn:aws:iam::{ACCOUNT}:policy/Everything") in found
    # A root principal is not reported as a user without MFA, and the root key was never used.
    assert ("USER_WITHOUT_MFA", f"arn:aws:iam::{ACCOUNT}:user/rootish") not in found
    assert all(code != "ROOT_ACCESS_KEY_USED" for code, _ in found)
    severities = [f["severity"] for f in report["findings"]]
    order = ["ERROR", "SECURITY_WARNING", "WARNING", "SUGGESTION"]
    assert severities == sorted(severities, key=order.index)
    assert report["summary"]["SECURITY_WARNING"] == sum(
        1 for s in severities if s == "SECURITY_WARNING")
    unused = next(f for f in report["findings"] if f["code"] == "ACCESS_KEY_UNUSED")
    assert "never used" in unused["message"]

    failing = run_cli("iam", "report", "--store", url, "--fail-on", "SECURITY_WARNING")
    assert failing.code == 4
    assert "ALLOW_ALL_ACTIONS_ON_ALL_RESOURCES" in failing.out
    assert f"account {ACCOUNT}:" in failing.out.splitlines()[-1]
    assert run_cli("iam", "report", "--store", url, "--fail-on", "ERROR").code == 0


def test_report_refuses_bad_options(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'none.db'}"
    assert run_cli("iam", "report", "--store", url, "--fail-on", "LOUD").code == 2
    missing = run_cli("iam", "report", "--store", url)
    assert missing.code != 0
    assert "Traceback" not in missing.err
