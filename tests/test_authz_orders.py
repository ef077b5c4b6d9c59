"""End to end through examples/orders_service.py: IAM decides every request.

A real uvicorn serves the orders service in the test's event loop on an
embedded SQLite store; identities are made through :class:`IAMStore` on the
service's own store object, so every change must show on the very next
request (SQLite in-process: at once). Requests are signed by sigv4kit's
httpx auth for the ``orders`` service. Expected AccessDenied messages are
written out here in AWS's wording.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from _authz_util import ACCOUNT, allow, denial, deny, document, serve, signing_client
from fastapi import Depends, FastAPI, Request
from sigv4kit.middleware import MasterKey
from sigv4kit.middleware.iam.authz import authorize, iam_middleware
from sigv4kit.middleware.iam.entities import IAMStore

from examples.orders_service import create_app

ORDERS = f"arn:aws:orders:us-east-1:{ACCOUNT}:order"
NO_IDENTITY = "because no identity-based policy allows the {} action"


@dataclass
class Service:
    url: str
    iam: IAMStore
    store: Any
    clients: list[httpx.AsyncClient]

    async def user(self, name: str, *, groups: tuple[str, ...] = (),
                   tags: dict[str, str] | None = None, **client: Any) -> Caller:
        created = await self.iam.create_user(ACCOUNT, name, tags=tags or {})
        for group in groups:
            await self.iam.add_user_to_group(ACCOUNT, group, name)
        key = await self.iam.create_access_key(ACCOUNT, name)
        http = signing_client(key.access_key_id, key.secret_access_key, **client)
        self.clients.append(http)
        return Caller(self, name, created.arn, created.user_id, http)


@dataclass
class Caller:
    service: Service
    name: str
    arn: str
    user_id: str
    http: httpx.AsyncClient

    async def call(self, method: str, path: str, **options: Any) -> httpx.Response:
        return await self.http.request(method, self.service.url + path, **options)

    async def status(self, method: str, path: str, **options: Any) -> int:
        return (await self.call(method, path, **options)).status_code


@pytest.fixture
async def orders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Service]:
    monkeypatch.setenv("SIGV4KIT_MASTER_KEY", MasterKey.generate().to_base64())
    app = create_app(f"sqlite:///{tmp_path}/iam.db")
    iam = IAMStore(app.store)
    await iam.create_account(ACCOUNT)
    try:
        async with serve(app) as url:
            service = Service(url, iam, app.store, [])
            try:
                yield service
            finally:
                for http in service.clients:
                    await http.aclose()
    finally:
        await app.aclose()


def assert_denied(response: httpx.Response, message: str) -> None:
    assert response.status_code == 403, response.text
    assert response.json() == {"__type": "AccessDenied", "message": message}
    assert response.headers["x-amzn-errortype"] == "AccessDenied"


async def test_allowed_answer_names_caller_action_and_resource(orders: Service) -> None:
    await orders.iam.create_group(ACCOUNT, "readers")
    policy = await orders.iam.create_policy(
        ACCOUNT, "ReadOrders", document(allow(["orders:GetOrder", "orders:ListOrders"])))
    await orders.iam.attach_group_policy(ACCOUNT, "readers", policy.arn)
    bob = await orders.user("bob", groups=("readers",))
    response = await bob.call("GET", "/orders/42")
    assert response.status_code == 200, response.text
    assert response.json() == {"caller": f"arn:aws:iam::{ACCOUNT}:user/bob",
                               "action": "orders:GetOrder", "resource": f"{ORDERS}/42"}
    listed = await bob.call("GET", "/orders")
    assert listed.json() == {"caller": bob.arn, "action": "orders:ListOrders",
                             "resource": f"{ORDERS}/*"}
    assert_denied(await bob.call("PUT", "/orders/42"), denial(
        bob.arn, "orders:PutOrder", f"{ORDERS}/42", NO_IDENTITY.format("orders:PutOrder")))
    assert_denied(await bob.call("DELETE", "/orders/42"), denial(
        bob.arn, "orders:DeleteOrder", f"{ORDERS}/42",
        NO_IDENTITY.format("orders:DeleteOrder")))


async def test_group_membership_changes_show_at_once(orders: Service) -> None:
    await orders.iam.create_group(ACCOUNT, "writers")
    await orders.iam.put_group_policy(ACCOUNT, "writers", "write",
                                      document(allow("orders:PutOrder", f"{ORDERS}/*")))
    alice = await orders.user("alice")
    assert await alice.status("PUT", "/orders/1") == 403
    await orders.iam.add_user_to_group(ACCOUNT, "writers", "alice")
    assert await alice.status("PUT", "/orders/1") == 200
    await orders.iam.remove_user_from_group(ACCOUNT, "writers", "alice")
    assert await alice.status("PUT", "/orders/1") == 403


async def test_inline_and_managed_policies_attach_and_detach(orders: Service) -> None:
    carol = await orders.user("carol")
    await orders.iam.put_user_policy(ACCOUNT, "carol", "get-7",
                                     document(allow("orders:GetOrder", f"{ORDERS}/7")))
    assert await carol.status("GET", "/orders/7") == 200
    assert await carol.status("GET", "/orders/8") == 403
    managed = await orders.iam.create_policy(ACCOUNT, "ListAll",
                                             document(allow("orders:ListOrders")))
    assert await carol.status("GET", "/orders") == 403
    await orders.iam.attach_user_policy(ACCOUNT, "carol", managed.arn)
    assert await carol.status("GET", "/orders") == 200
    await orders.iam.detach_user_policy(ACCOUNT, "carol", managed.arn)
    await orders.iam.delete_user_policy(ACCOUNT, "carol", "get-7")
    assert await carol.status("GET", "/orders") == 403
    assert await carol.status("GET", "/orders/7") == 403


async def test_set_default_policy_version_changes_the_outcome(orders: Service) -> None:
    policy = await orders.iam.create_policy(ACCOUNT, "Orders",
                                            document(allow("orders:GetOrder")))
    dave = await orders.user("dave")
    await orders.iam.attach_user_policy(ACCOUNT, "dave", policy.arn)
    await orders.iam.create_policy_version(ACCOUNT, policy.arn,
                                           document(allow("orders:PutOrder")))
    assert await dave.status("GET", "/orders/1") == 200  # v2 exists but v1 is the default
    assert await dave.status("PUT", "/orders/1") == 403
    await orders.iam.set_default_policy_version(ACCOUNT, policy.arn, "v2")
    assert await dave.status("GET", "/orders/1") == 403
    assert await dave.status("PUT", "/orders/1") == 200
    await orders.iam.set_default_policy_version(ACCOUNT, policy.arn, "v1")
    assert await dave.status("GET", "/orders/1") == 200


async def test_permissions_boundary_limits_and_its_message(orders: Service) -> None:
    boundary = await orders.iam.create_policy(ACCOUNT, "ReadOnlyBoundary",
                                              document(allow("orders:Get*")))
    erin = await orders.user("erin")
    await orders.iam.put_user_policy(ACCOUNT, "erin", "all", document(allow("orders:*")))
    assert await erin.status("PUT", "/orders/3") == 200
    await orders.iam.put_user_permissions_boundary(ACCOUNT, "erin", boundary.arn)
    assert await erin.status("GET", "/orders/3") == 200
    assert_denied(await erin.call("PUT", "/orders/3"), denial(
        erin.arn, "orders:PutOrder", f"{ORDERS}/3",
        "because no permissions boundary allows the orders:PutOrder action"))
    await orders.iam.delete_user_permissions_boundary(ACCOUNT, "erin")
    assert await erin.status("PUT", "/orders/3") == 200


async def test_explicit_deny_wins_and_names_the_policy(orders: Service) -> None:
    await orders.iam.create_group(ACCOUNT, "ops")
    await orders.iam.put_group_policy(ACCOUNT, "ops", "all", document(allow("orders:*")))
    no_delete = await orders.iam.create_policy(
        ACCOUNT, "NoDelete", document(deny("orders:DeleteOrder", f"{ORDERS}/*")))
    frank = await orders.user("frank", groups=("ops",))
    assert await frank.status("DELETE", "/orders/9") == 200
    await orders.iam.attach_group_policy(ACCOUNT, "ops", no_delete.arn)
    assert_denied(await frank.call("DELETE", "/orders/9"), denial(
        frank.arn, "orders:DeleteOrder", f"{ORDERS}/9",
        f"with an explicit deny in an identity-based policy: "
        f"arn:aws:iam::{ACCOUNT}:policy/NoDelete"))
    assert await frank.status("GET", "/orders/9") == 200


async def test_root_user_is_allowed_everything_in_its_account(orders: Service) -> None:
    await orders.store.create_principal("owner", root=True)
    key = await orders.store.create_key("owner")
    async with signing_client(key.access_key_id, key.secret_access_key) as http:
        for method in ("GET", "PUT", "DELETE"):
            response = await http.request(method, orders.url + "/orders/5")
            assert response.status_code == 200, response.text
            assert response.json()["caller"] == "arn:aws:iam::000000000000:root"
            assert response.json()["resource"] == "arn:aws:orders:us-east-1:000000000000:order/5"


async def test_unknown_route_is_refused_not_passed(orders: Service) -> None:
    grace = await orders.user("grace")
    await orders.iam.put_user_policy(ACCOUNT, "grace", "all", document(allow("*")))
    response = await grace.call("GET", "/not-a-route")
    assert_denied(response, f"User: {grace.arn} is not authorized to perform this request: "
                            "the service declares no action for it")


async def test_request_user_carries_arn_account_and_groups(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    monkeypatch.setenv("SIGV4KIT_MASTER_KEY", MasterKey.generate().to_base64())
    api = FastAPI()

    @api.get("/me", dependencies=[Depends(authorize("orders:Whoami", resource="*"))])
    async def me(request: Request) -> dict[str, Any]:
        user = request.user
        record = request.scope["sigv4.authorization"]
        return {"arn": user.arn, "account": user.account_id, "name": user.user_name,
                "groups": list(user.groups), "allowed": record.allowed,
                "by": record.reason}

    app = iam_middleware(api, store=f"sqlite:///{tmp_path}/iam.db")
    iam = IAMStore(app.store)
    await iam.create_account(ACCOUNT)
    for group in ("b-team", "a-team"):
        await iam.create_group(ACCOUNT, group)
    await iam.create_user(ACCOUNT, "hank", path="/staff/")
    for group in ("b-team", "a-team"):
        await iam.add_user_to_group(ACCOUNT, group, "hank")
    await iam.put_group_policy(ACCOUNT, "a-team", "who", document(allow("orders:Whoami")))
    key = await iam.create_access_key(ACCOUNT, "hank")
    try:
        async with serve(app) as url, signing_client(key.access_key_id,
                                                     key.secret_access_key) as http:
            response = await http.get(url + "/me")
    finally:
        await app.aclose()
    assert response.json() == {
        "arn": f"arn:aws:iam::{ACCOUNT}:user/staff/hank", "account": ACCOUNT, "name": "hank",
        "groups": ["a-team", "b-team"], "allowed": True,
        "by": f"arn:aws:iam::{ACCOUNT}:group/a-team#who",
    }


# -- a condition on each context key -------------------------------------------------------

_PAST = (datetime.now(UTC) - timedelta(days=365)).strftime("%Y-%m-%dT%H:%M:%SZ")
_FUTURE = (datetime.now(UTC) + timedelta(days=365)).strftime("%Y-%m-%dT%H:%M:%SZ")
_EPOCH_PAST = str(int((datetime.now(UTC) - timedelta(days=365)).timestamp()))

# (name, condition that holds for the request, condition that does not); {arn}
# and {userid} are the caller's.
CONDITIONS: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    ("PrincipalArn", {"ArnEquals": {"aws:PrincipalArn": "{arn}"}},
     {"ArnEquals": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:user/someone-else"}}),
    ("PrincipalAccount", {"StringEquals": {"aws:PrincipalAccount": ACCOUNT}},
     {"StringEquals": {"aws:PrincipalAccount": "210987654321"}}),
    ("PrincipalType", {"StringEquals": {"aws:PrincipalType": "User"}},
     {"StringEquals": {"aws:PrincipalType": "AssumedRole"}}),
    ("userid", {"StringEquals": {"aws:userid": "{userid}"}},
     {"StringEquals": {"aws:userid": "AIDAEXAMPLEEXAMPLE123"}}),
    ("username", {"StringEquals": {"aws:username": "{name}"}},
     {"StringEquals": {"aws:username": "root"}}),
    ("PrincipalTag", {"StringEquals": {"aws:PrincipalTag/team": "blue"}},
     {"StringEquals": {"aws:PrincipalTag/team": "red"}}),
    ("SourceIp", {"IpAddress": {"aws:SourceIp": "127.0.0.0/8"}},
     {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}),
    ("SecureTransport", {"Bool": {"aws:SecureTransport": "false"}},
     {"Bool": {"aws:SecureTransport": "true"}}),
    ("CurrentTime", {"DateGreaterThan": {"aws:CurrentTime": _PAST}},
     {"DateGreaterThan": {"aws:CurrentTime": _FUTURE}}),
    ("EpochTime", {"NumericGreaterThan": {"aws:EpochTime": _EPOCH_PAST}},
     {"NumericLessThan": {"aws:EpochTime": _EPOCH_PAST}}),
    ("RequestedRegion", {"StringEquals": {"aws:RequestedRegion": "us-east-1"}},
     {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}),
    ("UserAgent", {"StringLike": {"aws:UserAgent": "orders-test/*"}},
     {"StringLike": {"aws:UserAgent": "aws-cli/*"}}),
]


def _filled(condition: dict[str, Any], caller: Caller) -> dict[str, Any]:
    text = json.dumps(condition)
    for name, value in (("{arn}", caller.arn), ("{userid}", caller.user_id),
                        ("{name}", caller.name)):
        text = text.replace(name, value)
    filled: dict[str, Any] = json.loads(text)
    return filled


@pytest.mark.parametrize(("key", "holds", "fails"), CONDITIONS, ids=[c[0] for c in CONDITIONS])
async def test_condition_on_each_context_key(orders: Service, key: str, holds: dict[str, Any],
                                             fails: dict[str, Any]) -> None:
    caller = await orders.user("ivy", tags={"team": "blue"},
                               headers={"User-Agent": "orders-test/1.0"})
    for condition, expected in ((holds, 200), (fails, 403), (holds, 200)):
        statement = allow("orders:GetOrder", f"{ORDERS}/*")
        statement["Condition"] = _filled(condition, caller)
        await orders.iam.put_user_policy(ACCOUNT, "ivy", "conditional", document(statement))
        response = await caller.call("GET", "/orders/1")
        assert response.status_code == expected, (condition, response.text)


async def test_requested_region_is_the_signed_scope_region(orders: Service) -> None:
    caller = await orders.user("jack", region="eu-west-1")
    await orders.iam.put_user_policy(ACCOUNT, "jack", "eu", document(allow(
        "orders:GetOrder", "arn:aws:orders:eu-west-1:*:order/*",
        StringEquals={"aws:RequestedRegion": "eu-west-1"})))
    response = await caller.call("GET", "/orders/1")
    assert response.json()["resource"] == f"arn:aws:orders:eu-west-1:{ACCOUNT}:order/1"


async def test_request_and_resource_tags_from_the_app(orders: Service) -> None:
    kate = await orders.user("kate", tags={"team": "blue"})
    await orders.iam.put_user_policy(ACCOUNT, "kate", "tags", document(
        # Create only orders tagged with one's own team; read only those.
        allow("orders:PutOrder", f"{ORDERS}/*",
              StringEquals={"aws:RequestTag/team": "${aws:PrincipalTag/team}"}),
        allow("orders:GetOrder", f"{ORDERS}/*",
              StringEquals={"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}),
    ))
    assert await kate.status("PUT", "/orders/10", json={"tags": {"team": "red"}}) == 403
    assert await kate.status("PUT", "/orders/10", json={"tags": {}}) == 403
    assert await kate.status("PUT", "/orders/10", json={"tags": {"team": "blue"}}) == 200
    assert await kate.status("GET", "/orders/10") == 200
    assert await kate.status("GET", "/orders/11") == 403  # untagged: no aws:ResourceTag/team
