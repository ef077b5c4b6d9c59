"""The console's account pages: the security dashboard, the audit trail, the account
password policy, the credential report and the signed-in user's own password.

Imports: :mod:`..audit` (lookups), :mod:`..iam.entities` and :mod:`..iam.login` (errors),
:mod:`._html`, :mod:`._ctx`, :mod:`._http`.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from sigv4kit import SigV4Error

from ..audit import LookupKey, LookupQuery
from ..iam.entities import NoSuchEntity
from . import _html as h
from ._ctx import PREFIX as P
from ._ctx import Console, Ctx, attempt, denied_note, error_text
from ._http import Response

__all__ = [
    "account_page",
    "audit_page",
    "change_my_password",
    "credential_report",
    "dashboard",
    "my_password",
    "update_account",
]

#: An active access key older than this is listed on the dashboard.
OLD_KEY = timedelta(days=90)


# -- dashboard ----------------------------------------------------------------------------

async def dashboard(app: Console, ctx: Ctx) -> Response:
    cards: list[str] = []
    warnings: list[str] = []
    account = ctx.snapshot.principal.account_id
    if ctx.snapshot.is_root:
        warnings.append("You are signed in as the root user. Use it only for the tasks that "
                        "need it; create an IAM user with administrator rights for daily work.")
        if not await app._enabled_devices(account):
            warnings.append("The root user has no MFA device: enroll one.")
    users, error = await attempt(app, ctx, "ListUsers", {"MaxItems": 1000})
    if error is None:
        rows = users.get("Users", [])
        no_mfa: list[str] = []
        old_keys: list[str] = []
        with_password: list[str] = []
        for user in rows:
            name = user["UserName"]
            if not await app._enabled_devices(user["UserId"]):
                no_mfa.append(name)
            keys, _ = await attempt(app, ctx, "ListAccessKeys", {"UserName": name})
            for key in keys.get("AccessKeyMetadata", []):
                if key["Status"] == "Active" and ctx.now - key["CreateDate"] > OLD_KEY:
                    old_keys.append(f"{name}: {key['AccessKeyId']}")
            try:
                await app.logins.get_login_profile(account, name)
            except NoSuchEntity:  # no console password: the only answer that means "none"
                continue
            with_password.append(name)
        cards.append(_card("Users", str(len(rows))))
        cards.append(_card("Users without MFA", str(len(no_mfa)), no_mfa))
        cards.append(_card("Console users without MFA", str(len(set(with_password) & set(no_mfa))),
                           sorted(set(with_password) & set(no_mfa))))
        cards.append(_card("Active keys older than 90 days", str(len(old_keys)), old_keys))
    _policy, policy_error = await attempt(app, ctx, "GetAccountPasswordPolicy")
    if policy_error and "NoSuchEntity" in policy_error:
        warnings.append("No account password policy is set (IAM's default applies).")
    body = "".join(f'<p class="warning">{h.e(w)}</p>' for w in warnings)
    body += f'<div class="cards">{"".join(cards)}</div>' + denied_note(error)
    if app.may_other(ctx, "iam:GetCredentialReport"):
        body += "<p>" + h.link("Download the credential report (CSV)",
                               f"{P}/credential-report") + "</p>"
    notice = ("Your password was changed." if ctx.request.query.get("changed") else None)
    return app._page(ctx, "Security status", body, current=f"{P}/", notice=notice)


def _card(title: str, value: str, items: list[str] | None = None) -> str:
    listing = ""
    if items:
        listing = "<ul>" + "".join(f"<li>{h.e(i)}</li>" for i in items[:20]) + "</ul>"
    return f'<section class="card"><h2>{h.e(title)}</h2><p>{h.e(value)}</p>{listing}</section>'


# -- audit --------------------------------------------------------------------------------

_LOOKUP_KEYS = [(k.value, k.value) for k in (
    LookupKey.USERNAME, LookupKey.EVENT_NAME, LookupKey.EVENT_SOURCE, LookupKey.ACCESS_KEY_ID,
    LookupKey.RESOURCE_NAME, LookupKey.READ_ONLY, LookupKey.EVENT_ID)]


async def audit_page(app: Console, ctx: Ctx) -> Response:
    if not app.may_other(ctx, "cloudtrail:LookupEvents"):
        return app._page(ctx, "Audit trail", denied_note(
            "AccessDenied: you may not run cloudtrail:LookupEvents."), current=f"{P}/audit",
            status=403)
    q = ctx.request.query
    key, value = q.get("key", LookupKey.USERNAME.value), q.get("value", "").strip()
    end = None
    if q.get("before"):
        try:
            end = datetime.fromisoformat(q["before"])
        except ValueError:
            end = None
    attributes: tuple[tuple[LookupKey, str], ...] = ()
    if value and key in {k for k, _ in _LOOKUP_KEYS}:
        attributes = ((LookupKey(key), value),)
    try:
        found = await app.lookup(LookupQuery(attributes=attributes, end=end, max_results=25))
    except ValueError as exc:
        return app._page(ctx, "Audit trail", "", current=f"{P}/audit", error=str(exc))
    events = found.get("Events", [])
    rows = [(h.e(ev.get("EventTime")), h.e(ev.get("EventName")), h.e(ev.get("Username", "")),
             h.e(ev.get("EventSource")), h.e(_outcome(ev.get("CloudTrailEvent", ""))))
            for ev in events]
    search = (
        f'<form method="get" action="{P}/audit">'
        + h.select("Lookup attribute", "key", _LOOKUP_KEYS, selected=key)
        + h.field("Value", "value", value=value)
        + '<button type="submit">Look up</button></form>'
    )
    body = search + h.table("Events, newest first",
                            ("Time", "Event", "User name", "Source", "Outcome"), rows)
    if len(events) == 25:
        last = datetime.fromisoformat(events[-1]["EventTime"]) - timedelta(microseconds=1)
        body += "<p>" + h.link("Older events", f"{P}/audit?key={quote(key)}&value="
                               f"{quote(value)}&before={quote(last.isoformat())}") + "</p>"
    return app._page(ctx, "Audit trail", body, current=f"{P}/audit")


def _outcome(line: str) -> str:
    try:
        record = json.loads(line)
    except ValueError:
        return ""
    if record.get("errorCode"):
        return str(record["errorCode"])
    login = (record.get("responseElements") or {}).get("ConsoleLogin")
    return str(login or "ok")


# -- account ------------------------------------------------------------------------------

async def account_page(app: Console, ctx: Ctx, *, error: str | None = None,
                       notice: str | None = None) -> Response:
    found, denied = await attempt(app, ctx, "GetAccountPasswordPolicy")
    current = found.get("PasswordPolicy")
    if current is None and denied and "NoSuchEntity" in denied:
        body = "<p>No password policy is set: IAM's default applies (8 characters, three of " \
               "uppercase, lowercase, numbers and symbols).</p>"
        current = {}
    else:
        body = denied_note(denied)
    if current is not None and await app.may(ctx, "UpdateAccountPasswordPolicy"):
        c = current
        fields = (
            h.field("Minimum password length (6-128)", "min_length", kind="number",
                    value=str(c.get("MinimumPasswordLength", 8)))
            + h.field("Require an uppercase letter", "upper", kind="checkbox",
                      value="1" if c.get("RequireUppercaseCharacters") else "")
            + h.field("Require a lowercase letter", "lower", kind="checkbox",
                      value="1" if c.get("RequireLowercaseCharacters") else "")
            + h.field("Require a number", "numbers", kind="checkbox",
                      value="1" if c.get("RequireNumbers") else "")
            + h.field("Require a symbol", "symbols", kind="checkbox",
                      value="1" if c.get("RequireSymbols") else "")
            + h.field("Allow users to change their own password", "allow_change",
                      kind="checkbox", value="1" if c.get("AllowUsersToChangePassword") else "")
            + h.field("Password expiration in days (1-1095, empty: never)", "max_age",
                      kind="number", value=str(c.get("MaxPasswordAge", "")))
            + h.field("Remember previous passwords (1-24, empty: none)", "reuse",
                      kind="number", value=str(c.get("PasswordReusePrevention", "")))
            + h.field("Expired passwords need an administrator reset", "hard_expiry",
                      kind="checkbox", value="1" if c.get("HardExpiry") else "")
        )
        body += "<h2>Password policy</h2>" + h.form(f"{P}/account", fields, "Save policy",
                                                    ctx.csrf)
    elif current:
        body += "<h2>Password policy</h2><pre>" + h.e(json.dumps(current, indent=2)) + "</pre>"
    return app._page(ctx, "Account settings", body, current=f"{P}/account", error=error,
                     notice=notice)


async def update_account(app: Console, ctx: Ctx) -> Response:
    form = ctx.request.form
    params: dict[str, Any] = {
        "MinimumPasswordLength": form.get("min_length") or None,
        "RequireUppercaseCharacters": form.get("upper") == "true",
        "RequireLowercaseCharacters": form.get("lower") == "true",
        "RequireNumbers": form.get("numbers") == "true",
        "RequireSymbols": form.get("symbols") == "true",
        "AllowUsersToChangePassword": form.get("allow_change") == "true",
        "MaxPasswordAge": form.get("max_age") or None,
        "PasswordReusePrevention": form.get("reuse") or None,
        "HardExpiry": form.get("hard_expiry") == "true" or None,
    }
    _, error = await attempt(app, ctx, "UpdateAccountPasswordPolicy", params)
    return await account_page(app, ctx, error=error,
                              notice=None if error else "Password policy saved.")


# -- credential report --------------------------------------------------------------------

REPORT_COLUMNS = (
    "user", "arn", "user_creation_time", "password_enabled", "password_last_changed",
    "mfa_active", "access_key_1_active", "access_key_1_last_rotated",
    "access_key_1_last_used_date", "access_key_2_active", "access_key_2_last_rotated",
    "access_key_2_last_used_date",
)


def _iso(value: Any) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S+00:00") if isinstance(value, datetime) else "N/A"


async def credential_report(app: Console, ctx: Ctx) -> Response:
    """IAM's credential report (its columns, less those sigv4kit does not track) as CSV."""
    import csv
    import io

    if not (app.may_other(ctx, "iam:GenerateCredentialReport")
            and app.may_other(ctx, "iam:GetCredentialReport")):
        return app._page(ctx, "Credential report", denied_note(
            "AccessDenied: you may not run iam:GetCredentialReport."), status=403)
    account = ctx.snapshot.principal.account_id
    changed = await app.logins.password_changes(account)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(REPORT_COLUMNS)
    root_mfa = bool(await app._enabled_devices(account))
    writer.writerow(["<root_account>", f"arn:aws:iam::{account}:root", "N/A",
                     str(account in changed).lower(), _iso(changed.get(account)),
                     str(root_mfa).lower(), "false", "N/A", "N/A", "false", "N/A", "N/A"])
    users, _ = await attempt(app, ctx, "ListUsers", {"MaxItems": 1000})
    for user in users.get("Users", []):
        keys, _ = await attempt(app, ctx, "ListAccessKeys", {"UserName": user["UserName"]})
        cells: list[str] = []
        metadata = sorted(keys.get("AccessKeyMetadata", []), key=lambda k: k["CreateDate"])
        for index in range(2):
            if index < len(metadata):
                key = metadata[index]
                used, _ = await attempt(app, ctx, "GetAccessKeyLastUsed",
                                      {"AccessKeyId": key["AccessKeyId"]})
                cells += [str(key["Status"] == "Active").lower(), _iso(key["CreateDate"]),
                          _iso(used.get("AccessKeyLastUsed", {}).get("LastUsedDate"))]
            else:
                cells += ["false", "N/A", "N/A"]
        writer.writerow([
            user["UserName"], user["Arn"], _iso(user["CreateDate"]),
            str(user["UserId"] in changed).lower(), _iso(changed.get(user["UserId"])),
            str(bool(await app._enabled_devices(user["UserId"]))).lower(), *cells,
        ])
    response = Response(body=out.getvalue().encode(), content_type="text/csv; charset=utf-8")
    response.headers.append(("content-disposition",
                             'attachment; filename="credential-report.csv"'))
    return response


