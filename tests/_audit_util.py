"""Events for the audit tests, made by the public builders with fixed times and ids."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sigv4kit.middleware.audit import (
    AuditEvent,
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
