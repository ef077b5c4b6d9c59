"""Events for the audit tests, made by the public builders with fixed times and ids."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sigv4kit.middleware.audit import (
    AuditEvent,
    AuditLog,
    IdentityType,
    RequestInfo,
    Resource,
    UserIdentity,
    authorization_event,
)

T0 = datetime(2026, 12, 3, 10, 0, 0, tzinfo=UTC)
ACCOUNT = "123456789012"


def user(name: str, key: str = "AKIAIOSFODNN7EXAMPLE") -> UserIdentity:
    return UserIdentity(
        type=IdentityType.IAM_USER,
        principal_id="AIDAJ45Q7YFFAREXAMPLE",
        arn=f"arn:aws:iam::{ACCOUNT}:user/{name}",
        account_id=ACCOUNT,
        access_key_id=key,
        user_name=name,
    )


def event(i: int, *, name: str = "alice", seconds: float = 1.0, allowed: bool = True) -> AuditEvent:
    """Event number ``i``: ``i * seconds`` after T0, a fixed GUID derived from ``i``."""
    return authorization_event(
        identity=user(name, key=f"AKIA{name.upper():A<16}"[:20]),
        action="orders:GetOrder" if i % 2 == 0 else "orders:PutOrder",
        resources=[Resource(arn=f"arn:aws:orders:us-east-1:{ACCOUNT}:order/{i % 7}")],
        allowed=allowed,
        read_only=i % 2 == 0,
        request=RequestInfo(
            when=T0 + timedelta(seconds=i * seconds),
            event_id=str(uuid.UUID(int=i)),
            request_id=f"req-{i}",
            source_ip="192.0.2.10",
            user_agent="test-agent/1.0",
            region="us-east-1",
        ),
        event_source="orders.example.com",
    )


@dataclass
class ListSink:
    """An in-memory sink; ``hold`` (when set) makes ``write`` wait for it."""

    events: list[AuditEvent] = field(default_factory=list)
    hold: asyncio.Event | None = None

    async def write(self, events: Sequence[AuditEvent]) -> None:
        if self.hold is not None:
            await self.hold.wait()
        self.events.extend(events)

    async def aclose(self) -> None:
        return None


def only_event(log: AuditLog, sink: ListSink, call: Callable[[], Any]) -> dict[str, Any]:
    """Run ``call`` (a request made and answered); the one event it produced.

    Events are queued before the answer is sent, so ``accepted`` has moved by
    the time ``call`` returns; fails on none or more than one.
    """
    before_accepted = log.stats.accepted
    before = len(sink.events)
    call()
    assert log.stats.accepted - before_accepted == 1
    deadline = time.monotonic() + 5
    while len(sink.events) == before and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.05)  # a second event, if there were one, would be written by now
    new = sink.events[before:]
    assert len(new) == 1, [e.to_json() for e in new]
    return new[0].to_json()
