"""What the console's pages see: the request context, the console's operations, and the
small helpers every page uses.

:class:`Ctx` is one signed-in request; :class:`Console` the operations a
page uses (:class:`~._app.ConsoleApp` provides them), so the pages modules
(``_pages_*``) do not import the app that routes to them.

Imports: :mod:`..audit`, :mod:`..iam` (error parts, the snapshot, the login and
MFA stores), :mod:`._html`, :mod:`._http`, :mod:`._sessions`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sigv4kit import SigV4Error

from ..audit import LookupQuery
from ..iam.api._app import error_parts
from ..iam.entities import AuthorizationSnapshot
from ..iam.login import LoginStore
from ..iam.mfa import MFAStore
from . import _html as h
from ._http import Request, Response
from ._sessions import ConsoleSession

__all__ = [
    "PREFIX",
    "Console",
    "Ctx",
    "attempt",
    "date_text",
    "denied_note",
    "error_text",
    "with_query",
]

#: Where ``sigv4kit serve`` mounts the console; every link and form action starts with it.
PREFIX = "/console"


@dataclass(frozen=True, slots=True, kw_only=True)
class Ctx:
    """One signed-in request: who, their snapshot, the CSRF token, the time."""

    request: Request
    session: ConsoleSession
    snapshot: AuthorizationSnapshot
    csrf: str
    now: datetime

    @property
    def who(self) -> str:
        info = self.snapshot.principal
        return "root user" if self.snapshot.is_root else f"{info.name} @ {info.account_id}"


class Console(Protocol):
    """The console operations pages use."""

    logins: LoginStore
    mfa: MFAStore

    async def call(self, ctx: Ctx, action: str, params: Mapping[str, Any] | None = None,
                   *, audit: bool = True) -> dict[str, Any]: ...

    async def may(self, ctx: Ctx, action: str,
                  params: Mapping[str, Any] | None = None) -> bool: ...

    def may_other(self, ctx: Ctx, action: str, resource: str = "*") -> bool: ...

    def _page(self, ctx: Ctx, title: str, body: str, *, current: str = "",
              notice: str | None = None, error: str | None = None,
              errors: tuple[str, ...] = (), status: int = 200) -> Response: ...

    async def _enabled_devices(self, owner_id: str) -> list[str]: ...

    async def lookup(self, query: LookupQuery) -> dict[str, Any]: ...

    async def user(self, ctx: Ctx, *, error: str | None = None, notice: str | None = None,
                   errors: tuple[str, ...] = (), extra: str = "") -> Response: ...


def error_text(exc: BaseException) -> str:
    """``Code: message`` of an error with an AWS code, for the page's error banner."""
    parts = error_parts(exc)
    if parts is None:
        return "The request failed."
    return f"{parts[0]}: {parts[1]}"


def with_query(ctx: Ctx, value: str, *, key: str = "name") -> Ctx:
    """``ctx`` as a GET of the same page with ``key=value`` (to re-render after a post)."""
    req = ctx.request
    request = Request(method="GET", path=req.path, query={**req.query, key: value}, form={},
                      cookies=req.cookies, secure=req.secure, client_ip=req.client_ip,
                      user_agent=req.user_agent, scope=req.scope)
    return Ctx(request=request, session=ctx.session, snapshot=ctx.snapshot, csrf=ctx.csrf,
               now=ctx.now)


def date_text(value: Any) -> str:
    """A date as a page shows it (``2026-12-03 16:27 UTC``), escaped; other values escaped."""
    if isinstance(value, datetime):
        return h.e(value.strftime("%Y-%m-%d %H:%M UTC"))
    return h.e(value)


async def attempt(app: Console, ctx: Ctx, action: str, params: dict[str, Any] | None = None
                  ) -> tuple[dict[str, Any], str | None]:
    """Run ``action`` as the signed-in user: ``(result, None)``, or ``({}, error text)``."""
    try:
        return await app.call(ctx, action, params), None
    except SigV4Error as exc:
        return {}, error_text(exc)


def denied_note(error: str | None) -> str:
    """The warning paragraph for a read the user may not run (empty without an error)."""
    return f'<p class="warning">{h.e(error)}</p>' if error else ""
