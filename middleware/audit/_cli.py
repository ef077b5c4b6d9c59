"""``sigv4kit audit``: keygen, verify and lookup on an audit trail.

``TARGET`` is an audit directory (JSON-lines segments) or a
``postgresql://...?schema=`` store URL (the ``audit_events`` chain).

* ``sigv4kit audit keygen FILE`` writes a new Ed25519 signing key (0600) and
  ``FILE.pub``; the key itself is never printed.
* ``sigv4kit audit verify TARGET --public-key FILE.pub`` prints every
  modified, deleted, reordered, inserted or forged segment/row and exits 4
  (``AWS_ERROR``: "does not verify") when there is one.
* ``sigv4kit audit lookup TARGET`` takes the options of ``aws cloudtrail
  lookup-events`` and prints its JSON output shape or a table.

Registered into the ``sigv4kit`` command through
the ``sigv4kit.commands`` entry points (``middleware/cli/``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sigv4kit.cli import EXIT_CODES_HELP, CLIError, ExitCode, Streams, validated

from ._files import lookup_directory, verify_directory
from ._integrity import AuditIntegrityError, generate_signing_key, load_verify_key
from ._lookup import LookupKey, LookupQuery
from ._report import VerifyReport

__all__ = ["add_parser", "parse_lookup_attribute", "parse_time"]

EXAMPLES = """\
examples:
  sigv4kit audit keygen /etc/sigv4kit/audit.key
  sigv4kit audit verify /var/log/sigv4kit/audit --public-key /etc/sigv4kit/audit.key.pub
  sigv4kit audit lookup /var/log/sigv4kit/audit \\
      --lookup-attributes AttributeKey=Username,AttributeValue=alice --max-results 10
  sigv4kit audit lookup 'postgresql://db/app?schema=sigv4kit' --start-time 2026-12-01 \\
      --output table
