"""``sigv4kit serve``: serve the IAM API over the store (uvicorn).

Joins the ``sigv4kit`` command through the ``sigv4kit.commands`` entry point ``serve``.
"""

from __future__ import annotations

from ..iam._cli_serve import add_parser
from ._adapter import AddParserCommand

__all__ = ["COMMAND", "HELP"]

#: The line ``sigv4kit --help`` shows (read from this file without importing it).
HELP = "serve the IAM API over the store (uvicorn)"

#: The object the ``sigv4kit.commands`` entry point ``serve`` names.
COMMAND = AddParserCommand(name="serve", help=HELP, add_parser=add_parser)
