"""Declaring action and resource: an ASGI resolver, a Starlette decorator, a FastAPI dependency.

Each app runs under a real uvicorn (in the test's loop) behind
``SigV4Middleware`` with an :class:`IAMAuthorizer`; requests are signed by
sigv4kit. Also the fail-closed rules: a request that reaches a response with
no decision is refused, a broken template is a 500, exempt paths pass.
"""

from __future__ import annotations

import asyncio
import gc
import json
import weakref
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import httpx
import pytest
from _authz_util import ACCOUNT, allow, document, serve, signing_client
from fastapi import Depends, FastAPI
from sigv4kit.middleware import ErrorFormat, MasterKey, SigV4Middleware, open_store
from sigv4kit.middleware.asgi.authorize import AUTHORIZATION_KEY, AuthorizationRecord
from sigv4kit.middleware.iam.authz import (
    IAMAuthorizer,
    Resolution,
    ResourceTemplateError,
    authorize,
    iam_middleware,
    requires_permission,
)
from sigv4kit.middleware.iam.entities import IAMStore
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

POLICY = document(
    allow(["orders:ListOrders", "orders:GetOrder"], "arn:aws:orders:*:*:order/*"),
    allow("orders:Tagged", "*", StringEquals={"orders:Channel": "web"}),
)


@dataclass
class Key:
    access_key_id: str
    secret: str
    arn: str

    def client(self) -> httpx.AsyncClient:
        return signing_client(self.access_key_id, self.secret)


@pytest.fixture
async def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Any]:
    monkeypatch.setenv("SIGV4KIT_MASTER_KEY", MasterKey.generate().to_base64())
    opened = open_store(f"sqlite:///{tmp_path}/iam.db")
    try:
        yield opened
    finally:
        await opened.aclose()


@pytest.fixture
async def key(store: Any) -> Key:
    iam = IAMStore(store)
    await iam.create_account(ACCOUNT)
    user = await iam.create_user(ACCOUNT, "olga")
    await iam.put_user_policy(ACCOUNT, "olga", "orders", POLICY)
    created = await iam.create_access_key(ACCOUNT, "olga")
    return Key(created.access_key_id, created.secret_access_key, user.arn)


def s3_error(response: httpx.Response) -> tuple[str, str]:
    root = ElementTree.fromstring(response.content)
    return root.findtext("Code") or "", root.findtext("Message") or ""


# -- (a) an ASGI-level resolver -------------------------------------------------------------

seen_records: list[AuthorizationRecord] = []


async def recorder(scope: dict[str, Any], receive: Any, send: Any) -> None:
    seen_records.append(scope.get(AUTHORIZATION_KEY))  # type: ignore[arg-type]
    body = json.dumps({"user": scope["user"].arn}).encode()
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body})


def resolver(scope: dict[str, Any]) -> Resolution | None:
    iam = scope["sigv4.iam"]
    orders = f"arn:aws:orders:{iam.region}:{iam.account_id}:order"
    path = scope["path"]
    if path == "/orders":
        return Resolution(action="orders:ListOrders", resource=f"{orders}/*")
    if path.startswith("/orders/"):
        return Resolution(action="orders:GetOrder", resource=f"{orders}/{path[8:]}")
    if path == "/tagged":
        channel = "web" if scope["query_string"] == b"web" else "api"
        return Resolution(action="orders:Tagged", resource="*",
                          context={"orders:Channel": channel})
    if path == "/admin":
        return Resolution(action="orders:Admin", resource=f"{orders}/*")
    return None


async def async_resolver(scope: dict[str, Any]) -> Resolution | None:
    return resolver(scope)


