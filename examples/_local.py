"""A throwaway local service for the client examples: the echo service on 127.0.0.1.

``local_service()`` starts ``examples.echo_service`` behind SigV4Middleware
with one fresh in-memory key on a free port, in a background thread, and
yields ``(base_url, access_key_id, secret_access_key)``. With ``flaky=N``
every N-th request first gets a 503 ``SlowDown`` (to show retries).
"""

from __future__ import annotations

import contextlib
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import uvicorn
from sigv4kit.middleware import MemoryKeyStore
from sigv4kit.middleware.store.keygen import new_access_key_id, new_secret_access_key

from examples.echo_service import create_app
from sigv4kit import KeyRecord


def _flaky(app: Any, every: int) -> Any:
    count = {"n": 0}

    async def wrapper(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and every:
            count["n"] += 1
            if count["n"] % every == 1:
                body = (
                    b"<Error><Code>SlowDown</Code>"
                    b"<Message>Please reduce your request rate.</Message></Error>"
                )
                await send({"type": "http.response.start", "status": 503,
                            "headers": [(b"content-type", b"application/xml")]})
                await send({"type": "http.response.body", "body": body})
                return
        await app(scope, receive, send)

    return wrapper


@contextlib.contextmanager
def local_service(*, flaky: int = 0) -> Iterator[tuple[str, str, str]]:
    """Serve the echo service on a free port; yields (url, access key id, secret)."""
    access_key_id, secret = new_access_key_id(), new_secret_access_key()
    store = MemoryKeyStore(
        [KeyRecord(access_key_id=access_key_id, secret_access_key=secret,
                   principal="example-" + secrets.token_hex(2))]
    )
    app = create_app(store)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(_flaky(app, flaky), log_level="warning", access_log=False, lifespan="off")
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("the local service did not start")
            time.sleep(0.01)
        yield f"http://127.0.0.1:{port}", access_key_id, secret
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
