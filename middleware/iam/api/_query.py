"""The AWS Query protocol (IAM, STS), read and written from botocore's service models.

A Query request is a form-encoded body::

    Action=CreateUser&Version=2010-05-08&UserName=bob&Tags.member.1.Key=team&Tags.member.1.Value=a

and its answer an XML document named after the operation::

    <CreateUserResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">
      <CreateUserResult><User>...</User></CreateUserResult>
      <ResponseMetadata><RequestId>...</RequestId></ResponseMetadata>
    </CreateUserResponse>

Errors are ``<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>``.

Every name, list and map layout, scalar format and constraint comes from the
operation's shapes in botocore's ``service-2.json``, so the documents written
here are the ones boto3 and the AWS CLI parse, and the requests read here are
the ones they send. Validation follows AWS's wording: ``1 validation error
detected: Value 'x' at 'userName' failed to satisfy constraint: Member must
satisfy regular expression pattern: [\\w+=,.@-]+``. Values of shapes botocore
marks ``sensitive`` (passwords) are never echoed.

Raises :class:`QueryError` (one AWS error code each) for every malformed request.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from ._shapes import QueryError, echo, member_name, sensitive
from ._validate import validate_params

__all__ = ["MAX_FIELDS", "QueryRequest", "decode_form", "parse_query_request", "read_params"]

#: Form fields accepted in one request (IAM's largest inputs, such as a policy
#: with tags, use a few dozen).
MAX_FIELDS = 1000

_INTEGER = re.compile(r"-?[0-9]{1,19}")


@dataclass(frozen=True, slots=True)
class QueryRequest:
    """A parsed Query request: the operation and its input, typed by the model."""

    action: str
    #: The botocore ``OperationModel`` of ``action``.
    operation: Any
    #: The input members, named as in the model (``UserName``, ``Tags``, ...).
    params: dict[str, Any]

# -- reading requests ------------------------------------------------------------------------


def parse_query_request(model: Any, body: bytes | str) -> QueryRequest:
    """Parse a form-encoded Query request for the service ``model``.

    Raises :class:`QueryError`: ``MalformedQueryString`` (undecodable or
    duplicate fields, too many fields), ``MissingAction``,
    ``MissingParameter`` (no ``Version``), ``InvalidAction`` (unknown
    operation or version), ``InvalidParameterValue`` (a value that is not of
    its member's type) and ``ValidationError`` (constraints of the model).
    """
    form = decode_form(body)
    action = form.pop("Action", None)
    if not action:
        raise QueryError("MissingAction", "The request must contain the parameter Action.")
    version = form.pop("Version", None)
    if version is None:
        raise QueryError("MissingParameter", "The request must contain the parameter Version.")
    api_version = model.metadata["apiVersion"]
    if version != api_version or action not in model.operation_names:
        raise QueryError(
            "InvalidAction",
            f"Could not find operation {echo(action)} for version {echo(version)}.",
        )
    operation = model.operation_model(action)
    params = read_params(operation.input_shape, form)
    validate_params(operation.input_shape, params)
    return QueryRequest(action=action, operation=operation, params=params)


def read_params(shape: Any, form: Mapping[str, str]) -> dict[str, Any]:
    """The members of the input ``shape`` found in ``form``, converted to their types.

    Unknown fields are ignored. Raises :class:`QueryError`
    (``InvalidParameterValue``) for a value that is not of its member's type.
    """
    return {} if shape is None else _read_structure(shape, form, "")

def decode_form(body: bytes | str) -> dict[str, str]:
    """The fields of a form-encoded body, each once.

    Raises :class:`QueryError` (``MalformedQueryString``) for a body that is
    not UTF-8, a field that appears twice, or more than ``MAX_FIELDS`` fields.
    """
    try:
        text = body.decode("utf-8", "strict") if isinstance(body, bytes) else body
        pairs = parse_qsl(
            text,
            keep_blank_values=True,
            strict_parsing=False,
            encoding="utf-8",
            errors="strict",
            max_num_fields=MAX_FIELDS,
        )
    except (ValueError, UnicodeDecodeError) as exc:
        # ValueError also covers max_num_fields being exceeded.
        raise QueryError("MalformedQueryString", f"The query string is malformed: {exc}.") from exc
    form: dict[str, str] = {}
    for key, value in pairs:
        if key in form:
            raise QueryError(
                "MalformedQueryString", f"The parameter {echo(key)} appears more than once."
            )
        form[key] = value
    return form

def _read(shape: Any, form: Mapping[str, str], key: str) -> Any:
    """The value of ``shape`` serialized under ``key``, or None when absent."""
    kind = shape.type_name
    if kind == "structure":
        value = _read_structure(shape, form, key)
        return value if value or key in form else None
    if kind == "list":
        return _read_list(shape, form, key)
    if kind == "map":
        return _read_map(shape, form, key)
    if key not in form:
        return None
    return _scalar(shape, form[key], key)


def _read_structure(shape: Any, form: Mapping[str, str], prefix: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, member in shape.members.items():
        wire = member_name(member, name)
        value = _read(member, form, f"{prefix}.{wire}" if prefix else wire)
        if value is not None:
            out[name] = value
    return out


def _indexes(form: Mapping[str, str], prefix: str) -> list[int]:
    """The item numbers N present as ``prefix.N`` or ``prefix.N.<anything>``."""
    found: set[int] = set()
    start = prefix + "."
    for key in form:
        if key.startswith(start):
            head = key[len(start) :].split(".", 1)[0]
            if head.isdigit() and len(head) <= 6:
                found.add(int(head))
    return sorted(found)


def _read_list(shape: Any, form: Mapping[str, str], key: str) -> list[Any] | None:
    if shape.serialization.get("flattened"):
        item_prefix = key
        if shape.member.serialization.get("name"):
            item_prefix = ".".join([*key.split(".")[:-1], shape.member.serialization["name"]])
    else:
        item_prefix = f"{key}.{member_name(shape.member, 'member')}"
    numbers = _indexes(form, item_prefix)
    if not numbers:
        # botocore sends ``Key=`` for an empty list.
        return [] if form.get(key) == "" else None
    return [_read(shape.member, form, f"{item_prefix}.{n}") for n in numbers]


def _read_map(shape: Any, form: Mapping[str, str], key: str) -> dict[str, Any] | None:
    entry_prefix = key if shape.serialization.get("flattened") else f"{key}.entry"
    numbers = _indexes(form, entry_prefix)
    if not numbers:
        return None
    key_name = member_name(shape.key, "key")
    value_name = member_name(shape.value, "value")
    out: dict[str, Any] = {}
    for n in numbers:
        map_key = _read(shape.key, form, f"{entry_prefix}.{n}.{key_name}")
        if map_key is None:
            raise QueryError(
                "InvalidParameterValue", f"The map entry {entry_prefix}.{n} has no {key_name}."
            )
        out[map_key] = _read(shape.value, form, f"{entry_prefix}.{n}.{value_name}")
    return out


def _invalid(key: str, value: str, expected: str, shape: Any) -> QueryError:
    shown = "***" if shape.serialization.get("sensitive") or sensitive(shape) else echo(value)
    return QueryError(
        "InvalidParameterValue", f"Value '{shown}' for parameter {key} is invalid: {expected}."
    )


def _scalar(shape: Any, text: str, key: str) -> Any:
    kind = shape.type_name
    if kind == "string":
        return text
    if kind in ("integer", "long"):
        if not _INTEGER.fullmatch(text):
            raise _invalid(key, text, "expected an integer", shape)
        return int(text)
    if kind == "boolean":
        lowered = text.lower()
        if lowered not in ("true", "false"):
            raise _invalid(key, text, "expected true or false", shape)
        return lowered == "true"
    if kind in ("float", "double"):
        try:
            number = float(text)
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            raise _invalid(key, text, "expected a number", shape)
        return number
    if kind == "timestamp":
        return _parse_timestamp(shape, text, key)
    if kind == "blob":
        try:
            return base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise _invalid(key, text, "expected base64", shape) from exc
    raise _invalid(key, text, f"unsupported type {kind}", shape)


def _parse_timestamp(shape: Any, text: str, key: str) -> datetime:
    try:
        if _INTEGER.fullmatch(text):
            return datetime.fromtimestamp(int(text), UTC)
        parsed = datetime.fromisoformat(text)
    except (ValueError, OverflowError, OSError) as exc:
        raise _invalid(key, text, "expected an ISO 8601 timestamp", shape) from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
