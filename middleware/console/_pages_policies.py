"""The console's policy pages: roles (trust policy, attached policies, revoking their
sessions), customer managed policies (list, create, edit) and the policy simulator.

Imports: :mod:`._html`, :mod:`._ctx`, :mod:`._http`.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from urllib.parse import quote, unquote

from . import _html as h
from ._ctx import PREFIX as P
from ._ctx import Console, Ctx, attempt, date_text, denied_note
from ._http import Response

__all__ = [
    "new_policy_page",
    "policies_page",
    "policy_page",
    "revoke_document",
    "revoke_sessions",
    "role_page",
    "roles_page",
    "simulate",
    "simulator_page",
]


# -- roles --------------------------------------------------------------------------------

async def roles_page(app: Console, ctx: Ctx) -> Response:
    found, denied = await attempt(app, ctx, "ListRoles", {"MaxItems": 1000})
    rows = [(h.link(r["RoleName"], f"{P}/role?name={quote(r['RoleName'])}"), h.e(r["Arn"]),
             date_text(r["CreateDate"])) for r in found.get("Roles", [])]
    body = denied_note(denied) + h.table("Roles", ("Role", "ARN", "Created"), rows)
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
    got, denied = await attempt(app, ctx, "GetRole", {"RoleName": name})
    if denied:
        return app._page(ctx, f"Role {name}", denied_note(denied), current=f"{P}/roles")
    role = got["Role"]
    attached, _ = await attempt(app, ctx, "ListAttachedRolePolicies", {"RoleName": name})
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
    _, error = await attempt(app, ctx, "PutRolePolicy", {
        "RoleName": name, "PolicyName": REVOKE_POLICY,
        "PolicyDocument": revoke_document(ctx.now)})
    if error:
        return app._page(ctx, f"Role {name}", denied_note(error), current=f"{P}/roles",
                         status=403 if "AccessDenied" in error else 400)
    return Response.redirect(f"{P}/role?name={quote(name)}&revoked=1")


# -- policies -----------------------------------------------------------------------------

async def policies_page(app: Console, ctx: Ctx) -> Response:
    found, denied = await attempt(app, ctx, "ListPolicies", {"Scope": "Local", "MaxItems": 1000})
    rows = [(h.link(p["PolicyName"], f"{P}/policy?arn={quote(p['Arn'])}"),
             h.e(p["DefaultVersionId"]), h.e(p.get("AttachmentCount", 0)))
            for p in found.get("Policies", [])]
    body = denied_note(denied) + h.table("Customer managed policies",
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
    got, denied = await attempt(app, ctx, "GetPolicy", {"PolicyArn": arn})
    if denied:
        return app._page(ctx, "Policy", denied_note(denied), current=f"{P}/policies",
                         error=error)
    policy = got["Policy"]
    default = policy["DefaultVersionId"]
    version, _ = await attempt(app, ctx, "GetPolicyVersion",
                             {"PolicyArn": arn, "VersionId": default})
    document = _document(version.get("PolicyVersion", {}).get("Document", ""))
    versions, _ = await attempt(app, ctx, "ListPolicyVersions", {"PolicyArn": arn})
    body = (f"<p>ARN: <code>{h.e(arn)}</code></p>"
            + h.table("Versions", ("Version", "Default", "Created"),
                      [(h.e(v["VersionId"]), "yes" if v["IsDefaultVersion"] else "",
                        date_text(v["CreateDate"])) for v in versions.get("Versions", [])]))
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
    found, error = await attempt(app, ctx, "SimulatePrincipalPolicy", params)
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
