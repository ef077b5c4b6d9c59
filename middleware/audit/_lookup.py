"""Lookup: the filters and the output of ``aws cloudtrail lookup-events``.

The attribute keys are botocore's ``LookupAttributeKey`` enum (cloudtrail
2013-11-01 model): ``EventId``, ``EventName``, ``ReadOnly``, ``Username``,
``ResourceType``, ``ResourceName``, ``EventSource``, ``AccessKeyId``. The
result is the ``LookupEventsResponse`` shape: ``{"Events": [{"EventId",
"EventName", "ReadOnly", "AccessKeyId", "EventTime", "EventSource",
"Username", "Resources": [{"ResourceType", "ResourceName"}],
"CloudTrailEvent"}]}``, newest first, ``CloudTrailEvent`` the record as a
JSON string. ``MaxResults`` is 1 to 50 (default 50), as in the model's
documentation. One difference from CloudTrail, which takes a single lookup
attribute: several attributes here must all match.

:func:`record_attributes` is the one definition of what each key means for a
record; the file index, the database columns and the in-memory filter all
use it.

Imports: the standard library.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

__all__ = [
    "DEFAULT_MAX_RESULTS",
    "LookupKey",
    "LookupQuery",
    "record_attributes",
]

DEFAULT_MAX_RESULTS = 50


class LookupKey(StrEnum):
    """``LookupAttribute.AttributeKey`` values."""

    EVENT_ID = "EventId"
    EVENT_NAME = "EventName"
    READ_ONLY = "ReadOnly"
    USERNAME = "Username"
    RESOURCE_TYPE = "ResourceType"
    RESOURCE_NAME = "ResourceName"
    EVENT_SOURCE = "EventSource"
    ACCESS_KEY_ID = "AccessKeyId"


@dataclass(frozen=True, slots=True, kw_only=True)
class LookupQuery:
    """A lookup: attribute filters (all must match), a time range, a result count."""

    attributes: tuple[tuple[LookupKey, str], ...] = ()
    start: datetime | None = None
    end: datetime | None = None
    max_results: int = DEFAULT_MAX_RESULTS

    def __post_init__(self) -> None:
        if not 1 <= self.max_results <= 50:
            raise ValueError("max results must be between 1 and 50")
        for when in (self.start, self.end):
            if when is not None and when.tzinfo is None:
                raise ValueError("lookup times must be timezone-aware")
        if self.start and self.end and self.start > self.end:
            raise ValueError("the start time is after the end time")


def parse_event_time(text: str) -> datetime:
    """A record's ``eventTime`` (``...Z``) as an aware datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def _username(identity: Mapping[str, Any]) -> str | None:
    name = identity.get("userName")
    if name:
        return str(name)
    # A role session: CloudTrail shows the session name (the ARN's last part).
    if identity.get("type") == "AssumedRole" and identity.get("arn"):
        return str(identity["arn"]).rsplit("/", 1)[-1]
    return None


def record_attributes(record: Mapping[str, Any]) -> dict[LookupKey, list[str]]:
    """Every lookup attribute value of a record (absent ones left out)."""
    identity = record.get("userIdentity") or {}
    resources = record.get("resources") or []
    values: dict[LookupKey, list[str]] = {
        LookupKey.EVENT_ID: [str(record.get("eventID", ""))],
        LookupKey.EVENT_NAME: [str(record.get("eventName", ""))],
        LookupKey.EVENT_SOURCE: [str(record.get("eventSource", ""))],
        LookupKey.READ_ONLY: ["true" if record.get("readOnly") else "false"],
        LookupKey.RESOURCE_NAME: [str(r["ARN"]) for r in resources if r.get("ARN")],
        LookupKey.RESOURCE_TYPE: [str(r["type"]) for r in resources if r.get("type")],
    }
    username = _username(identity)
    if username:
        values[LookupKey.USERNAME] = [username]
    if identity.get("accessKeyId"):
        values[LookupKey.ACCESS_KEY_ID] = [str(identity["accessKeyId"])]
    return {key: vals for key, vals in values.items() if vals}


def event_attributes(event: Any) -> dict[LookupKey, list[str]]:
    """:func:`record_attributes` of ``event.to_json()``, read from the
    :class:`~._event.AuditEvent` itself (the file writer's per-event index)."""
    identity = event.user_identity
    username = identity.user_name
    if not username and identity.type.value == "AssumedRole" and identity.arn:
        username = identity.arn.rsplit("/", 1)[-1]
    values: dict[LookupKey, list[str]] = {
        LookupKey.EVENT_ID: [event.event_id],
        LookupKey.EVENT_NAME: [event.event_name],
        LookupKey.EVENT_SOURCE: [event.event_source],
        LookupKey.READ_ONLY: ["true" if event.read_only else "false"],
        LookupKey.RESOURCE_NAME: [r.arn for r in event.resources if r.arn],
        LookupKey.RESOURCE_TYPE: [r.type for r in event.resources if r.type],
    }
    if username:
        values[LookupKey.USERNAME] = [username]
    if identity.access_key_id:
        values[LookupKey.ACCESS_KEY_ID] = [identity.access_key_id]
    return {key: vals for key, vals in values.items() if vals}


def first_value(attrs: Mapping[LookupKey, list[str]], key: LookupKey) -> str | None:
    """The first value of one attribute, or None."""
    values = attrs.get(key)
    return values[0] if values else None


def matches(record: Mapping[str, Any], query: LookupQuery) -> bool:
    """Whether a record passes the query's time range and every attribute filter."""
    when = parse_event_time(str(record["eventTime"]))
    if query.start and when < query.start:
        return False
    if query.end and when > query.end:
        return False
    attrs = record_attributes(record)
    return all(value in attrs.get(key, ()) for key, value in query.attributes)


def _lookup_event(record: Mapping[str, Any], line: str) -> dict[str, Any]:
    attrs = record_attributes(record)
    resources = record.get("resources") or []
    event: dict[str, Any] = {
        "EventId": record.get("eventID"),
        "EventName": record.get("eventName"),
        "ReadOnly": attrs[LookupKey.READ_ONLY][0],
        "AccessKeyId": first_value(attrs, LookupKey.ACCESS_KEY_ID),
        # As the AWS CLI prints a timestamp in JSON output.
        "EventTime": parse_event_time(str(record["eventTime"])).isoformat(),
        "EventSource": record.get("eventSource"),
        "Username": first_value(attrs, LookupKey.USERNAME),
        "Resources": [
            {
                k: v
                for k, v in (("ResourceType", r.get("type")), ("ResourceName", r.get("ARN")))
                if v
            }
            for r in resources
        ],
        "CloudTrailEvent": line,
    }
    return {key: value for key, value in event.items() if value is not None}


def lookup_response(found: Sequence[tuple[Mapping[str, Any], str]]) -> dict[str, Any]:
    """``LookupEventsResponse`` for ``(record, JSON line)`` pairs, newest first."""
    return {"Events": [_lookup_event(record, line) for record, line in found]}
