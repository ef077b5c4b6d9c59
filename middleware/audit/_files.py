"""Verifying and searching an audit directory written by :class:`~._jsonl.JsonLinesSink`.

:func:`verify_directory` checks, with the public key only:

* every digest's signature (a digest edited or made up without the key: ``forged``);
* the chain: sequences 1..N all present (a gap: ``deleted``), each digest's
  ``previousDigestSHA256`` the SHA-256 of the one before (otherwise
  ``reordered``: digests swapped, or one put in from another chain);
* every segment named by a digest: present (else ``deleted``), with the
  digest's SHA-256 (else ``modified``, or ``reordered`` when it has the hash
  of *another* segment: files renamed or swapped);
* segment files no digest names: the newest one is the open segment
  (reported, not a failure); any other is ``inserted``.

What it cannot see (as with CloudTrail's own validation, which relies on a
digest file being delivered every hour): the newest segments and digests
all removed together. The report names the last sequence and time it
verified, to compare with what the operator expects.

:func:`lookup_directory` answers a :class:`~._lookup.LookupQuery` by reading
only the segments whose digest's time range and index can match (plus the
open segment), newest first: a lookup by user on a month of segments reads
the digests and the few segments that user appears in.

Imports: the standard library, :mod:`._integrity`, :mod:`._jsonl`, :mod:`._lookup`, :mod:`._report`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ._integrity import GENESIS_HASH, AuditIntegrityError, verify_digest_signature
from ._jsonl import read_digests, segment_sequence
from ._lookup import LookupKey, LookupQuery, lookup_response, matches, parse_event_time
from ._report import Problem, VerifyReport

__all__ = ["lookup_directory", "verify_directory"]


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_directory(directory: Path, public_key: Ed25519PublicKey) -> VerifyReport:
    """Every problem in ``directory``'s segments and digests (see the module docstring)."""
    report = VerifyReport(target=str(directory))
    chain: dict[int, tuple[bytes, dict[str, Any]]] = {}
    for path, data, digest in read_digests(directory):
        if digest is None or not verify_digest_signature(digest, public_key):
            report.add(Problem("forged", path.name, "digest signature does not verify"))
            continue
        sequence = digest.get("sequence")
        if not isinstance(sequence, int) or sequence in chain:
            report.add(Problem("inserted", path.name, "a second digest for one sequence"))
            continue
        chain[sequence] = (data, digest)
    hashes = {digest["segmentSHA256"]: seq for seq, (_d, digest) in chain.items()}
    last = max(chain, default=0)
    named = set()
    for sequence in range(1, last + 1):
        if sequence not in chain:
            report.add(Problem("deleted", f"sequence {sequence}", "segment and digest missing"))
            continue
        data, digest = chain[sequence]
        named.add(str(digest["segment"]))
        _check_link(report, sequence, digest, chain.get(sequence - 1))
        _check_segment(report, directory, sequence, digest, hashes)
        report.verified += 1
        report.last_sequence = sequence
        report.last_event_time = digest.get("lastEventTime")
    unnamed = sorted(
        (seq, path.name)
        for path in directory.glob("audit-*.jsonl")
        if (seq := segment_sequence(path.name)) is not None and path.name not in named
    )
    for seq, name in unnamed:
        if seq == last + 1 and (seq, name) == unnamed[-1]:
            report.open_segments.append(name)
        else:
            report.add(Problem("inserted", name, "a segment no digest names"))
    return report


def _check_link(
    report: VerifyReport,
    sequence: int,
    digest: Mapping[str, Any],
    previous: tuple[bytes, dict[str, Any]] | None,
) -> None:
    if sequence == 1:
        expected = GENESIS_HASH
    elif previous is None:
        return  # the gap is reported as a deletion
    else:
        expected = hashlib.sha256(previous[0]).hexdigest()
    if digest.get("previousDigestSHA256") != expected:
        report.add(
            Problem("reordered", str(digest["segment"]), "does not follow the digest before it")
        )


def _check_segment(
    report: VerifyReport,
    directory: Path,
    sequence: int,
    digest: Mapping[str, Any],
    hashes: Mapping[str, int],
) -> None:
    name = str(digest["segment"])
    if segment_sequence(name) != sequence:
        report.add(Problem("reordered", name, f"named by digest {sequence}"))
    path = directory / name
    if not path.is_file():
        report.add(Problem("deleted", name, "segment file missing"))
        return
    actual = _sha256_file(path)
    if actual == digest["segmentSHA256"]:
        return
    other = hashes.get(actual)
    if other is not None:
        report.add(Problem("reordered", name, f"holds the content of segment {other}"))
    else:
        report.add(Problem("modified", name, "SHA-256 differs from its digest"))


def _candidates(directory: Path, query: LookupQuery) -> list[Path]:
    digested: dict[str, dict[str, Any]] = {}
    for _path, _data, digest in read_digests(directory):
        if digest and isinstance(digest.get("segment"), str):
            digested[digest["segment"]] = digest
    chosen = []
    for path in directory.glob("audit-*.jsonl"):
        sequence = segment_sequence(path.name)
        if sequence is None:
            continue
        digest = digested.get(path.name)
        if digest is None or _may_match(digest, query):
            chosen.append((sequence, path))
    return [path for _seq, path in sorted(chosen, reverse=True)]


def _may_match(digest: Mapping[str, Any], query: LookupQuery) -> bool:
    first, last = digest.get("firstEventTime"), digest.get("lastEventTime")
    if first and last:
        if query.end and parse_event_time(first) > query.end:
            return False
        if query.start and parse_event_time(last) < query.start:
            return False
    index = digest.get("index") or {}
    for key, value in query.attributes:
        if key is not LookupKey.EVENT_ID and value not in index.get(key.value, ()):
            return False
    return True


def _records_newest_first(path: Path) -> Iterator[tuple[dict[str, Any], str]]:
    lines = path.read_bytes().splitlines()
    for number in range(len(lines), 0, -1):
        line = lines[number - 1]
        if not line:
            continue
        try:
            text = line.decode("utf-8")
            record = json.loads(text)
            parse_event_time(str(record["eventTime"]))
        except (ValueError, KeyError, TypeError):
            raise AuditIntegrityError(
                f"{path.name} line {number} is not an audit record: run sigv4kit audit verify"
            ) from None
        yield record, text


def lookup_directory(directory: Path, query: LookupQuery) -> dict[str, Any]:
    """``LookupEventsResponse`` for ``query`` over the segments in ``directory``."""
    found: list[tuple[dict[str, Any], str, datetime]] = []
    for path in _candidates(directory, query):
        for record, line in _records_newest_first(path):
            if matches(record, query):
                found.append((record, line, parse_event_time(record["eventTime"])))
        # Segments are in time order: once enough are found, older ones cannot rank higher.
        if len(found) >= query.max_results:
            break
    found.sort(key=lambda item: item[2], reverse=True)
    return lookup_response([(record, line) for record, line, _when in found[: query.max_results]])
