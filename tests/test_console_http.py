"""The console's server logic over plain HTTP (httpx) against ``sigv4kit serve`` under uvicorn:
sign-in, throttling, CSRF, sessions, read-only users, audit events, MFA."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from _console import ConsoleServer, console_server, csrf_of, seed_bytes, text_of
from _iam_api import policy_document, unique
from sigv4kit.middleware.console import ConsoleSettings
from sigv4kit.middleware.iam.login import SignInSettings
from sigv4kit.middleware.iam.mfa import code_at, step_at

FAILED = "Your authentication information is incorrect. Please try again."
SETTINGS = ConsoleSettings(signin=SignInSettings(max_failures=3))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleServer]:
    path = tmp_path_factory.mktemp("console") / "iam.db"
    with console_server(f"sqlite:///{path}", SETTINGS) as running:
        yield running


@pytest.fixture(scope="module")
def idle_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleServer]:
    path = tmp_path_factory.mktemp("console-idle") / "iam.db"
    with console_server(f"sqlite:///{path}",
                        ConsoleSettings(idle_timeout=timedelta(seconds=5))) as running:
        yield running


def db(server: ConsoleServer) -> sqlite3.Connection:
    return sqlite3.connect(Path(server.store_url.removeprefix("sqlite:///")))


def admin_browser(server: ConsoleServer):  # type: ignore[no-untyped-def]
    browser = server.browser()
    page = browser.sign_in(server.account_id, "admin", server.admin["console_password"])
    assert page.status_code == 200, page.text
    assert "Security status" in page.text
    return browser, page


def audit_records(server: ConsoleServer, event_name: str) -> list[dict[str, object]]:
    with db(server) as conn:
        rows = conn.execute("SELECT record FROM audit_events WHERE event_name = ? ORDER BY seq",
                            (event_name,)).fetchall()
    return [json.loads(r[0]) for r in rows]


def test_signin_page_cookie_and_form(server: ConsoleServer) -> None:
    browser = server.browser()
    page = browser.get("/console/")  # not signed in: sent to the sign-in page
    assert page.url.path == "/console/signin"
    assert '<label for="f-account">' in page.text
    assert '<label for="f-password">' in page.text
    assert csrf_of(page.text)
    cookie = page.history[-1].headers.get("set-cookie") or page.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie
    assert page.headers["x-frame-options"] == "DENY"
    assert "default-src 'self'" in page.headers["content-security-policy"]


def test_sign_in_sets_a_session_cookie(server: ConsoleServer) -> None:
    browser, page = admin_browser(server)
    set_cookie = page.history[0].headers["set-cookie"]
    assert "sigv4kit_console=" in set_cookie
    assert "HttpOnly" in set_cookie
    assert "SameSite=Lax" in set_cookie
    assert "Path=/console" in set_cookie
    token = browser.client.cookies["sigv4kit_console"]
    with db(server) as conn:
        stored = [r[0] for r in conn.execute("SELECT token_hash FROM console_sessions")]
    assert token not in stored  # only its hash is kept
    assert len(stored) >= 1


def test_wrong_password_and_unknown_user_look_the_same(server: ConsoleServer) -> None:
    browser = server.browser()
    wrong = browser.sign_in(server.account_id, "admin", "not-the-password")
    unknown = browser.sign_in(server.account_id, "nobody-" + unique("x"), "whatever")
    assert (wrong.status_code, unknown.status_code) == (401, 401)
    assert FAILED in wrong.text
    assert FAILED in unknown.text
    failures = [r for r in audit_records(server, "ConsoleLogin")
                if r["responseElements"] == {"ConsoleLogin": "Failure"}]
    names = [r["userIdentity"]["userName"] for r in failures]  # type: ignore[index]
    assert "admin" in names
    assert "HIDDEN_DUE_TO_SECURITY_REASONS" in names
    assert all(r["errorMessage"] == "Failed authentication" for r in failures)
    assert not any("not-the-password" in json.dumps(r) for r in failures)


def test_failed_sign_ins_are_throttled(server: ConsoleServer) -> None:
    admin = server.browser()
    page = admin.sign_in(server.account_id, "admin", server.admin["console_password"])
    name, password = unique("t"), "Throttle-Pass-123"
    create = admin.submit(page, "/console/users", {"username": name})
    assert create.status_code == 200
    user_page = admin.submit(create, "/console/user/password",
                             {"username": name, "op": "create", "password": password})
    assert "Console password set." in user_page.text
    browser = server.browser()
    for _ in range(3):  # max_failures=3
        assert browser.sign_in(server.account_id, name, "wrong-wrong").status_code == 401
    locked = browser.sign_in(server.account_id, name, password)
    assert locked.status_code == 401
    assert FAILED in locked.text
    # An unknown user name is throttled just the same (nothing tells them apart).
    ghost = "ghost-" + unique("g")
    for _ in range(3):
        browser.sign_in(server.account_id, ghost, "wrong-wrong")
    with db(server) as conn:
        locks = conn.execute(
            "SELECT COUNT(*) FROM signin_throttle WHERE locked_until IS NOT NULL").fetchone()[0]
    assert locks >= 2


def test_csrf_is_required_on_every_form(server: ConsoleServer) -> None:
    browser, page = admin_browser(server)
    name = unique("c")
    refused = browser.submit(page, "/console/users", {"username": name}, csrf="forged")
    assert refused.status_code == 403
    missing = browser.client.post("/console/users", data={"username": name})
    assert missing.status_code == 403
    users = browser.get("/console/users")
    assert name not in users.text
    # The sign-in form too: a post without the pre-session cookie's token is refused.
    other = server.browser()
    forged = other.client.post("/console/signin", data={
        "csrf_token": "x", "account": server.account_id, "username": "admin",
        "password": server.admin["console_password"]})
    assert forged.status_code == 403


def test_admin_creates_a_user_and_a_key_shown_once(server: ConsoleServer) -> None:
    browser, page = admin_browser(server)
    name = unique("k")
    created = browser.submit(page, "/console/users", {"username": name})
    assert f"User {name}" in created.text
    with_key = browser.submit(created, "/console/user/keys", {"username": name})
    key_id = text_of(with_key.text, "new-key-id")
    secret = text_of(with_key.text, "new-key-secret")
    assert key_id.startswith("AKIA")
    assert len(secret) == 40
    again = browser.get(f"/console/user?name={name}")
    assert key_id in again.text
    assert secret not in again.text
    deactivated = browser.submit(again, "/console/user/key",
                                 {"username": name, "key": key_id, "op": "deactivate"})
    assert "Inactive" in deactivated.text
    deleted = browser.submit(deactivated, "/console/user/key",
                             {"username": name, "key": key_id, "op": "delete"})
    assert deleted.status_code == 200
    assert key_id not in browser.get(f"/console/user?name={name}").text
    events = [r for r in audit_records(server, "CreateAccessKey")
              if r.get("sessionCredentialFromConsole") == "true"]
    assert events
    assert not any(secret in json.dumps(r) for r in events)


def test_read_only_user_sees_no_write_forms_and_is_refused(server: ConsoleServer) -> None:
    admin, page = admin_browser(server)
    name, password = unique("ro"), "Read-Only-Pass-1"
    page = admin.submit(page, "/console/users", {"username": name})
    page = admin.submit(page, "/console/user/password",
                        {"username": name, "op": "create", "password": password})
    # A read-only inline policy, attached through the API handler the console uses.
    import boto3

    iam = boto3.client("iam", endpoint_url=server.url, region_name="us-east-1",
                       aws_access_key_id=server.admin["access_key_id"],
                       aws_secret_access_key=server.admin["secret_access_key"])
    iam.put_user_policy(UserName=name, PolicyName="read", PolicyDocument=policy_document(
        {"Effect": "Allow", "Action": ["iam:Get*", "iam:List*"], "Resource": "*"}))
    reader = server.browser()
    home = reader.sign_in(server.account_id, name, password)
    assert home.status_code == 200
    users = reader.get("/console/users")
    assert "admin" in users.text
    assert 'action="/console/users"' not in users.text  # no create form
    own = reader.get(f"/console/user?name={name}")
    assert "Create access key" not in own.text
    assert "Reset password" not in own.text
    victim = unique("v")
    refused = reader.submit(users, "/console/users", {"username": victim})
    assert "AccessDenied" in refused.text
    assert victim not in admin.get("/console/users").text
    assert reader.get("/console/audit").status_code == 403  # no cloudtrail:LookupEvents


def test_idle_session_expires(idle_server: ConsoleServer) -> None:
    browser, _page = admin_browser(idle_server)
    assert browser.get("/console/users").url.path == "/console/users"
    time.sleep(6)  # idle_timeout=5s
    expired = browser.get("/console/users")
    assert expired.url.path == "/console/signin"
    assert "Your session has ended" in expired.text


def test_sign_out_ends_the_session(server: ConsoleServer) -> None:
    browser, page = admin_browser(server)
    token = browser.client.cookies["sigv4kit_console"]
    out = browser.submit(page, "/console/signout", {})
    assert out.url.path == "/console/signin"
    stale = server.browser()
    stale.client.cookies.set("sigv4kit_console", token, path="/console")
    assert stale.get("/console/").url.path == "/console/signin"


def test_root_sign_in_shows_best_practice_warnings(server: ConsoleServer) -> None:
    browser = server.browser()
    page = browser.sign_in(server.account_id, None, server.admin["root_password"])
    assert page.status_code == 200
    assert "signed in as the root user" in page.text
    assert "The root user has no MFA device" in page.text
    roots = [r for r in audit_records(server, "ConsoleLogin")
             if r["userIdentity"]["type"] == "Root"]  # type: ignore[index]
    assert roots
    assert roots[-1]["responseElements"] == {"ConsoleLogin": "Success"}


def test_forced_password_change(server: ConsoleServer) -> None:
    admin, page = admin_browser(server)
    name = unique("f")
    page = admin.submit(page, "/console/users", {"username": name})
    admin.submit(page, "/console/user/password", {
        "username": name, "op": "create", "password": "Temporary-Pass-1", "reset": "true"})
    browser = server.browser()
    change = browser.sign_in(server.account_id, name, "Temporary-Pass-1")
    assert change.url.path == "/console/password"
    assert browser.get("/console/users").url.path == "/console/password"
    weak = browser.submit(change, "/console/password",
                          {"new_password": "short", "confirm_password": "short"})
    assert weak.status_code == 400
    assert "Password does not conform to the account password policy." in weak.text
    done = browser.submit(weak, "/console/password", {
        "new_password": "Brand-New-Pass-2", "confirm_password": "Brand-New-Pass-2"})
    assert done.url.path == "/console/"
    assert "Your password was changed." in done.text
    again = server.browser().sign_in(server.account_id, name, "Brand-New-Pass-2")
    assert "Security status" in again.text


def test_mfa_enrollment_and_sign_in_with_a_code_used_once(server: ConsoleServer) -> None:
    admin, page = admin_browser(server)
    name, password = unique("m"), "Mfa-User-Pass-1"
    page = admin.submit(page, "/console/users", {"username": name})
    page = admin.submit(page, "/console/user/password",
                        {"username": name, "op": "create", "password": password})
    enroll = admin.submit(page, "/console/user/mfa", {"username": name, "device": name})
    assert 'alt="QR code' in enroll.text
    seed = seed_bytes(text_of(enroll.text, "mfa-seed"))
    serial = f"arn:aws:iam::{server.account_id}:mfa/{name}"
    step = step_at(time.time())
    enabled = admin.submit(enroll, "/console/user/mfa/enable", {
        "username": name, "serial": serial,
        "code1": code_at(seed, step - 1), "code2": code_at(seed, step)})
    assert "MFA device assigned." in enabled.text
    browser = server.browser()
    ask = browser.sign_in(server.account_id, name, password)
    assert ask.url.path == "/console/mfa"
    assert browser.get("/console/users").url.path == "/console/mfa"
    near = {code_at(seed, step + d) for d in range(-3, 4)}
    wrong = browser.submit(ask, "/console/mfa", {
        "code": next(c for c in ("000000", "111111", "222222", "333333") if c not in near)})
    assert wrong.status_code == 401
    # A code is used once: the device's next code after the two enrollment used.
    code = code_at(seed, max(step_at(time.time()), step + 1))
    ok = browser.submit(wrong, "/console/mfa", {"code": code})
    assert ok.url.path == "/console/"
    assert "Security status" in ok.text
    # The same code cannot sign in a second time.
    other = server.browser()
    ask2 = other.sign_in(server.account_id, name, password)
    replay = other.submit(ask2, "/console/mfa", {"code": code})
    assert replay.status_code == 401
    logins = [r for r in audit_records(server, "ConsoleLogin")
              if r["userIdentity"].get("userName") == name  # type: ignore[union-attr]
              and r["responseElements"] == {"ConsoleLogin": "Success"}]
    assert logins[-1]["additionalEventData"]["MFAUsed"] == "Yes"  # type: ignore[index]


def test_policy_editor_rejects_then_accepts(server: ConsoleServer) -> None:
    browser, _ = admin_browser(server)
    form = browser.get("/console/policies/new")
    name = unique("p")
    bad = browser.submit(form, "/console/policies/new", {
        "name": name, "document": '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow"}]}'})
    assert bad.status_code == 400
    assert "MalformedPolicyDocument" in bad.text
    good_doc = policy_document({"Effect": "Allow", "Action": "s3:GetObject",
                                "Resource": "arn:aws:s3:::bucket/*"})
    good = browser.submit(bad, "/console/policies/new", {"name": name, "document": good_doc})
    assert good.status_code == 200
    assert f"Policy {name}" in good.text
    assert "Policy created." in good.text


def test_simulator_and_audit_lookup(server: ConsoleServer) -> None:
    browser, _page = admin_browser(server)
    sim = browser.get("/console/simulator")
    result = browser.submit(sim, "/console/simulator", {
        "source": f"arn:aws:iam::{server.account_id}:user/admin",
        "actions": "s3:GetObject iam:CreateUser", "resources": "*"})
    assert result.text.count('class="allowed"') == 2
    assert "AdministratorAccess" in result.text
    trail = browser.get("/console/audit?key=EventName&value=ConsoleLogin")
    assert trail.status_code == 200
    assert "ConsoleLogin" in trail.text
    assert "Success" in trail.text


def test_credential_report_download(server: ConsoleServer) -> None:
    browser, page = admin_browser(server)
    assert "Download the credential report (CSV)" in page.text
    report = browser.get("/console/credential-report")
    assert report.status_code == 200
    assert report.headers["content-type"] == "text/csv; charset=utf-8"
    assert "attachment" in report.headers["content-disposition"]
    lines = report.text.splitlines()
    assert lines[0].startswith("user,arn,user_creation_time,password_enabled")
    root = lines[1].split(",")
    assert root[:2] == ["<root_account>", f"arn:aws:iam::{server.account_id}:root"]
    assert root[3] == "true"  # bootstrapped with --root-password
    admin = next(line.split(",") for line in lines if line.startswith("admin,"))
    assert admin[3] == "true"  # --console-password
    assert admin[6] == "true"  # the bootstrap access key is active


def test_role_page_revokes_older_sessions(server: ConsoleServer) -> None:
    import boto3

    iam = boto3.client("iam", endpoint_url=server.url, region_name="us-east-1",
                       aws_access_key_id=server.admin["access_key_id"],
                       aws_secret_access_key=server.admin["secret_access_key"])
    role = unique("r")
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
        "Action": "sts:AssumeRole"}]}
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(trust))
    browser, _ = admin_browser(server)
    page = browser.get(f"/console/role?name={role}")
    assert "ec2.amazonaws.com" in page.text  # the trust policy
    done = browser.submit(page, "/console/role/revoke", {"name": role})
    assert "Sessions issued before now are revoked." in done.text
    document = iam.get_role_policy(RoleName=role, PolicyName="AWSRevokeOlderSessions")[
        "PolicyDocument"]
    (statement,) = document["Statement"]
    assert statement["Effect"] == "Deny"
    assert list(statement["Condition"]["DateLessThan"]) == ["aws:TokenIssueTime"]


def test_policy_editor_shows_lint_findings_before_saving(server: ConsoleServer) -> None:
    browser, _ = admin_browser(server)
    form = browser.get("/console/policies/new")
    name = unique("lint")
    document = policy_document({"Effect": "Allow", "NotAction": "s3:GetObject",
                                "Resource": "*"})
    warned = browser.submit(form, "/console/policies/new", {"name": name, "document": document})
    assert "ALLOW_WITH_NOT_ACTION" in warned.text
    assert "Save anyway" in warned.text
    assert name not in browser.get("/console/policies").text  # nothing saved yet
    saved = browser.submit(warned, "/console/policies/new",
                           {"name": name, "document": document, "confirm": "true"})
    assert f"Policy {name}" in saved.text


def test_oversized_forms_are_refused_not_crashed(server: ConsoleServer) -> None:
    browser = server.browser()
    many = "&".join(f"f{i}=x" for i in range(500))
    assert browser.client.post("/console/signin", content=many, headers={
        "content-type": "application/x-www-form-urlencoded"}).status_code == 413
    huge = b"a=" + b"x" * (1024 * 1024 + 10)
    assert browser.client.post("/console/signin", content=huge, headers={
        "content-type": "application/x-www-form-urlencoded"}).status_code == 413
    assert browser.get("/console/signin?" + many).status_code == 413


def test_users_change_their_own_password(server: ConsoleServer) -> None:
    admin, page = admin_browser(server)
    name, password = unique("self"), "Own-Password-1"
    page = admin.submit(page, "/console/users", {"username": name})
    admin.submit(page, "/console/user/password",
                 {"username": name, "op": "create", "password": password})
    user = server.browser()
    user.sign_in(server.account_id, name, password)
    # No policy grants iam:ChangePassword and the account does not allow it yet.
    assert user.get("/console/my-password").status_code == 403
    account = admin.get("/console/account")
    saved = admin.submit(account, "/console/account", {
        "min_length": "10", "allow_change": "true", "numbers": "true"})
    assert "Password policy saved." in saved.text
    form = user.get("/console/my-password")
    assert form.status_code == 200
    wrong = user.submit(form, "/console/my-password", {
        "old_password": "not-mine", "new_password": "Changed-Pass-22",
        "confirm_password": "Changed-Pass-22"})
    assert "AccessDenied" in wrong.text
    weak = user.submit(wrong, "/console/my-password", {
        "old_password": password, "new_password": "nodigits-here",
        "confirm_password": "nodigits-here"})
    assert "at least one number (0-9)" in weak.text
    done = user.submit(weak, "/console/my-password", {
        "old_password": password, "new_password": "Changed-Pass-22",
        "confirm_password": "Changed-Pass-22"})
    assert "Your password was changed." in done.text
    again = server.browser().sign_in(server.account_id, name, "Changed-Pass-22")
    assert "Security status" in again.text
    reset = admin.get("/console/account")
    admin.submit(reset, "/console/account", {"min_length": "8"})
