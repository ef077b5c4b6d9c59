"""A FastAPI service protected by SigV4Middleware.

Run it (keys come from the store; create one with `sigv4kit keys create`)::

    sigv4kit keys create --principal alice --store sqlite:///keys.db
    SIGV4KIT_STORE=sqlite:///keys.db uvicorn examples.fastapi_service:app --port 8000

then call it with any SigV4 client, e.g.
``sigv4kit request GET http://127.0.0.1:8000/whoami --region us-east-1 --service execute-api``.
"""

from __future__ import annotations

import os
from typing import Any

from fastapi import FastAPI, Request
from sigv4kit.middleware import AccessKeyStore, SigV4Middleware, install_access_log_redactor

from sigv4kit import VerifierConfig


def create_app(store: AccessKeyStore | str) -> SigV4Middleware:
    """The FastAPI app behind the middleware; only signatures for execute-api are accepted."""
    api = FastAPI()

    @api.get("/whoami")
    async def whoami(request: Request) -> dict[str, Any]:
        identity = request.scope["sigv4"]  # sigv4kit.Identity
        return {
            "principal": request.user.display_name,
            "access_key_id": identity.access_key_id,
            "region": identity.region,
        }

    @api.put("/items/{name}")
    async def put_item(name: str, request: Request) -> dict[str, Any]:
        body = await request.body()
        return {"name": name, "size": len(body), "owner": request.user.display_name}

    return SigV4Middleware(api, store=store, config=VerifierConfig(services={"execute-api"}))


def __getattr__(name: str) -> Any:
    # `app` is built on first use, so importing this module opens no store.
    if name == "app":
        app = create_app(os.environ.get("SIGV4KIT_STORE", "sqlite:///sigv4kit.db"))
        # Presigned URLs carry their credential, signature and session token
        # in the query, and uvicorn logs the full target: redact them.
        install_access_log_redactor("uvicorn.access")
        globals()["app"] = app
        return app
    raise AttributeError(name)


if __name__ == "__main__":
    import uvicorn

    uvicorn.run("examples.fastapi_service:app", port=int(os.environ.get("PORT", "8000")))