# -- the signed-in user's own password ----------------------------------------------------

async def my_password(app: Console, ctx: Ctx, *, error: str | None = None,
                      errors: tuple[str, ...] = (), notice: str | None = None) -> Response:
    """ChangePassword for the signed-in IAM user (the account policy's
    AllowUsersToChangePassword, or a policy allowing iam:ChangePassword)."""
    if ctx.snapshot.is_root:
        return app._page(ctx, "Change your password", denied_note(
            "InvalidUserType: Only IAM Users can change their own password."), status=400)
    if not await app.may(ctx, "ChangePassword", {"OldPassword": "x", "NewPassword": "x"}):
        return app._page(ctx, "Change your password", denied_note(
            "AccessDenied: you may not change your password; ask an administrator."),
            status=403)
    fields = (h.field("Current password", "old_password", kind="password", required=True,
                      autocomplete="current-password")
              + h.field("New password", "new_password", kind="password", required=True,
                        autocomplete="new-password")
              + h.field("Confirm new password", "confirm_password", kind="password",
                        required=True, autocomplete="new-password"))
    body = h.form(f"{P}/my-password", fields, "Change password", ctx.csrf)
    return app._page(ctx, "Change your password", body, current=f"{P}/my-password",
                     error=error, errors=errors, notice=notice,
                     status=400 if error else 200)


async def change_my_password(app: Console, ctx: Ctx) -> Response:
    from ..iam.login import PasswordPolicyViolation

    form = ctx.request.form
    new = form.get("new_password", "")
    if new != form.get("confirm_password", ""):
        return await my_password(app, ctx, error="The two passwords do not match.")
    try:
        await app.call(ctx, "ChangePassword", {"OldPassword": form.get("old_password", ""),
                                               "NewPassword": new})
    except PasswordPolicyViolation as exc:
        return await my_password(app, ctx, error=error_text(exc), errors=exc.reasons)
    except SigV4Error as exc:
        return await my_password(app, ctx, error=error_text(exc))
    return await my_password(app, ctx, notice="Your password was changed.")
