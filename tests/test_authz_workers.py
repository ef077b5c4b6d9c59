"""IAM changes made with boto3 reach every worker of the orders service within 1 s (PostgreSQL).

``sigv4kit serve`` (the IAM API) and ``uvicorn examples.orders_service:app
--workers 2`` share one PostgreSQL schema; boto3's ``iam`` client makes the
identities and the changes; a SigV4 client (no keep-alive, so requests spread
over the workers) polls the orders service. Requests that *start* 1 s or more
after the boto3 call returned must all see the change, on both workers.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from _iam_api import Server, iam_server
from _workers import echo_workers
from sigv4kit.middleware import MasterKey

import sigv4kit

ORDERS_APP = "tests._orders_workers_app:app"


def document(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


@pytest.fixture
def master(monkeypatch: pytest.MonkeyPatch) -> str:
    key = MasterKey.generate().to_base64()
    monkeypatch.setenv("SIGV4KIT_MASTER_KEY", key)  # the in-process bootstrap and serve
    return key


@pytest.fixture
def iam(pg_url: str, master: str) -> Iterator[Server]:
    with iam_server(pg_url) as server:
        yield server


def orders_client(key: dict[str, Any]) -> httpx.Client:
    creds = sigv4kit.Credentials(key["AccessKeyId"], key["SecretAccessKey"])
    return httpx.Client(auth=sigv4kit.SigV4Auth(creds, region="us-east-1", service="orders"),
                        limits=httpx.Limits(max_keepalive_connections=0), timeout=10)


def until_both_workers(http: httpx.Client, url: str, expect: int) -> None:
    pids: set[str] = set()
    for _ in range(400):
        response = http.get(url)
        assert response.status_code == expect, response.text
        pids.add(response.headers.get("x-worker-pid", "?"))
        if len(pids) >= 2:
            return
    pytest.fail(f"only workers {pids} answered")


def poll_after_change(http: httpx.Client, url: str) -> list[tuple[float, int, str]]:
    """(started after the change, status, worker) of requests polled for 1.6 s."""
    done = time.perf_counter()
    seen: list[tuple[float, int, str]] = []
    while time.perf_counter() - done < 1.6:
        started = time.perf_counter() - done
        response = http.get(url)
        seen.append((started, response.status_code, response.headers.get("x-worker-pid", "")))
    return seen


def assert_settled(seen: list[tuple[float, int, str]], expect: int) -> None:
    after = [s for s in seen if s[0] >= 1.0]
    assert after, "no request polled after 1 s"
    assert all(status == expect for _t, status, _pid in after), after
    workers = {pid for _t, status, pid in after if status == expect}
    assert len(workers) >= 2, f"only workers {workers} answered after 1 s"


def test_boto3_changes_reach_both_workers_within_1s(iam: Server, pg_url: str,
                                                    master: str) -> None:
    admin = iam.client()
    account = iam.account_id
    policy = admin.create_policy(PolicyName="ReadOrders", PolicyDocument=document(
        {"Effect": "Allow", "Action": "orders:GetOrder", "Resource": "*"}))["Policy"]
    admin.create_group(GroupName="readers")
    admin.attach_group_policy(GroupName="readers", PolicyArn=policy["Arn"])
    admin.create_group(GroupName="auditors")
    admin.put_group_policy(GroupName="auditors", PolicyName="audit", PolicyDocument=document(
        {"Effect": "Allow", "Action": "orders:GetOrder",
         "Resource": f"arn:aws:orders:*:{account}:order/*"}))
    admin.create_user(UserName="walt")
    admin.add_user_to_group(GroupName="readers", UserName="walt")
    key = admin.create_access_key(UserName="walt")["AccessKey"]
    env = {"SIGV4KIT_STORE": pg_url, "SIGV4KIT_MASTER_KEY": master}
    with echo_workers(env, app=ORDERS_APP) as base, orders_client(key) as http:
        url = base + "/orders/1"
        until_both_workers(http, url, 200)
        assert http.get(url).json()["caller"] == f"arn:aws:iam::{account}:user/walt"

        # A new default version without GetOrder: refused everywhere within 1 s.
        admin.create_policy_version(PolicyArn=policy["Arn"], SetAsDefault=True,
                                    PolicyDocument=document(
                                        {"Effect": "Allow", "Action": "orders:ListOrders",
                                         "Resource": "*"}))
        assert_settled(poll_after_change(http, url), 403)
        refused = http.get(url).json()
        assert refused == {"__type": "AccessDenied", "message": (
            f"User: arn:aws:iam::{account}:user/walt is not authorized to perform: "
            f"orders:GetOrder on resource: arn:aws:orders:us-east-1:{account}:order/1 "
            "because no identity-based policy allows the orders:GetOrder action")}

        # Membership of another group that allows it: allowed everywhere within 1 s.
        admin.add_user_to_group(GroupName="auditors", UserName="walt")
        assert_settled(poll_after_change(http, url), 200)

        # An explicit deny attached to the user: refused everywhere within 1 s.
        no_get = admin.create_policy(PolicyName="NoGet", PolicyDocument=document(
            {"Effect": "Deny", "Action": "orders:*", "Resource": "*"}))["Policy"]
        admin.attach_user_policy(UserName="walt", PolicyArn=no_get["Arn"])
        assert_settled(poll_after_change(http, url), 403)
        assert http.get(url).json()["message"].endswith(
            f"with an explicit deny in an identity-based policy: {no_get['Arn']}")
