"""``examples.orders_service:app`` with ``x-worker-pid`` on every response (errors too)."""

from __future__ import annotations

import os
from typing import Any

import examples.orders_service as orders

_PID = str(os.getpid()).encode("ascii")
_inner = orders.app


async def app(scope: Any, receive: Any, send: Any) -> None:
    async def tagged(message: Any) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", []), (b"x-worker-pid", _PID)]}
        await send(message)

    await _inner(scope, receive, tagged if scope["type"] == "http" else send)
