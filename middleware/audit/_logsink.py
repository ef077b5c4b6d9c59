"""The logging sink: one JSON record per event on a named ``logging`` logger.

For services whose logs already flow somewhere (journald, a log shipper):
each event is one ``INFO`` record on the logger ``sigv4kit.audit.events``
(or the name given) whose message is the event's JSON line, with the record
also attached as ``extra={"audit_event": {...}}`` for structured handlers.
Integrity here is the log pipeline's business: no segments, no digests.

Imports: the standard library, :mod:`._event`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from ._event import AuditEvent

__all__ = ["DEFAULT_LOGGER", "LoggingSink"]

DEFAULT_LOGGER = "sigv4kit.audit.events"


class LoggingSink:
    """Write each event as one JSON log record on a named logger."""

    def __init__(self, name: str = DEFAULT_LOGGER, *, level: int = logging.INFO) -> None:
        self.logger = logging.getLogger(name)
        self.level = level

    def __repr__(self) -> str:
        return f"LoggingSink({self.logger.name!r})"

    async def write(self, events: Sequence[AuditEvent]) -> None:
        for event in events:
            record = event.to_json()
            # "%s" keeps the message from being read as a format string.
            self.logger.log(self.level, "%s", event.to_line(), extra={"audit_event": record})

    async def aclose(self) -> None:
        return None
