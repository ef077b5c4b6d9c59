"""The ``sigv4kit`` command line.

``main(argv, stdin=..., stdout=..., stderr=...)`` parses, runs and maps errors
to an :class:`ExitCode`; streams are injected so tests drive it in-process.
Each subcommand lives in a ``_cli_*`` module with an ``add_parser`` function
and a ``run`` function.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import sys
from collections.abc import Callable, Sequence
from enum import IntEnum
from pathlib import Path
from typing import IO, Any, TypeVar

from .._exceptions import SigV4Error

__all__ = ["CLIError", "ExitCode", "Streams", "main", "read_input", "validated"]

T = TypeVar("T")


class ExitCode(IntEnum):
    """Exit codes of the ``sigv4kit`` command: one per kind of failure."""

    OK = 0
    #: The command failed: signing, the key store, the network.
    ERROR = 1
    #: The command line is wrong: an unknown or missing option, or an option
    #: value that is malformed or out of range (whoever checks it: argparse,
    #: or the command before it does anything).
    USAGE = 2
    #: An input file or stream could not be read or parsed.
    BAD_INPUT = 3
    #: The service answered with an error (request), or the request does not verify (verify).
    AWS_ERROR = 4


_EXIT_CODE_MEANINGS = {
    ExitCode.OK: "success",
    ExitCode.ERROR: "the command failed (signing, key store, network)",
    ExitCode.USAGE: "a wrong option or option value",
    ExitCode.BAD_INPUT: "an input could not be read or parsed",
    ExitCode.AWS_ERROR: "the service answered with an error, or the request does not verify",
}
EXIT_CODES_HELP = "exit codes:\n" + "\n".join(
    f"  {code.value}  {code.name.lower().replace('_', ' ')}: {_EXIT_CODE_MEANINGS[code]}"
    for code in ExitCode
)


class CLIError(SigV4Error):
    """A command failed; ``code`` is the exit code to use."""

    def __init__(self, message: str, code: ExitCode = ExitCode.ERROR) -> None:
        super().__init__(message)
        self.code = code


class Streams:
    """The standard streams a command reads and writes."""

    def __init__(self, stdin: IO[bytes], stdout: IO[str], stderr: IO[str]) -> None:
        self.stdin = stdin
        self.stdout = stdout
        self.stderr = stderr

    @property
    def colour(self) -> bool:
        """Colour only on a terminal."""
        isatty = getattr(self.stdout, "isatty", None)
        return bool(isatty and isatty())


def validated(check: Callable[[str], T]) -> Callable[[str], T]:
    """An argparse ``type=`` from a validator: its error is a usage error (exit 2).

    ``check`` returns the value or raises :class:`SigV4Error` / ``ValueError``
    with a precise message, which argparse prints after the option's name.
    """

    def convert(text: str) -> T:
        try:
            return check(text)
        except (SigV4Error, ValueError) as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    convert.__name__ = getattr(check, "__name__", "value")
    return convert


def read_input(path: str, streams: Streams) -> bytes:
    """The bytes of file ``path``, or of stdin for ``-``; unreadable input exits 3."""
    try:
        return streams.stdin.read() if path == "-" else Path(path).read_bytes()
    except OSError as exc:
        raise CLIError(f"cannot read {path}: {exc.strerror}", ExitCode.BAD_INPUT) from None


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise CLIError(f"{self.prog}: {message}", ExitCode.USAGE)


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The argument parser with every subcommand.

    A command of the server half is loaded only when ``argv`` asks for it;
    otherwise it is listed by name and help text, so ``sigv4kit --help`` and
    every core command run without importing ``sigv4kit.middleware``.
    """
    from .. import __version__
    from . import _explain as _cli_explain
    from . import _keys as _cli_keys
    from . import _presign as _cli_presign
    from . import _request as _cli_request
    from . import _sign as _cli_sign
    from . import _verify as _cli_verify

    parser = _Parser(
        prog="sigv4kit",
        description=(
            "AWS Signature Version 4 / 4A: sign, send, presign, verify and explain "
            "requests; manage access keys."
        ),
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"sigv4kit {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    _cli_sign.add_parser(sub)
    _cli_verify.add_parser(sub)
    _cli_explain.add_parser(sub)
    _cli_request.add_parser(sub)
    _cli_presign.add_parser(sub)
    _cli_keys.add_parser(sub)
    _add_server_commands(sub, argv)
    return parser


# Command groups that live in the server half (sigv4kit.middleware): name ->
# (module with add_parser, help). Registered by name so the core never imports
# the server unless the command is run; a later issue replaces this table with
# a typed registration hook.
SERVER_COMMANDS = {
    "policy": ("sigv4kit.middleware.iam.policy._cli", "work with IAM policy documents"),
}


def _add_server_commands(sub: Any, argv: Sequence[str] | None) -> None:
    chosen = next((arg for arg in argv or () if not arg.startswith("-")), None)
    for name, (module_name, help_text) in SERVER_COMMANDS.items():
        if name == chosen:
            try:
                importlib.import_module(module_name).add_parser(sub)
                continue
            except ImportError:  # an install without the server half
                pass
        stub = sub.add_parser(name, help=help_text, add_help=False)
        stub.add_argument("rest", nargs=argparse.REMAINDER)
        stub.set_defaults(run=_server_missing)


def _server_missing(args: argparse.Namespace, streams: Streams) -> ExitCode:
    raise CLIError(f"'{args.command}' needs the server half (sigv4kit.middleware)")


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
