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
"""

from __future__ import annotations

import hmac
import logging
import secrets
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
from ..iam.login import LoginStore, PasswordPolicyViolation, SignInFailed, SignInSettings
from ..iam.mfa import MFAError, MFAStore
from ..iam.policy import Policy, PolicyType, lint
from ..store.schema import mfa_devices
from . import _html as h
from . import _pages as pages
from ._audit import console_action_event, console_login_event
from ._ctx import Ctx, error_text, with_query
from ._http import FormTooLarge, Request, Response, read_request
from ._sessions import ConsoleSession, ConsoleSessions, SessionState, csrf_token

__all__ = ["COOKIE", "PREFIX", "PRE_COOKIE", "ConsoleApp", "ConsoleSettings", "check_document"]

logger = logging.getLogger("sigv4kit.middleware.console")

COOKIE = "sigv4kit_console"
PRE_COOKIE = "sigv4kit_console_pre"
PREFIX = "/console"
SIGNIN_FAILED = "Your authentication information is incorrect. Please try again."
CSRF_FAILED = ("This form has expired or did not come from this console. "
               "Reload the page and try again.")


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
        self._routes: list[tuple[str, str, Callable[..., Awaitable[Response]]]] = [
            ("GET", "/", partial(pages.dashboard, self)),
            ("GET", "/users", self.users),
            ("POST", "/users", self.create_user),
            ("GET", "/user", self.user),
            ("POST", "/user/keys", self.create_key),
            ("POST", "/user/key", self.change_key),
            ("POST", "/user/password", self.set_password),
            ("POST", "/user/attach", self.attach_user_policy),
            ("POST", "/user/groups", self.add_to_group),
            ("POST", "/user/mfa", partial(pages.enroll_mfa, self)),
            ("POST", "/user/mfa/enable", partial(pages.enable_mfa, self)),
            ("GET", "/groups", self.groups),
            ("POST", "/groups", self.create_group),
            ("GET", "/roles", partial(pages.roles_page, self)),
            ("GET", "/role", partial(pages.role_page, self)),
            ("POST", "/role/revoke", partial(pages.revoke_sessions, self)),
            ("GET", "/policies", partial(pages.policies_page, self)),
            ("GET", "/policy", self.policy),
            ("GET", "/policies/new", self.new_policy),
            ("POST", "/policies/new", self.create_policy),
            ("POST", "/policy/version", self.create_policy_version),
            ("GET", "/simulator", self.simulator),
            ("POST", "/simulator", partial(pages.simulate, self)),
            ("GET", "/audit", partial(pages.audit_page, self)),
            ("GET", "/credential-report", partial(pages.credential_report, self)),
            ("GET", "/my-password", partial(pages.my_password, self)),
            ("POST", "/my-password", partial(pages.change_my_password, self)),
            ("GET", "/account", self.account),
            ("POST", "/account", partial(pages.update_account, self)),
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
            return await self.signin(req, now)
        token = req.cookies.get(COOKIE)
        if req.path == "/signout":
            return await self.signout(req, token)
        session = await self.sessions.get(token, now=now)
        if session is None or token is None:
            return Response.redirect(f"{PREFIX}/signin?expired=1" if token else
                                     f"{PREFIX}/signin")
        csrf = csrf_token(token)
        if req.method == "POST" and not _csrf_ok(req, csrf):
            return _refused_csrf(csrf)
        if session.state in (SessionState.MFA, SessionState.MFA_THEN_CHANGE):
            return await self.mfa_step(req, token, session, csrf, now)
        if session.state is SessionState.CHANGE:
            return await self.change_step(req, token, session, csrf, now)
        snapshot = await self.iam.load_authorization(principal_id=session.owner_id)
        if snapshot is None:  # the user was deleted while signed in
            await self.sessions.end(token)
            return Response.redirect(f"{PREFIX}/signin")
        ctx = Ctx(request=req, session=session, snapshot=snapshot, csrf=csrf, now=now)
        for method, path, page in self._routes:
            if method == req.method and path == req.path:
                return await page(ctx)
        return self._page(ctx, "Not found", "<p>No such console page.</p>", status=404)

    # -- sign-in ----------------------------------------------------------------------

    async def signin(self, req: Request, now: datetime) -> Response:
        pre = req.cookies.get(PRE_COOKIE)
        if req.method == "POST":
            if not pre or not _csrf_ok(req, csrf_token(pre)):
                return self._signin_form(req, error=CSRF_FAILED, status=403)
            return await self._check_password(req, now)
        notice = "Your session has ended. Sign in again." if req.query.get("expired") else None
        return self._signin_form(req, notice=notice)

    def _signin_form(self, req: Request, *, error: str | None = None,
                     notice: str | None = None, status: int = 200) -> Response:
        pre = secrets.token_urlsafe(32)
        csrf = csrf_token(pre)
        root = req.query.get("root") == "1" or req.form.get("root") == "1"
        fields = h.field("Account ID or alias", "account", required=True,
                         value=req.form.get("account", ""), autocomplete="organization")
        if root:
            fields += '<input type="hidden" name="root" value="1">'
        else:
            fields += h.field("IAM user name", "username", required=True,
                              value=req.form.get("username", ""), autocomplete="username")
        fields += h.field("Password", "password", kind="password", required=True,
                          autocomplete="current-password")
        other = (h.link("Sign in as an IAM user", f"{PREFIX}/signin") if root else
                 h.link("Sign in as the root user", f"{PREFIX}/signin?root=1"))
        title = "Root user sign in" if root else "Sign in"
        body = h.form(f"{PREFIX}/signin", fields, "Sign in", csrf) + f"<p>{other}</p>"
        response = Response(status=status, body=h.layout(
            title, body, error=error, notice=notice).encode())
        response.set_cookie(PRE_COOKIE, pre, path=f"{PREFIX}/signin", secure=req.secure)
        return response

    async def _check_password(self, req: Request, now: datetime) -> Response:
        account = req.form.get("account", "").strip()
        root = req.form.get("root") == "1"
        user_name = None if root else req.form.get("username", "").strip()
        password = req.form.get("password", "")
        try:
            if not account or (not root and not user_name) or not password:
                raise SignInFailed("credentials", user_exists=False)
            result = await self.logins.sign_in(account, user_name, password, now=now)
        except SignInFailed as failed:
            await self._emit(console_login_event(
                when=now, account_id=account if account.isdigit() else None,
                user_name=user_name, owner_id=None, root=root, success=False, mfa_used=False,
                source_ip=req.client_ip or "", user_agent=req.user_agent,
                known_user=failed.user_exists,
            ))
            return self._signin_form(req, error=SIGNIN_FAILED, status=401)
        if result.mfa_serials:
            state = (SessionState.MFA_THEN_CHANGE if result.must_change_password
                     else SessionState.MFA)
        elif result.must_change_password:
            state = SessionState.CHANGE
        else:
            state = SessionState.ACTIVE
        token = await self.sessions.create(
            result.account_id, result.owner_id, state, now=now, source_ip=req.client_ip,
            max_session=result.max_session,
        )
        if state is SessionState.ACTIVE:
            await self._emit_login(req, result.account_id, result.owner_id, result.user_name,
                                   now, mfa=False)
        response = Response.redirect(f"{PREFIX}/")
        response.set_cookie(COOKIE, token, path=PREFIX, secure=req.secure)
        response.set_cookie(PRE_COOKIE, "", path=f"{PREFIX}/signin", secure=req.secure,
                            max_age=0)
        return response

    async def _emit_login(self, req: Request, account_id: str, owner_id: str,
                          user_name: str | None, now: datetime, *, mfa: bool) -> None:
        await self._emit(console_login_event(
            when=now, account_id=account_id, user_name=user_name, owner_id=owner_id,
            root=user_name is None, success=True, mfa_used=mfa,
            source_ip=req.client_ip or "", user_agent=req.user_agent, known_user=True,
        ))

    async def mfa_step(self, req: Request, token: str, session: ConsoleSession, csrf: str,
                       now: datetime) -> Response:
        if req.path != "/mfa":
            return Response.redirect(f"{PREFIX}/mfa")
        error = None
        if req.method == "POST":
            code = req.form.get("code", "").strip()
            serials = await self._enabled_devices(session.owner_id)
            for serial in serials:
                try:
                    await self.mfa.verify_code(serial, code, principal_id=session.owner_id,
                                               now=now)
                except MFAError:
                    continue
                change = session.state is SessionState.MFA_THEN_CHANGE
                new = await self.sessions.advance(
                    token, SessionState.CHANGE if change else SessionState.ACTIVE, now=now,
                    mfa_authenticated=True,
                )
                if not change:
                    user = None if session.is_root else await self._user_name(session.owner_id)
                    await self._emit_login(req, session.account_id, session.owner_id, user,
                                           now, mfa=True)
                response = Response.redirect(f"{PREFIX}/")
                response.set_cookie(COOKIE, new, path=PREFIX, secure=req.secure)
                return response
            error = "The MFA code is not valid. Wait for the next code and try again."
        fields = h.field("MFA code", "code", required=True, autocomplete="one-time-code",
                         extra=' inputmode="numeric" pattern="[0-9]{6}" maxlength="6"')
        body = ("<p>Enter the six-digit code from your authenticator app.</p>"
                + h.form(f"{PREFIX}/mfa", fields, "Submit", csrf)
                + h.form(f"{PREFIX}/signout", "", "Cancel", csrf))
        return Response(status=401 if error else 200, body=h.layout(
            "Multi-factor authentication", body, error=error).encode())

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

    async def _user_name(self, owner_id: str) -> str | None:
        snapshot = await self.iam.load_authorization(principal_id=owner_id)
        return None if snapshot is None else snapshot.principal.name

    async def change_step(self, req: Request, token: str, session: ConsoleSession, csrf: str,
                          now: datetime) -> Response:
        if req.path != "/password":
            return Response.redirect(f"{PREFIX}/password")
        error: str | None = None
        errors: tuple[str, ...] = ()
        if req.method == "POST":
            new, again = req.form.get("new_password", ""), req.form.get("confirm_password", "")
            if new != again:
                error = "The two passwords do not match."
            else:
                user = None if session.is_root else await self._user_name(session.owner_id)
                try:
                    await self.logins.set_own_password(session.account_id, session.owner_id,
                                                       user, new, now=now)
                except PasswordPolicyViolation as exc:
                    error, errors = exc.message, exc.reasons
                else:
                    fresh = await self.sessions.advance(token, SessionState.ACTIVE, now=now,
                                                        mfa_authenticated=session.mfa_authenticated)
                    await self._emit_login(req, session.account_id, session.owner_id, user,
                                           now, mfa=session.mfa_authenticated)
                    response = Response.redirect(f"{PREFIX}/?changed=1")
                    response.set_cookie(COOKIE, fresh, path=PREFIX, secure=req.secure)
                    return response
        fields = (h.field("New password", "new_password", kind="password", required=True,
                          autocomplete="new-password")
                  + h.field("Confirm new password", "confirm_password", kind="password",
                            required=True, autocomplete="new-password"))
        body = ("<p>You must choose a new password before you continue.</p>"
                + h.form(f"{PREFIX}/password", fields, "Change password", csrf)
                + h.form(f"{PREFIX}/signout", "", "Sign out", csrf))
        return Response(status=400 if error else 200, body=h.layout(
            "Change your password", body, error=error, errors=errors).encode())

    async def signout(self, req: Request, token: str | None) -> Response:
        if req.method != "POST":
            return Response.redirect(f"{PREFIX}/")
        if token and not _csrf_ok(req, csrf_token(token)):
            return _refused_csrf(csrf_token(token))
        await self.sessions.end(token)
        response = Response.redirect(f"{PREFIX}/signin")
        response.set_cookie(COOKIE, "", path=PREFIX, secure=req.secure, max_age=0)
        return response

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
        return await pages.users_page(self, ctx, error=error, notice=notice)

    async def create_user(self, ctx: Ctx) -> Response:
        name = ctx.request.form.get("username", "")
        _, error = await self._try(ctx, "CreateUser", {"UserName": name})
        if error:
            return await self.users(ctx, error=error)
        return Response.redirect(f"{PREFIX}/user?name={quote(name)}&created=1")

    async def user(self, ctx: Ctx, *, error: str | None = None, notice: str | None = None,
                   errors: tuple[str, ...] = (), extra: str = "") -> Response:
        return await pages.user_page(self, ctx, error=error, notice=notice, errors=errors,
                               extra=extra)

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
                               extra=pages.new_key_panel(result["AccessKey"]))

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
        return await pages.groups_page(self, ctx, error=error)

    async def create_group(self, ctx: Ctx) -> Response:
        _, error = await self._try(ctx, "CreateGroup",
                                   {"GroupName": ctx.request.form.get("group", "")})
        if error:
            return await self.groups(ctx, error=error)
        return Response.redirect(f"{PREFIX}/groups")

    async def policy(self, ctx: Ctx, **kw: Any) -> Response:
        return await pages.policy_page(self, ctx, **kw)

    async def new_policy(self, ctx: Ctx, **kw: Any) -> Response:
        return await pages.new_policy_page(self, ctx, **kw)

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
        return await pages.simulator_page(self, ctx, **kw)

    async def lookup(self, query: LookupQuery) -> dict[str, Any]:
        found: dict[str, Any] = await self._store._read(
            lambda conn: lookup_database(conn, query))
        return found

    async def account(self, ctx: Ctx, **kw: Any) -> Response:
        return await pages.account_page(self, ctx, **kw)


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


def _csrf_ok(req: Request, expected: str) -> bool:
    return hmac.compare_digest(req.form.get("csrf_token", "").encode(), expected.encode())


def _refused_csrf(csrf: str) -> Response:
    body = h.layout("Request refused", f"<p>{h.link('Back to the console', PREFIX + '/')}</p>",
                    error=CSRF_FAILED)
    return Response(status=403, body=body.encode())


_STATIC_TYPES = {"console.css": "text/css; charset=utf-8",
                 "console.js": "text/javascript; charset=utf-8"}


def _static(name: str) -> Response:
    kind = _STATIC_TYPES.get(name)
    if kind is None:
        return Response(status=404, body=b"Not found.", content_type="text/plain")
    data = resources.files(__package__).joinpath("static", name).read_bytes()
    response = Response(body=data, content_type=kind)
    return response


