"""The ``sigv4kit`` command line.

``main(argv, stdin=..., stdout=..., stderr=...)`` parses, runs and maps errors
to an :class:`ExitCode`; streams are injected so tests drive it in-process.
Each core subcommand lives in its own module with an ``add_parser`` function
and a ``run`` function; shared options, IO and exit codes are in ``_common`` and
``_options``; commands of other packages join through ``_hook``.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Sequence
from typing import IO

from .. import __version__
from .._exceptions import SigV4Error
from . import _explain, _presign, _request, _sign, _verify
from ._common import EXIT_CODES_HELP, CLIError, ExitCode, Parser, Streams
from ._hook import register_commands

__all__ = ["build_parser", "main"]


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The argument parser with every subcommand.

    Commands of other packages (the server half's ``keys`` and ``policy``) come
    through the ``sigv4kit.commands`` entry points (:mod:`sigv4kit.cli._hook`):
    one is imported only when ``argv`` runs it, so ``sigv4kit --help`` and every
    core command run without importing ``sigv4kit.middleware``.
    """
    parser = Parser(
        prog="sigv4kit",
        description=(
            "AWS Signature Version 4 / 4A: sign, send, presign, verify and explain "
            "requests; manage access keys."
        ),
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"sigv4kit {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    for command in (_sign, _verify, _explain, _request, _presign):
        command.add_parser(sub)
    chosen = next((arg for arg in argv or () if not arg.startswith("-")), None)
    register_commands(sub, chosen, EXIT_CODES_HELP)
    return parser


def main(
    argv: Sequence[str] | None = None,
    *,
    stdin: IO[bytes] | None = None,
    stdout: IO[str] | None = None,
    stderr: IO[str] | None = None,
) -> int:
    """Run the command line; returns the exit code."""
    streams = Streams(
        stdin if stdin is not None else sys.stdin.buffer,
        stdout if stdout is not None else sys.stdout,
        stderr if stderr is not None else sys.stderr,
    )
    try:
        parser = build_parser(sys.argv[1:] if argv is None else argv)
        try:
            # argparse prints --help to sys.stdout: send it to the injected stream.
            with contextlib.redirect_stdout(streams.stdout):
                args = parser.parse_args(argv)
        except SystemExit as exc:  # --help and --version exit through argparse
            return int(exc.code or 0)
        return int(args.run(args, streams))
    except CLIError as exc:
        streams.stderr.write(f"error: {exc}\n")
        return int(exc.code)
    except SigV4Error as exc:
        streams.stderr.write(f"error: {exc}\n")
        return int(ExitCode.ERROR)