"""
_TABLE_COLUMNS = ("EventTime", "EventName", "Username", "EventSource", "AccessKeyId", "ReadOnly")


def parse_lookup_attribute(text: str) -> tuple[LookupKey, str]:
    """``AttributeKey=K,AttributeValue=V`` (the AWS CLI shorthand) as a pair."""
    fields: dict[str, str] = {}
    for part in text.split(",", 1):
        name, sep, value = part.partition("=")
        if not sep:
            raise ValueError(f"expected AttributeKey=KEY,AttributeValue=VALUE, got {text!r}")
        fields[name.strip()] = value
    if set(fields) != {"AttributeKey", "AttributeValue"}:
        raise ValueError(f"expected AttributeKey=KEY,AttributeValue=VALUE, got {text!r}")
    try:
        key = LookupKey(fields["AttributeKey"])
    except ValueError:
        choices = ", ".join(k.value for k in LookupKey)
        raise ValueError(
            f"unknown AttributeKey {fields['AttributeKey']!r} (one of {choices})"
        ) from None
    return key, fields["AttributeValue"]


def parse_time(text: str) -> datetime:
    """ISO 8601 (UTC when no offset is given) or Unix seconds, like the AWS CLI."""
    try:
        if text.isdigit():
            return datetime.fromtimestamp(int(text), UTC)
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (ValueError, OverflowError):
        raise ValueError(f"not an ISO 8601 time or Unix seconds: {text!r}") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def add_parser(sub: Any) -> None:
    """Register the ``audit`` command group."""
    group = sub.add_parser(
        "audit",
        help="verify and search the audit trail",
        description=__doc__.split("\n\n")[1] if __doc__ else None,
        epilog=EXAMPLES + "\n" + EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = group.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    keygen = actions.add_parser("keygen", help="write a new Ed25519 signing key and FILE.pub")
    keygen.add_argument("file", metavar="FILE", type=Path)
    keygen.set_defaults(run=_run_keygen)

    verify = actions.add_parser("verify", help="check the digests or the row chain")
    verify.add_argument("target", metavar="TARGET", help="audit directory or postgresql:// URL")
    verify.add_argument("--public-key", type=Path, help="the signing key's .pub file")
    verify.add_argument("--json", action="store_true", help="print one JSON object")
    verify.set_defaults(run=_run_verify)

    lookup = actions.add_parser("lookup", help="find events (aws cloudtrail lookup-events)")
    lookup.add_argument("target", metavar="TARGET", help="audit directory or postgresql:// URL")
    lookup.add_argument(
        "--lookup-attributes",
        nargs="+",
        action="extend",
        default=[],
        type=validated(parse_lookup_attribute),
        metavar="AttributeKey=KEY,AttributeValue=VALUE",
    )
    lookup.add_argument("--start-time", type=validated(parse_time))
    lookup.add_argument("--end-time", type=validated(parse_time))
    lookup.add_argument("--max-results", type=int, default=50)
    lookup.add_argument("--output", choices=("json", "table"), default="json")
    lookup.set_defaults(run=_run_lookup)


def _is_url(target: str) -> bool:
    return target.startswith(("postgresql://", "postgres://", "postgresql+"))


def _run_keygen(args: argparse.Namespace, streams: Streams) -> ExitCode:
    try:
        key = generate_signing_key(args.file)
    except AuditIntegrityError as exc:
        raise CLIError(str(exc)) from None
    except OSError as exc:
        raise CLIError(f"cannot write {args.file}: {exc.strerror}") from None
    streams.stdout.write(f"wrote {args.file} and {args.file}.pub (fingerprint {key.fingerprint})\n")
    return ExitCode.OK


def _run_verify(args: argparse.Namespace, streams: Streams) -> ExitCode:
    public = load_verify_key(args.public_key) if args.public_key else None
    if _is_url(args.target):
        report = asyncio.run(_on_database(args.target, "verify", public))
    else:
        if public is None:
            raise CLIError("verifying a directory needs --public-key", ExitCode.USAGE)
        directory = _directory(args.target)
        report = verify_directory(directory, public)
    assert isinstance(report, VerifyReport)
    if args.json:
        streams.stdout.write(json.dumps(report.to_json(), indent=2) + "\n")
    else:
        streams.stdout.write("\n".join(report.lines()) + "\n")
    return ExitCode.OK if report.ok else ExitCode.AWS_ERROR


def _directory(target: str) -> Path:
    directory = Path(target)
    if not directory.is_dir():
        raise CLIError(f"{target} is not a directory", ExitCode.BAD_INPUT)
    return directory


def _run_lookup(args: argparse.Namespace, streams: Streams) -> ExitCode:
    try:
        query = LookupQuery(
            attributes=tuple(args.lookup_attributes),
            start=args.start_time,
            end=args.end_time,
            max_results=args.max_results,
        )
    except ValueError as exc:
        raise CLIError(str(exc), ExitCode.USAGE) from None
    if _is_url(args.target):
        result = asyncio.run(_on_database(args.target, "lookup", query))
    else:
        result = lookup_directory(_directory(args.target), query)
    assert isinstance(result, dict)
    if args.output == "json":
        streams.stdout.write(json.dumps(result, indent=4) + "\n")
    else:
        streams.stdout.write(_table(result["Events"]))
    return ExitCode.OK


def _table(events: list[dict[str, Any]]) -> str:
    rows = [[str(event.get(col, "")) for col in _TABLE_COLUMNS] for event in events]
    widths = [
        max([len(col)] + [len(row[i]) for row in rows]) for i, col in enumerate(_TABLE_COLUMNS)
    ]
    lines = ["  ".join(col.ljust(w) for col, w in zip(_TABLE_COLUMNS, widths, strict=True))]
    lines += ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join(line.rstrip() for line in lines) + "\n"


async def _on_database(url: str, action: str, argument: Any) -> Any:
    from ..store.engine import postgres_async_engine, postgres_conninfo_from_url, unavailable
    from ._sql import lookup_database, verify_database

    conninfo, schema = postgres_conninfo_from_url(url)
    engine = postgres_async_engine(conninfo, schema, 30.0)
    try:
        # A database without the audit tables, or unreachable: one clear line.
        with unavailable(30.0):
            async with engine.connect() as conn:
                if action == "verify":
                    return await verify_database(conn, argument)
                return await lookup_database(conn, argument)
    finally:
        await engine.dispose()
