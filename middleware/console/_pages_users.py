"""The console's users pages: users, a user's groups, policies, access keys, MFA devices
and console password, and the groups list.

Imports: :mod:`..iam.entities` (IAM's errors), :mod:`..iam.mfa` (the QR code),
:mod:`._html`, :mod:`._ctx`, :mod:`._http`.
"""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import quote

from ..iam.entities import IAMError
from ..iam.mfa import qr_png
from . import _html as h
from ._ctx import PREFIX as P
from ._ctx import Console, Ctx, attempt, date_text, denied_note, error_text, with_query
from ._http import Response

__all__ = ["enable_mfa", "enroll_mfa", "groups_page", "new_key_panel", "user_page", "users_page"]


# -- users --------------------------------------------------------------------------------

async def users_page(app: Console, ctx: Ctx, *, error: str | None,
                     notice: str | None) -> Response:
    found, denied = await attempt(app, ctx, "ListUsers", {"MaxItems": 1000})
    rows = [
        (h.link(u["UserName"], f"{P}/user?name={quote(u['UserName'])}"), h.e(u["Arn"]),
         date_text(u["CreateDate"]))
        for u in found.get("Users", [])
    ]
    body = denied_note(denied) + h.table("Users", ("User name", "ARN", "Created"), rows)
    if await app.may(ctx, "CreateUser", {"UserName": "placeholder"}):
        body += "<h2>Create user</h2>" + h.form(
            f"{P}/users", h.field("User name", "username", required=True), "Create user",
            ctx.csrf)
    return app._page(ctx, "Users", body, current=f"{P}/users", error=error, notice=notice)


def new_key_panel(key: dict[str, Any]) -> str:
    return (
        '<section class="warning" aria-labelledby="new-key"><h2 id="new-key">New access key'
        "</h2><p>This is the only time the secret access key is shown. Store it now.</p>"
        f'<p>Access key ID: <code class="secret" id="new-key-id">{h.e(key["AccessKeyId"])}'
        '</code></p><p>Secret access key: <code class="secret" id="new-key-secret" data-copy>'
        f'{h.e(key["SecretAccessKey"])}</code></p></section>'
    )


