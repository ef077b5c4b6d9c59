"""What every ``sigv4kit`` command shares: exit codes, the error that carries one, the
injected standard streams, input reading, time and scope options, sectioned output."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import UTC, datetime
from enum import IntEnum
from pathlib import Path
from typing import IO, TypeVar

from .._exceptions import InvalidRequestError, SigV4Error
from ..canonical._diagnostics import redact_text, redact_values
from ..canonical._raw import RawRequest, parse_raw_request
from ..signing._signer import _check_scope_part

__all__ = [
    "EXIT_CODES_HELP",
    "CLIError",
    "ExitCode",
    "Parser",
    "Streams",
    "parse_time",
    "read_input",
    "read_request",
    "redact",
    "scope_part",
    "validated",
    "write_sections",
]


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


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise CLIError(f"{self.prog}: {message}", ExitCode.USAGE)


@validated
def scope_part(text: str) -> str:
    """A region or service name for a credential scope (argparse ``type=``)."""
    _check_scope_part("value", text)
    return text


def parse_time(text: str | None) -> datetime:
    """An aware datetime from ISO 8601 text (``Z`` accepted), or now."""
    if text is None:
        return datetime.now(UTC)
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise CLIError(f"--time {text!r} is not ISO 8601", ExitCode.USAGE) from None
    if value.tzinfo is None:
        raise CLIError(f"--time {text!r} has no time zone (add Z or +00:00)", ExitCode.USAGE)
    return value


def read_request(path: str, streams: Streams) -> RawRequest:
    """Read and parse a raw request from a file or stdin."""
    data = read_input(path, streams)
    try:
        return parse_raw_request(data)
    except InvalidRequestError as exc:
        raise CLIError(str(exc), ExitCode.BAD_INPUT) from None


def write_sections(streams: Streams, sections: list[tuple[str, str]]) -> None:
    """Print titled sections, the titles bold on a terminal."""
    for index, (title, body) in enumerate(sections):
        heading = f"\x1b[1m{title}\x1b[0m" if streams.colour else f"== {title} =="
        prefix = "\n" if index else ""
        streams.stdout.write(f"{prefix}{heading}\n{body}\n")


def redact(text: str, token: str | None) -> str:
    """The text with the session token (its header line, and the value anywhere) redacted."""
    return redact_values(redact_text(text), [token])
