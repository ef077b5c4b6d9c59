"""The IAM API as an ASGI app: IAM's model, one handler per operation, IAM's own authorization.

::

    from sigv4kit.middleware import ErrorFormat, SigV4Middleware, open_store
    from sigv4kit.middleware.iam.api import iam_app

    store = open_store("sqlite:///iam.db")
    app, _model = iam_app(store)
    app = SigV4Middleware(app, store=store, error_format=ErrorFormat.QUERY_XML)

Every call is authorized as ``iam:<Action>`` on its resource before its
handler runs (see :mod:`._iam_context`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from ..entities import IAMStore
from . import (
    _handlers_account,
    _handlers_attach,
    _handlers_groups,
    _handlers_mfa_oidc,
    _handlers_passwords,
    _handlers_policies,
    _handlers_reports,
    _handlers_roles,
    _handlers_tags,
    _handlers_users,
)
from ._app import Handler, QueryApp, QueryService
from ._iam_context import iam_context_factory
from ._shapes import load_service_model

__all__ = ["IAM_HANDLERS", "iam_app", "iam_service"]

#: Every IAM operation served, by action name.
IAM_HANDLERS: Mapping[str, Handler] = {
    **_handlers_users.HANDLERS,
    **_handlers_groups.HANDLERS,
    **_handlers_roles.HANDLERS,
    **_handlers_tags.HANDLERS,
    **_handlers_policies.HANDLERS,
    **_handlers_attach.HANDLERS,
    **_handlers_account.HANDLERS,
    **_handlers_mfa_oidc.HANDLERS,
    **_handlers_reports.HANDLERS,
    **_handlers_passwords.HANDLERS,
}


def _utc_now() -> datetime:
    return datetime.now(UTC)


def iam_service(iam: Any, *, clock: Callable[[], datetime] = _utc_now) -> QueryService[Any]:
    """The IAM :class:`QueryService` over an :class:`IAMStore` (or anything with its methods)."""
    return QueryService(
        model=load_service_model("iam"),
        handlers=IAM_HANDLERS,
        context=iam_context_factory(iam, clock=clock),
    )


def iam_app(store: Any, *, clock: Callable[[], datetime] = _utc_now) -> tuple[QueryApp, Any]:
    """The IAM API over a key ``store`` and IAM's botocore model: ``(app, model)``."""
    service = iam_service(IAMStore(store, clock=clock), clock=clock)
    return QueryApp(service), service.model
