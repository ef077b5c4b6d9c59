"""Decisions the app makes after routing (the FastAPI dependency) are audited as decisions.

examples/orders_service.py decides inside FastAPI, after the middleware let the
request in: its event must carry the action the route declared and the
outcome (a denial with AWS's message), exactly one per request, written when
the response starts.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
from _audit_util import ListSink
from _authz_util import ACCOUNT, allow, denial, document, serve, signing_client
from sigv4kit.middleware import MasterKey
from sigv4kit.middleware.audit import AuditLog, AuditSettings
from sigv4kit.middleware.iam.entities import IAMStore

from examples.orders_service import create_app

ORDER = f"arn:aws:orders:us-east-1:{ACCOUNT}:order/42"


async def _events(sink: ListSink, count: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 5
    while len(sink.events) < count and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.1)  # one more, if there were one, would be written by now
    return [event.to_json() for event in sink.events]


async def test_decisions_made_in_the_app_are_one_event_each(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SIGV4KIT_MASTER_KEY", MasterKey.generate().to_base64())
    sink = ListSink()
    log = AuditLog(sink, AuditSettings(flush_interval=0.01))
    app = create_app(f"sqlite:///{tmp_path}/iam.db", audit=log)
    iam = IAMStore(app.store)
    await iam.create_account(ACCOUNT)
    await iam.create_user(ACCOUNT, "bob")
    await iam.put_user_policy(ACCOUNT, "bob", "read", document(allow("orders:GetOrder")))
    key = await iam.create_access_key(ACCOUNT, "bob")
    bob = f"arn:aws:iam::{ACCOUNT}:user/bob"
    try:
        async with serve(app) as url, signing_client(
            key.access_key_id, key.secret_access_key
        ) as http:
            assert (await http.get(f"{url}/orders/42")).status_code == 200
            allowed = await _events(sink, 1)
            assert len(allowed) == 1
            assert allowed[0]["eventName"] == "GetOrder"
            assert allowed[0]["eventSource"] == "orders.amazonaws.com"
            assert allowed[0]["resources"] == [{"ARN": ORDER, "accountId": ACCOUNT}]
            assert "errorCode" not in allowed[0]
            assert allowed[0]["userIdentity"]["arn"] == bob

            assert (await http.put(f"{url}/orders/42", json={})).status_code == 403
            events = await _events(sink, 2)
            assert len(events) == 2
            refused = events[1]
            assert refused["eventName"] == "PutOrder"
            assert refused["errorCode"] == "AccessDenied"
            assert refused["errorMessage"] == denial(
                bob, "orders:PutOrder", ORDER,
                "because no identity-based policy allows the orders:PutOrder action")
            assert refused["readOnly"] is False
    finally:
        await app.aclose()
