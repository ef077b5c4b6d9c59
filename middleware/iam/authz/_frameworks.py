"""Decisions after routing: a FastAPI dependency and a Starlette decorator.

Both fill a resource template from the route's path parameters, ``{region}``
(the signed scope's region) and ``{account}`` (the caller's account), and
decide with the request's :class:`~._authorizer.IAMRequest` (the same engine
and snapshot cache as the middleware's :class:`~._authorizer.IAMAuthorizer`,
found through the scope)::

    @app.get("/orders/{order_id}")
    async def get_order(order_id: str, record=Depends(authorize(
            "orders:GetOrder", resource="arn:aws:orders:{region}:{account}:order/{order_id}"))):
        ...

    @requires_permission("orders:GetOrder",
                         resource="arn:aws:orders:{region}:{account}:order/{order_id}")
    async def get_order(request): ...

A refusal raises :class:`sigv4kit.AccessDenied`; the
:class:`~._authorizer.DecisionGuard` (``IAMAuthorizer.guard``) answers it
in the middleware's error format. Neither helper imports Starlette or
FastAPI at module level (they are optional).

Imports: :mod:`._authorizer`, :mod:`._template`.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

from sigv4kit.verify import AccessDenied

from ...asgi.authorize import AUTHORIZATION_KEY, AuthorizationRecord
from ...asgi.types import Scope
from ._authorizer import IAM_REQUEST_KEY, TEMPLATE_ERROR_KEY, ContextValue, IAMRequest
from ._template import ResourceTemplate, ResourceTemplateError

__all__ = ["ContextSource", "authorize", "check", "requires_permission"]

#: Extra condition keys for a decision: a mapping, or a function of the
#: request returning one (``aws:ResourceTag/*`` from a lookup, ``aws:RequestTag/*``
#: from the body...), sync or async.
ContextSource = (
    Mapping[str, ContextValue]
    | Callable[[Any], "Mapping[str, ContextValue] | Awaitable[Mapping[str, ContextValue]]"]
    | None
)

Endpoint = TypeVar("Endpoint", bound=Callable[..., Awaitable[Any]])


def check(
    scope: Scope, action: str, resource: str, context: Mapping[str, ContextValue] | None = None
) -> AuthorizationRecord:
    """Decide ``action`` on ``resource`` for the request of ``scope``, from inside the app.

    Records the decision in ``scope["sigv4.authorization"]``; raises
    :class:`sigv4kit.AccessDenied` when refused, and also when no
    :class:`~._authorizer.IAMAuthorizer` authenticated this request (an
    exempt path, or no authorizer in front: fail closed).
    """
    request = scope.get(IAM_REQUEST_KEY)
    if not isinstance(request, IAMRequest):
        message = (f"Not authorized to perform: {action} on resource: {resource}: the request "
                   "was not authorized by an IAMAuthorizer")
        scope[AUTHORIZATION_KEY] = AuthorizationRecord(action=action, resource=resource,
                                                       allowed=False, reason=message)
        raise AccessDenied(message)
    return request.authorize(action, resource, context)


async def _context_of(source: ContextSource, request: Any) -> Mapping[str, ContextValue] | None:
    if source is None or isinstance(source, Mapping):
        return source
    found = source(request)
    if inspect.isawaitable(found):
        return await found
    return found


def _resource_of(template: ResourceTemplate, scope: Scope, path_params: Mapping[str, Any]
                 ) -> str:
    """The template filled for this request (ResourceTemplateError noted for the guard)."""
    iam = scope.get(IAM_REQUEST_KEY)
    region = iam.region if isinstance(iam, IAMRequest) else ""
    account = iam.account_id if isinstance(iam, IAMRequest) else ""
    try:
        return template.fill(path_params, region=region, account=account)
    except ResourceTemplateError as exc:
        scope[TEMPLATE_ERROR_KEY] = exc
        raise


def authorize(
    action: str, *, resource: str, context: ContextSource = None
) -> Callable[..., Awaitable[AuthorizationRecord]]:
    """A FastAPI dependency deciding ``action`` on the ``resource`` template.

    ```python
    @app.get("/orders/{order_id}",
             dependencies=[Depends(authorize("orders:GetOrder",
                 resource="arn:aws:orders:{region}:{account}:order/{order_id}"))])
    ```

    The dependency's value is the :class:`AuthorizationRecord` of the allow.
    Raises :class:`ResourceTemplateError` at once for a malformed template.
    """
    from starlette.requests import Request  # FastAPI's Request: the app has Starlette

    template = ResourceTemplate.parse(resource)

    async def dependency(request: Request) -> AuthorizationRecord:
        scope = request.scope
        arn = _resource_of(template, scope, request.path_params)
        return check(scope, action, arn, await _context_of(context, request))

    # FastAPI reads the signature (with this module's postponed annotations,
    # the closure's "Request" would not resolve from here).
    dependency.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD,
                           annotation=Request)],
        return_annotation=AuthorizationRecord,
    )
    dependency.__name__ = f"authorize_{action.replace(':', '_')}"
    return dependency


def requires_permission(
    action: str, *, resource: str, context: ContextSource = None
) -> Callable[[Endpoint], Endpoint]:
    """A Starlette endpoint decorator deciding ``action`` on the ``resource`` template.

    ```python
    @requires_permission("orders:GetOrder",
                         resource="arn:aws:orders:{region}:{account}:order/{order_id}")
    async def get_order(request):
        ...
    ```

    The endpoint runs only when allowed (the record is in
    ``request.scope["sigv4.authorization"]``). Raises :class:`ResourceTemplateError`
    at once for a malformed template.
    """
    template = ResourceTemplate.parse(resource)

    def decorate(endpoint: Endpoint) -> Endpoint:
        if not inspect.iscoroutinefunction(endpoint):
            raise TypeError("requires_permission decorates async endpoints (async def f(request))")

        @functools.wraps(endpoint)
        async def wrapper(request: Any, *args: Any, **kwargs: Any) -> Any:
            scope = request.scope
            arn = _resource_of(template, scope, request.path_params)
            check(scope, action, arn, await _context_of(context, request))
            return await endpoint(request, *args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate
