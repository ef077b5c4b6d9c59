"""Helpers for the IAM authorization tests: a real uvicorn in the test's own event loop.

Serving in the test's loop lets a test change IAM through the *same* store
object the service uses (SQLite in-process: visible at once), and still talk
to the service over a real socket with a real SigV4 client.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator
from typing import Any

import httpx
import uvicorn

import sigv4kit

ACCOUNT = "123456789012"


@contextlib.asynccontextmanager
async def serve(app: Any, **options: Any) -> AsyncIterator[str]:
    """Serve ``app`` with uvicorn in the running loop; yields the base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    settings: dict[str, Any] = {"log_level": "warning", "lifespan": "off", "access_log": False}
    server = uvicorn.Server(uvicorn.Config(app, **{**settings, **options}))
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        for _ in range(500):
            if server.started:
                break
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)
        sock.close()


def signing_client(access_key_id: str, secret: str, *, region: str = "us-east-1",
                   service: str = "orders", **options: Any) -> httpx.AsyncClient:
    creds = sigv4kit.Credentials(access_key_id, secret)
    return httpx.AsyncClient(auth=sigv4kit.SigV4Auth(creds, region=region, service=service),
                             timeout=10, **options)


def document(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action: str | list[str], resource: str | list[str] = "*", **condition: Any
          ) -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": "Allow", "Action": action, "Resource": resource}
    if condition:
        statement["Condition"] = condition
    return statement


def deny(action: str | list[str], resource: str | list[str] = "*", **condition: Any
         ) -> dict[str, Any]:
    return {**allow(action, resource, **condition), "Effect": "Deny"}


def denial(arn: str, action: str, resource: str, tail: str) -> str:
    """AWS's AccessDenied message, written out here (not by the code under test)."""
    return f"User: {arn} is not authorized to perform: {action} on resource: {resource} {tail}"
