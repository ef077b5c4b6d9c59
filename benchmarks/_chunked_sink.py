"""The server side of bench_chunked_upload: SigV4Middleware in front of a sink app."""

from __future__ import annotations

import os
from typing import Any

from sigv4kit.middleware import MemoryKeyStore, SigV4Middleware

from sigv4kit import KeyRecord


async def sink(scope: Any, receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    size = 0
    while True:
        message = await receive()
        size += len(message.get("body", b""))
        if not message.get("more_body"):
            break
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"x-received", str(size).encode()), (b"content-length", b"0")]})
    await send({"type": "http.response.body", "body": b""})


app = SigV4Middleware(
    sink,
    store=MemoryKeyStore([KeyRecord(
        access_key_id=os.environ["BENCH_AKID"],
        secret_access_key=os.environ["BENCH_SECRET"],
        principal="bench",
    )]),
    max_body_size=8 * 1024**3,
    stream_verified_chunks=os.environ.get("BENCH_STREAM") == "1",
)
