"""STS as an ASGI app: botocore's STS model, the handlers, one set of services per app.

::

    from sigv4kit.middleware.iam.sts import sts_app

    app, model = sts_app(store)   # behind SigV4Middleware, routed by the signed service "sts"
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any, cast

import httpx

from ..api._app import QueryApp, QueryService
from ..api._shapes import load_service_model
from ..entities import IAMStore
from ..mfa import MFAStore
from ..oidc import JWKSCache, OIDCProviderStore
from ._context import STSServices, sts_context_factory
from ._handlers import HANDLERS

__all__ = ["STS_HANDLERS", "sts_app", "sts_service"]

STS_HANDLERS = HANDLERS


def _utc_now() -> datetime:
    return datetime.now(UTC)


class _OneShotClient:
    """An HTTP client per fetch: key sets are fetched about hourly, and a long-lived
    client would outlive the server's event loop (nothing closes it at shutdown)."""

    @contextlib.asynccontextmanager
    async def stream(self, method: str, url: str, **options: Any) -> AsyncIterator[Any]:
        async with httpx.AsyncClient() as client, client.stream(
            method, url, **options
        ) as response:
            yield response


def _lazy_jwks() -> Callable[[], JWKSCache]:
    # Made on first use, inside the server's event loop (the cache holds asyncio locks).
    made: list[JWKSCache] = []

    def get() -> JWKSCache:
        if not made:
            made.append(JWKSCache(cast(httpx.AsyncClient, _OneShotClient())))
        return made[0]

    return get


def sts_service(store: Any, *, clock: Callable[[], datetime] = _utc_now,
                jwks: Callable[[], Any] | None = None) -> QueryService[Any]:
    """The STS :class:`QueryService` over a SQL key store."""
    services = STSServices(
        store=store,
        iam=IAMStore(store, clock=clock),
        mfa=MFAStore(store),
        oidc=OIDCProviderStore(store),
        jwks=jwks or _lazy_jwks(),
        clock=clock,
    )
    return QueryService(
        model=load_service_model("sts"), handlers=HANDLERS,
        context=sts_context_factory(services),
    )


def sts_app(store: Any, *, clock: Callable[[], datetime] = _utc_now) -> tuple[QueryApp, Any]:
    """STS over a key ``store`` and STS's botocore model: ``(app, model)``."""
    service = sts_service(store, clock=clock)
    return QueryApp(service), service.model
