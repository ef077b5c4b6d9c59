"""The JSON-lines sink against a real directory: rotation, digests, tampering, lookup."""

from __future__ import annotations

import hashlib
import json
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from _audit_util import T0, event
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sigv4kit.middleware.audit import (
    AuditIntegrityError,
    FileSinkSettings,
    JsonLinesSink,
    LookupKey,
    LookupQuery,
    SigningKey,
    lookup_directory,
    verify_directory,
)

KEY = SigningKey(Ed25519PrivateKey.generate())


def write(directory: Path, events: list, settings: FileSinkSettings | None = None) -> None:
    sink = JsonLinesSink(directory, key=KEY, settings=settings)
    sink.write_records([e.to_json() for e in events])
    sink.close_segment()


def crash(sink: JsonLinesSink) -> None:
    """Let go of the open segment the way a killed process does: no digest."""
    assert sink._segment is not None
    sink._segment.handle.close()


def segments(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.glob("audit-*.jsonl"))


def kinds(directory: Path) -> list[tuple[str, str]]:
    report = verify_directory(directory, KEY.public_key)
    return [(p.kind, p.target) for p in report.problems]


@pytest.fixture
def trail(tmp_path: Path) -> Path:
    """Four segments of 3 events: sizes force a rotation every 3 lines."""
    directory = tmp_path / "audit"
    line = len(event(0).to_line()) + 1
    write(
        directory,
        [event(i) for i in range(12)],
        FileSinkSettings(max_bytes=max(1024, 3 * line - 1)),
    )
    return directory


def test_size_rotation_and_a_valid_chain(trail: Path) -> None:
    names = segments(trail)
    assert len(names) == len(list(trail.glob("*.digest.json"))) >= 2
    lines = [ln for name in names for ln in (trail / name).read_text().splitlines()]
    assert [json.loads(ln)["requestID"] for ln in lines] == [f"req-{i}" for i in range(12)]
    report = verify_directory(trail, KEY.public_key)
    assert report.ok, report.lines()
    assert report.verified == len(names)
    assert report.last_sequence == len(names)


def test_digest_fields(trail: Path) -> None:
    first = sorted(trail.glob("*.digest.json"))[0]
    digest = json.loads(first.read_bytes())
    segment = trail / digest["segment"]
    assert digest["segmentSHA256"] == hashlib.sha256(segment.read_bytes()).hexdigest()
    assert digest["sequence"] == 1
    assert digest["previousDigestSHA256"] == "0" * 64
    assert digest["firstEventTime"] == "2026-12-03T10:00:00Z"
    assert digest["index"]["Username"] == ["alice"]
    second = json.loads(sorted(trail.glob("*.digest.json"))[1].read_bytes())
    assert second["previousDigestSHA256"] == hashlib.sha256(first.read_bytes()).hexdigest()


def test_daily_rotation(tmp_path: Path) -> None:
    # 6 events 10 hours apart: 2026-12-03 10:00 .. 2026-12-05 12:00, three days.
    write(tmp_path, [event(i, seconds=36000) for i in range(6)])
    days = [name.split("-")[1] for name in segments(tmp_path)]
    assert days == ["20261203", "20261204", "20261205"]
    assert verify_directory(tmp_path, KEY.public_key).ok


def test_modified_segment(trail: Path) -> None:
    name = segments(trail)[1]
    text = (trail / name).read_text().replace("alice", "mallory", 1)
    (trail / name).write_text(text)
    assert kinds(trail) == [("modified", name)]


def test_deleted_segment_and_digest(trail: Path) -> None:
    name = segments(trail)[1]
    (trail / name).unlink()
    (trail / name.replace(".jsonl", ".digest.json")).unlink()
    assert kinds(trail) == [("deleted", "sequence 2")]


def test_deleted_segment_file_only(trail: Path) -> None:
    name = segments(trail)[2]
    (trail / name).unlink()
    assert kinds(trail) == [("deleted", name)]


def test_reordered_segments(trail: Path) -> None:
    a, b = (trail / n for n in segments(trail)[:2])
    data_a, data_b = a.read_bytes(), b.read_bytes()
    a.write_bytes(data_b)
    b.write_bytes(data_a)
    assert sorted(kinds(trail)) == [("reordered", a.name), ("reordered", b.name)]


def test_inserted_segment(trail: Path) -> None:
    names = segments(trail)
    forged = trail / names[0].replace("000001", "000000")
    shutil.copy(trail / names[0], forged)
    assert kinds(trail) == [("inserted", forged.name)]


def test_forged_digest(trail: Path) -> None:
    path = sorted(trail.glob("*.digest.json"))[0]
    digest = json.loads(path.read_bytes())
    digest["eventCount"] = 2
    path.write_text(json.dumps(digest))
    found = kinds(trail)
    assert ("forged", path.name) in found


def test_open_segment_is_reported_not_failed(tmp_path: Path) -> None:
    sink = JsonLinesSink(tmp_path, key=KEY)
    sink.write_records([event(0).to_json()])
    crash(sink)
    report = verify_directory(tmp_path, KEY.public_key)
    assert report.ok
    assert report.open_segments == segments(tmp_path)


