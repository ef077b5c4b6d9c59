"""The console under ``sigv4kit serve``'s app and a real uvicorn, driven with httpx.

``console_server(store_url, settings)`` bootstraps an administrator with a
console password and a root password (``sigv4kit iam bootstrap
--console-password --root-password``) and serves :func:`build_app`.
:class:`Browser` keeps cookies like a browser and fills forms with the CSRF
token the page carries.
"""

from __future__ import annotations

import base64
import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from html import unescape
from typing import Any

import httpx
from _iam_api import bootstrap
from _servers import run_uvicorn
from sigv4kit.middleware.iam._cli_serve import build_app


@dataclass
class ConsoleServer:
    url: str
    store_url: str
    admin: dict[str, str]
    opened: list[httpx.Client] = field(default_factory=list)

    @property
    def account_id(self) -> str:
        return self.admin["account_id"]

    def browser(self) -> Browser:
        """A fresh cookie jar (closed when the server stops)."""
        client = httpx.Client(base_url=self.url, follow_redirects=True, timeout=30)
        self.opened.append(client)
        return Browser(client)


@contextlib.contextmanager
def console_server(store_url: str, settings: Any = None) -> Iterator[ConsoleServer]:
    admin = bootstrap(store_url, "admin", "--console-password", "--root-password")
    with run_uvicorn(build_app(store_url, console_settings=settings)) as url:
        server = ConsoleServer(url=url, store_url=store_url, admin=admin)
        try:
            yield server
        finally:
            for client in server.opened:
                client.close()


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page has no CSRF token"
    return found.group(1)


def text_of(html: str, ident: str) -> str:
    found = re.search(rf'id="{re.escape(ident)}"[^>]*>([^<]*)<', html)
    assert found, f"no element {ident}"
    return unescape(found.group(1))


@dataclass
class Browser:
    client: httpx.Client

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self.client.get(path, **kw)

    def submit(self, page: httpx.Response | str, action: str, fields: dict[str, str],
               *, csrf: str | None = None) -> httpx.Response:
        """POST ``fields`` to ``action`` with the CSRF token of ``page``."""
        html = page if isinstance(page, str) else page.text
        token = csrf if csrf is not None else csrf_of(html)
        return self.client.post(action, data={"csrf_token": token, **fields})

    def sign_in(self, account: str, user: str | None, password: str) -> httpx.Response:
        page = self.get("/console/signin" + ("?root=1" if user is None else ""))
        fields = {"account": account, "password": password}
        if user is None:
            fields["root"] = "1"
        else:
            fields["username"] = user
        return self.submit(page, "/console/signin", fields)


def seed_bytes(base32: str) -> bytes:
    return base64.b32decode(base32 + "=" * (-len(base32) % 8))
