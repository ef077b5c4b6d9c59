"""The writer's fast paths give exactly what the plain ones give.

``AuditEvent.to_line`` assembles the common record from cached pieces: it must
be the very text ``json.dumps(event.to_json(), separators=(",", ":"),
ensure_ascii=False)`` writes; the file writer's per-event index
(``event_attributes``) must be ``record_attributes`` of the record; the event
ids are version-4 GUIDs.
"""

from __future__ import annotations

import dataclasses
import json
import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from _audit_util import T0, event, user
from hypothesis import given, settings
from hypothesis import strategies as st
from sigv4kit.middleware.asgi.auditing import new_event_id
from sigv4kit.middleware.audit import (
    AuditEvent,
    AuthFailure,
    IdentityType,
    RequestInfo,
    Resource,
    SessionContext,
    SessionIssuer,
    UserIdentity,
    authentication_failure_event,
    record_attributes,
)
from sigv4kit.middleware.audit._lookup import event_attributes

ROLE_SESSION = UserIdentity(
    type=IdentityType.ASSUMED_ROLE,
    principal_id="AROAEXAMPLE:build-7",
    arn="arn:aws:sts::123456789012:assumed-role/deployer/build-7",
    account_id="123456789012",
    access_key_id="ASIAEXAMPLE",
    session_context=SessionContext(
        creation_date=T0, mfa_authenticated=True,
        session_issuer=SessionIssuer(type="Role", principal_id="AROAEXAMPLE",
                                     arn="arn:aws:iam::123456789012:role/deployer",
                                     account_id="123456789012", user_name="deployer"),
        source_identity="alice",
    ),
)


def samples() -> list[AuditEvent]:
    base = event(3)
    odd = RequestInfo(when=T0 + timedelta(hours=5, microseconds=999), event_id="e",
                      request_id='quote " and \\ backslash', source_ip="::1",
                      user_agent="agent\twith\ncontrol\x01 and ünïcode ☃ \u2028",
                      region="eu-west-1")
    return [
        base,
        event(4, allowed=False),
        dataclasses.replace(base, resources=()),
        dataclasses.replace(base, user_identity=ROLE_SESSION, recipient_account_id=None),
        dataclasses.replace(base, resources=(Resource(arn="arn:x", account_id="1", type="T"),
                                             Resource(arn="arn:y"))),
        authentication_failure_event(
            failure=AuthFailure.BAD_SIGNATURE, message='bad "sig"', access_key_id="AKID",
            account_id=None, request=odd, event_source="s3.amazonaws.com",
            event_name="GetObject", read_only=True),
        dataclasses.replace(base, user_identity=UserIdentity(type=IdentityType.UNKNOWN)),
        dataclasses.replace(base, request_parameters={"userName": "x"}),
        dataclasses.replace(base, extra={"additionalEventData": {"k": 1}}),
        dataclasses.replace(base, event_time=datetime(2026, 12, 31, 23, 59, 59, 999999,
                                                      tzinfo=UTC)),
    ]


@pytest.mark.parametrize("index", range(len(samples())))
def test_to_line_is_json_dumps_of_to_json(index: int) -> None:
    item = samples()[index]
    expected = json.dumps(item.to_json(), separators=(",", ":"), ensure_ascii=False)
    assert item.to_line() == expected
    assert item.to_line() == expected  # again, from the caches
    assert json.loads(item.to_line()) == item.to_json()


@pytest.mark.parametrize("index", range(len(samples())))
def test_event_attributes_are_the_records(index: int) -> None:
    item = samples()[index]
    assert event_attributes(item) == record_attributes(item.to_json())


def test_events_a_second_apart_have_their_own_times() -> None:
    first, second = event(1), event(2)
    assert json.loads(first.to_line())["eventTime"] == "2026-12-03T10:00:01Z"
    assert json.loads(second.to_line())["eventTime"] == "2026-12-03T10:00:02Z"
    assert json.loads(first.to_line())["eventTime"] == "2026-12-03T10:00:01Z"


def test_an_identity_changed_in_place_is_not_served_from_the_cache() -> None:
    one = event(1)
    other = dataclasses.replace(one, user_identity=user("bob"))
    assert json.loads(one.to_line())["userIdentity"]["userName"] == "alice"
    assert json.loads(other.to_line())["userIdentity"]["userName"] == "bob"


def test_event_ids_are_version_4_guids() -> None:
    ids = {new_event_id() for _ in range(2000)}
    assert len(ids) == 2000
    for text in ids:
        parsed = uuid.UUID(text)
        assert str(parsed) == text
        assert parsed.version == 4
        assert parsed.variant == uuid.RFC_4122
        assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}",
                            text)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(['a', ' ', '"', '\\', '\x00', '\x1f', '\x7f', 'é', '\u2028',
                                         '/', '{', '}']), max_size=8))
def test_to_line_escapes_as_json_dumps_does(text: str) -> None:
    """Each character json.dumps escapes (or not) on its own, in any field the fast
    line writes as it is: the user agent, the action's name, a resource ARN."""
    base = event(3)
    for item in (dataclasses.replace(base, user_agent=text),
                 dataclasses.replace(base, event_name=text),
                 dataclasses.replace(base, resources=(Resource(arn=text),))):
        assert item.to_line() == json.dumps(item.to_json(), separators=(",", ":"),
                                            ensure_ascii=False)
