"""``sigv4kit audit``: keygen, verify and lookup on a directory, in-process and as a program."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from _audit_util import event
from _cli_util import run_cli, run_program
from sigv4kit.middleware.audit import FileSinkSettings, JsonLinesSink, load_signing_key


def trail(tmp_path: Path) -> tuple[Path, Path]:
    key = tmp_path / "audit.key"
    made = run_cli("audit", "keygen", str(key))
    assert made.code == 0, made.err
    directory = tmp_path / "trail"
    # Lines differ by a few bytes (alice/bob): a segment closes after its 4th line.
    line = min(len(event(i, name=n).to_line()) + 1 for i in (0, 1) for n in ("alice", "bob"))
    sink = JsonLinesSink(
        directory, key=load_signing_key(key), settings=FileSinkSettings(max_bytes=4 * line - 1)
    )
    sink.write_records([event(i, name="alice" if i % 2 else "bob").to_json() for i in range(20)])
    sink.close_segment()
    return directory, Path(f"{key}.pub")


def test_keygen_writes_a_private_key_and_never_prints_it(tmp_path: Path) -> None:
    key = tmp_path / "k"
    result = run_cli("audit", "keygen", str(key))
    assert result.code == 0
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    assert "PRIVATE KEY" in key.read_text()
    assert "PUBLIC KEY" in Path(f"{key}.pub").read_text()
    assert "PRIVATE" not in result.out
    again = run_cli("audit", "keygen", str(key))
    assert again.code == 1
    assert "refusing to overwrite" in again.err


def test_verify_valid_and_tampered(tmp_path: Path) -> None:
    directory, public = trail(tmp_path)
    ok = run_cli("audit", "verify", str(directory), "--public-key", str(public))
    assert ok.code == 0, ok.out
    assert ok.out.startswith("VALID: 5 verified through sequence 5")
    third = sorted(directory.glob("*.jsonl"))[2]
    third.write_text(third.read_text().replace("bob", "eve"))
    (sorted(directory.glob("*.jsonl"))[4]).unlink()
    bad = run_cli("audit", "verify", str(directory), "--public-key", str(public), "--json")
    assert bad.code == 4
    report = json.loads(bad.out)
    assert report["valid"] is False
    assert [(p["kind"], p["target"]) for p in report["problems"]] == [
        ("modified", third.name),
        (
            "deleted",
            sorted(p.name for p in directory.glob("*.digest.json"))[4].replace(
                ".digest.json", ".jsonl"
            ),
        ),
    ]


def test_verify_needs_a_key_and_a_directory(tmp_path: Path) -> None:
    assert run_cli("audit", "verify", str(tmp_path)).code == 2
    key = tmp_path / "k"
    run_cli("audit", "keygen", str(key))
    missing = run_cli("audit", "verify", str(tmp_path / "nope"), "--public-key", f"{key}.pub")
    assert missing.code == 3


def test_lookup_json_and_table(tmp_path: Path) -> None:
    directory, _public = trail(tmp_path)
    found = run_cli(
        "audit",
        "lookup",
        str(directory),
        "--lookup-attributes",
        "AttributeKey=Username,AttributeValue=bob",
        "--start-time",
        "2026-12-03T10:00:04Z",
        "--end-time",
        "2026-12-03T10:00:10",
        "--max-results",
        "2",
    )
    assert found.code == 0, found.err
    events = json.loads(found.out)["Events"]
    assert [(e["Username"], e["EventTime"]) for e in events] == [
        ("bob", "2026-12-03T10:00:10+00:00"),
        ("bob", "2026-12-03T10:00:08+00:00"),
    ]
    table = run_cli(
        "audit",
        "lookup",
        str(directory),
        "--lookup-attributes",
        "AttributeKey=ReadOnly,AttributeValue=false",
        "--max-results",
        "1",
        "--output",
        "table",
    )
    assert table.code == 0
    header, row = table.out.splitlines()
    assert header.split() == [
        "EventTime",
        "EventName",
        "Username",
        "EventSource",
        "AccessKeyId",
        "ReadOnly",
    ]
    assert row.split() == [
        "2026-12-03T10:00:19+00:00",
        "PutOrder",
        "alice",
        "orders.example.com",
        "AKIAALICEAAAAAAAAAAA",
        "false",
    ]
    assert header.index("EventName") == row.index("PutOrder")  # aligned columns


def test_lookup_refuses_bad_options(tmp_path: Path) -> None:
    bad_key = run_cli(
        "audit",
        "lookup",
        str(tmp_path),
        "--lookup-attributes",
        "AttributeKey=Colour,AttributeValue=red",
    )
    assert bad_key.code == 2
    assert "unknown AttributeKey 'Colour'" in bad_key.err
    bad_shape = run_cli("audit", "lookup", str(tmp_path), "--lookup-attributes", "Username=bob")
    assert bad_shape.code == 2
    bad_time = run_cli("audit", "lookup", str(tmp_path), "--start-time", "yesterday")
    assert bad_time.code == 2
    too_many = run_cli("audit", "lookup", str(tmp_path), "--max-results", "51")
    assert too_many.code == 2
    backwards = run_cli(
        "audit", "lookup", str(tmp_path), "--start-time", "2026-12-02", "--end-time", "2026-12-01"
    )
    assert backwards.code == 2


def test_the_installed_program_runs_audit(tmp_path: Path) -> None:
    directory, public = trail(tmp_path)
    result = run_program("audit", "verify", str(directory), "--public-key", str(public))
    assert result.code == 0, result.err
    assert "VALID" in result.out
