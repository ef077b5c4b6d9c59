"""Audit events: CloudTrail-shaped records, built by pure functions.

The record follows CloudTrail's "record contents" and "userIdentity element"
pages (AWS CloudTrail User Guide, ``cloudtrail-event-reference-record-contents``
and ``cloudtrail-event-reference-user-identity``), as CloudTrail writes them:

* ``eventTime`` is UTC ISO 8601 to the second with a ``Z`` (``2026-12-03T10:00:00Z``);
* ``eventID`` is a GUID, ``eventType`` ``AwsApiCall``, ``readOnly`` a JSON boolean;
* ``userIdentity.sessionContext.attributes.mfaAuthenticated`` is the *string*
  ``"true"``/``"false"`` and ``creationDate`` an ISO 8601 time, as in
  CloudTrail's example records;
* ``resources`` is a list of ``{"ARN", "accountId", "type"}``;
* refusals carry ``errorCode``/``errorMessage`` (each at most 1 KB);
* optional fields absent from a record are left out, not written as null.

Every builder takes a :class:`RequestInfo` (the time, the event id, the
request id, the client's address and user agent, the region): no clock and
no randomness inside, so tests compare whole records.
``requestParameters``/``responseElements`` go through :func:`redact` first.

Imports: the standard library, :mod:`._redact`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from ._redact import redact

__all__ = [
    "EVENT_VERSION",
    "MAX_ERROR_TEXT",
    "MAX_USER_AGENT",
    "AuditEvent",
    "AuthFailure",
    "IdentityType",
    "RequestInfo",
    "Resource",
    "SessionContext",
    "SessionIssuer",
    "UserIdentity",
    "api_call_event",
    "authentication_failure_event",
    "authorization_event",
    "event_time",
]

#: The CloudTrail record version whose fields these events carry (1.08: the
#: fields used here all exist since then; later minor versions only add fields).
EVENT_VERSION = "1.08"
#: userAgent is at most 1 KB; errorCode and errorMessage too (record contents page).
MAX_USER_AGENT = 1024
MAX_ERROR_TEXT = 1024


class IdentityType(StrEnum):
    """``userIdentity.type`` values (the userIdentity element page)."""

    ROOT = "Root"
    IAM_USER = "IAMUser"
    ASSUMED_ROLE = "AssumedRole"
    ROLE = "Role"
    FEDERATED_USER = "FederatedUser"
    WEB_IDENTITY_USER = "WebIdentityUser"
    AWS_ACCOUNT = "AWSAccount"
    AWS_SERVICE = "AWSService"
    UNKNOWN = "Unknown"


class AuthFailure(StrEnum):
    """Why authentication failed: the AWS error code the client was answered with."""

    BAD_SIGNATURE = "SignatureDoesNotMatch"
    UNKNOWN_KEY = "InvalidClientTokenId"
    EXPIRED_TOKEN = "ExpiredToken"  # noqa: S105 - an error code
    MALFORMED = "IncompleteSignature"
    SKEWED = "RequestTimeTooSkewed"


def event_time(when: datetime) -> str:
    """CloudTrail's ``eventTime`` text: UTC, whole seconds, ``Z``."""
    if when.tzinfo is None:
        raise ValueError("an event time must be timezone-aware")
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _drop_none(items: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in items.items() if value is not None}


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionIssuer:
    """``sessionContext.sessionIssuer``: the role or user that issued the session."""

    type: str  # "Role" or "IAMUser"
    principal_id: str
    arn: str
    account_id: str
    user_name: str

    def to_json(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "principalId": self.principal_id,
            "arn": self.arn,
            "accountId": self.account_id,
            "userName": self.user_name,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionContext:
    """``userIdentity.sessionContext``: present for temporary credentials."""

    creation_date: datetime
    mfa_authenticated: bool
    session_issuer: SessionIssuer | None = None
    source_identity: str | None = None
    #: ``{"federatedProvider": ..., "attributes": {...}}`` for web-identity sessions.
    web_id_federation_data: Mapping[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        attributes = {
            "creationDate": event_time(self.creation_date),
            # A string in CloudTrail's records, not a JSON boolean.
            "mfaAuthenticated": "true" if self.mfa_authenticated else "false",
        }
        return _drop_none(
            {
                "sessionIssuer": self.session_issuer.to_json() if self.session_issuer else None,
                "webIdFederationData": dict(self.web_id_federation_data)
                if self.web_id_federation_data is not None
                else None,
                "attributes": attributes,
                "sourceIdentity": self.source_identity,
            }
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class UserIdentity:
    """``userIdentity``: who made the request (``Unknown`` when authentication failed)."""

    type: IdentityType
    principal_id: str | None = None
    arn: str | None = None
    account_id: str | None = None
    access_key_id: str | None = None
    user_name: str | None = None
    session_context: SessionContext | None = None

    def to_json(self) -> dict[str, Any]:
        return _drop_none(
            {
                "type": self.type.value,
                "principalId": self.principal_id,
                "arn": self.arn,
                "accountId": self.account_id,
                "accessKeyId": self.access_key_id,
                "userName": self.user_name,
                "sessionContext": self.session_context.to_json() if self.session_context else None,
            }
        )

    @property
    def lookup_name(self) -> str | None:
        """The ``Username`` lookup attribute: the user name, else the session's issuer name."""
        if self.user_name:
            return self.user_name
        issuer = self.session_context.session_issuer if self.session_context else None
        return issuer.user_name if issuer else None


@dataclass(frozen=True, slots=True, kw_only=True)
class Resource:
    """One entry of ``resources``."""

    arn: str
    account_id: str | None = None
    type: str | None = None

    def to_json(self) -> dict[str, Any]:
        return _drop_none({"ARN": self.arn, "accountId": self.account_id, "type": self.type})


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditEvent:
    """One CloudTrail-shaped record; :meth:`to_json` is what every sink writes."""

    event_time: datetime
    event_source: str
    event_name: str
    aws_region: str
    source_ip_address: str
    user_agent: str
    request_id: str
    event_id: str
    read_only: bool
    user_identity: UserIdentity
    recipient_account_id: str | None = None
    resources: tuple[Resource, ...] = ()
    error_code: str | None = None
    error_message: str | None = None
    request_parameters: Mapping[str, Any] | None = None
    response_elements: Mapping[str, Any] | None = None
    event_type: str = "AwsApiCall"
    management_event: bool = True
    event_category: str = "Management"
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The record as CloudTrail lays it out (absent optional fields left out)."""
        return _drop_none(
            {
                "eventVersion": EVENT_VERSION,
                "userIdentity": self.user_identity.to_json(),
                "eventTime": event_time(self.event_time),
                "eventSource": self.event_source,
                "eventName": self.event_name,
                "awsRegion": self.aws_region,
                "sourceIPAddress": self.source_ip_address,
                "userAgent": self.user_agent,
                "errorCode": self.error_code,
                "errorMessage": self.error_message,
                "requestParameters": _maybe(self.request_parameters),
                "responseElements": _maybe(self.response_elements),
                "requestID": self.request_id,
                "eventID": self.event_id,
                "readOnly": self.read_only,
                "resources": [r.to_json() for r in self.resources] or None,
                "eventType": self.event_type,
                "managementEvent": self.management_event,
                "recipientAccountId": self.recipient_account_id,
                "eventCategory": self.event_category,
                **self.extra,
            }
        )

    def to_line(self) -> str:
        """One JSON line (compact, keys in CloudTrail's order, no trailing newline).

        Exactly ``json.dumps(self.to_json(), separators=(",", ":"),
        ensure_ascii=False)``; the common record (no parameters, no extra
        fields) is assembled from cached pieces instead, since the writer pays
        this for every request (a test checks both give the same text).
        """
        texts = [self.event_source, self.event_name, self.aws_region, self.source_ip_address,
                 self.user_agent, self.request_id, self.event_id, self.event_type,
                 self.event_category, self.error_code or "", self.error_message or "",
                 self.recipient_account_id or ""]
        for resource in self.resources:
            texts += [resource.arn, resource.account_id or "", resource.type or ""]
        if (self.request_parameters is not None or self.response_elements is not None
                or self.extra or _needs_escapes("".join(texts))):
            # Anything json.dumps would escape, or nested values: the plain way.
            return json.dumps(self.to_json(), separators=(",", ":"), ensure_ascii=False)
        error = ""
        if self.error_code is not None:
            error = f',"errorCode":"{self.error_code}"'
        if self.error_message is not None:
            error += f',"errorMessage":"{self.error_message}"'
        resources = ""
        if self.resources:
            resources = ',"resources":[' + ",".join(
                "{" + ",".join(
                    f'"{name}":"{value}"'
                    for name, value in (("ARN", r.arn), ("accountId", r.account_id),
                                        ("type", r.type))
                    if value is not None
                ) + "}"
                for r in self.resources
            ) + "]"
        recipient = ""
        if self.recipient_account_id is not None:
            recipient = f',"recipientAccountId":"{self.recipient_account_id}"'
        return (
            f'{{"eventVersion":"{EVENT_VERSION}","userIdentity":'
            f"{_identity_text(self.user_identity)}"
            f',"eventTime":"{_cached_time(self.event_time)}"'
            f',"eventSource":"{self.event_source}","eventName":"{self.event_name}"'
            f',"awsRegion":"{self.aws_region}","sourceIPAddress":"{self.source_ip_address}"'
            f',"userAgent":"{self.user_agent}"{error}'
            f',"requestID":"{self.request_id}","eventID":"{self.event_id}"'
            f',"readOnly":{"true" if self.read_only else "false"}{resources}'
            f',"eventType":"{self.event_type}"'
            f',"managementEvent":{"true" if self.management_event else "false"}{recipient}'
            f',"eventCategory":"{self.event_category}"}}'
        )


# Printable ASCII that json.dumps writes as it is inside a string.
_JSON_PLAIN = bytes(c for c in range(0x20, 0x7F) if c not in b'"\\')


def _needs_escapes(text: str) -> bool:
    """True unless ``text`` is printable ASCII without '"' or backslash (json.dumps
    would write it unchanged). Non-ASCII text takes json.dumps too (rare; always
    right). A translate, where a regex search cost twice as much per event."""
    return not text.isascii() or bool(text.encode("ascii").translate(None, _JSON_PLAIN))
_IDENTITY_CACHE: dict[int, tuple[Any, str]] = {}
_IDENTITY_CACHE_SIZE = 4096
_LAST_TIME: list[Any] = [None, ""]


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _identity_text(identity: UserIdentity) -> str:
    """The identity's JSON, kept per identity object (the middleware reuses them)."""
    cached = _IDENTITY_CACHE.get(id(identity))
    if cached is not None and cached[0] is identity:
        return str(cached[1])
    text = _compact(identity.to_json())
    if len(_IDENTITY_CACHE) >= _IDENTITY_CACHE_SIZE:
        _IDENTITY_CACHE.clear()
    _IDENTITY_CACHE[id(identity)] = (identity, text)
    return text


def _cached_time(when: datetime) -> str:
    """:func:`event_time`, remembered for the last second asked (events come in bursts)."""
    last = _LAST_TIME
    key = (when.timestamp() // 1, when.tzinfo is not None)
    if key != last[0]:
        last[0], last[1] = key, event_time(when)
    return str(last[1])


def _maybe(value: Mapping[str, Any] | None) -> Any:
    return None if value is None else dict(value)


def _clip(text: str | None, limit: int) -> str | None:
    if text is None:
        return None
    if len(text) * 4 <= limit:
        return text  # at most 4 UTF-8 bytes a character: it fits
    data = text.encode("utf-8")
    return text if len(data) <= limit else data[:limit].decode("utf-8", "ignore")


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestInfo:
    """What every event says about the request: when, which, from where.

    ``when`` is the time the request completed; ``event_id`` a new GUID
    (``str(uuid.uuid4())`` at the caller: randomness stays outside).
    """

    when: datetime
    event_id: str
    request_id: str
    source_ip: str
    user_agent: str
    region: str

    def fields(self) -> dict[str, Any]:
        return {
            "event_time": self.when,
            "event_id": self.event_id,
            "request_id": self.request_id,
            "source_ip_address": self.source_ip,
            "user_agent": _clip(self.user_agent, MAX_USER_AGENT) or "",
            "aws_region": self.region,
        }


def authorization_event(
    *,
    identity: UserIdentity,
    action: str,
    resources: Sequence[Resource],
    allowed: bool,
    read_only: bool,
    request: RequestInfo,
    event_source: str,
    error_message: str | None = None,
    error_code: str = "AccessDenied",
) -> AuditEvent:
    """The record of one authorization decision on the request path.

    ``action`` is the IAM action (``orders:GetOrder``): its part after the
    colon is the ``eventName``. A denial carries ``errorCode`` (the code the
    client was answered with: ``AccessDenied`` by default) and its message.
    """
    name = action.split(":", 1)[1] if ":" in action else action
    return AuditEvent(
        # request.fields(), spelled out: this runs for every request the middleware decides.
        event_time=request.when,
        event_id=request.event_id,
        request_id=request.request_id,
        source_ip_address=request.source_ip,
        user_agent=_clip(request.user_agent, MAX_USER_AGENT) or "",
        aws_region=request.region,
        event_source=event_source,
        event_name=name,
        read_only=read_only,
        user_identity=identity,
        recipient_account_id=identity.account_id,
        resources=tuple(resources),
        error_code=None if allowed else error_code,
        error_message=None if allowed else _clip(error_message or "Access Denied", MAX_ERROR_TEXT),
        event_category="Data",
        management_event=False,
    )


def authentication_failure_event(
    *,
    failure: AuthFailure | str,
    message: str,
    access_key_id: str | None,
    account_id: str | None,
    request: RequestInfo,
    event_source: str,
    event_name: str,
    read_only: bool,
    management: bool = False,
) -> AuditEvent:
    """The record of a request refused before it had an identity.

    ``userIdentity`` is ``Unknown`` with the access key id the request named
    (when it named one: a bad signature or an expired token still says which
    key it claimed; the signature itself never appears). ``failure`` is the
    error code the client was answered with (an :class:`AuthFailure`, or any
    other refusal's code: ``AccessDenied``, ``EntityTooLarge``...). ``management`` is
    True for a call to the IAM/STS APIs (a management event, as CloudTrail
    files them), False for the protected service's own requests (data events,
    like the decisions of :func:`authorization_event`).
    """
    identity = UserIdentity(
        type=IdentityType.UNKNOWN, access_key_id=access_key_id, account_id=account_id
    )
    return AuditEvent(
        **request.fields(),
        event_source=event_source,
        event_name=event_name,
        read_only=read_only,
        user_identity=identity,
        recipient_account_id=account_id,
        error_code=str(failure),
        error_message=_clip(message, MAX_ERROR_TEXT),
        management_event=management,
        event_category="Management" if management else "Data",
    )


def api_call_event(
    *,
    identity: UserIdentity,
    service: str,
    operation: str,
    read_only: bool,
    request_parameters: Mapping[str, Any] | None,
    response_elements: Mapping[str, Any] | None,
    request: RequestInfo,
    resources: Sequence[Resource] = (),
    error_code: str | None = None,
    error_message: str | None = None,
) -> AuditEvent:
    """The record of one IAM or STS API call (``service`` is ``iam`` or ``sts``).

    Parameters and response elements are redacted (:func:`redact`); a failed
    call has no ``responseElements`` (CloudTrail writes ``null`` there: we
    leave it out like every other absent field).
    """
    return AuditEvent(
        **request.fields(),
        event_source=f"{service}.amazonaws.com",
        event_name=operation,
        read_only=read_only,
        user_identity=identity,
        recipient_account_id=identity.account_id,
        resources=tuple(resources),
        error_code=error_code,
        error_message=_clip(error_message, MAX_ERROR_TEXT),
        request_parameters=redact(request_parameters) if request_parameters is not None else None,
        response_elements=redact(response_elements)
        if response_elements is not None and error_code is None
        else None,
    )