def test_reopening_closes_what_a_crash_left_open(tmp_path: Path) -> None:
    sink = JsonLinesSink(tmp_path, key=KEY)
    sink.write_records([event(i).to_json() for i in range(3)])
    crash(sink)
    name = segments(tmp_path)[0]
    with (tmp_path / name).open("ab") as handle:
        handle.write(b'{"eventVersion":"1.08","userIdent')  # a torn write
    sink2 = JsonLinesSink(tmp_path, key=KEY)
    sink2.write_records([event(3).to_json()])
    sink2.close_segment()
    report = verify_directory(tmp_path, KEY.public_key)
    assert report.ok, report.lines()
    assert report.verified == 2
    lines = (tmp_path / name).read_text().splitlines()
    assert [json.loads(ln)["requestID"] for ln in lines] == ["req-0", "req-1", "req-2"]


def test_another_key_does_not_verify(trail: Path) -> None:
    other = Ed25519PrivateKey.generate().public_key()
    report = verify_directory(trail, other)
    forged = [p.target for p in report.problems if p.kind == "forged"]
    assert forged == sorted(p.name for p in trail.glob("*.digest.json"))
    assert report.verified == 0


def test_lookup_by_user_time_and_count(tmp_path: Path) -> None:
    events = [event(i, name="alice" if i % 3 else "bob") for i in range(30)]
    line = len(events[0].to_line()) + 1
    write(tmp_path, events, FileSinkSettings(max_bytes=max(1024, 5 * line)))
    result = lookup_directory(
        tmp_path, LookupQuery(attributes=((LookupKey.USERNAME, "bob"),), max_results=3)
    )
    assert [e["Username"] for e in result["Events"]] == ["bob"] * 3
    assert [json.loads(e["CloudTrailEvent"])["requestID"] for e in result["Events"]] == [
        "req-27",
        "req-24",
        "req-21",
    ]
    window = LookupQuery(start=T0 + timedelta(seconds=10), end=T0 + timedelta(seconds=12))
    found = lookup_directory(tmp_path, window)["Events"]
    assert [e["EventTime"] for e in found] == [
        "2026-12-03T10:00:12+00:00",
        "2026-12-03T10:00:11+00:00",
        "2026-12-03T10:00:10+00:00",
    ]
    none = lookup_directory(tmp_path, LookupQuery(attributes=((LookupKey.USERNAME, "eve"),)))
    assert none == {"Events": []}


def test_lookup_event_shape(tmp_path: Path) -> None:
    write(tmp_path, [event(0)])
    (found,) = lookup_directory(tmp_path, LookupQuery())["Events"]
    # LookupEventsResponse.Events[] members (botocore cloudtrail 2013-11-01).
    assert found == {
        "EventId": "00000000-0000-0000-0000-000000000000",
        "EventName": "GetOrder",
        "ReadOnly": "true",
        "AccessKeyId": "AKIAALICEAAAAAAAAAAA",
        "EventTime": "2026-12-03T10:00:00+00:00",
        "EventSource": "orders.example.com",
        "Username": "alice",
        "Resources": [{"ResourceName": "arn:aws:orders:us-east-1:123456789012:order/0"}],
        "CloudTrailEvent": event(0).to_line(),
    }


def test_lookup_reads_only_matching_segments(tmp_path: Path) -> None:
    events = [event(i, name="alice") for i in range(10)] + [event(10, name="bob")]
    line = len(events[0].to_line()) + 1
    write(tmp_path, events, FileSinkSettings(max_bytes=max(1024, 2 * line)))
    # Corrupt every segment bob is not in: a lookup for bob must never read them.
    bob_segment = segments(tmp_path)[-1]
    for name in segments(tmp_path)[:-1]:
        (tmp_path / name).write_text("not json\n")
    result = lookup_directory(tmp_path, LookupQuery(attributes=((LookupKey.USERNAME, "bob"),)))
    assert [e["Username"] for e in result["Events"]] == ["bob"]
    assert bob_segment in segments(tmp_path)


def test_lookup_on_a_damaged_segment_says_so(tmp_path: Path) -> None:
    write(tmp_path, [event(0), event(1)])
    (name,) = segments(tmp_path)
    (tmp_path / name).write_text(event(0).to_line() + "\n{not json\n")
    with pytest.raises(AuditIntegrityError, match=f"{name} line 2 is not an audit record"):
        lookup_directory(tmp_path, LookupQuery())


def test_a_late_event_from_the_previous_day_stays_in_the_open_segment(tmp_path: Path) -> None:
    # 2026-12-04T00:00:01Z, then one that completed at 2026-12-03T23:59:59Z.
    late = [event(50402, seconds=1.0), event(50399, seconds=1.0), event(50403, seconds=1.0)]
    write(tmp_path, late)
    assert segments(tmp_path) == ["audit-20261204-000001.jsonl"]


def test_reopening_refuses_to_sign_a_damaged_open_segment(tmp_path: Path) -> None:
    sink = JsonLinesSink(tmp_path, key=KEY)
    sink.write_records([event(0).to_json()])
    crash(sink)
    (name,) = segments(tmp_path)
    with (tmp_path / name).open("a") as handle:
        handle.write("[1, 2]\n")
    with pytest.raises(AuditIntegrityError, match=f"cannot close {name}: line 2"):
        JsonLinesSink(tmp_path, key=KEY)
    assert not list(tmp_path.glob("*.digest.json"))
