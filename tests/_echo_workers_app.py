"""``examples.echo_service:app`` with ``x-worker-pid`` on every response (errors too).

Lets the multi-worker tests tell which uvicorn worker answered a request,
including the middleware's own 403 and 503 answers.
"""

from __future__ import annotations

import os
from typing import Any

import examples.echo_service as echo

_PID = str(os.getpid()).encode("ascii")
_inner = echo.app


async def app(scope: Any, receive: Any, send: Any) -> None:
    async def tagged(message: Any) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", []), (b"x-worker-pid", _PID)]}
        await send(message)

    await _inner(scope, receive, tagged if scope["type"] == "http" else send)
