"""The console's pages: each reads through the IAM API's handlers as the signed-in user
and shows a write form only when the policy engine allows its action."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote, unquote

from sigv4kit import SigV4Error

from ..audit import LookupKey, LookupQuery
from ..iam.entities import NoSuchEntity
from ..iam.mfa import MFAError, qr_png
from . import _html as h
from ._ctx import Console, Ctx, error_text, with_query
from ._http import Response

__all__ = [
    "account_page",
    "audit_page",
    "change_my_password",
    "credential_report",
    "dashboard",
    "enable_mfa",
    "enroll_mfa",
    "groups_page",
    "my_password",
    "new_key_panel",
    "new_policy_page",
    "policies_page",
    "policy_page",
    "revoke_document",
    "revoke_sessions",
    "role_page",
    "roles_page",
    "simulate",
    "simulator_page",
    "update_account",
    "user_page",
    "users_page",
]

P = "/console"
OLD_KEY = timedelta(days=90)


def _date(value: Any) -> str:
    if isinstance(value, datetime):
        return h.e(value.strftime("%Y-%m-%d %H:%M UTC"))
    return h.e(value)


async def _read(app: Console, ctx: Ctx, action: str, params: dict[str, Any] | None = None
                ) -> tuple[dict[str, Any], str | None]:
    try:
        return await app.call(ctx, action, params), None
    except SigV4Error as exc:
        return {}, error_text(exc)


def _denied_note(error: str | None) -> str:
    return f'<p class="warning">{h.e(error)}</p>' if error else ""


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
    users, error = await _read(app, ctx, "ListUsers", {"MaxItems": 1000})
    if error is None:
        rows = users.get("Users", [])
        no_mfa: list[str] = []
        old_keys: list[str] = []
        with_password: list[str] = []
        for user in rows:
            name = user["UserName"]
            if not await app._enabled_devices(user["UserId"]):
                no_mfa.append(name)
            keys, _ = await _read(app, ctx, "ListAccessKeys", {"UserName": name})
            for key in keys.get("AccessKeyMetadata", []):
                if key["Status"] == "Active" and ctx.now - key["CreateDate"] > OLD_KEY:
                    old_keys.append(f"{name}: {key['AccessKeyId']}")
            try:
                await app.logins.get_login_profile(account, name)
                with_password.append(name)
            except NoSuchEntity:  # no console password: the only answer that means "none"
                pass
        cards.append(_card("Users", str(len(rows))))
        cards.append(_card("Users without MFA", str(len(no_mfa)), no_mfa))
        cards.append(_card("Console users without MFA", str(len(set(with_password) & set(no_mfa))),
                           sorted(set(with_password) & set(no_mfa))))
        cards.append(_card("Active keys older than 90 days", str(len(old_keys)), old_keys))
    _policy, policy_error = await _read(app, ctx, "GetAccountPasswordPolicy")
    if policy_error and "NoSuchEntity" in policy_error:
        warnings.append("No account password policy is set (IAM's default applies).")
    body = "".join(f'<p class="warning">{h.e(w)}</p>' for w in warnings)
    body += f'<div class="cards">{"".join(cards)}</div>' + _denied_note(error)
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


# -- users --------------------------------------------------------------------------------

async def users_page(app: Console, ctx: Ctx, *, error: str | None,
                     notice: str | None) -> Response:
    found, denied = await _read(app, ctx, "ListUsers", {"MaxItems": 1000})
    rows = [
        (h.link(u["UserName"], f"{P}/user?name={quote(u['UserName'])}"), h.e(u["Arn"]),
         _date(u["CreateDate"]))
        for u in found.get("Users", [])
    ]
    body = _denied_note(denied) + h.table("Users", ("User name", "ARN", "Created"), rows)
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
    got, denied = await _read(app, ctx, "GetUser", {"UserName": name})
    if denied:
        return app._page(ctx, f"User {name}", _denied_note(denied), current=f"{P}/users",
                         error=error)
    user = got["User"]
    target = {"UserName": name}
    hidden = f'<input type="hidden" name="username" value="{h.e(name)}">'
    done = ctx.request.query.get("done") or ("User created." if ctx.request.query.get("created")
                                            else None)
    body = extra + (f"<p>ARN: <code>{h.e(user['Arn'])}</code> · "
                    f"created {_date(user['CreateDate'])}</p>")
    # Groups
    groups, gerr = await _read(app, ctx, "ListGroupsForUser", target)
    body += "<h2>Groups</h2>" + _denied_note(gerr) + h.table(
        "Groups of this user", ("Group",),
        [(h.e(g["GroupName"]),) for g in groups.get("Groups", [])])
    if await app.may(ctx, "AddUserToGroup", {"UserName": name, "GroupName": "g"}):
        body += h.form(f"{P}/user/groups", hidden + h.field("Group name", "group"),
                       "Add to group", ctx.csrf)
    # Policies
    attached, aerr = await _read(app, ctx, "ListAttachedUserPolicies", target)
    inline, _ = await _read(app, ctx, "ListUserPolicies", target)
    rows = [(h.link(p["PolicyName"], f"{P}/policy?arn={quote(p['PolicyArn'])}"), "managed")
            for p in attached.get("AttachedPolicies", [])]
    rows += [(h.e(n), "inline") for n in inline.get("PolicyNames", [])]
    body += "<h2>Permissions</h2>" + _denied_note(aerr) + h.table(
        "Policies of this user", ("Policy", "Kind"), rows)
    if await app.may(ctx, "AttachUserPolicy",
                     {**target, "PolicyArn": f"arn:aws:iam::{account}:policy/any"}):
        body += h.form(f"{P}/user/attach", hidden + h.field(
            "Policy ARN", "policy_arn", hint="arn:aws:iam::ACCOUNT:policy/NAME"),
            "Attach policy", ctx.csrf)
    # Access keys
    keys, kerr = await _read(app, ctx, "ListAccessKeys", target)
    may_update = await app.may(ctx, "UpdateAccessKey",
                               {**target, "AccessKeyId": "AKIAAAAAAAAAAAAAAAAA",
                                "Status": "Inactive"})
    may_delete = await app.may(ctx, "DeleteAccessKey",
                               {**target, "AccessKeyId": "AKIAAAAAAAAAAAAAAAAA"})
    key_rows = []
    for key in keys.get("AccessKeyMetadata", []):
        kid = key["AccessKeyId"]
        used, _ = await _read(app, ctx, "GetAccessKeyLastUsed", {"AccessKeyId": kid})
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
        key_rows.append((h.e(kid), h.e(key["Status"]), _date(key["CreateDate"]),
                         _date(last) if last else "never", actions))
    body += "<h2>Access keys</h2>" + _denied_note(kerr) + h.table(
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
    profile, perr = await _read(app, ctx, "GetLoginProfile", target)
    body += "<h2>Console password</h2>"
    exists = bool(profile)
    if exists:
        lp = profile["LoginProfile"]
        reset = " (must change at next sign-in)" if lp.get("PasswordResetRequired") else ""
        body += f"<p>Set on {_date(lp['CreateDate'])}{h.e(reset)}.</p>"
    elif perr and "NoSuchEntity" in perr:
        body += "<p>This user has no console password.</p>"
    else:
        body += _denied_note(perr)
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
    got, denied = await _read(app, ctx, "GetUser", {"UserName": name})
    if denied:
        return await app.user(scoped, error=denied)
    if not (app.may_other(ctx, "iam:CreateVirtualMFADevice",
                          f"arn:aws:iam::{account}:mfa/{device}")
            and app.may_other(ctx, "iam:EnableMFADevice", got["User"]["Arn"])):
        return await app.user(scoped, error="AccessDenied: you may not assign MFA devices "
                                            "to this user.")
    try:
        new = await app.mfa.create_virtual_mfa_device(account, device, now=ctx.now)
    except MFAError as exc:
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
    got, denied = await _read(app, ctx, "GetUser", {"UserName": name})
    if denied or not app.may_other(ctx, "iam:EnableMFADevice", got["User"]["Arn"]):
        return await app.user(scoped, error=denied or "AccessDenied")
    try:
        await app.mfa.enable_mfa_device(account, name, serial, form.get("code1", ""),
                                        form.get("code2", ""), now=ctx.now)
    except MFAError as exc:
        return await app.user(scoped, error=error_text(exc))
    return Response.redirect(f"{P}/user?name={quote(name)}&done={quote('MFA device assigned.')}")


# -- groups and roles ---------------------------------------------------------------------

async def groups_page(app: Console, ctx: Ctx, *, error: str | None) -> Response:
    found, denied = await _read(app, ctx, "ListGroups", {"MaxItems": 1000})
    rows = [(h.e(g["GroupName"]), h.e(g["Arn"]), _date(g["CreateDate"]))
            for g in found.get("Groups", [])]
    body = _denied_note(denied) + h.table("Groups", ("Group", "ARN", "Created"), rows)
    if await app.may(ctx, "CreateGroup", {"GroupName": "placeholder"}):
        body += "<h2>Create group</h2>" + h.form(
            f"{P}/groups", h.field("Group name", "group", required=True), "Create group",
            ctx.csrf)
    return app._page(ctx, "Groups", body, current=f"{P}/groups", error=error)


async def roles_page(app: Console, ctx: Ctx) -> Response:
    found, denied = await _read(app, ctx, "ListRoles", {"MaxItems": 1000})
    rows = [(h.link(r["RoleName"], f"{P}/role?name={quote(r['RoleName'])}"), h.e(r["Arn"]),
             _date(r["CreateDate"])) for r in found.get("Roles", [])]
    body = _denied_note(denied) + h.table("Roles", ("Role", "ARN", "Created"), rows)
    return app._page(ctx, "Roles", body, current=f"{P}/roles")


def _document(value: Any) -> str:
    if isinstance(value, str):
        try:
            value = json.loads(unquote(value))
        except ValueError:
            return str(value)
    return json.dumps(value, indent=2)


async def role_page(app: Console, ctx: Ctx) -> Response:
    name = ctx.request.query.get("name", "")
    got, denied = await _read(app, ctx, "GetRole", {"RoleName": name})
    if denied:
        return app._page(ctx, f"Role {name}", _denied_note(denied), current=f"{P}/roles")
    role = got["Role"]
    attached, _ = await _read(app, ctx, "ListAttachedRolePolicies", {"RoleName": name})
    body = (f"<p>ARN: <code>{h.e(role['Arn'])}</code></p><h2>Trust policy</h2>"
            f"<pre>{h.e(_document(role.get('AssumeRolePolicyDocument')))}</pre>"
            + h.table("Attached policies", ("Policy",),
                      [(h.link(p["PolicyName"], f"{P}/policy?arn={quote(p['PolicyArn'])}"),)
                       for p in attached.get("AttachedPolicies", [])]))
    if await app.may(ctx, "PutRolePolicy", {"RoleName": name, "PolicyName": REVOKE_POLICY,
                                            "PolicyDocument": "{}"}):
        hidden = f'<input type="hidden" name="name" value="{h.e(name)}">'
        body += ("<h2>Revoke active sessions</h2><p>Denies every action to sessions of this "
                 "role issued before now (the inline policy " f"<code>{REVOKE_POLICY}</code>, "
                 "as AWS does).</p>"
                 + h.form(f"{P}/role/revoke", hidden, "Revoke active sessions", ctx.csrf,
                          danger=True))
    done = "Sessions issued before now are revoked." if ctx.request.query.get("revoked") else None
    return app._page(ctx, f"Role {name}", body, current=f"{P}/roles", notice=done)


#: AWS's inline policy name for "Revoke active sessions".
REVOKE_POLICY = "AWSRevokeOlderSessions"


def revoke_document(now: datetime) -> str:
    """Deny everything to sessions whose ``aws:TokenIssueTime`` is before ``now``."""
    when = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Deny", "Action": ["*"], "Resource": ["*"],
        "Condition": {"DateLessThan": {"aws:TokenIssueTime": when}}}]})


async def revoke_sessions(app: Console, ctx: Ctx) -> Response:
    name = ctx.request.form.get("name", "")
    _, error = await _read(app, ctx, "PutRolePolicy", {
        "RoleName": name, "PolicyName": REVOKE_POLICY,
        "PolicyDocument": revoke_document(ctx.now)})
    if error:
        return app._page(ctx, f"Role {name}", _denied_note(error), current=f"{P}/roles",
                         status=403 if "AccessDenied" in error else 400)
    return Response.redirect(f"{P}/role?name={quote(name)}&revoked=1")


# -- policies -----------------------------------------------------------------------------

async def policies_page(app: Console, ctx: Ctx) -> Response:
    found, denied = await _read(app, ctx, "ListPolicies", {"Scope": "Local", "MaxItems": 1000})
    rows = [(h.link(p["PolicyName"], f"{P}/policy?arn={quote(p['Arn'])}"),
             h.e(p["DefaultVersionId"]), h.e(p.get("AttachmentCount", 0)))
            for p in found.get("Policies", [])]
    body = _denied_note(denied) + h.table("Customer managed policies",
                                          ("Policy", "Default version", "Attachments"), rows)
    if await app.may(ctx, "CreatePolicy", {"PolicyName": "placeholder",
                                           "PolicyDocument": "{}"}):
        body += f"<p>{h.link('Create policy', f'{P}/policies/new')}</p>"
    return app._page(ctx, "Policies", body, current=f"{P}/policies")


_STARTER = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bucket/*"}]},
    indent=2)


def _editor(document: str) -> str:
    return (h.field("Policy document (JSON)", "document", kind="textarea", value=document,
                    required=True, hint="Checked by the policy engine when you save.",
                    field_id="policy-document", extra=" data-json-editor")
            + '<p id="json-status" aria-live="polite"></p>')


async def new_policy_page(app: Console, ctx: Ctx, *, error: str | None = None,
                          errors: tuple[str, ...] = (),
                          warnings: tuple[str, ...] = ()) -> Response:
    form = ctx.request.form
    fields = (h.field("Policy name", "name", required=True, value=form.get("name", ""))
              + h.field("Description", "description", value=form.get("description", ""))
              + _editor(form.get("document", _STARTER)))
    body = ""
    if warnings:
        body += ('<section class="warning" aria-labelledby="lint"><h2 id="lint">Findings</h2>'
                 "<ul>" + "".join(f"<li>{h.e(w)}</li>" for w in warnings) + "</ul>"
                 "<p>Fix them, or save anyway.</p></section>")
        fields += '<input type="hidden" name="confirm" value="true">'
    body += h.form(f"{P}/policies/new", fields, "Save anyway" if warnings else "Create policy",
                   ctx.csrf)
    return app._page(ctx, "Create policy", body, current=f"{P}/policies", error=error,
                     errors=errors, status=400 if error else 200)


async def policy_page(app: Console, ctx: Ctx, *, error: str | None = None,
                      errors: tuple[str, ...] = ()) -> Response:
    arn = ctx.request.query.get("arn", "")
    got, denied = await _read(app, ctx, "GetPolicy", {"PolicyArn": arn})
    if denied:
        return app._page(ctx, "Policy", _denied_note(denied), current=f"{P}/policies",
                         error=error)
    policy = got["Policy"]
    default = policy["DefaultVersionId"]
    version, _ = await _read(app, ctx, "GetPolicyVersion",
                             {"PolicyArn": arn, "VersionId": default})
    document = _document(version.get("PolicyVersion", {}).get("Document", ""))
    versions, _ = await _read(app, ctx, "ListPolicyVersions", {"PolicyArn": arn})
    body = (f"<p>ARN: <code>{h.e(arn)}</code></p>"
            + h.table("Versions", ("Version", "Default", "Created"),
                      [(h.e(v["VersionId"]), "yes" if v["IsDefaultVersion"] else "",
                        _date(v["CreateDate"])) for v in versions.get("Versions", [])]))
    if await app.may(ctx, "CreatePolicyVersion", {"PolicyArn": arn, "PolicyDocument": "{}"}):
        hidden = f'<input type="hidden" name="arn" value="{h.e(arn)}">'
        submitted = ctx.request.form.get("document")
        body += "<h2>Edit (new default version)</h2>" + h.form(
            f"{P}/policy/version", hidden + _editor(submitted or document), "Save version",
            ctx.csrf)
    else:
        body += f"<h2>Document ({h.e(default)})</h2><pre>{h.e(document)}</pre>"
    done = {"created": "Policy created.", "version": "New version saved."}.get(
        ctx.request.query.get("done", ""))
    return app._page(ctx, f"Policy {policy['PolicyName']}", body, current=f"{P}/policies",
                     error=error, errors=errors, notice=done,
                     status=400 if error else 200)


# -- simulator ----------------------------------------------------------------------------

async def simulator_page(app: Console, ctx: Ctx, *, results: str = "",
                         error: str | None = None) -> Response:
    form = ctx.request.form
    fields = (h.field("Principal ARN (user, group or role)", "source", required=True,
                      value=form.get("source", ctx.snapshot.principal.arn))
              + h.field("Actions (space separated)", "actions", required=True,
                        value=form.get("actions", "s3:GetObject"))
              + h.field("Resource ARNs (space separated)", "resources",
                        value=form.get("resources", "*")))
    body = h.form(f"{P}/simulator", fields, "Simulate", ctx.csrf) + results
    return app._page(ctx, "Policy simulator", body, current=f"{P}/simulator", error=error)


async def simulate(app: Console, ctx: Ctx) -> Response:
    form = ctx.request.form
    params = {"PolicySourceArn": form.get("source", ""),
              "ActionNames": form.get("actions", "").split(),
              "ResourceArns": form.get("resources", "").split() or ["*"]}
    found, error = await _read(app, ctx, "SimulatePrincipalPolicy", params)
    if error:
        return await simulator_page(app, ctx, error=error)
    rows = []
    for result in found.get("EvaluationResults", []):
        decision = result["EvalDecision"]
        css = "allowed" if decision == "allowed" else "denied"
        matched = "".join(
            f'<li class="matched">{h.e(s.get("SourcePolicyId"))} '
            f'({h.e(s.get("SourcePolicyType"))})</li>'
            for s in result.get("MatchedStatements", []))
        rows.append((h.e(result["EvalActionName"]), h.e(result.get("EvalResourceName", "*")),
                     f'<span class="{css}">{h.e(decision)}</span>',
                     f"<ul>{matched}</ul>" if matched else "none"))
    table = h.table("Results", ("Action", "Resource", "Decision", "Matched statements"), rows)
    return await simulator_page(app, ctx, results=table)


# -- audit --------------------------------------------------------------------------------

_LOOKUP_KEYS = [(k.value, k.value) for k in (
    LookupKey.USERNAME, LookupKey.EVENT_NAME, LookupKey.EVENT_SOURCE, LookupKey.ACCESS_KEY_ID,
    LookupKey.RESOURCE_NAME, LookupKey.READ_ONLY, LookupKey.EVENT_ID)]


async def audit_page(app: Console, ctx: Ctx) -> Response:
    if not app.may_other(ctx, "cloudtrail:LookupEvents"):
        return app._page(ctx, "Audit trail", _denied_note(
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
    found, denied = await _read(app, ctx, "GetAccountPasswordPolicy")
    current = found.get("PasswordPolicy")
    if current is None and denied and "NoSuchEntity" in denied:
        body = "<p>No password policy is set: IAM's default applies (8 characters, three of " \
               "uppercase, lowercase, numbers and symbols).</p>"
        current = {}
    else:
        body = _denied_note(denied)
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
    _, error = await _read(app, ctx, "UpdateAccountPasswordPolicy", params)
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
        return app._page(ctx, "Credential report", _denied_note(
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
    users, _ = await _read(app, ctx, "ListUsers", {"MaxItems": 1000})
    for user in users.get("Users", []):
        keys, _ = await _read(app, ctx, "ListAccessKeys", {"UserName": user["UserName"]})
        cells: list[str] = []
        metadata = sorted(keys.get("AccessKeyMetadata", []), key=lambda k: k["CreateDate"])
        for index in range(2):
            if index < len(metadata):
                key = metadata[index]
                used, _ = await _read(app, ctx, "GetAccessKeyLastUsed",
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
        return app._page(ctx, "Change your password", _denied_note(
            "InvalidUserType: Only IAM Users can change their own password."), status=400)
    if not await app.may(ctx, "ChangePassword", {"OldPassword": "x", "NewPassword": "x"}):
        return app._page(ctx, "Change your password", _denied_note(
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
