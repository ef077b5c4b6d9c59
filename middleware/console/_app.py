"""The IAM console: an ASGI app served by ``sigv4kit serve`` at ``/console``.

Sign-in (account id or alias, user name, password; then an MFA code when the
user has a device; then a new password when one is required), store-backed
sessions (:mod:`._sessions`), a CSRF token on every form, and pages that act
*as the signed-in user*: every read and every write is an IAM operation run
through the IAM API's own handlers after the same authorization
(:func:`~..iam.api._iam_context.authorize_iam_call`), so a user allowed only
``iam:List*``/``iam:Get*`` sees no write forms and is refused if they post one.

The app is exempt from SigV4 (browsers do not sign); ``sigv4kit serve``
routes ``/console`` here and everything else to ``SigV4Middleware``.

Imports: :mod:`..audit`, :mod:`..iam` (the API's handlers and authorization, the
stores, the policy engine), :mod:`..store.schema`, and the console's modules: the
sign-in steps (:mod:`._signin`) and the pages (:mod:`._pages_users`,
:mod:`._pages_policies`, :mod:`._pages_account`).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from importlib import resources
from typing import Any
from urllib.parse import quote, urlencode

import sqlalchemy as sa

from sigv4kit import SigV4Error

from ..audit import (
    AuditEvent,
    AuditSink,
    IdentityType,
    LookupQuery,
    UserIdentity,
    lookup_database,
)
from ..iam.api import IAM_HANDLERS, Call, load_service_model, parse_query_request
from ..iam.api._app import error_parts
from ..iam.api._iam_context import IAMContext, authorize_iam_call
from ..iam.authz import CallerPolicies, authorize_call, caller_context_keys, engine_principal
from ..iam.entities import IAMStore
from ..iam.login import LoginStore, PasswordPolicyViolation, SignInSettings
from ..iam.mfa import MFAStore
from ..iam.policy import Policy, PolicyType, lint
from ..store.schema import mfa_devices
from . import _html as h
from . import _pages_account as account_pages
from . import _pages_policies as policy_pages
from . import _pages_users as user_pages
from ._audit import console_action_event
from ._ctx import PREFIX, Ctx, error_text, with_query
from ._http import FormTooLarge, Request, Response, read_request
from ._sessions import ConsoleSessions, SessionState, csrf_token
from ._signin import COOKIE, SignInSteps, csrf_ok, refused_csrf

__all__ = ["ConsoleApp", "ConsoleSettings", "check_document"]

logger = logging.getLogger("sigv4kit.middleware.console")


@dataclass(frozen=True, slots=True, kw_only=True)
class ConsoleSettings:
    """Session lifetimes and sign-in throttling."""

    idle_timeout: timedelta = timedelta(minutes=30)
    absolute_timeout: timedelta = timedelta(hours=12)
    signin: SignInSettings = field(default_factory=SignInSettings)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _flatten(params: Mapping[str, Any]) -> dict[str, str]:
    """Query-protocol form fields (lists as ``Name.member.N``)."""
    out: dict[str, str] = {}
    for key, value in params.items():
        if value is None or value == "":
            continue
        if isinstance(value, list | tuple):
            for i, item in enumerate(value, 1):
                out[f"{key}.member.{i}"] = str(item)
        elif isinstance(value, bool):
            out[key] = "true" if value else "false"
        else:
            out[key] = str(value)
    return out


class ConsoleApp:
    """See the module docstring. ``store`` is an SQL key store the caller owns."""

    def __init__(self, store: Any, *, settings: ConsoleSettings | None = None,
                 clock: Callable[[], datetime] = _utc_now,
                 audit: AuditSink | None = None) -> None:
        self.settings = settings or ConsoleSettings()
        self._clock = clock
        self.iam = IAMStore(store, clock=clock)
        self.logins = LoginStore(store, settings=self.settings.signin)
        self.mfa = MFAStore(store)
        self.sessions = ConsoleSessions(store, idle=self.settings.idle_timeout,
                                        absolute=self.settings.absolute_timeout)
        self.audit = audit
        self._store = store
        self._model = load_service_model("iam")
        self._signin = SignInSteps(iam=self.iam, logins=self.logins, mfa=self.mfa,
                                   sessions=self.sessions, emit=self._emit,
                                   enabled_devices=self._enabled_devices)
        self._routes: list[tuple[str, str, Callable[..., Awaitable[Response]]]] = [
            ("GET", "/", partial(account_pages.dashboard, self)),
            ("GET", "/users", self.users),
            ("POST", "/users", self.create_user),
            ("GET", "/user", self.user),
            ("POST", "/user/keys", self.create_key),
            ("POST", "/user/key", self.change_key),
            ("POST", "/user/password", self.set_password),
            ("POST", "/user/attach", self.attach_user_policy),
            ("POST", "/user/groups", self.add_to_group),
            ("POST", "/user/mfa", partial(user_pages.enroll_mfa, self)),
            ("POST", "/user/mfa/enable", partial(user_pages.enable_mfa, self)),
            ("GET", "/groups", self.groups),
            ("POST", "/groups", self.create_group),
            ("GET", "/roles", partial(policy_pages.roles_page, self)),
            ("GET", "/role", partial(policy_pages.role_page, self)),
            ("POST", "/role/revoke", partial(policy_pages.revoke_sessions, self)),
            ("GET", "/policies", partial(policy_pages.policies_page, self)),
            ("GET", "/policy", self.policy),
            ("GET", "/policies/new", self.new_policy),
            ("POST", "/policies/new", self.create_policy),
            ("POST", "/policy/version", self.create_policy_version),
            ("GET", "/simulator", self.simulator),
            ("POST", "/simulator", partial(policy_pages.simulate, self)),
            ("GET", "/audit", partial(account_pages.audit_page, self)),
            ("GET", "/credential-report", partial(account_pages.credential_report, self)),
            ("GET", "/my-password", partial(account_pages.my_password, self)),
            ("POST", "/my-password", partial(account_pages.change_my_password, self)),
            ("GET", "/account", self.account),
            ("POST", "/account", partial(account_pages.update_account, self)),
        ]

    def __repr__(self) -> str:
        return f"ConsoleApp({self.settings!r})"

    # -- ASGI -------------------------------------------------------------------------

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        try:
            request = await read_request(scope, receive, PREFIX)
            response = await self._answer(request)
        except FormTooLarge:
            response = Response(status=413, body=b"The form is too large.",
                                content_type="text/plain; charset=utf-8")
        except Exception:
            # A bug, not bad input: log it, tell the browser nothing more.
            logger.exception("console request failed: %s %s", scope.get("method"),
                             scope.get("path"))
            response = Response(status=500, body=h.layout(
                "Something went wrong", "<p>The console could not complete the request.</p>"
            ).encode())
        await response.send(send)

    async def _answer(self, req: Request) -> Response:
        if req.path.startswith("/static/"):
            return _static(req.path.removeprefix("/static/"))
        now = self._clock()
        if req.path == "/signin":
            return await self._signin.signin(req, now)
        token = req.cookies.get(COOKIE)
        if req.path == "/signout":
            return await self._signin.signout(req, token)
        session = await self.sessions.get(token, now=now)
        if session is None or token is None:
            return Response.redirect(f"{PREFIX}/signin?expired=1" if token else
                                     f"{PREFIX}/signin")
        csrf = csrf_token(token)
        if req.method == "POST" and not csrf_ok(req, csrf):
            return refused_csrf(csrf)
        if session.state in (SessionState.MFA, SessionState.MFA_THEN_CHANGE):
            return await self._signin.mfa_step(req, token, session, csrf, now)
        if session.state is SessionState.CHANGE:
            return await self._signin.change_step(req, token, session, csrf, now)
        snapshot = await self.iam.load_authorization(principal_id=session.owner_id)
        if snapshot is None:  # the user was deleted while signed in
            await self.sessions.end(token)
            return Response.redirect(f"{PREFIX}/signin")
        ctx = Ctx(request=req, session=session, snapshot=snapshot, csrf=csrf, now=now)
        for method, path, page in self._routes:
            if method == req.method and path == req.path:
                return await page(ctx)
        return self._page(ctx, "Not found", "<p>No such console page.</p>", status=404)

    async def _enabled_devices(self, owner_id: str) -> list[str]:
        """The serials of the MFA devices enabled for ``owner_id`` (a user's principal id)."""

        async def q(conn: Any) -> list[str]:
            rows = await conn.execute(
                sa.select(mfa_devices.c.serial_number).where(
                    mfa_devices.c.principal_id == owner_id,
                    mfa_devices.c.enabled_at.is_not(None)))
            return [str(s) for s in rows.scalars()]

        found: list[str] = await self._store._read(q)
        return found

    # -- acting as the user -------------------------------------------------------------

    async def call(self, ctx: Ctx, action: str, params: Mapping[str, Any] | None = None,
                   *, audit: bool = True) -> dict[str, Any]:
        """Run IAM ``action`` as the signed-in user: validated by IAM's model, authorized
        by the policy engine, done by the IAM API's own handler. Raises IAM's errors."""
        form = {"Action": action, "Version": "2010-05-08", **_flatten(params or {})}
        request = parse_query_request(self._model, urlencode(form).encode())
        read_only = action.startswith(("Get", "List", "Simulate"))
        try:
            await authorize_iam_call(self.iam, ctx.snapshot, ctx.request.scope, action,
                                     request.params, now=ctx.now)
            result = await IAM_HANDLERS[action](Call(
                action=action, params=request.params, request_id=str(uuid.uuid4()),
                context=IAMContext(iam=self.iam, snapshot=ctx.snapshot)))
        except SigV4Error as exc:
            if audit and not read_only:
                parts = error_parts(exc)
                await self._emit_action(ctx, action, request.params,
                                        None if parts is None else (parts[0], parts[1]))
            raise
        if audit and not read_only:
            await self._emit_action(ctx, action, request.params, None)
        return dict(result or {})

    async def may(self, ctx: Ctx, action: str, params: Mapping[str, Any] | None = None) -> bool:
        """Whether the signed-in user may run ``action`` (to show or hide its form)."""
        form = {"Action": action, "Version": "2010-05-08", **_flatten(params or {})}
        try:
            request = parse_query_request(self._model, urlencode(form).encode())
            await authorize_iam_call(self.iam, ctx.snapshot, ctx.request.scope, action,
                                     request.params, now=ctx.now)
        except SigV4Error:
            return False
        return True

    def may_other(self, ctx: Ctx, action: str, resource: str = "*") -> bool:
        """A non-IAM action (``cloudtrail:LookupEvents``) by the policy engine."""
        if ctx.snapshot.is_root:
            return True
        caller = CallerPolicies(
            principal=engine_principal(ctx.snapshot),
            identity_policies=ctx.snapshot.policies,
            permissions_boundary=ctx.snapshot.permissions_boundary,
            context=caller_context_keys(ctx.snapshot, ctx.request.scope, ctx.now),
        )
        try:
            authorize_call(caller, action, resource)
        except SigV4Error:
            return False
        return True

    async def _emit_action(self, ctx: Ctx, action: str, params: Mapping[str, Any],
                           error: tuple[str, str] | None) -> None:
        info = ctx.snapshot.principal
        identity = UserIdentity(
            type=IdentityType.ROOT if ctx.snapshot.is_root else IdentityType.IAM_USER,
            principal_id=info.unique_id, arn=info.arn, account_id=info.account_id,
            user_name=None if ctx.snapshot.is_root else info.name,
        )
        await self._emit(console_action_event(
            when=ctx.now, action=action, params=params, identity=identity,
            account_id=info.account_id, source_ip=ctx.request.client_ip or "",
            user_agent=ctx.request.user_agent, error=error, read_only=False, resource=None,
        ))

    async def _emit(self, event: AuditEvent) -> None:
        if self.audit is None:
            return
        try:
            await self.audit.write([event])
        except Exception:
            logger.exception("could not write the console's audit event %s", event.event_name)

    def _page(self, ctx: Ctx, title: str, body: str, *, current: str = "",
              notice: str | None = None, error: str | None = None,
              errors: tuple[str, ...] = (), status: int = 200) -> Response:
        return Response(status=status, body=h.layout(
            title, body, who=ctx.who, csrf=ctx.csrf, current=current, notice=notice,
            error=error, errors=errors).encode())

    async def _try(self, ctx: Ctx, action: str, params: Mapping[str, Any]
                   ) -> tuple[dict[str, Any] | None, str | None]:
        try:
            return await self.call(ctx, action, params), None
        except SigV4Error as exc:
            return None, error_text(exc)

    # -- pages ----------------------------------------------------------------------------

    async def users(self, ctx: Ctx, *, error: str | None = None,
                    notice: str | None = None) -> Response:
        return await user_pages.users_page(self, ctx, error=error, notice=notice)

    async def create_user(self, ctx: Ctx) -> Response:
        name = ctx.request.form.get("username", "")
        _, error = await self._try(ctx, "CreateUser", {"UserName": name})
        if error:
            return await self.users(ctx, error=error)
        return Response.redirect(f"{PREFIX}/user?name={quote(name)}&created=1")

    async def user(self, ctx: Ctx, *, error: str | None = None, notice: str | None = None,
                   errors: tuple[str, ...] = (), extra: str = "") -> Response:
        return await user_pages.user_page(self, ctx, error=error, notice=notice,
                                        errors=errors, extra=extra)

    def _user_from_form(self, ctx: Ctx) -> str:
        return ctx.request.form.get("username") or ctx.request.query.get("name", "")

    async def _user_result(self, ctx: Ctx, name: str, error: str | None,
                           notice: str) -> Response:
        if error:
            return await self.user(with_query(ctx, name), error=error)
        return Response.redirect(f"{PREFIX}/user?name={quote(name)}&done={quote(notice)}")

    async def create_key(self, ctx: Ctx) -> Response:
        name = self._user_from_form(ctx)
        result, error = await self._try(ctx, "CreateAccessKey", {"UserName": name})
        if error or result is None:
            return await self.user(with_query(ctx, name), error=error)
        # The secret is shown on this response only; it is never stored in clear.
        return await self.user(with_query(ctx, name), notice="Access key created.",
                               extra=user_pages.new_key_panel(result["AccessKey"]))

    async def change_key(self, ctx: Ctx) -> Response:
        form = ctx.request.form
        name, key_id, op = self._user_from_form(ctx), form.get("key", ""), form.get("op", "")
        if op == "delete":
            _, error = await self._try(ctx, "DeleteAccessKey",
                                       {"UserName": name, "AccessKeyId": key_id})
        else:
            status = "Active" if op == "activate" else "Inactive"
            _, error = await self._try(ctx, "UpdateAccessKey",
                                       {"UserName": name, "AccessKeyId": key_id,
                                        "Status": status})
        return await self._user_result(ctx, name, error, f"Access key {key_id}: {op} done.")

    async def set_password(self, ctx: Ctx) -> Response:
        form = ctx.request.form
        name, op = self._user_from_form(ctx), form.get("op", "")
        if op == "delete":
            _, error = await self._try(ctx, "DeleteLoginProfile", {"UserName": name})
            return await self._user_result(ctx, name, error, "Console password removed.")
        params = {"UserName": name, "Password": form.get("password", ""),
                  "PasswordResetRequired": form.get("reset") == "true"}
        action = "UpdateLoginProfile" if op == "update" else "CreateLoginProfile"
        try:
            await self.call(ctx, action, params)
        except PasswordPolicyViolation as exc:
            return await self.user(with_query(ctx, name), error=error_text(exc),
                                   errors=exc.reasons)
        except SigV4Error as exc:
            return await self.user(with_query(ctx, name), error=error_text(exc))
        return await self._user_result(ctx, name, None, "Console password set.")

    async def attach_user_policy(self, ctx: Ctx) -> Response:
        form = ctx.request.form
        name = self._user_from_form(ctx)
        action = "DetachUserPolicy" if form.get("op") == "detach" else "AttachUserPolicy"
        _, error = await self._try(ctx, action, {"UserName": name,
                                                 "PolicyArn": form.get("policy_arn", "")})
        return await self._user_result(ctx, name, error, f"{action} done.")

    async def add_to_group(self, ctx: Ctx) -> Response:
        form = ctx.request.form
        name = self._user_from_form(ctx)
        action = "RemoveUserFromGroup" if form.get("op") == "remove" else "AddUserToGroup"
        _, error = await self._try(ctx, action, {"UserName": name,
                                                 "GroupName": form.get("group", "")})
        return await self._user_result(ctx, name, error, f"{action} done.")

    async def groups(self, ctx: Ctx, *, error: str | None = None) -> Response:
        return await user_pages.groups_page(self, ctx, error=error)

    async def create_group(self, ctx: Ctx) -> Response:
        _, error = await self._try(ctx, "CreateGroup",
                                   {"GroupName": ctx.request.form.get("group", "")})
        if error:
            return await self.groups(ctx, error=error)
        return Response.redirect(f"{PREFIX}/groups")

    async def policy(self, ctx: Ctx, **kw: Any) -> Response:
        return await policy_pages.policy_page(self, ctx, **kw)

    async def new_policy(self, ctx: Ctx, **kw: Any) -> Response:
        return await policy_pages.new_policy_page(self, ctx, **kw)

    async def create_policy(self, ctx: Ctx) -> Response:
        form = ctx.request.form
        document = form.get("document", "")
        findings = check_document(document)
        if findings.error:
            return await self.new_policy(ctx, error=findings.error, errors=findings.details)
        if findings.warnings and form.get("confirm") != "true":
            return await self.new_policy(ctx, warnings=findings.warnings)
        name = form.get("name", "")
        result, error = await self._try(ctx, "CreatePolicy", {
            "PolicyName": name, "PolicyDocument": document,
            "Description": form.get("description") or None})
        if error or result is None:
            return await self.new_policy(ctx, error=error)
        arn = result["Policy"]["Arn"]
        return Response.redirect(f"{PREFIX}/policy?arn={quote(arn)}&done=created")

    async def create_policy_version(self, ctx: Ctx) -> Response:
        form = ctx.request.form
        arn, document = form.get("arn", ""), form.get("document", "")
        findings = check_document(document)
        scoped = with_query(ctx, arn, key="arn")
        if findings.error:
            return await self.policy(scoped, error=findings.error, errors=findings.details)
        _, error = await self._try(ctx, "CreatePolicyVersion", {
            "PolicyArn": arn, "PolicyDocument": document, "SetAsDefault": True})
        if error:
            return await self.policy(scoped, error=error)
        return Response.redirect(f"{PREFIX}/policy?arn={quote(arn)}&done=version")

    async def simulator(self, ctx: Ctx, **kw: Any) -> Response:
        return await policy_pages.simulator_page(self, ctx, **kw)

    async def lookup(self, query: LookupQuery) -> dict[str, Any]:
        found: dict[str, Any] = await self._store._read(
            lambda conn: lookup_database(conn, query))
        return found

    async def account(self, ctx: Ctx, **kw: Any) -> Response:
        return await account_pages.account_page(self, ctx, **kw)


@dataclass(frozen=True, slots=True)
class DocumentCheck:
    error: str | None = None
    details: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


def check_document(text: str) -> DocumentCheck:
    """The policy engine's verdict on an identity policy: its error, else its lint findings."""
    try:
        policy = Policy.parse(text, policy_type=PolicyType.IDENTITY)
    except SigV4Error as exc:
        return DocumentCheck(error=error_text(exc))
    findings = tuple(f"{f.severity.value}: {f.code}: {f.message}"
                     + ("" if f.sid is None else f" (statement {f.sid})")
                     for f in lint(policy))
    return DocumentCheck(warnings=findings)


_STATIC_TYPES = {"console.css": "text/css; charset=utf-8",
                 "console.js": "text/javascript; charset=utf-8"}


def _static(name: str) -> Response:
    kind = _STATIC_TYPES.get(name)
    if kind is None:
        return Response(status=404, body=b"Not found.", content_type="text/plain")
    data = resources.files(__package__).joinpath("static", name).read_bytes()
    response = Response(body=data, content_type=kind)
    return response