@pytest.mark.parametrize("chosen", [resolver, async_resolver], ids=["sync", "async"])
async def test_resolver_decides_before_the_app(store: Any, key: Key, chosen: Any) -> None:
    authorizer = IAMAuthorizer(IAMStore(store), resolver=chosen)
    app = SigV4Middleware(recorder, store=store, authorizer=authorizer)
    seen_records.clear()
    async with serve(app) as url, key.client() as http:
        allowed = await http.get(url + "/orders/7")
        assert allowed.status_code == 200
        assert allowed.json() == {"user": key.arn}
        assert seen_records == [AuthorizationRecord(
            action="orders:GetOrder", resource=f"arn:aws:orders:us-east-1:{ACCOUNT}:order/7",
            allowed=True, reason=f"{key.arn}#orders")]
        denied = await http.get(url + "/admin")
        assert denied.status_code == 403
        assert s3_error(denied) == ("AccessDenied", (
            f"User: {key.arn} is not authorized to perform: orders:Admin on resource: "
            f"arn:aws:orders:us-east-1:{ACCOUNT}:order/* because no identity-based policy "
            "allows the orders:Admin action"))
        assert (await http.get(url + "/tagged?web")).status_code == 200
        assert (await http.get(url + "/tagged?api")).status_code == 403
        undecided = await http.get(url + "/other")  # no resolution, no guard: fail closed
        assert s3_error(undecided) == ("AccessDenied", (
            f"User: {key.arn} is not authorized to perform this request: the service declares "
            "no action for it"))
    assert len(seen_records) == 2  # the refused requests never reached the app


async def test_require_decision_false_lets_unresolved_requests_through(store: Any,
                                                                       key: Key) -> None:
    authorizer = IAMAuthorizer(IAMStore(store), resolver=resolver, require_decision=False)
    app = SigV4Middleware(recorder, store=store, authorizer=authorizer)
    async with serve(app) as url, key.client() as http:
        assert (await http.get(url + "/other")).status_code == 200
        assert (await http.get(url + "/admin")).status_code == 403


# -- (c) a Starlette decorator --------------------------------------------------------------


@requires_permission("orders:GetOrder",
                     resource="arn:aws:orders:{region}:{account}:order/{order_id}")
async def get_order(request: Request) -> JSONResponse:
    record = request.scope[AUTHORIZATION_KEY]
    return JSONResponse({"resource": record.resource, "groups": list(request.user.groups)})


@requires_permission("orders:Admin", resource="arn:aws:orders:{region}:{account}:order/*")
async def admin(request: Request) -> PlainTextResponse:
    return PlainTextResponse("never")


@requires_permission("orders:GetOrder", resource="arn:aws:orders:{region}:{account}:{order_id}")
async def broken(request: Request) -> PlainTextResponse:
    return PlainTextResponse("never")


async def undeclared(request: Request) -> PlainTextResponse:
    return PlainTextResponse("never")


async def health(request: Request) -> PlainTextResponse:
    return PlainTextResponse("ok")


@requires_permission("orders:GetOrder", resource="*")
async def exempt_but_protected(request: Request) -> PlainTextResponse:
    return PlainTextResponse("never")


def starlette_app(store: Any) -> SigV4Middleware:
    app = Starlette(routes=[
        Route("/orders/{order_id}", get_order), Route("/admin", admin),
        Route("/broken/{id}", broken), Route("/undeclared", undeclared),
        Route("/health", health), Route("/public/thing", exempt_but_protected),
    ])
    return iam_middleware(app, store=store, exempt_paths=["/health", "/public/*"])


async def test_starlette_decorator(store: Any, key: Key) -> None:
    async with serve(starlette_app(store)) as url, key.client() as http:
        allowed = await http.get(url + "/orders/5")
        assert allowed.status_code == 200
        assert allowed.json() == {"resource": f"arn:aws:orders:us-east-1:{ACCOUNT}:order/5",
                                  "groups": []}
        denied = await http.get(url + "/admin")
        assert denied.status_code == 403
        assert s3_error(denied)[1].endswith("because no identity-based policy allows the "
                                            "orders:Admin action")
        assert "never" not in denied.text
        undecided = await http.get(url + "/undeclared")
        assert undecided.status_code == 403
        assert "never" not in undecided.text
        missing = await http.get(url + "/broken/1")
        assert missing.status_code == 500
        assert s3_error(missing)[0] == "InternalError"
        assert "order_id" not in missing.text  # the service's bug is logged, not echoed
    async with serve(starlette_app(store)) as url, httpx.AsyncClient() as anonymous:
        assert (await anonymous.get(url + "/health")).text == "ok"
        refused = await anonymous.get(url + "/public/thing")  # exempt, yet it asks: refused
        assert refused.status_code == 403
        assert "never" not in refused.text


