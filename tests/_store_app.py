"""A bare ASGI app that looks keys up in the store named by $SIGV4KIT_STORE.

Run by tests/test_sqlite.py under ``uvicorn --workers 2`` to show several
worker processes sharing one SQLite file (no middleware involved).
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from typing import Any

from sigv4kit.middleware import AccessKeyStore, open_store

_store: AccessKeyStore | None = None


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    global _store
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                _store = open_store(os.environ["SIGV4KIT_STORE"])
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if _store is not None:
                    await _store.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return
    assert scope["type"] == "http"
    assert _store is not None
    kid = scope["path"].rsplit("/", 1)[-1]
    record = await _store.get_key(kid)
    if record is not None:
        _store.record_use(kid, at=datetime.now(UTC), region="us-east-1", service=f"w{os.getpid()}")
    body = json.dumps(
        {"pid": os.getpid(), "found": record is not None, "active": bool(record and record.active)}
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": body})
