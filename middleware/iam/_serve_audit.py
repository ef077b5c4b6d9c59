"""``sigv4kit serve``'s audit trail: where it goes, from the command line.

* ``--audit-dir DIR``: JSON-lines segments in ``DIR`` (signed digests, see
  ``docs/audit.md``), signed with ``--audit-key FILE`` (default ``DIR.key``;
  created with its ``.pub`` when missing, 0600, never overwritten);
* ``--audit-postgres URL``: the ``audit_events`` chain of a PostgreSQL store
  (``postgresql://...?schema=``), signed checkpoints with ``--audit-key``;
* ``--audit-logging``: one JSON record per event on the ``sigv4kit.audit.events`` logger;
* ``--no-audit``: none.

With none of these the default follows the store: a SQLite store
``/var/lib/iam.db`` writes ``/var/lib/iam.db.audit/`` signed with
``/var/lib/iam.db.audit.key``; a PostgreSQL store writes its own
``audit_events`` table (signed with ``--audit-key`` when given); any other
store logs the events. ``--audit-overflow shed|drop`` and
``--audit-flush-interval`` configure the queue.

Imports: :mod:`..audit`, :mod:`..store.url`, the CLI core.
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from sigv4kit.cli import CLIError, ExitCode

__all__ = ["LazySink", "add_audit_options", "audit_log_from_args"]


def add_audit_options(parser: Any) -> None:
    """The ``--audit-*`` options of ``serve``."""
    group = parser.add_argument_group("audit trail (default: next to the store, see docs/audit.md)")
    where = group.add_mutually_exclusive_group()
    where.add_argument("--audit-dir", metavar="DIR", help="JSON-lines segments in DIR")
    where.add_argument("--audit-postgres", metavar="URL",
                       help="the audit_events table of this PostgreSQL store URL")
    where.add_argument("--audit-logging", action="store_true",
                       help="one JSON log record per event (logger sigv4kit.audit.events)")
    where.add_argument("--no-audit", action="store_true", help="record no events")
    group.add_argument("--audit-key", metavar="FILE",
                       help="Ed25519 signing key (created with FILE.pub when missing)")
    group.add_argument("--audit-overflow", choices=["shed", "drop"], default="shed",
                       help="a full queue answers 503 (shed, default) or drops and counts")
    group.add_argument("--audit-flush-interval", type=float, default=1.0, metavar="SECONDS",
                       help="longest time an event waits to be written (default 1)")


class LazySink:
    """A sink opened at its first write, in the server's event loop (database engines
    belong to the loop that made them)."""

    def __init__(self, opener: Callable[[], Awaitable[Any]]) -> None:
        self._opener = opener
        self._sink: Any = None

    def __repr__(self) -> str:
        return f"LazySink(opened={self._sink is not None})"

    async def write(self, events: Sequence[Any]) -> None:
        if self._sink is None:
            self._sink = await self._opener()
        await self._sink.write(events)

    async def aclose(self) -> None:
        if self._sink is not None:
            await self._sink.aclose()


def _key(path: str | None) -> Any:
    from ..audit import generate_signing_key, load_signing_key

    if path is None:
        return None
    key_path = Path(path)
    return load_signing_key(key_path) if key_path.exists() else generate_signing_key(key_path)


def audit_log_from_args(args: argparse.Namespace, store_url: str) -> Any:
    """The :class:`~..audit.AuditLog` the options ask for, or None (``--no-audit``).

    Raises :class:`CLIError` for a key that cannot be read or a bad interval.
    """
    from ..audit import (
        AuditIntegrityError,
        AuditLog,
        AuditSettings,
        JsonLinesSink,
        LoggingSink,
        Overflow,
        SqlAuditSink,
    )
    from ..store.url import sqlite_path_from_url

    if args.no_audit:
        return None
    try:
        settings = AuditSettings(
            flush_interval=args.audit_flush_interval, overflow=Overflow(args.audit_overflow)
        )
    except ValueError as exc:
        raise CLIError(f"--audit-flush-interval: {exc}", ExitCode.USAGE) from None
    directory: str | None = args.audit_dir
    postgres: str | None = args.audit_postgres
    key_path: str | None = args.audit_key
    if not (directory or postgres or args.audit_logging):
        if store_url.startswith("sqlite:"):
            directory = sqlite_path_from_url(store_url) + ".audit"
        elif store_url.startswith(("postgresql:", "postgres:")):
            postgres = store_url
    try:
        if directory:
            Path(directory).mkdir(parents=True, exist_ok=True)
            key = _key(key_path or directory.rstrip("/") + ".key")
            return AuditLog(JsonLinesSink(Path(directory), key=key), settings)
        if postgres:
            key = _key(key_path)
            url = postgres
            return AuditLog(LazySink(lambda: SqlAuditSink.open(url, key=key)), settings)
    except AuditIntegrityError as exc:
        raise CLIError(str(exc)) from None
    return AuditLog(LoggingSink(), settings)
