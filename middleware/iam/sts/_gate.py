"""Let exactly STS's unsigned operation past signature verification, and nothing else.

``AssumeRoleWithWebIdentity`` is sent unsigned by every SDK (its OIDC token
is the credential). :class:`UnsignedSTSGate` sits in front of
``SigV4Middleware``: a request that carries no signature at all (no
``Authorization`` header, no ``X-Amz-Signature``/``X-Amz-Credential`` in the
query) has its form read (bounded), and only when the form's ``Action`` is
one of :data:`~._context.UNSIGNED_ACTIONS` does it go to the STS app
directly. Every other request, including one whose form cannot be read,
goes to the middleware with its body replayed, which refuses it as before
(fail closed). Signed requests pass untouched at the cost of a header scan.

The form read is the one the Query app parses (the POST body, or the query
string when the body is empty or for GET), so the action decided here is the
action that runs.
"""

from __future__ import annotations

from typing import Any

from ...asgi.auditing import AUDIT_LOG_KEY
from ..api._query import decode_form
from ._context import UNSIGNED_ACTIONS

__all__ = ["MAX_UNSIGNED_BODY", "UnsignedSTSGate"]

#: The largest unsigned form read (a 20,000-character token, a 2,048-character
#: policy and ten policy ARNs fit, URL-encoded, with room to spare).
MAX_UNSIGNED_BODY = 64 * 1024

_SIGNATURE_QUERY = (b"x-amz-signature", b"x-amz-credential")


def _signed(scope: Any) -> bool:
    for name, _value in scope.get("headers", ()):
        if name.lower() == b"authorization":
            return True
    query: bytes = scope.get("query_string", b"").lower()
    return any(marker in query for marker in _SIGNATURE_QUERY)


class UnsignedSTSGate:
    """See the module docstring; ``verified`` is the ``SigV4Middleware``, ``sts`` STS's app."""

    def __init__(self, verified: Any, sts: Any, *, max_body: int = MAX_UNSIGNED_BODY) -> None:
        self.verified = verified
        self.sts = sts
        self.max_body = max_body

    def __repr__(self) -> str:
        return f"UnsignedSTSGate(verified={self.verified!r})"

    def __getattr__(self, name: str) -> Any:
        # The middleware's attributes (``store``, ``verifier``) stay reachable.
        if name == "verified":
            raise AttributeError(name)
        return getattr(self.verified, name)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or _signed(scope):
            await self.verified(scope, receive, send)
            return
        buffered, complete = await self._read(scope, receive)
        replay = _replay(buffered, receive)
        if complete and _unsigned_action(scope, buffered):
            anonymous = dict(scope)
            anonymous.update({"sigv4": None, "sigv4.caller": None})
            auditor = getattr(self.verified, "auditor", None)
            if auditor is not None:  # the call is audited like a signed one
                anonymous[AUDIT_LOG_KEY] = auditor.log
            await self.sts(anonymous, replay, send)
            return
        await self.verified(scope, replay, send)

    async def _read(self, scope: Any, receive: Any) -> tuple[list[Any], bool]:
        """The request's messages up to ``max_body`` bytes; complete when all were read."""
        messages: list[Any] = []
        if scope.get("method") != "POST":
            return messages, True
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                return messages, False
            size += len(message.get("body", b""))
            if size > self.max_body:
                return messages, False
            if not message.get("more_body", False):
                return messages, True


def _unsigned_action(scope: Any, messages: list[Any]) -> bool:
    method = scope.get("method")
    if method == "POST":
        body = b"".join(m.get("body", b"") for m in messages)
        text = body or scope.get("query_string", b"")
    elif method == "GET":
        text = scope.get("query_string", b"")
    else:
        return False
    try:
        action = decode_form(text).get("Action")
    except Exception:  # a malformed form: the middleware refuses it
        return False
    return action in UNSIGNED_ACTIONS


def _replay(messages: list[Any], receive: Any) -> Any:
    pending = list(messages)

    async def replay() -> Any:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay
