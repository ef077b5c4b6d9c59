"""The ``sigv4kit`` command line: main, shared options/IO/exit codes, one module per command,
and the typed registration hook through which the server half adds its commands.

May import every core stage; never the server (``sigv4kit.middleware``), whose commands
arrive through the ``sigv4kit.commands`` entry-point group.
"""

from __future__ import annotations

from ._common import (
    EXIT_CODES_HELP,
    CLIError,
    ExitCode,
    Parser,
    Streams,
    read_input,
    validated,
)
from ._hook import COMMANDS_GROUP, VERIFY_SUPPORT_GROUP, Command, VerifySupport

__all__ = [
    "COMMANDS_GROUP",
    "EXIT_CODES_HELP",
    "VERIFY_SUPPORT_GROUP",
    "CLIError",
    "Command",
    "ExitCode",
    "Parser",
    "Streams",
    "VerifySupport",
    "read_input",
    "validated",
]
