"""``sigv4kit audit``: verify and search the audit trail.

Joins the ``sigv4kit`` command through the ``sigv4kit.commands`` entry point ``audit``.
"""

from __future__ import annotations

from ..audit._cli import add_parser
from ._adapter import AddParserCommand

__all__ = ["COMMAND", "HELP"]

#: The line ``sigv4kit --help`` shows (read from this file without importing it).
HELP = "verify and search the audit trail"

#: The object the ``sigv4kit.commands`` entry point ``audit`` names.
COMMAND = AddParserCommand(name="audit", help=HELP, add_parser=add_parser)
