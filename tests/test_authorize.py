"""The authorization seam (authenticate → authorize → app) and the caller identity it sees."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from defusedxml import ElementTree
from sigv4kit.middleware import (
    AllowAuthenticated,
    Authorizer,
    CallerIdentity,
    CallerKind,
    ErrorFormat,
    MasterKey,
    MemoryKeyStore,
    PostgresKeyStore,
    PrincipalKind,
    SigV4Middleware,
    SQLiteKeyStore,
)

import sigv4kit
from sigv4kit import AccessDenied, KeyRecord, ServiceUnavailable

AKID = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"


class Recorder:
    """An ASGI app that records what reached it."""

    def __init__(self) -> None:
        self.scopes: list[Any] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "websocket":
            await receive()
            self.scopes.append(scope)
            await send({"type": "websocket.accept"})
            return
        self.scopes.append(scope)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


class DenyAdmin:
    """Refuses every request under /admin, naming the caller."""

    def __init__(self) -> None:
        self.seen: list[CallerIdentity] = []

    async def authorize(self, caller: CallerIdentity, scope: Any) -> None:
        self.seen.append(caller)
        if scope["path"].startswith("/admin"):
            raise AccessDenied(f"{caller.arn} may not use {scope['path']}")


#: Built at run time, so the traceback's source lines do not contain it.
PASSWORD = "".join(["hun", "ter", "2"])


class Broken:
    async def authorize(self, caller: CallerIdentity, scope: Any) -> None:
        raise RuntimeError(f"policy store exploded: postgresql://admin:{PASSWORD}@db")


class Unavailable:
    async def authorize(self, caller: CallerIdentity, scope: Any) -> None:
        raise ServiceUnavailable()


def memory_store() -> MemoryKeyStore:
    return MemoryKeyStore(
        [KeyRecord(access_key_id=AKID, secret_access_key=SECRET, principal="alice")]
    )


def signed(
    url: str, key_id: str = AKID, secret: str = SECRET, token: str | None = None
) -> httpx.Request:
    request = httpx.Request("GET", url)
    creds = sigv4kit.Credentials(key_id, secret, token)
    auth = sigv4kit.SigV4Auth(creds, region="us-east-1", service="execute-api")
    return next(auth.auth_flow(request))


async def send(app: Any, request: httpx.Request) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as client:
        return await client.send(request)


def test_protocol_and_default() -> None:
    assert isinstance(DenyAdmin(), Authorizer)
    assert isinstance(AllowAuthenticated(), Authorizer)
    app = SigV4Middleware(Recorder(), store=memory_store())
    assert isinstance(app.authorizer, AllowAuthenticated)


async def test_default_allows_every_authenticated_caller() -> None:
    recorder = Recorder()
    app = SigV4Middleware(recorder, store=memory_store())
    assert (await send(app, signed("http://svc/admin/x"))).status_code == 200
    assert len(recorder.scopes) == 1


@pytest.mark.parametrize("error_format", list(ErrorFormat))
async def test_denial_is_access_denied_before_the_app(error_format: ErrorFormat) -> None:
    recorder = Recorder()
    authorizer = DenyAdmin()
    app = SigV4Middleware(
        recorder, store=memory_store(), authorizer=authorizer, error_format=error_format
    )
    allowed = await send(app, signed("http://svc/public/x"))
    assert allowed.status_code == 200
    denied = await send(app, signed("http://svc/admin/x"))
    assert denied.status_code == 403
    message = "arn:aws:iam::000000000000:user/alice may not use /admin/x"
    if error_format is ErrorFormat.JSON:
        body = json.loads(denied.content)
        assert body["__type"] == "AccessDenied"
        assert body["message"] == message
        assert denied.headers["x-amzn-ErrorType"] == "AccessDenied"
    else:
        root = ElementTree.fromstring(denied.content)
        error = root if error_format is ErrorFormat.S3_XML else root.find("Error")
        assert error is not None
        assert error.findtext("Code") == "AccessDenied"
        assert error.findtext("Message") == message
    # The app ran for the allowed request only; the authorizer saw both.
    assert [s["path"] for s in recorder.scopes] == ["/public/x"]
    assert [c.principal for c in authorizer.seen] == ["alice", "alice"]


async def test_authorizer_failure_denies_and_logs_no_message(
    caplog: pytest.LogCaptureFixture,
) -> None:
    recorder = Recorder()
    app = SigV4Middleware(recorder, store=memory_store(), authorizer=Broken())
    response = await send(app, signed("http://svc/x"))
    assert response.status_code == 403
    assert b"<Code>AccessDenied</Code>" in response.content
    assert PASSWORD.encode() not in response.content
    assert PASSWORD not in caplog.text
    assert "RuntimeError" in caplog.text
    assert recorder.scopes == []


async def test_authorizer_may_answer_other_verification_errors() -> None:
    recorder = Recorder()
    app = SigV4Middleware(recorder, store=memory_store(), authorizer=Unavailable())
    response = await send(app, signed("http://svc/x"))
    assert response.status_code == 503
    assert b"<Code>ServiceUnavailable</Code>" in response.content
    assert recorder.scopes == []


async def test_unauthenticated_requests_never_reach_the_authorizer() -> None:
    authorizer = DenyAdmin()
    app = SigV4Middleware(Recorder(), store=memory_store(), authorizer=authorizer)
    forged = signed("http://svc/x", secret="not-the-secret")
    response = await send(app, forged)
    assert response.status_code == 403
    assert b"<Code>SignatureDoesNotMatch</Code>" in response.content
    assert authorizer.seen == []


async def test_websocket_denied_before_the_app() -> None:
    recorder = Recorder()
    app = SigV4Middleware(recorder, store=memory_store(), authorizer=DenyAdmin())
    request = signed("http://svc/admin/socket")
    sent: list[dict[str, Any]] = []
    messages = [{"type": "websocket.connect"}]

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    async def send_ws(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "websocket", "path": "/admin/socket", "raw_path": b"/admin/socket",
        "query_string": b"", "headers": request.headers.raw, "scheme": "ws",
        "client": ("127.0.0.1", 1), "extensions": {"websocket.http.response": {}},
    }  # fmt: skip
    await app(scope, receive, send_ws)
    assert sent[0]["type"] == "websocket.http.response.start"
    assert sent[0]["status"] == 403
    assert b"<Code>AccessDenied</Code>" in sent[1]["body"]
    assert recorder.scopes == []


# -- the caller identity, from the store -----------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
async def store(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[SQLiteKeyStore | PostgresKeyStore]:
    master = MasterKey.generate()
    if request.param == "sqlite":
        opened: SQLiteKeyStore | PostgresKeyStore = SQLiteKeyStore(
            tmp_path / "keys.db", master_key=master
        )
    else:
        pg_url = request.getfixturevalue("pg_url")
        opened = PostgresKeyStore(pg_url, master_key=master)
    yield opened
    await opened.aclose()


async def caller_of(
    store: SQLiteKeyStore | PostgresKeyStore, request: httpx.Request
) -> CallerIdentity:
    recorder = Recorder()
    app = SigV4Middleware(recorder, store=store)
    response = await send(app, request)
    assert response.status_code == 200, response.text
    scope = recorder.scopes[0]
    caller = scope["sigv4.caller"]
    assert isinstance(caller, CallerIdentity)
    # Starlette's request.user carries the same caller; the core identity stays where it was.
    assert scope["user"].caller is caller
    assert scope["user"].identity == caller.principal
    assert scope["sigv4"] is caller.sigv4
    return caller


async def test_user_key_identity(store: SQLiteKeyStore | PostgresKeyStore) -> None:
    await store.create_principal("alice")
    key = await store.create_key("alice")
    caller = await caller_of(
        store, signed("http://svc/x", key.access_key_id, key.secret_access_key)
    )
    assert caller.account_id == "000000000000"
    assert caller.arn == "arn:aws:iam::000000000000:user/alice"
    assert caller.kind is CallerKind.USER
    assert caller.principal == "alice"
    assert caller.access_key_id == key.access_key_id
    assert caller.principal_id is not None
    assert caller.principal_id.startswith("AIDA")
    assert caller.session.temporary is False
    assert caller.session.issued_at is None
    assert caller.session.mfa_authenticated is False


async def test_temporary_key_identity(store: SQLiteKeyStore | PostgresKeyStore) -> None:
    await store.create_principal("alice")
    issued = datetime.now(UTC).replace(microsecond=0)
    creds = await store.create_session("alice", duration_seconds=3600, now=issued)
    request = signed(
        "http://svc/x", creds.access_key_id, creds.secret_access_key, creds.session_token
    )
    caller = await caller_of(store, request)
    # GetSessionToken-style credentials act as the user itself (same ARN).
    assert caller.kind is CallerKind.USER
    assert caller.arn == "arn:aws:iam::000000000000:user/alice"
    assert caller.session.temporary is True
    assert caller.session.issued_at == issued
    assert caller.session.mfa_authenticated is False


async def test_role_session_and_root_identity(store: SQLiteKeyStore | PostgresKeyStore) -> None:
    await store.create_principal("deployer", kind=PrincipalKind.ROLE)
    creds = await store.create_session("deployer", duration_seconds=900)
    request = signed(
        "http://svc/x", creds.access_key_id, creds.secret_access_key, creds.session_token
    )
    role = await caller_of(store, request)
    assert role.kind is CallerKind.ROLE_SESSION
    # Sessions without a role session name are named by their key id.
    assert role.arn == (f"arn:aws:sts::000000000000:assumed-role/deployer/{creds.access_key_id}")
    assert role.principal_id is not None
    assert role.principal_id.startswith("AROA")
    assert role.session.temporary is True

    await store.create_principal("admin", root=True)
    key = await store.create_key("admin")
    root = await caller_of(store, signed("http://svc/x", key.access_key_id, key.secret_access_key))
    assert root.kind is CallerKind.ROOT
    assert root.arn == "arn:aws:iam::000000000000:root"


async def test_plain_key_records_are_users_of_the_default_account() -> None:
    request = signed("http://svc/x")
    recorder = Recorder()
    app = SigV4Middleware(recorder, store=memory_store())
    assert (await send(app, request)).status_code == 200
    caller = recorder.scopes[0]["sigv4.caller"]
    assert caller.account_id == "000000000000"
    assert caller.arn == "arn:aws:iam::000000000000:user/alice"
    assert caller.kind is CallerKind.USER
    assert caller.principal_id is None
    assert caller.session.temporary is False


async def test_exempt_paths_have_no_caller() -> None:
    recorder = Recorder()
    app = SigV4Middleware(recorder, store=memory_store(), exempt_paths=["/health"])
    assert (await send(app, httpx.Request("GET", "http://svc/health"))).status_code == 200
    assert recorder.scopes[0]["sigv4.caller"] is None
    assert recorder.scopes[0]["user"].is_authenticated is False


async def test_sessions_keep_their_mfa_flag(tmp_path: Path) -> None:
    # The IAM issues will issue MFA sessions; the lookup already reads the flag.
    import sqlalchemy as sa

    master = MasterKey.generate()
    store = SQLiteKeyStore(tmp_path / "keys.db", master_key=master)
    try:
        await store.create_principal("alice")
        creds = await store.create_session("alice", duration_seconds=900)
        engine = sa.create_engine(f"sqlite:///{tmp_path / 'keys.db'}")
        with engine.begin() as conn:
            conn.execute(
                sa.text("UPDATE sessions SET mfa_authenticated = 1, role_session_name = 'ci'")
            )
        engine.dispose()
        store_fresh = SQLiteKeyStore(tmp_path / "keys.db", master_key=master)
        try:
            request = signed(
                "http://svc/x", creds.access_key_id, creds.secret_access_key, creds.session_token
            )
            caller = await caller_of(store_fresh, request)
        finally:
            await store_fresh.aclose()
    finally:
        await store.aclose()
    assert caller.session.mfa_authenticated is True
    assert caller.session.name == "ci"
    assert caller.session.issued_at is not None
    assert caller.session.issued_at > datetime.now(UTC) - timedelta(minutes=5)


async def test_the_documented_authorizer() -> None:
    import re

    docs = (Path(__file__).resolve().parent.parent / "docs" / "middleware.md").read_text()
    section = docs.split("### Authorization", 1)[1].split("\n### ", 1)[0]
    (snippet,) = re.findall(r"```python\n(.*?)```", section, re.DOTALL)
    recorder = Recorder()
    namespace: dict[str, Any] = {"api": recorder, "store": memory_store()}
    code = snippet.replace('store="sqlite:///keys.db"', "store=store")
    exec(compile(code, "middleware.md", "exec"), namespace)
    app = namespace["app"]
    assert (await send(app, signed("http://svc/public/x"))).status_code == 200
    denied = await send(app, signed("http://svc/admin/x"))
    assert denied.status_code == 403
    assert b"<Code>AccessDenied</Code>" in denied.content
    assert [s["path"] for s in recorder.scopes] == ["/public/x"]