async def user_page(app: Console, ctx: Ctx, *, error: str | None, notice: str | None,
                    errors: tuple[str, ...], extra: str) -> Response:
    name = ctx.request.query.get("name", "")
    account = ctx.snapshot.principal.account_id
    got, denied = await attempt(app, ctx, "GetUser", {"UserName": name})
    if denied:
        return app._page(ctx, f"User {name}", denied_note(denied), current=f"{P}/users",
                         error=error)
    user = got["User"]
    target = {"UserName": name}
    hidden = f'<input type="hidden" name="username" value="{h.e(name)}">'
    done = ctx.request.query.get("done") or ("User created." if ctx.request.query.get("created")
                                            else None)
    body = extra + (f"<p>ARN: <code>{h.e(user['Arn'])}</code> · "
                    f"created {date_text(user['CreateDate'])}</p>")
    # Groups
    groups, gerr = await attempt(app, ctx, "ListGroupsForUser", target)
    body += "<h2>Groups</h2>" + denied_note(gerr) + h.table(
        "Groups of this user", ("Group",),
        [(h.e(g["GroupName"]),) for g in groups.get("Groups", [])])
    if await app.may(ctx, "AddUserToGroup", {"UserName": name, "GroupName": "g"}):
        body += h.form(f"{P}/user/groups", hidden + h.field("Group name", "group"),
                       "Add to group", ctx.csrf)
    # Policies
    attached, aerr = await attempt(app, ctx, "ListAttachedUserPolicies", target)
    inline, _ = await attempt(app, ctx, "ListUserPolicies", target)
    rows = [(h.link(p["PolicyName"], f"{P}/policy?arn={quote(p['PolicyArn'])}"), "managed")
            for p in attached.get("AttachedPolicies", [])]
    rows += [(h.e(n), "inline") for n in inline.get("PolicyNames", [])]
    body += "<h2>Permissions</h2>" + denied_note(aerr) + h.table(
        "Policies of this user", ("Policy", "Kind"), rows)
    if await app.may(ctx, "AttachUserPolicy",
                     {**target, "PolicyArn": f"arn:aws:iam::{account}:policy/any"}):
        body += h.form(f"{P}/user/attach", hidden + h.field(
            "Policy ARN", "policy_arn", hint="arn:aws:iam::ACCOUNT:policy/NAME"),
            "Attach policy", ctx.csrf)
    # Access keys
    keys, kerr = await attempt(app, ctx, "ListAccessKeys", target)
    may_update = await app.may(ctx, "UpdateAccessKey",
                               {**target, "AccessKeyId": "AKIAAAAAAAAAAAAAAAAA",
                                "Status": "Inactive"})
    may_delete = await app.may(ctx, "DeleteAccessKey",
                               {**target, "AccessKeyId": "AKIAAAAAAAAAAAAAAAAA"})
    key_rows = []
    for key in keys.get("AccessKeyMetadata", []):
        kid = key["AccessKeyId"]
        used, _ = await attempt(app, ctx, "GetAccessKeyLastUsed", {"AccessKeyId": kid})
        last = used.get("AccessKeyLastUsed", {}).get("LastUsedDate")
        actions = ""
        key_field = hidden + f'<input type="hidden" name="key" value="{h.e(kid)}">'
        if may_update:
            op = "deactivate" if key["Status"] == "Active" else "activate"
            actions += h.form(f"{P}/user/key", key_field +
                              f'<input type="hidden" name="op" value="{op}">',
                              f"{op.capitalize()} {kid}", ctx.csrf, css="inline")
        if may_delete:
            actions += h.form(f"{P}/user/key", key_field +
                              '<input type="hidden" name="op" value="delete">',
                              f"Delete {kid}", ctx.csrf, css="inline", danger=True)
        key_rows.append((h.e(kid), h.e(key["Status"]), date_text(key["CreateDate"]),
                         date_text(last) if last else "never", actions))
    body += "<h2>Access keys</h2>" + denied_note(kerr) + h.table(
        "Access keys", ("Access key ID", "Status", "Created", "Last used", "Actions"), key_rows)
    if await app.may(ctx, "CreateAccessKey", target):
        body += h.form(f"{P}/user/keys", hidden, "Create access key", ctx.csrf)
    # MFA
    devices = await app._enabled_devices(user["UserId"])
    body += "<h2>MFA devices</h2>" + h.table(
        "MFA devices", ("Serial number",), [(h.e(s),) for s in devices])
    user_arn = user["Arn"]
    if app.may_other(ctx, "iam:EnableMFADevice", user_arn) and app.may_other(
            ctx, "iam:CreateVirtualMFADevice", f"arn:aws:iam::{account}:mfa/{name}"):
        body += h.form(f"{P}/user/mfa", hidden + h.field(
            "Device name", "device", value=name, hint="letters, digits and +=,.@-"),
            "Assign a virtual MFA device", ctx.csrf)
    # Console password
    profile, perr = await attempt(app, ctx, "GetLoginProfile", target)
    body += "<h2>Console password</h2>"
    exists = bool(profile)
    if exists:
        lp = profile["LoginProfile"]
        reset = " (must change at next sign-in)" if lp.get("PasswordResetRequired") else ""
        body += f"<p>Set on {date_text(lp['CreateDate'])}{h.e(reset)}.</p>"
    elif perr and "NoSuchEntity" in perr:
        body += "<p>This user has no console password.</p>"
    else:
        body += denied_note(perr)
    action = "UpdateLoginProfile" if exists else "CreateLoginProfile"
    if await app.may(ctx, action, {**target, "Password": "x"}):
        op = "update" if exists else "create"
        fields = (hidden + f'<input type="hidden" name="op" value="{op}">'
                  + h.field("New password", "password", kind="password", required=True,
                            autocomplete="new-password")
                  + h.field("Require a new password at next sign-in", "reset",
                            kind="checkbox", value="true"))
        body += h.form(f"{P}/user/password", fields,
                       "Reset password" if exists else "Set console password", ctx.csrf)
    if exists and await app.may(ctx, "DeleteLoginProfile", target):
        body += h.form(f"{P}/user/password", hidden +
                       '<input type="hidden" name="op" value="delete">',
                       "Remove console password", ctx.csrf, danger=True)
    return app._page(ctx, f"User {user['UserName']}", body, current=f"{P}/users",
                     error=error, errors=errors, notice=notice or done)


