"""An ASGI app for one AWS Query service (IAM now, STS later), behind ``SigV4Middleware``.

The app reads the request (a form-encoded POST body, or the query string of a
GET, as IAM accepts both), parses it against the service's botocore model
(:func:`parse_query_request`), asks the service's ``authorize`` hook whether
the verified caller may run the operation, runs the operation's handler and
writes its output dict (:func:`serialize_response`)::

    service = QueryService(model=load_service_model("iam"), handlers={"ListUsers": list_users},
                           context=make_context)
    app = SigV4Middleware(QueryApp(service), store=store, error_format=ErrorFormat.QUERY_XML)

A handler is ``async def handler(call: Call[C]) -> Mapping | None``: ``call.params``
is the typed input, ``call.context`` what ``QueryService.context`` built for
the request (the store, the caller). Errors are the Query protocol's
``<ErrorResponse>`` with the AWS code, message and HTTP status of the exception
raised: a :class:`QueryError`, or any :class:`~sigv4kit.SigV4Error` carrying
``code``/``status``/``message`` (the IAM entity errors). Anything else is a
bug: it is logged with the request id and answered ``ServiceFailure`` (500)
with a fixed message, so nothing internal reaches the client. A store that
cannot answer is ``ServiceUnavailable`` (503), which the SDKs retry.

Behind ``SigV4Middleware(audit=...)`` every call is one audit event (see
:mod:`._audit`): a call that changes something reserves its place in the
queue before it runs, so a full queue (shed policy) answers 503 and runs
nothing; any other call is answered 503 when its event cannot be queued.

Strings of botocore's ``policyDocumentType`` shape are URL-encoded in the
output, as IAM writes them (botocore's ``json_decode_policies`` handler
decodes them back into dicts).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar
from urllib.parse import quote

from sigv4kit import SigV4Error

from ...audit import AuditLog, Offer
from ...store.errors import StoreUnavailableError
from ._audit import call_event, is_read_only, trail_of
from ._query import parse_query_request
from ._response import serialize_error, serialize_response
from ._shapes import QueryError

__all__ = [
    "DEFAULT_MAX_BODY",
    "Call",
    "Handler",
    "QueryApp",
    "QueryService",
    "encode_policy_documents",
    "error_parts",
]

logger = logging.getLogger("sigv4kit.middleware.iam.api")

C = TypeVar("C")

#: Largest request body read (IAM's largest input, a 131,072-character policy
#: document, URL-encoded, fits several times over).
DEFAULT_MAX_BODY = 1024 * 1024

#: The shape botocore marks IAM's policy documents with (``json_decode_policies``).
POLICY_DOCUMENT_SHAPE = "policyDocumentType"

_FAILURE_MESSAGE = "The request processing has failed because of an unknown error."
_UNAVAILABLE_MESSAGE = "The service is unavailable. Please try again later."


@dataclass(frozen=True, slots=True, kw_only=True)
class Call(Generic[C]):
    """One operation to run: its name, typed input, request id and per-request context."""

    action: str
    params: Mapping[str, Any]
    request_id: str
    context: C


Handler = Callable[[Call[Any]], Awaitable[Mapping[str, Any] | None]]


@dataclass(frozen=True, slots=True, kw_only=True)
class QueryService(Generic[C]):
    """A Query service: its model, one handler per operation, how to build a call's context.

    ``context(scope, action, params)`` builds the per-request context (who the
    caller is, the store) and authorizes the call, raising an error with an
    AWS code (``AccessDenied``) to refuse it. Operations without a handler
    answer ``InvalidAction``.
    """

    model: Any
    handlers: Mapping[str, Handler]
    context: Callable[[Mapping[str, Any], str, Mapping[str, Any]], Awaitable[C]]
    new_request_id: Callable[[], str] = field(default=lambda: str(uuid.uuid4()))
    max_body: int = DEFAULT_MAX_BODY


@dataclass(slots=True)
class _Outcome:
    """What one call did, for its audit event."""

    trail: AuditLog | None
    action: str = "?"
    params: Mapping[str, Any] | None = None
    result: Mapping[str, Any] | None = None
    error: tuple[str, str] | None = None
    #: A place held in the queue (reserve), to fill with the event.
    reserved: bool = False
    #: No event: the queue shed the call before it ran, or dropped its event.
    skip: bool = False


class QueryApp:
    """The ASGI app of a :class:`QueryService`; see the module docstring."""

    def __init__(self, service: QueryService[Any]) -> None:
        self.service = service

    def __repr__(self) -> str:
        return f"QueryApp(service={self.service.model.service_name!r})"

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        request_id = self.service.new_request_id()
        outcome = _Outcome(trail=trail_of(scope))
        status, body = await self._answer(scope, receive, request_id, outcome)
        if outcome.trail is not None and not outcome.skip:
            event = call_event(
                scope, service=self.service.model.endpoint_prefix, action=outcome.action,
                params=outcome.params, result=outcome.result, error=outcome.error,
                request_id=request_id, when=datetime.now(UTC),
            )
            if outcome.trail.emit(event, reserved=outcome.reserved) is Offer.SHED:
                status, body = self._unavailable(request_id)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"text/xml"),
                    (b"content-length", str(len(body)).encode("ascii")),
                    (b"x-amzn-requestid", request_id.encode("ascii")),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def _answer(
        self, scope: Any, receive: Any, request_id: str, outcome: _Outcome
    ) -> tuple[int, bytes]:
        model = self.service.model
        action = "?"
        try:
            body = await _request_text(scope, receive, self.service.max_body)
            request = parse_query_request(model, body)
            action = outcome.action = request.action
            outcome.params = request.params
            handler = self.service.handlers.get(action)
            if handler is None:
                raise QueryError(
                    "InvalidAction", f"The action {action} is not valid for this web service."
                )
            context = await self.service.context(scope, action, request.params)
            if outcome.trail is not None and not is_read_only(action):
                offer = outcome.trail.reserve()
                if offer is Offer.SHED:
                    outcome.skip = True
                    return self._unavailable(request_id)
                outcome.reserved = offer is Offer.ACCEPTED
                outcome.skip = offer is Offer.DROPPED
            call = Call(action=action, params=request.params, request_id=request_id,
                        context=context)
            result = outcome.result = await handler(call)
            output = encode_policy_documents(request.operation.output_shape, result)
            return 200, serialize_response(request.operation, output, request_id=request_id)
        except StoreUnavailableError:
            # The database did not answer: the client may retry (AWS's 503).
            logger.warning("%s: the store is unavailable (request id %s)", action, request_id)
            outcome.error = ("ServiceUnavailable", _UNAVAILABLE_MESSAGE)
            return self._unavailable(request_id)
        except SigV4Error as exc:
            parts = error_parts(exc)
            if parts is not None:
                code, message, status = parts
                outcome.error = (code, message)
                fault = "Receiver" if status >= 500 else "Sender"
                return status, serialize_error(
                    model, code=code, message=message, request_id=request_id, fault=fault
                )
            outcome.error = ("ServiceFailure", _FAILURE_MESSAGE)
            return self._failure(action, request_id)
        except Exception:
            outcome.error = ("ServiceFailure", _FAILURE_MESSAGE)
            return self._failure(action, request_id)

    def _unavailable(self, request_id: str) -> tuple[int, bytes]:
        return 503, serialize_error(
            self.service.model, code="ServiceUnavailable", message=_UNAVAILABLE_MESSAGE,
            request_id=request_id, fault="Receiver",
        )

    def _failure(self, action: str, request_id: str) -> tuple[int, bytes]:
        # A bug, not bad input: log it (with the traceback) under the request id
        # the client sees, and tell the client nothing more.
        logger.exception("%s failed (request id %s)", action, request_id)
        body = serialize_error(
            self.service.model, code="ServiceFailure", message=_FAILURE_MESSAGE,
            request_id=request_id, fault="Receiver",
        )
        return 500, body


def error_parts(exc: BaseException) -> tuple[str, str, int] | None:
    """``(code, message, status)`` of an error that carries an AWS code, else None."""
    code = getattr(exc, "code", None)
    status = getattr(exc, "status", None)
    message = getattr(exc, "message", None)
    if message is None and isinstance(code, str):
        message = str(exc)
    if isinstance(code, str) and isinstance(status, int) and isinstance(message, str):
        return code, message, status
    return None


async def _request_text(scope: Any, receive: Any, limit: int) -> bytes:
    """The form to parse: the body of a POST, the query string of a GET."""
    method = scope.get("method", "GET")
    if method == "GET":
        query: bytes = scope.get("query_string", b"")
        return query
    if method != "POST":
        raise QueryError(
            "InvalidHttpRequest", f"The HTTP method {method} is not supported; use POST or GET."
        )
    chunks: list[bytes] = []
    size = 0
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise QueryError("IncompleteBody", "The client closed the request early.")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise QueryError(
                "RequestEntityTooLarge", f"The request body exceeds {limit} bytes.", status=413
            )
        chunks.append(chunk)
        more = message.get("more_body", False)
    body = b"".join(chunks)
    return body or scope.get("query_string", b"")


async def _lifespan(receive: Any, send: Any) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def encode_policy_documents(shape: Any, value: Any) -> Any:
    """``value`` (output of ``shape``) with every policy document URL-encoded, as IAM sends them.

    IAM writes ``urlencode(document)``: every byte but letters, digits and
    ``_.-~`` percent-encoded (RFC 3986), spaces as ``%20``.
    """
    if shape is None or value is None:
        return value
    kind = shape.type_name
    if kind == "string":
        if shape.name == POLICY_DOCUMENT_SHAPE and isinstance(value, str):
            return quote(value, safe="")
        return value
    if kind == "structure" and isinstance(value, Mapping):
        return {
            name: encode_policy_documents(shape.members.get(name), item)
            for name, item in value.items()
        }
    if kind == "list" and isinstance(value, list | tuple):
        return [encode_policy_documents(shape.member, item) for item in value]
    if kind == "map" and isinstance(value, Mapping):
        return {key: encode_policy_documents(shape.value, item) for key, item in value.items()}
    return value