def test_decorator_refuses_sync_endpoints_and_bad_templates() -> None:
    def sync_endpoint(request: Any) -> None:
        return None

    with pytest.raises(TypeError, match="async endpoints"):
        requires_permission("orders:GetOrder", resource="*")(sync_endpoint)  # type: ignore[type-var]
    with pytest.raises(ResourceTemplateError):
        requires_permission("orders:GetOrder", resource="arn:{")
    with pytest.raises(ResourceTemplateError):
        authorize("orders:GetOrder", resource="arn:{x.y}")


# -- (b) a FastAPI dependency ----------------------------------------------------------------


def fastapi_orders() -> FastAPI:
    """GET (allowed by POLICY) and DELETE (not) of an order, declared with the dependency."""
    api = FastAPI()

    @api.get("/orders/{order_id}", dependencies=[Depends(authorize(
        "orders:GetOrder", resource="arn:aws:orders:{region}:{account}:order/{order_id}"))])
    async def get(order_id: str) -> dict[str, str]:
        return {"order": order_id}

    @api.delete("/orders/{order_id}", dependencies=[Depends(authorize(
        "orders:DeleteOrder", resource="arn:aws:orders:{region}:{account}:order/{order_id}"))])
    async def delete(order_id: str) -> dict[str, str]:
        return {"deleted": order_id}

    return api


async def test_fastapi_dependency_errors_in_the_json_format(store: Any, key: Key) -> None:
    api = fastapi_orders()

    @api.get("/typo/{id}", dependencies=[Depends(authorize(
        "orders:GetOrder", resource="arn:aws:orders:{region}:{account}:order/{order_id}"))])
    async def typo(id: str) -> dict[str, str]:
        return {"never": id}

    app = iam_middleware(api, store=store, error_format=ErrorFormat.JSON)
    async with serve(app) as url, key.client() as http:
        assert (await http.get(url + "/orders/3")).json() == {"order": "3"}
        denied = await http.delete(url + "/orders/3")
        assert denied.status_code == 403
        assert denied.json()["__type"] == "AccessDenied"
        assert denied.json()["message"] == (
            f"User: {key.arn} is not authorized to perform: orders:DeleteOrder on resource: "
            f"arn:aws:orders:us-east-1:{ACCOUNT}:order/3 because no identity-based policy "
            "allows the orders:DeleteOrder action")
        broken = await http.get(url + "/typo/3")
        assert broken.status_code == 500
        assert broken.json()["__type"] == "InternalError"


# -- memory: a finished request leaves no reference cycle behind -----------------------------


class _Scope(dict[str, Any]):
    """A scope that can be watched with a weak reference (a plain dict cannot)."""

    __slots__ = ("__weakref__",)


async def test_a_finished_request_is_freed_without_the_cycle_collector(store: Any, key: Key
                                                                       ) -> None:
    """The IAMRequest holds the scope (to record decisions) and the scope holds it: the guard
    breaks that cycle when the request ends, so the scope and all it holds go at once (under
    load, cyclic garbage survives into older generations and costs full collections)."""
    api = fastapi_orders()

    service = iam_middleware(api, store=store, error_format=ErrorFormat.JSON)
    watched: list[weakref.ref[_Scope]] = []

    async def watching(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await service(scope, receive, send)
            return
        own = _Scope(scope)
        watched.append(weakref.ref(own))
        await service(own, receive, send)

    async with serve(watching) as url, key.client() as http:
        assert (await http.get(url + "/orders/1")).status_code == 200  # warm every cache
        gc.collect()
        gc.disable()
        try:
            watched.clear()
            assert (await http.get(url + "/orders/2")).status_code == 200
            assert (await http.delete(url + "/orders/2")).status_code == 403
            await asyncio.sleep(0.05)  # uvicorn's task for the request finishes
            alive = [ref() is not None for ref in watched]
        finally:
            gc.enable()
    assert alive == [False, False]
