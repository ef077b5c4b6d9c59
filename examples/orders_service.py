"""An orders service whose every request is authorized by IAM policies (FastAPI).

Run it on a store with IAM identities (``sigv4kit iam bootstrap`` makes an
administrator; ``sigv4kit serve`` serves the IAM API for boto3 and the AWS CLI)::

    sigv4kit iam bootstrap --store sqlite:///iam.db --user admin
    SIGV4KIT_STORE=sqlite:///iam.db uvicorn examples.orders_service:app --port 8000

Routes, each one IAM action on one resource (``<region>``: the signed
credential scope's region; ``<account>``: the caller's account):

* ``GET /orders``: ``orders:ListOrders`` on ``arn:aws:orders:<region>:<account>:order/*``
* ``GET /orders/{id}``: ``orders:GetOrder`` on ``arn:aws:orders:<region>:<account>:order/<id>``
* ``PUT /orders/{id}``: ``orders:PutOrder`` (a JSON body ``{"tags": {...}}``
  gives ``aws:RequestTag/<key>``)
* ``DELETE /orders/{id}``: ``orders:DeleteOrder``

An order's tags (kept in memory, per process) are its ``aws:ResourceTag/<key>``.
With ``SIGV4KIT_AUDIT_DIR`` set, every decision is an audit event in that
directory (JSON lines, segments signed with ``<dir>.key``; read them with
``sigv4kit audit lookup <dir>``).
Allowed: 200 ``{"caller": <ARN>, "action": ..., "resource": ...}``; refused:
403 ``{"__type": "AccessDenied", "message": <AWS's message>}``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from sigv4kit.middleware import (
    AccessKeyStore,
    ErrorFormat,
    SigV4Middleware,
    install_access_log_redactor,
)
from sigv4kit.middleware.asgi.authorize import AuthorizationRecord
from sigv4kit.middleware.audit import (
    AuditLog,
    JsonLinesSink,
    generate_signing_key,
    load_signing_key,
)
from sigv4kit.middleware.iam.authz import authorize, iam_middleware

from sigv4kit import VerifierConfig

ORDER = "arn:aws:orders:{region}:{account}:order/{order_id}"
ORDERS = "arn:aws:orders:{region}:{account}:order/*"

# The orders' tags, by (account, order id): what aws:ResourceTag/* reads.
_TAGS: dict[tuple[str, str], dict[str, str]] = {}


def _resource_tags(request: Request) -> dict[str, str]:
    key = (request.scope["sigv4.iam"].account_id, request.path_params["order_id"])
    return {f"aws:ResourceTag/{k}": v for k, v in _TAGS.get(key, {}).items()}


async def _request_tags(request: Request) -> dict[str, str]:
    body = await request.body()
    try:
        tags = json.loads(body).get("tags", {}) if body else {}
    except (ValueError, AttributeError):
        tags = {}
    tags = {str(k): str(v) for k, v in tags.items()} if isinstance(tags, dict) else {}
    request.state.order_tags = tags
    return {f"aws:RequestTag/{k}": v for k, v in tags.items()} | _resource_tags(request)


def _answer(request: Request, record: AuthorizationRecord) -> dict[str, Any]:
    return {"caller": request.user.arn, "action": record.action, "resource": record.resource}


# Each route's action and resource: a FastAPI dependency that decides (or refuses).
MayList = Annotated[AuthorizationRecord, Depends(authorize("orders:ListOrders", resource=ORDERS))]
MayGet = Annotated[AuthorizationRecord, Depends(
    authorize("orders:GetOrder", resource=ORDER, context=_resource_tags))]
MayPut = Annotated[AuthorizationRecord, Depends(
    authorize("orders:PutOrder", resource=ORDER, context=_request_tags))]
MayDelete = Annotated[AuthorizationRecord, Depends(
    authorize("orders:DeleteOrder", resource=ORDER, context=_resource_tags))]


def audit_log(directory: str) -> AuditLog:
    """An audit trail in ``directory``, its segments signed with ``<directory>.key``."""
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    key_file = Path(f"{directory.rstrip('/')}.key")
    key = load_signing_key(key_file) if key_file.exists() else generate_signing_key(key_file)
    return AuditLog(JsonLinesSink(path, key=key))


def create_app(store: AccessKeyStore | str, *, audit: AuditLog | None = None) -> SigV4Middleware:
    """The FastAPI app behind SigV4 verification and IAM authorization (errors in JSON)."""
    api = FastAPI()

    @api.get("/orders")
    async def list_orders(request: Request, record: MayList) -> dict[str, Any]:
        return _answer(request, record)

    @api.get("/orders/{order_id}")
    async def get_order(order_id: str, request: Request, record: MayGet) -> dict[str, Any]:
        return _answer(request, record)

    @api.put("/orders/{order_id}")
    async def put_order(order_id: str, request: Request, record: MayPut) -> dict[str, Any]:
        _TAGS[(request.user.account_id, order_id)] = request.state.order_tags
        return _answer(request, record)

    @api.delete("/orders/{order_id}")
    async def delete_order(order_id: str, request: Request, record: MayDelete) -> dict[str, Any]:
        _TAGS.pop((request.user.account_id, order_id), None)
        return _answer(request, record)

    return iam_middleware(api, store=store, error_format=ErrorFormat.JSON,
                          config=VerifierConfig(services=frozenset({"orders"})), audit=audit)


def __getattr__(name: str) -> Any:
    # `app` is built on first use, so importing this module opens no store.
    if name == "app":
        directory = os.environ.get("SIGV4KIT_AUDIT_DIR")
        app = create_app(os.environ.get("SIGV4KIT_STORE", "sqlite:///sigv4kit.db"),
                         audit=audit_log(directory) if directory else None)
        install_access_log_redactor("uvicorn.access")
        globals()["app"] = app
        return app
    raise AttributeError(name)


if __name__ == "__main__":
    import uvicorn

    uvicorn.run("examples.orders_service:app", port=int(os.environ.get("PORT", "8000")))
