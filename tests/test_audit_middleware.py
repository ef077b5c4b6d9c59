"""SigV4Middleware(audit=...): every decision path is exactly one event, through a real uvicorn.

One server per module (uvicorn in a thread); each test sends one request with
httpx and reads the one event it produced from an in-memory sink.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from _audit_util import ListSink, only_event
from _servers import run_uvicorn
from sigv4kit.middleware import CallerIdentity, MemoryKeyStore, SigV4Middleware
from sigv4kit.middleware.asgi.authorize import AUTHORIZATION_KEY, AuthorizationRecord
from sigv4kit.middleware.audit import (
    AuditLog,
    AuditSettings,
    Overflow,
)

import sigv4kit
from sigv4kit import AccessDenied, KeyRecord

AKID = "AKIDAUDITEXAMPLE0001"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYAUDITKEY1"
TEMP_AKID = "ASIAAUDITEXAMPLE0002"
TEMP_SECRET = "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbAUDITKEY2"
TOKEN = "FQoGZXIvYXdzEAUDITSESSIONTOKENEXAMPLE0123456789"
ACCOUNT = "000000000000"
ORDER_ARN = f"arn:aws:execute-api:us-east-1:{ACCOUNT}:orders/7"


class Orders:
    """An authorizer deciding per action, as the IAM authorizer does: it leaves its record."""

    async def authorize(self, caller: CallerIdentity, scope: Any) -> None:
        path = scope["path"]
        if path.startswith("/norecord"):
            raise AccessDenied("refused without a record")
        if path.startswith("/crash"):
            raise RuntimeError("the policy store exploded")
        if not path.startswith("/orders"):
            return  # no decision per action: the request is audited as authenticated
        action = "orders:GetOrder" if scope["method"] == "GET" else "orders:DeleteOrder"
        allowed = scope["method"] == "GET"
        reason = "" if allowed else f"{caller.arn} is not authorized to perform: {action}"
        scope[AUTHORIZATION_KEY] = AuthorizationRecord(
            action=action, resource=ORDER_ARN, allowed=allowed, reason=reason
        )
        if not allowed:
            raise AccessDenied(reason)


class App:
    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                kind = message["type"].rsplit(".", 1)[1]
                await send({"type": f"lifespan.{kind}.complete"})
                if kind == "shutdown":
                    return
        if scope["type"] != "http":
            return
        self.calls += 1
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


def store() -> MemoryKeyStore:
    past = datetime.now(UTC) - timedelta(hours=1)
    return MemoryKeyStore([
        KeyRecord(access_key_id=AKID, secret_access_key=SECRET, principal="alice"),
        KeyRecord(access_key_id=TEMP_AKID, secret_access_key=TEMP_SECRET, principal="alice",
                  session_token_sha256=hashlib.sha256(TOKEN.encode()).hexdigest(),
                  expires_at=past),
    ])


@dataclass
class Served:
    url: str
    sink: ListSink
    log: AuditLog
    app: App

    def one_event(self, call: Any) -> tuple[httpx.Response, dict[str, Any]]:
        """Send one request; its response and the single event it produced."""
        answered: list[httpx.Response] = []
        event = only_event(self.log, self.sink, lambda: answered.append(call()))
        return answered[0], event


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    sink = ListSink()
    log = AuditLog(sink, AuditSettings(flush_interval=0.02))
    app = App()
    middleware = SigV4Middleware(app, store=store(), authorizer=Orders(), audit=log)
    with run_uvicorn(middleware) as url:
        yield Served(url=url, sink=sink, log=log, app=app)


def get(url: str, *, method: str = "GET", key: str = AKID, secret: str = SECRET,
        token: str | None = None, now: datetime | None = None,
        tamper: bool = False) -> httpx.Response:
    request = httpx.Request(method, url, headers={"User-Agent": "audit-test/1.0"})
    auth = sigv4kit.SigV4Auth(sigv4kit.Credentials(key, secret, token),
                              region="eu-west-1", service="execute-api")
    if now is not None:
        auth = sigv4kit.SigV4Auth(sigv4kit.Credentials(key, secret, token),
                                  region="eu-west-1", service="execute-api",
                                  clock=lambda: now)
    signed = next(auth.auth_flow(request))
    if tamper:
        value = signed.headers["Authorization"]
        last = "0" if value[-1] != "0" else "1"
        signed.headers["Authorization"] = value[:-1] + last
    with httpx.Client() as client:
        return client.send(signed)


def check_request_fields(event: dict[str, Any]) -> None:
    assert event["eventVersion"] == "1.08"
    assert event["eventType"] == "AwsApiCall"
    assert event["sourceIPAddress"] == "127.0.0.1"
    assert event["userAgent"] == "audit-test/1.0"
    assert event["awsRegion"] == "eu-west-1"
    assert event["eventTime"].endswith("Z")
    assert len(event["eventID"]) == 36
    assert event["requestID"]


def alice(event: dict[str, Any]) -> None:
    assert event["userIdentity"] == {
        "type": "IAMUser",
        "arn": f"arn:aws:iam::{ACCOUNT}:user/alice",
        "accountId": ACCOUNT,
        "accessKeyId": AKID,
        "userName": "alice",
    }


def test_an_allowed_decision(served: Served) -> None:
    calls = served.app.calls
    response, event = served.one_event(lambda: get(f"{served.url}/orders/7"))
    assert response.status_code == 200
    assert served.app.calls == calls + 1
    check_request_fields(event)
    alice(event)
    assert event["eventSource"] == "execute-api.amazonaws.com"
    assert event["eventName"] == "GetOrder"
    assert event["readOnly"] is True
    assert event["resources"] == [{"ARN": ORDER_ARN, "accountId": ACCOUNT}]
    assert "errorCode" not in event
    assert "errorMessage" not in event
    assert event["eventCategory"] == "Data"
    assert event["managementEvent"] is False


def test_a_denied_decision(served: Served) -> None:
    calls = served.app.calls
    response, event = served.one_event(lambda: get(f"{served.url}/orders/7", method="DELETE"))
    assert response.status_code == 403
    assert served.app.calls == calls
    check_request_fields(event)
    alice(event)
    assert event["eventName"] == "DeleteOrder"
    assert event["readOnly"] is False
    assert event["errorCode"] == "AccessDenied"
    assert event["errorMessage"] == (
        f"arn:aws:iam::{ACCOUNT}:user/alice is not authorized to perform: orders:DeleteOrder"
    )
    assert event["resources"] == [{"ARN": ORDER_ARN, "accountId": ACCOUNT}]
    # The request id is the one the client was answered with.
    assert event["requestID"] == response.headers["x-amz-request-id"]


def test_an_authenticated_request_no_authorizer_decided(served: Served) -> None:
    response, event = served.one_event(lambda: get(f"{served.url}/health/deep"))
    assert response.status_code == 200
    alice(event)
    assert event["eventName"] == "GET"
    assert "errorCode" not in event
    assert "resources" not in event


def test_a_refusal_without_a_record(served: Served) -> None:
    response, event = served.one_event(lambda: get(f"{served.url}/norecord", method="POST"))
    assert response.status_code == 403
    alice(event)
    assert (event["eventName"], event["errorCode"]) == ("POST", "AccessDenied")
    assert event["errorMessage"] == "refused without a record"


def test_an_authorizer_that_fails_is_a_denial(served: Served) -> None:
    response, event = served.one_event(lambda: get(f"{served.url}/crash"))
    assert response.status_code == 403
    alice(event)
    assert event["errorCode"] == "AccessDenied"
    assert "exploded" not in event["errorMessage"]


@pytest.mark.parametrize(
    ("how", "code", "key"),
    [
        ("tampered", "SignatureDoesNotMatch", AKID),
        ("unknown", "InvalidAccessKeyId", "AKIDNOSUCHKEY0000000"),
        ("expired", "ExpiredToken", TEMP_AKID),
        ("skewed", "RequestTimeTooSkewed", AKID),
    ],
)
def test_an_authentication_failure(served: Served, how: str, code: str, key: str) -> None:
    calls = served.app.calls
    kwargs: dict[str, Any] = {"key": key}
    if how == "tampered":
        kwargs["tamper"] = True
    elif how == "expired":
        kwargs |= {"secret": TEMP_SECRET, "token": TOKEN}
    elif how == "skewed":
        kwargs["now"] = datetime.now(UTC) - timedelta(hours=2)
    response, event = served.one_event(lambda: get(f"{served.url}/orders/7", **kwargs))
    assert response.status_code in (400, 403)
    assert served.app.calls == calls
    check_request_fields(event)
    assert event["userIdentity"] == {"type": "Unknown", "accessKeyId": key}
    assert event["errorCode"] == code
    assert event["errorMessage"]
    assert event["eventSource"] == "execute-api.amazonaws.com"
    assert event["eventName"] == "GET"
    assert event["requestID"] == response.headers["x-amz-request-id"]
    for value in (SECRET, TEMP_SECRET, TOKEN):
        assert value not in str(event)


def test_an_unsigned_request(served: Served) -> None:
    response, event = served.one_event(lambda: httpx.get(f"{served.url}/orders/7"))
    assert response.status_code == 403
    assert event["userIdentity"] == {"type": "Unknown"}
    assert event["awsRegion"] == "us-east-1"
    assert event["eventSource"] == "unknown.amazonaws.com"
    assert event["errorCode"] == "AccessDenied"


def _server(overflow: Overflow) -> tuple[SigV4Middleware, ListSink, AuditLog, App]:
    sink = ListSink(hold=asyncio.Event())
    log = AuditLog(sink, AuditSettings(queue_size=2, flush_interval=0.01, overflow=overflow))
    app = App()
    return SigV4Middleware(app, store=store(), authorizer=Orders(), audit=log), sink, log, app


def test_a_full_queue_sheds_with_503_and_the_app_does_not_run() -> None:
    middleware, sink, log, app = _server(Overflow.SHED)
    with run_uvicorn(middleware) as url:
        # The sink holds its first batch: the queue keeps what it holds.
        codes = [get(f"{url}/orders/7").status_code for _ in range(4)]
        assert codes[:2] == [200, 200]
        assert codes[2:] == [503, 503]
        assert app.calls == 2
        assert log.stats.shed == 2
        assert log.stats.dropped == 0
        # A refusal is shed too: 503 instead of the 403 it would have been.
        assert get(f"{url}/orders/7", tamper=True).status_code == 503
        assert sink.hold is not None
        sink.hold.set()
    assert len(sink.events) == 2


def test_a_full_queue_drops_and_counts_when_configured() -> None:
    middleware, sink, log, app = _server(Overflow.DROP)
    with run_uvicorn(middleware) as url:
        codes = [get(f"{url}/orders/7").status_code for _ in range(4)]
        assert codes == [200, 200, 200, 200]
        assert app.calls == 4
        assert log.stats.dropped == 2
        assert log.stats.shed == 0
        assert sink.hold is not None
        sink.hold.set()
    assert len(sink.events) == 2


def test_lifespan_shutdown_writes_what_is_queued() -> None:
    sink = ListSink()
    log = AuditLog(sink, AuditSettings(flush_interval=3600))
    middleware = SigV4Middleware(App(), store=store(), audit=log)
    with run_uvicorn(middleware, lifespan="on") as url:
        for _ in range(3):
            assert get(f"{url}/x").status_code == 200
        assert sink.events == []  # not yet: the interval is an hour
    assert len(sink.events) == 3
    assert log.stats.written == 3


def test_an_exempt_path_is_not_audited_but_sees_the_trail() -> None:
    """Unsigned requests let through (health checks, STS's AssumeRoleWithWebIdentity) are
    not the middleware's to record; an app that records its own calls finds the trail."""
    sink = ListSink()
    log = AuditLog(sink, AuditSettings(flush_interval=0.01))
    seen: list[object] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        seen.append(scope.get("sigv4.audit"))
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    middleware = SigV4Middleware(app, store=store(), audit=log, exempt_paths=["/health"])
    with run_uvicorn(middleware) as url:
        assert httpx.get(f"{url}/health").status_code == 200
    assert seen == [log]
    assert log.stats.accepted == 0
