"""Writing Query protocol responses and errors from botocore's output shapes."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any
from xml.sax.saxutils import escape

from ._shapes import member_name

__all__ = ["serialize_error", "serialize_response"]

# Characters XML 1.0 cannot carry even as character references.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml_text(value: str) -> str:
    # A literal CR would be normalised to LF by every XML parser: write it as a reference.
    return escape(_XML_INVALID.sub("\ufffd", value), {"\r": "&#13;"})


def serialize_response(
    operation: Any, result: Mapping[str, Any] | None, *, request_id: str
) -> bytes:
    """The XML answer of ``operation`` (a botocore ``OperationModel``) with ``result``.

    ``result`` holds the output members by their model names. A member the model
    does not have, a required member left out, or a value of the wrong type is a
    bug in the caller and raises ``ValueError`` (answered 500 by a server, never
    sent half-written).
    """
    namespace = operation.service_model.metadata["xmlNamespace"]
    name = operation.name
    shape = operation.output_shape
    parts = [f'<{name}Response xmlns="{_xml_text(namespace)}">']
    if shape is not None:
        wrapper = shape.serialization.get("resultWrapper")
        body = "".join(_write_members(shape, result or {}, shape.name))
        parts.append(f"<{wrapper}>{body}</{wrapper}>" if wrapper else body)
    elif result:
        raise ValueError(f"{name} has no output members, got {sorted(result)}")
    parts.append(
        f"<ResponseMetadata><RequestId>{_xml_text(request_id)}</RequestId></ResponseMetadata>"
    )
    parts.append(f"</{name}Response>")
    return "".join(parts).encode("utf-8")


def serialize_error(
    model: Any, *, code: str, message: str, request_id: str, fault: str = "Sender"
) -> bytes:
    """The Query protocol's ``<ErrorResponse>`` document for ``model``'s namespace."""
    namespace = model.metadata["xmlNamespace"]
    return (
        f'<ErrorResponse xmlns="{_xml_text(namespace)}"><Error><Type>{_xml_text(fault)}</Type>'
        f"<Code>{_xml_text(code)}</Code><Message>{_xml_text(message)}</Message></Error>"
        f"<RequestId>{_xml_text(request_id)}</RequestId></ErrorResponse>"
    ).encode()


def _write_members(shape: Any, value: Mapping[str, Any], where: str) -> Iterable[str]:
    unknown = set(value) - set(shape.members)
    if unknown:
        raise ValueError(f"{where} has no members {sorted(unknown)}")
    for name in shape.required_members:
        if value.get(name) is None:
            raise ValueError(f"{where} requires {name}")
    for name, member in shape.members.items():
        item = value.get(name)
        if item is not None:
            yield from _write(member, item, member_name(member, name), f"{where}.{name}")


def _write(shape: Any, value: Any, tag: str, where: str) -> Iterable[str]:
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, Mapping):
            raise ValueError(f"{where} must be a mapping, got {type(value).__name__}")
        yield f"<{tag}>"
        yield from _write_members(shape, value, where)
        yield f"</{tag}>"
    elif kind == "list":
        yield from _write_list(shape, value, tag, where)
    elif kind == "map":
        yield from _write_map(shape, value, tag, where)
    else:
        yield f"<{tag}>{_xml_text(_scalar_text(shape, value, where))}</{tag}>"


def _write_list(shape: Any, value: Any, tag: str, where: str) -> Iterable[str]:
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
        raise ValueError(f"{where} must be a list, got {type(value).__name__}")
    if shape.serialization.get("flattened"):
        item_tag = member_name(shape.member, tag)
        for item in value:
            yield from _write(shape.member, item, item_tag, where)
        return
    item_tag = member_name(shape.member, "member")
    yield f"<{tag}>"
    for item in value:
        yield from _write(shape.member, item, item_tag, where)
    yield f"</{tag}>"


def _write_map(shape: Any, value: Any, tag: str, where: str) -> Iterable[str]:
    if not isinstance(value, Mapping):
        raise ValueError(f"{where} must be a mapping, got {type(value).__name__}")
    key_tag = member_name(shape.key, "key")
    value_tag = member_name(shape.value, "value")
    flattened = shape.serialization.get("flattened")
    if not flattened:
        yield f"<{tag}>"
    for map_key, item in value.items():
        yield f"<{tag}>" if flattened else "<entry>"
        yield from _write(shape.key, map_key, key_tag, where)
        yield from _write(shape.value, item, value_tag, where)
        yield f"</{tag}>" if flattened else "</entry>"
    if not flattened:
        yield f"</{tag}>"


def _scalar_text(shape: Any, value: Any, where: str) -> str:
    kind = shape.type_name
    if kind == "string" and isinstance(value, str):
        return value
    if kind == "boolean" and isinstance(value, bool):
        return "true" if value else "false"
    if kind in ("integer", "long") and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if kind in ("float", "double") and number:
        return repr(float(value))
    if kind == "timestamp" and isinstance(value, datetime):
        return _timestamp_text(shape, value, where)
    if kind == "blob" and isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode("ascii")
    raise ValueError(f"{where} ({kind}) cannot hold {type(value).__name__}")


def _timestamp_text(shape: Any, value: datetime, where: str) -> str:
    if value.tzinfo is None:
        raise ValueError(f"{where} must be an aware datetime")
    value = value.astimezone(UTC)
    if shape.serialization.get("timestampFormat") == "unixTimestamp":
        return str(int(value.timestamp()))
    if value.microsecond:
        return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")
