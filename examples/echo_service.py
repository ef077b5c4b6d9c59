"""A small ASGI service behind SigV4Middleware: answers who called and what was sent.

Run it (the store URL comes from ``SIGV4KIT_STORE``, default ``sqlite:///sigv4kit.db``)::

    SIGV4KIT_STORE=sqlite:///keys.db uvicorn examples.echo_service:app

``SIGV4KIT_REPLAY_GUARD=redis://host:6379/0`` turns replay protection on
(shared by every worker; ``SIGV4KIT_REPLAY_PREFIX`` namespaces its keys).

Any region and any service are accepted; requests signed for service ``s3``
are checked with S3's rules. Every verified request gets 200 and JSON
``{"principal", "access_key_id", "method", "path", "query", "body_sha256"}``,
except an S3 upload from an S3 client: a ``PUT`` signed for ``s3`` without an
``Accept`` header (boto3, the AWS CLI) gets what S3 answers to PutObject, an
empty 200 with the body's MD5 as ``ETag``. botocore reads any other 200 body
of PutObject as a broken S3 response and fails the call with a 500.
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any

from sigv4kit.middleware import (
    AccessKeyStore,
    RedisReplayGuard,
    SigV4Middleware,
    install_access_log_redactor,
)

from sigv4kit import SigningSettings, VerifierConfig

DEFAULT_STORE = "sqlite:///sigv4kit.db"


async def echo(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The protected app: reports the verified identity and a hash of the body."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    digest = hashlib.sha256()
    md5 = hashlib.md5(usedforsecurity=False)  # S3's ETag of a single-part upload
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        chunk = message.get("body", b"")
        digest.update(chunk)
        md5.update(chunk)
        if not message.get("more_body", False):
            break
    if _is_s3_upload(scope):
        for event in _s3_put_answer(md5.hexdigest()):
            await send(event)
        return
    identity = scope["sigv4"]
    payload = {
        "principal": identity.principal,
        "access_key_id": identity.access_key_id,
        "method": scope["method"],
        "path": scope["path"],
        "query": scope["query_string"].decode("latin-1"),
        "body_sha256": digest.hexdigest(),
    }
    body = json.dumps(payload).encode("utf-8")
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode("ascii")),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _is_s3_upload(scope: dict[str, Any]) -> bool:
    """A PutObject from an S3 client: it must get S3's answer, not JSON.

    httpx and curl send ``Accept: */*``; botocore sends no ``Accept``.
    """
    if scope["method"] != "PUT" or scope["sigv4"].service != "s3":
        return False
    return all(name.lower() != b"accept" for name, _ in scope["headers"])


def _s3_put_answer(md5_hex: str) -> list[dict[str, Any]]:
    etag = f'"{md5_hex}"'.encode("ascii")
    return [
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"etag", etag), (b"content-length", b"0")],
        },
        {"type": "http.response.body", "body": b""},
    ]


def create_app(store: AccessKeyStore | str, **options: Any) -> SigV4Middleware:
    """The echo app behind the middleware: any region, any service, S3 rules for ``s3``."""
    config = VerifierConfig(
        regions=None, services=None, service_settings={"s3": SigningSettings.s3()}
    )
    return SigV4Middleware(echo, store=store, config=config, **options)


def __getattr__(name: str) -> Any:
    # `app` is built on first use, so importing this module opens no store.
    if name == "app":
        options: dict[str, Any] = {}
        guard_url = os.environ.get("SIGV4KIT_REPLAY_GUARD")
        if guard_url:
            options["replay_guard"] = RedisReplayGuard(
                guard_url, prefix=os.environ.get("SIGV4KIT_REPLAY_PREFIX", "sigv4kit:replay:")
            )
        app = create_app(os.environ.get("SIGV4KIT_STORE", DEFAULT_STORE), **options)
        # Presigned URLs carry their credential, signature and session token
        # in the query, and uvicorn logs the full target: redact them.
        install_access_log_redactor("uvicorn.access")
        globals()["app"] = app
        return app
    raise AttributeError(name)
