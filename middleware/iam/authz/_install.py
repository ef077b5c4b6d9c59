"""``iam_middleware``: SigV4 verification and IAM authorization in front of an app, in one call.

Imports: the middleware, the store, the entities, :mod:`._authorizer`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from ...asgi.middleware import SigV4Middleware
from ...asgi.responses import ErrorFormat
from ...asgi.types import ASGIApp
from ...store.base import SQLKeyStore
from ...store.protocols import AccessKeyStore
from ..entities import IAMStore
from ._authorizer import IAMAuthorizer, Resolver

__all__ = ["iam_middleware"]


def iam_middleware(
    app: ASGIApp,
    *,
    store: AccessKeyStore | str,
    resolver: Resolver | None = None,
    require_decision: bool = True,
    error_format: ErrorFormat = ErrorFormat.S3_XML,
    trusted_proxies: Iterable[str] = (),
    clock: Callable[[], datetime] | None = None,
    max_age: float = 1.0,
    **options: Any,
) -> SigV4Middleware:
    """``app`` behind :class:`SigV4Middleware` with an :class:`IAMAuthorizer` and its guard.

    ```python
    service = iam_middleware(fastapi_app, store="sqlite:///iam.db",
                             error_format=ErrorFormat.JSON)
    ```

    ``store`` is a SQL store (SQLite or PostgreSQL: IAM's identities live
    there) or its URL; the other options go to both the middleware and the
    authorizer (``trusted_proxies``, ``clock``) or to one of them (see
    :class:`IAMAuthorizer` and :class:`SigV4Middleware`). Decisions the app
    makes after routing are enforced by :meth:`IAMAuthorizer.guard`.
    Raises TypeError for a store that holds no IAM identities.
    """
    proxies = tuple(trusted_proxies)
    middleware = SigV4Middleware(app, store=store, error_format=error_format,
                                 trusted_proxies=proxies, clock=clock, **options)
    if not isinstance(middleware.store, SQLKeyStore):
        raise TypeError(f"IAM authorization needs a SQL store (SQLite or PostgreSQL), "
                        f"not {type(middleware.store).__name__}")
    authorizer = IAMAuthorizer(IAMStore(middleware.store), resolver=resolver,
                               require_decision=require_decision, trusted_proxies=proxies,
                               clock=clock, max_age=max_age)
    middleware.authorizer = authorizer
    middleware.app = authorizer.guard(app, error_format=middleware.error_format)
    return middleware
