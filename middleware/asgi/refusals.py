"""Refusals: the error answered to the client, and the one log line that records it.

Logs carry codes, request ids and the access key id a request claimed,
never a secret, a token or a signature; internal errors log their frames,
not their message (a store error can quote a DSN or a value).

Imports: the core (``sigv4kit``), :mod:`.request`, :mod:`.responses`, :mod:`.types`.
"""

from __future__ import annotations

import logging
import traceback

from sigv4kit import VerificationError

from .request import claimed_access_key_id
from .responses import ErrorFormat, render_error
from .types import Receive, Scope, Send

__all__ = ["deny_websocket", "log_internal", "log_refusal", "logger", "send_error"]

logger = logging.getLogger("sigv4kit.middleware")


async def send_error(
    send: Send, error: VerificationError, scope: Scope, request_id: str, error_format: ErrorFormat
) -> None:
    """Answer an HTTP request with ``error`` in ``error_format`` (no body for HEAD)."""
    status, headers, payload = render_error(error, error_format, request_id=request_id)
    await send({"type": "http.response.start", "status": status, "headers": headers})
    if scope.get("method") == "HEAD":
        payload = b""
    await send({"type": "http.response.body", "body": payload, "more_body": False})


async def deny_websocket(
    scope: Scope,
    receive: Receive,
    send: Send,
    error: VerificationError,
    request_id: str,
    error_format: ErrorFormat,
) -> None:
    """Refuse a WebSocket handshake: the error as an HTTP response when the server can, else 403."""
    message = await receive()
    if message.get("type") != "websocket.connect":
        return
    if "websocket.http.response" in (scope.get("extensions") or {}):
        status, headers, payload = render_error(error, error_format, request_id=request_id)
        await send({"type": "websocket.http.response.start", "status": status, "headers": headers})
        await send({"type": "websocket.http.response.body", "body": payload})
    else:
        # Closing before accepting makes the server answer the handshake with 403.
        await send({"type": "websocket.close", "code": 1008})


def log_refusal(error: VerificationError, request_id: str, scope: Scope, level: int) -> None:
    # Once per refusal, at WARNING by default: Python's last-resort handler
    # prints it under a plain `uvicorn module:app` with no logging set up.
    logger.log(
        level,
        "refused request %s: %s (%d), access key id %s",
        request_id,
        error.code,
        error.status,
        claimed_access_key_id(scope),
    )


def log_internal(error: BaseException, request_id: str) -> None:
    # The frames, not the message: a store error can quote a DSN or a value.
    frames = "".join(traceback.format_tb(error.__traceback__))
    logger.error(
        "internal error verifying request %s: %s\n%s",
        request_id,
        type(error).__name__,
        frames,
    )
