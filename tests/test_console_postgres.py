"""The console on PostgreSQL with two servers (separate apps, engines and event loops) over
one store: a session signed in on one is served by the other, sign-out on one ends it on
both, and the sign-in throttle counts failures made on either."""

from __future__ import annotations

import base64
import os

import httpx
import pytest
from _console import Browser, console_server
from _servers import run_uvicorn
from sigv4kit.middleware.console import ConsoleSettings
from sigv4kit.middleware.iam._cli_serve import build_app
from sigv4kit.middleware.iam.login import SignInSettings

FAILED = "Your authentication information is incorrect. Please try again."


def test_any_worker_serves_any_session(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIGV4KIT_MASTER_KEY", base64.b64encode(os.urandom(32)).decode())
    settings = ConsoleSettings(signin=SignInSettings(max_failures=2))
    with console_server(pg_url, settings) as first, \
            run_uvicorn(build_app(pg_url, console_settings=settings)) as second_url:
        browser = first.browser()
        home = browser.sign_in(first.account_id, "admin", first.admin["console_password"])
        assert "Security status" in home.text
        token = browser.client.cookies["sigv4kit_console"]
        with httpx.Client(base_url=second_url, follow_redirects=True, timeout=30) as client:
            other = Browser(client)
            client.cookies.set("sigv4kit_console", token, path="/console")
            users = other.get("/console/users")
            assert users.url.path == "/console/users"
            assert "admin" in users.text
            # Signed out on the second server: the first no longer knows the session.
            other.submit(users, "/console/signout", {})
            assert browser.get("/console/users").url.path == "/console/signin"
            # Failures on either server count toward one lock.
            first.browser().sign_in(first.account_id, "admin", "wrong-1")
            Browser(client).sign_in(first.account_id, "admin", "wrong-2")
            locked = first.browser().sign_in(first.account_id, "admin",
                                             first.admin["console_password"])
            assert locked.status_code == 401
            assert FAILED in locked.text
