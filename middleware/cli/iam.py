"""``sigv4kit iam``: administer the IAM store locally (bootstrap, report, root access keys).

Joins the ``sigv4kit`` command through the ``sigv4kit.commands`` entry point ``iam``.
"""

from __future__ import annotations

from ..iam._cli_iam import add_parser
from ._adapter import AddParserCommand

__all__ = ["COMMAND", "HELP"]

#: The line ``sigv4kit --help`` shows (read from this file without importing it).
HELP = "administer the IAM store locally (bootstrap an administrator, report, root keys)"

#: The object the ``sigv4kit.commands`` entry point ``iam`` names.
COMMAND = AddParserCommand(name="iam", help=HELP, add_parser=add_parser)
