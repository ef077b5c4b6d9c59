"""Real ASGI servers on 127.0.0.1 for the middleware tests (random free ports)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import uvicorn


@contextlib.contextmanager
def run_uvicorn(app: Any, **options: Any) -> Iterator[str]:
    """Serve ``app`` with uvicorn in a thread; yields the base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    settings: dict[str, Any] = {
        "log_level": "warning", "lifespan": "auto", "ws": "wsproto", "access_log": False,
    }
    config = uvicorn.Config(app, **{**settings, **options})
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        scheme = "https" if options.get("ssl_certfile") else "http"
        yield f"{scheme}://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@contextlib.contextmanager
def run_hypercorn(app: Any) -> Iterator[str]:
    """Serve ``app`` with hypercorn in a thread; yields the base URL."""
    from hypercorn.asyncio import serve
    from hypercorn.config import Config

    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    config = Config()
    config.bind = [f"127.0.0.1:{port}"]
    config.accesslog = None
    config.errorlog = None
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()

    def target() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(serve(app, config, shutdown_trigger=stop.wait))

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("hypercorn did not start") from None
                time.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(10)
        loop.close()


def call_asgi(app: Any, headers: list[tuple[bytes, bytes]], body: bytes = b"",
              path: bytes = b"/r", method: str = "POST") -> tuple[int, bytes]:
    """Run one HTTP request through ``app`` in-process; the status and the body."""
    async def run() -> tuple[int, bytes]:
        sent: list[dict[str, Any]] = []
        messages = [{"type": "http.request", "body": body, "more_body": False}]

        async def receive() -> dict[str, Any]:
            return messages.pop(0) if messages else {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        scope = {
            "type": "http", "method": method, "path": path.decode(), "raw_path": path,
            "query_string": b"", "headers": headers, "client": ("127.0.0.1", 1),
            "scheme": "http", "http_version": "1.1", "root_path": "",
        }
        await app(scope, receive, send)
        return int(sent[0]["status"]), b"".join(m.get("body", b"") for m in sent[1:])

    return asyncio.run(run())
