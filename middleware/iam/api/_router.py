"""One endpoint, many AWS services: route a verified request by its signed service.

Every SDK signs with the service's name in the credential scope
(``.../us-east-1/iam/aws4_request``), so one host can serve IAM, STS and more:
``ServiceRouter`` hands the request to the app registered under
``scope["sigv4"].service``, which ``SigV4Middleware`` set after verifying the
signature::

    router = ServiceRouter()
    router.register("iam", iam_app)
    app = SigV4Middleware(router, store=store, config=VerifierConfig(services=router.services))

A request signed for a service nobody registered is refused (``InvalidAction``
in the Query protocol's error document) before any app sees it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from ._response import serialize_error
from ._shapes import load_service_model

__all__ = ["SERVICE_APPS", "ServiceFactory", "ServiceRouter"]

#: Builds a service's app over a store: ``(app, botocore service model)``.
ServiceFactory = Callable[[Any], tuple[Any, Any]]


def _iam(store: Any) -> tuple[Any, Any]:
    from ._iam_service import iam_app

    return iam_app(store)


def _sts(store: Any) -> tuple[Any, Any]:
    from ..sts import sts_app

    return sts_app(store)


#: The services ``sigv4kit serve`` can run, by credential-scope name.
SERVICE_APPS: dict[str, ServiceFactory] = {"iam": _iam, "sts": _sts}


class ServiceRouter:
    """An ASGI app that dispatches on the signed credential scope's service."""

    def __init__(self) -> None:
        self._apps: dict[str, Any] = {}
        self._models: dict[str, Any] = {}

    def __repr__(self) -> str:
        return f"ServiceRouter(services={sorted(self._apps)!r})"

    def register(self, service: str, app: Any, *, model: Any) -> None:
        """Serve ``service`` (the credential scope's name, ``"iam"``) with ``app``.

        ``model`` is the service's botocore model (refusals are written in the
        first registered service's namespace); raises ``ValueError`` for a name
        registered twice.
        """
        if service in self._apps:
            raise ValueError(f"service {service!r} is already registered")
        self._apps[service] = app
        self._models[service] = model

    @property
    def services(self) -> frozenset[str]:
        """The registered service names."""
        return frozenset(self._apps)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(scope, receive, send)
            return
        identity = scope.get("sigv4")
        service = getattr(identity, "service", None)
        app = self._apps.get(service) if isinstance(service, str) else None
        if app is None:
            await _refuse(scope, send, service, sorted(self._apps), self._models)
            return
        await app(scope, receive, send)

    async def _lifespan(self, scope: Any, receive: Any, send: Any) -> None:
        # The services own no resources of their own (the store belongs to the
        # middleware): acknowledge startup and shutdown.
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return


async def _refuse(
    scope: Any, send: Any, service: object, served: list[str], models: dict[str, Any]
) -> None:
    if scope["type"] != "http":
        return
    request_id = str(uuid.uuid4())
    shown = service if isinstance(service, str) else "(none)"
    message = (
        f"Credential should be scoped to a service served here ({', '.join(served)}), "
        f"not '{shown}'."
    )
    model = next(iter(models.values()), None) or load_service_model("iam")
    body = serialize_error(model, code="InvalidClientTokenId", message=message,
                           request_id=request_id)
    await send(
        {
            "type": "http.response.start",
            "status": 403,
            "headers": [
                (b"content-type", b"text/xml"),
                (b"content-length", str(len(body)).encode("ascii")),
                (b"x-amzn-requestid", request_id.encode("ascii")),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
