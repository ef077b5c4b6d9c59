"""The typed registration hook: how commands from other packages join ``sigv4kit``.

A distribution declares its commands in the ``sigv4kit.commands`` entry-point group, one
entry per command name, each naming an object that satisfies :class:`Command`::

    [project.entry-points."sigv4kit.commands"]
    keys = "sigv4kit.middleware.cli.keys:COMMAND"

The core never imports such a command unless it is the one being run: ``sigv4kit --help``
lists it by name, with the module's ``HELP`` string constant read from the source file
(parsed, never imported), so the help of the core commands never loads the server half.

``sigv4kit verify --store`` needs a key store and the middleware's error bodies; the
server offers both as one :class:`VerifySupport` object in the ``sigv4kit.verify_support``
group, loaded only when ``verify`` needs it.
"""

from __future__ import annotations

import argparse
import ast
import importlib.util
import sys
from collections.abc import Callable
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Protocol, runtime_checkable

from ..verify._errors import VerificationError
from ..verify._keys import KeyRecord
from ._common import CLIError, ExitCode, Parser, Streams

__all__ = [
    "COMMANDS_GROUP",
    "VERIFY_SUPPORT_GROUP",
    "Command",
    "VerifySupport",
    "command_entry_points",
    "load_verify_support",
    "register_commands",
]

COMMANDS_GROUP = "sigv4kit.commands"
VERIFY_SUPPORT_GROUP = "sigv4kit.verify_support"

_SERVER_HALF = "sigv4kit.middleware"


@runtime_checkable
class Command(Protocol):
    """A ``sigv4kit`` subcommand (or command group) contributed by another package."""

    @property
    def name(self) -> str:
        """The command word (``sigv4kit NAME``); equals its entry point's name."""
        ...

    @property
    def help(self) -> str:
        """One line for ``sigv4kit --help``."""
        ...

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """Add options (and any sub-actions, each setting its own ``run`` default)."""
        ...

    def run(self, args: argparse.Namespace, streams: Streams) -> int:
        """Run the command; returns the exit code."""
        ...


@runtime_checkable
class VerifySupport(Protocol):
    """What ``sigv4kit verify`` borrows from the server half."""

    async def fetch_key(self, store_url: str, access_key_id: str) -> KeyRecord | None:
        """The key record of ``access_key_id`` in the store at ``store_url`` (or None).

        Raises :class:`~sigv4kit.cli.CLIError` when the store is missing or unusable.
        """
        ...

    def render_error(self, error: VerificationError, error_format: str) -> str:
        """The error body the middleware would send, in ``error_format``."""
        ...


def command_entry_points() -> list[EntryPoint]:
    """The installed ``sigv4kit.commands`` entry points, by name."""
    return sorted(entry_points(group=COMMANDS_GROUP), key=lambda ep: ep.name)


def _load(ep: EntryPoint, kind: type[object]) -> object:
    try:
        obj: object = ep.load()
    except ImportError:  # an install without the server half
        raise CLIError(f"'{ep.name}' needs the server half ({_SERVER_HALF})") from None
    if not isinstance(obj, kind):
        raise CLIError(f"entry point {ep.value} is not a sigv4kit {kind.__name__}")
    return obj


def load_verify_support() -> VerifySupport:
    """The server's :class:`VerifySupport`; a clear error without the server half."""
    for ep in entry_points(group=VERIFY_SUPPORT_GROUP):
        support = _load(ep, VerifySupport)
        assert isinstance(support, VerifySupport)  # for mypy: _load checked it
        return support
    raise CLIError(f"'verify --store' needs the server half ({_SERVER_HALF})")


def _help_constant(source: str) -> str | None:
    for node in ast.parse(source).body:
        if (
            isinstance(node, ast.Assign)
            and [getattr(t, "id", None) for t in node.targets] == ["HELP"]
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            return node.value.value
    return None


def _summary(ep: EntryPoint) -> str:
    """The ``HELP`` constant of the entry point's module, read without importing it."""
    parts = ep.module.split(".")
    # find_spec imports a name's parents: ask only for the first package that is
    # not imported yet (whose parent is), and walk the rest as files.
    depth = 1
    while depth < len(parts) and ".".join(parts[:depth]) in sys.modules:
        depth += 1
    try:
        spec = importlib.util.find_spec(".".join(parts[:depth]))
    except (ImportError, ValueError):
        spec = None
    if spec is None:
        paths: list[Path] = []
    elif depth == len(parts):  # the module itself is found (or imported) already
        paths = [Path(spec.origin)] if spec.origin else []
    else:
        locations = spec.submodule_search_locations or []
        paths = [Path(loc, *parts[depth:]).with_suffix(".py") for loc in locations]
    for path in paths:
        try:
            text = _help_constant(path.read_text(encoding="utf-8"))
        except (OSError, SyntaxError, ValueError):
            continue
        if text:
            return text
    return f"a command from {ep.module}"


def _add(
    sub: argparse._SubParsersAction[Parser], command: Command, epilog: str
) -> None:
    parser = sub.add_parser(
        command.name,
        help=command.help,
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(run=command.run)
    command.add_arguments(parser)


def _stub(
    sub: argparse._SubParsersAction[Parser],
    ep: EntryPoint,
    run: Callable[[argparse.Namespace, Streams], int],
) -> None:
    stub = sub.add_parser(ep.name, help=_summary(ep), add_help=False)
    stub.add_argument("rest", nargs=argparse.REMAINDER)
    stub.set_defaults(run=run)


def register_commands(
    sub: argparse._SubParsersAction[Parser], chosen: str | None, epilog: str
) -> None:
    """Add every registered command: the chosen one loaded, the others as listed names."""
    for ep in command_entry_points():
        if ep.name != chosen:
            _stub(sub, ep, _not_loaded)
            continue
        try:
            command = _load(ep, Command)
        except CLIError as exc:
            error = exc

            def fail(args: argparse.Namespace, streams: Streams, error: CLIError = error) -> int:
                raise error

            _stub(sub, ep, fail)
            continue
        assert isinstance(command, Command)  # for mypy: _load checked it
        _add(sub, command, epilog)


def _not_loaded(args: argparse.Namespace, streams: Streams) -> int:
    # Unreachable through main(): the chosen command is always loaded.
    raise CLIError(f"'{args.command}' was not loaded", ExitCode.ERROR)
