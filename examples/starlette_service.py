"""A Starlette service protected by SigV4Middleware (``request.user`` and ``@requires`` work).

Run it::

    sigv4kit keys create --principal alice --store sqlite:///keys.db
    SIGV4KIT_STORE=sqlite:///keys.db uvicorn examples.starlette_service:app --port 8000

``/health`` is exempt from authentication (a load balancer cannot sign).
"""

from __future__ import annotations

import os
from typing import Any

from sigv4kit.middleware import AccessKeyStore, SigV4Middleware, install_access_log_redactor
from starlette.applications import Starlette
from starlette.authentication import requires
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route


@requires("authenticated")
async def whoami(request: Request) -> JSONResponse:
    identity = request.scope["sigv4"]  # sigv4kit.Identity
    return JSONResponse(
        {"principal": request.user.display_name, "service": identity.service,
         "presigned": identity.presigned}
    )


async def health(request: Request) -> PlainTextResponse:
    return PlainTextResponse("ok")


def create_app(store: AccessKeyStore | str) -> Starlette:
    """The Starlette app with the middleware added."""
    app = Starlette(routes=[Route("/whoami", whoami), Route("/health", health)])
    app.add_middleware(SigV4Middleware, store=store, exempt_paths=["/health"])
    return app


def __getattr__(name: str) -> Any:
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

    uvicorn.run("examples.starlette_service:app", port=int(os.environ.get("PORT", "8000")))
