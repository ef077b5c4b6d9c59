"""The IAM and STS APIs on the wire, and the IAM API served over the store.

The AWS Query protocol, read and written from botocore's own service models, so
every shape is the one boto3 and the AWS CLI parse. One module per step:
``_query`` (form body → typed input), ``_validate`` (the model's constraints, in
AWS's words), ``_response`` (output → XML, errors), ``_shapes`` (what they share).

Serving: ``_app`` (:class:`QueryApp`, an ASGI app for one Query service: read,
parse, authorize, dispatch to one handler per operation, write),
``_router`` (:class:`ServiceRouter`, one endpoint for many services, routed
by the signed credential scope's service), ``_iam_service`` (the IAM API:
:func:`iam_app`), ``_iam_context`` / ``_iam_resources`` / ``..authz``
(the IAM API's own authorization), ``_handlers_*`` (one small handler per
operation), ``_iam_shapes`` (entity records → IAM's response shapes)::

    from sigv4kit.middleware import ErrorFormat, SigV4Middleware, open_store
    from sigv4kit.middleware.iam.api import ServiceRouter, iam_app

    store = open_store("sqlite:///iam.db")
    router = ServiceRouter()
    app, model = iam_app(store)
    router.register("iam", app, model=model)
    asgi = SigV4Middleware(router, store=store, error_format=ErrorFormat.QUERY_XML)

``sigv4kit serve --store URL`` runs exactly that under uvicorn.
"""

from __future__ import annotations

from ..authz import AccessDenied, denial_message
from ._app import DEFAULT_MAX_BODY, Call, Handler, QueryApp, QueryService, encode_policy_documents
from ._iam_service import IAM_HANDLERS, iam_app, iam_service
from ._query import MAX_FIELDS, QueryRequest, decode_form, parse_query_request, read_params
from ._response import serialize_error, serialize_response
from ._router import SERVICE_APPS, ServiceRouter
from ._shapes import MAX_ECHO, QueryError, load_service_model
from ._validate import validate_params

__all__ = [
    "DEFAULT_MAX_BODY",
    "IAM_HANDLERS",
    "MAX_ECHO",
    "MAX_FIELDS",
    "SERVICE_APPS",
    "AccessDenied",
    "Call",
    "Handler",
    "QueryApp",
    "QueryError",
    "QueryRequest",
    "QueryService",
    "ServiceRouter",
    "decode_form",
    "denial_message",
    "encode_policy_documents",
    "iam_app",
    "iam_service",
    "load_service_model",
    "parse_query_request",
    "read_params",
    "serialize_error",
    "serialize_response",
    "validate_params",
]
