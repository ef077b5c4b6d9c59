"""Activity monitoring: CloudTrail-shaped audit events, sinks, integrity, lookup.

The request path builds an event with one of the pure builders
(:func:`authorization_event`, :func:`authentication_failure_event`,
:func:`api_call_event`) and hands it to :meth:`AuditLog.emit`, which never
waits; a background task writes batches to a sink (:class:`JsonLinesSink`,
:class:`SqlAuditSink`, :class:`LoggingSink`). ``emit`` returning
:attr:`Offer.SHED` means the queue is full and the request must be refused
with 503. See ``docs/audit.md``.

Imports: the store (schema, engine helpers, migrations), cryptography.
"""

from __future__ import annotations

from ._event import (
    EVENT_VERSION,
    MAX_ERROR_TEXT,
    MAX_USER_AGENT,
    AuditEvent,
    AuthFailure,
    IdentityType,
    RequestInfo,
    Resource,
    SessionContext,
    SessionIssuer,
    UserIdentity,
    api_call_event,
    authentication_failure_event,
    authorization_event,
    event_time,
)
from ._files import lookup_directory, verify_directory
from ._integrity import (
    GENESIS_HASH,
    AuditIntegrityError,
    SigningKey,
    generate_signing_key,
    load_signing_key,
    load_verify_key,
    row_hash,
)
from ._jsonl import DEFAULT_MAX_SEGMENT_BYTES, FileSinkSettings, JsonLinesSink
from ._logsink import DEFAULT_LOGGER, LoggingSink
from ._lookup import DEFAULT_MAX_RESULTS, LookupKey, LookupQuery, record_attributes
from ._queue import (
    DEFAULT_FLUSH_INTERVAL,
    DEFAULT_QUEUE_SIZE,
    AuditLog,
    AuditSettings,
    AuditSink,
    AuditStats,
    Offer,
    Overflow,
)
from ._redact import (
    BOTOCORE_SENSITIVE_FIELDS,
    DENY_LIST,
    REDACTED,
    SENSITIVE_FIELDS,
    find_secrets,
    is_sensitive,
    redact,
)
from ._report import PROBLEM_KINDS, Problem, VerifyReport
from ._sql import SqlAuditSink, checkpoint_message, lookup_database, verify_database

__all__ = [
    "BOTOCORE_SENSITIVE_FIELDS",
    "DEFAULT_FLUSH_INTERVAL",
    "DEFAULT_LOGGER",
    "DEFAULT_MAX_RESULTS",
    "DEFAULT_MAX_SEGMENT_BYTES",
    "DEFAULT_QUEUE_SIZE",
    "DENY_LIST",
    "EVENT_VERSION",
    "GENESIS_HASH",
    "MAX_ERROR_TEXT",
    "MAX_USER_AGENT",
    "PROBLEM_KINDS",
    "REDACTED",
    "SENSITIVE_FIELDS",
    "AuditEvent",
    "AuditIntegrityError",
    "AuditLog",
    "AuditSettings",
    "AuditSink",
    "AuditStats",
    "AuthFailure",
    "FileSinkSettings",
    "IdentityType",
    "JsonLinesSink",
    "LoggingSink",
    "LookupKey",
    "LookupQuery",
    "Offer",
    "Overflow",
    "Problem",
    "RequestInfo",
    "Resource",
    "SessionContext",
    "SessionIssuer",
    "SigningKey",
    "SqlAuditSink",
    "UserIdentity",
    "VerifyReport",
    "api_call_event",
    "authentication_failure_event",
    "authorization_event",
    "checkpoint_message",
    "event_time",
    "find_secrets",
    "generate_signing_key",
    "is_sensitive",
    "load_signing_key",
    "load_verify_key",
    "lookup_database",
    "lookup_directory",
    "record_attributes",
    "redact",
    "row_hash",
    "verify_database",
    "verify_directory",
]
