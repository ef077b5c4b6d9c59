"""The console's sign-in steps, before a session is active: the password, the MFA code,
the forced password change; and signing out.

``/signin`` checks the password (:meth:`~..iam.login.LoginStore.sign_in`,
throttled) and starts a session in the state that comes next: ``MFA`` when
the user has a device, ``CHANGE`` when a new password is required, else
``ACTIVE``. :meth:`SignInSteps.mfa_step` and :meth:`SignInSteps.change_step`
advance it (each with a fresh token); the sign-in is recorded in the audit
trail once the session is active. The pre-sign-in form carries its own CSRF
token (``PRE_COOKIE``), as no session exists yet.

Imports: :mod:`..iam` (the entity, login and MFA stores), :mod:`._audit`,
:mod:`._ctx`, :mod:`._html`, :mod:`._http`, :mod:`._sessions`.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable
from datetime import datetime

from ..audit import AuditEvent
from ..iam.entities import IAMError, IAMStore
from ..iam.login import LoginStore, PasswordPolicyViolation, SignInFailed
from ..iam.mfa import MFAStore
from . import _html as h
from ._audit import console_login_event
from ._ctx import PREFIX
from ._http import Request, Response
from ._sessions import ConsoleSession, ConsoleSessions, SessionState, csrf_token

__all__ = [
    "COOKIE",
    "CSRF_FAILED",
    "PRE_COOKIE",
    "SIGNIN_FAILED",
    "SignInSteps",
    "csrf_ok",
    "refused_csrf",
]

COOKIE = "sigv4kit_console"
PRE_COOKIE = "sigv4kit_console_pre"
SIGNIN_FAILED = "Your authentication information is incorrect. Please try again."
CSRF_FAILED = ("This form has expired or did not come from this console. "
               "Reload the page and try again.")


class SignInSteps:
    """The steps from the sign-in form to an active session, over the console's stores.

    ``emit`` writes an audit event (never raising); ``enabled_devices`` lists
    the serials of an owner's enabled MFA devices.
    """

    def __init__(self, *, iam: IAMStore, logins: LoginStore, mfa: MFAStore,
                 sessions: ConsoleSessions, emit: Callable[[AuditEvent], Awaitable[None]],
                 enabled_devices: Callable[[str], Awaitable[list[str]]]) -> None:
        self.iam = iam
        self.logins = logins
        self.mfa = mfa
        self.sessions = sessions
        self._emit = emit
        self._enabled_devices = enabled_devices

    def __repr__(self) -> str:
        return f"SignInSteps({self.logins!r})"

    async def signin(self, req: Request, now: datetime) -> Response:
        """``/signin``: the form (GET), then the password check (POST)."""
        pre = req.cookies.get(PRE_COOKIE)
        if req.method == "POST":
            if not pre or not csrf_ok(req, csrf_token(pre)):
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
                except IAMError:
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
        if token and not csrf_ok(req, csrf_token(token)):
            return refused_csrf(csrf_token(token))
        await self.sessions.end(token)
        response = Response.redirect(f"{PREFIX}/signin")
        response.set_cookie(COOKIE, "", path=PREFIX, secure=req.secure, max_age=0)
        return response



def csrf_ok(req: Request, expected: str) -> bool:
    """Whether the form's ``csrf_token`` is ``expected`` (compared in constant time)."""
    return hmac.compare_digest(req.form.get("csrf_token", "").encode(), expected.encode())


def refused_csrf(csrf: str) -> Response:
    """403: the form's CSRF token is missing or wrong."""
    body = h.layout("Request refused", f"<p>{h.link('Back to the console', PREFIX + '/')}</p>",
                    error=CSRF_FAILED)
    return Response(status=403, body=body.encode())
