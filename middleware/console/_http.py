"""The console's HTTP plumbing: reading a form and cookies, writing responses (pure ASGI)."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qsl

__all__ = ["MAX_FIELDS", "MAX_FORM", "FormTooLarge", "Request", "Response", "read_request"]

#: Largest form body read (a policy document of 131,072 characters, URL-encoded, fits).
MAX_FORM = 1024 * 1024
#: Most fields read from a form or query string (a console form has a handful).
MAX_FIELDS = 100


class FormTooLarge(Exception):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class Request:
    method: str
    path: str  # below /console, starting with /
    query: Mapping[str, str]
    form: Mapping[str, str]
    cookies: Mapping[str, str]
    secure: bool
    client_ip: str | None
    user_agent: str
    scope: Mapping[str, Any]


@dataclass(slots=True, kw_only=True)
class Response:
    status: int = 200
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    headers: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def redirect(cls, location: str) -> Response:
        # 303: the browser follows a POST with a GET (no resubmission on reload).
        return cls(status=303, headers=[("location", location)])

    def set_cookie(self, name: str, value: str, *, path: str, secure: bool,
                   max_age: int | None = None) -> None:
        parts = [f"{name}={value}", f"Path={path}", "HttpOnly", "SameSite=Lax"]
        if secure:
            parts.append("Secure")
        if max_age is not None:
            parts.append(f"Max-Age={max_age}")
        self.headers.append(("set-cookie", "; ".join(parts)))

    async def send(self, send: Any) -> None:
        headers = [
            (b"content-type", self.content_type.encode("latin-1")),
            (b"content-length", str(len(self.body)).encode("ascii")),
            # The console is never framed, never sniffed, never cached, never
            # loads anything from elsewhere.
            (b"x-frame-options", b"DENY"),
            (b"x-content-type-options", b"nosniff"),
            (b"cache-control", b"no-store"),
            (b"referrer-policy", b"same-origin"),
            (b"content-security-policy",
             b"default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; "
             b"form-action 'self'; base-uri 'none'"),
        ]
        headers += [(k.encode("latin-1"), v.encode("latin-1")) for k, v in self.headers]
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        await send({"type": "http.response.body", "body": self.body})


def _header(scope: Mapping[str, Any], name: bytes) -> str:
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value).decode("latin-1")
    return ""


def _pairs(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    try:
        pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FIELDS)
    except ValueError:  # more fields than any console form has
        raise FormTooLarge() from None
    for key, value in pairs:
        out.setdefault(key, value)
    return out


async def read_request(scope: Mapping[str, Any], receive: Any, prefix: str) -> Request:
    """The request below ``prefix``; raises :class:`FormTooLarge` past :data:`MAX_FORM`."""
    body = b""
    if scope.get("method") == "POST":
        chunks: list[bytes] = []
        size, more = 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > MAX_FORM:
                raise FormTooLarge()
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
    cookies: dict[str, str] = {}
    jar: SimpleCookie = SimpleCookie()
    # A malformed Cookie header is no cookie at all.
    with contextlib.suppress(Exception):
        jar.load(_header(scope, b"cookie"))
    cookies = {name: morsel.value for name, morsel in jar.items()}
    path = str(scope.get("path", "/"))[len(prefix):] or "/"
    client = scope.get("client")
    return Request(
        method=str(scope.get("method", "GET")),
        path=path,
        query=_pairs(bytes(scope.get("query_string", b"")).decode("latin-1")),
        form=_pairs(body.decode("utf-8", "replace")),
        cookies=cookies,
        secure=scope.get("scheme") in ("https", "wss"),
        client_ip=str(client[0]) if client else None,
        user_agent=_header(scope, b"user-agent")[:256],
        scope=scope,
    )


def one_of(values: Sequence[str], value: str, default: str) -> str:
    return value if value in values else default
