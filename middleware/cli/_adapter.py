"""Commands written as ``add_parser(sub)`` functions, offered through the typed hook.

``sigv4kit serve``, ``iam`` and ``audit`` register their parser the way the CLI did
before the hook (``sub.add_parser(name, ...)``, ``set_defaults(run=...)``); this
adapter hands them the parser the hook made for them, so they satisfy
:class:`sigv4kit.cli.Command` unchanged.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sigv4kit.cli import CLIError, ExitCode, Streams

__all__ = ["AddParserCommand"]


class _ThisParser:
    """Stands in for ``add_subparsers()``: every ``add_parser`` is the hook's parser."""

    def __init__(self, parser: argparse.ArgumentParser) -> None:
        self._parser = parser

    def add_parser(self, name: str, **options: Any) -> argparse.ArgumentParser:
        for option in ("description", "epilog", "formatter_class"):
            if option in options:
                setattr(self._parser, option, options[option])
        return self._parser


@dataclass(frozen=True, slots=True)
class AddParserCommand:
    """A :class:`sigv4kit.cli.Command` around an ``add_parser(sub)`` function."""

    name: str
    help: str
    add_parser: Callable[[Any], None]

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """Let the command's own ``add_parser`` fill the hook's parser."""
        self.add_parser(_ThisParser(parser))

    def run(self, args: argparse.Namespace, streams: Streams) -> int:
        """Run the function the command's parser chose (``set_defaults(run=...)``)."""
        run = args.run
        if run is self.run:
            raise CLIError(f"sigv4kit {self.name}: choose an action", ExitCode.USAGE)
        return int(run(args, streams))
