"""Serving the console next to the SigV4-verified APIs on one port.

:class:`ConsoleMount` sends ``/console`` (and below) to the console, which
authenticates browsers with its own cookie sessions, and everything else
(lifespan included: the verified app opens and closes the store) to the
SigV4-verified app.
"""

from __future__ import annotations

from typing import Any

from ._ctx import PREFIX

__all__ = ["ConsoleMount", "store_audit_sink"]


class ConsoleMount:
    """``/console`` to ``console``, the rest to ``app``."""

    def __init__(self, app: Any, console: Any) -> None:
        self.app = app
        self.console = console

    def __repr__(self) -> str:
        return f"ConsoleMount(app={self.app!r}, console={self.console!r})"

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            path = str(scope.get("path", ""))
            if path == PREFIX:
                await send({"type": "http.response.start", "status": 308,
                            "headers": [(b"location", b"/console/"), (b"content-length", b"0")]})
                await send({"type": "http.response.body", "body": b""})
                return
            if path.startswith(PREFIX + "/"):
                await self.console(scope, receive, send)
                return
        await self.app(scope, receive, send)


def store_audit_sink(store: Any) -> Any:
    """An audit sink appending to the ``audit_events`` chain of the store's own database."""
    from ..audit import SqlAuditSink

    engine = getattr(store, "_engine", None) or store._async
    return SqlAuditSink(engine, schema=getattr(store, "schema", None))