async def enroll_mfa(app: Console, ctx: Ctx) -> Response:
    name = ctx.request.form.get("username", "")
    device = ctx.request.form.get("device", "") or name
    account = ctx.snapshot.principal.account_id
    scoped = with_query(ctx, name)
    got, denied = await attempt(app, ctx, "GetUser", {"UserName": name})
    if denied:
        return await app.user(scoped, error=denied)
    if not (app.may_other(ctx, "iam:CreateVirtualMFADevice",
                          f"arn:aws:iam::{account}:mfa/{device}")
            and app.may_other(ctx, "iam:EnableMFADevice", got["User"]["Arn"])):
        return await app.user(scoped, error="AccessDenied: you may not assign MFA devices "
                                            "to this user.")
    try:
        new = await app.mfa.create_virtual_mfa_device(account, device, now=ctx.now)
    except IAMError as exc:
        return await app.user(scoped, error=error_text(exc))
    png = base64.b64encode(qr_png(new.provisioning_uri)).decode("ascii")
    hidden = (f'<input type="hidden" name="username" value="{h.e(name)}">'
              f'<input type="hidden" name="serial" value="{h.e(new.device.serial_number)}">')
    fields = hidden + h.field("First code", "code1", required=True,
                              extra=' inputmode="numeric" maxlength="6"') + h.field(
        "Second code (the next one)", "code2", required=True,
        extra=' inputmode="numeric" maxlength="6"')
    body = (
        "<p>Scan the QR code with an authenticator app, or type the secret key, then enter "
        "two consecutive codes.</p>"
        f'<img src="data:image/png;base64,{png}" alt="QR code of the device\'s secret '
        f'key" width="200" height="200">'
        f'<p>Secret key: <code class="secret" id="mfa-seed">{h.e(new.base32_string_seed)}'
        "</code></p>"
        + h.form(f"{P}/user/mfa/enable", fields, "Assign MFA", ctx.csrf)
    )
    return app._page(ctx, f"Assign MFA device to {name}", body, current=f"{P}/users")


async def enable_mfa(app: Console, ctx: Ctx) -> Response:
    form = ctx.request.form
    name, serial = form.get("username", ""), form.get("serial", "")
    account = ctx.snapshot.principal.account_id
    scoped = with_query(ctx, name)
    got, denied = await attempt(app, ctx, "GetUser", {"UserName": name})
    if denied or not app.may_other(ctx, "iam:EnableMFADevice", got["User"]["Arn"]):
        return await app.user(scoped, error=denied or "AccessDenied")
    try:
        await app.mfa.enable_mfa_device(account, name, serial, form.get("code1", ""),
                                        form.get("code2", ""), now=ctx.now)
    except IAMError as exc:
        return await app.user(scoped, error=error_text(exc))
    return Response.redirect(f"{P}/user?name={quote(name)}&done={quote('MFA device assigned.')}")


# -- groups -------------------------------------------------------------------------------

async def groups_page(app: Console, ctx: Ctx, *, error: str | None) -> Response:
    found, denied = await attempt(app, ctx, "ListGroups", {"MaxItems": 1000})
    rows = [(h.e(g["GroupName"]), h.e(g["Arn"]), date_text(g["CreateDate"]))
            for g in found.get("Groups", [])]
    body = denied_note(denied) + h.table("Groups", ("Group", "ARN", "Created"), rows)
    if await app.may(ctx, "CreateGroup", {"GroupName": "placeholder"}):
        body += "<h2>Create group</h2>" + h.form(
            f"{P}/groups", h.field("Group name", "group", required=True), "Create group",
            ctx.csrf)
    return app._page(ctx, "Groups", body, current=f"{P}/groups", error=error)
