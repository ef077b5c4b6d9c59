"""Strict JSON decoding for policy documents, and where each statement sits in the text.

The standard :mod:`json` module does the parsing; two hooks make it strict
enough for IAM:

* ``object_pairs_hook`` refuses an object that repeats a key. The grammar
  says an element must not appear twice; IAM itself silently keeps the last
  one, which is how a second ``"Condition"`` or ``"StringEquals"`` quietly
  replaces the first (hashicorp/terraform-provider-aws #33026, #33570), so we
  refuse instead of guessing.
* ``parse_int``/``parse_float`` keep a number's JSON text (``JsonNumber``),
  so a condition value written as ``10`` or ``1.50`` reaches evaluation as the
  text the author wrote, not as a float that prints differently.

:func:`statement_spans` is a small scanner over the already-validated text that
finds the ``{`` and ``}`` of each statement object. Positions follow
SimulateCustomPolicy: 1-based line and the 1-based column *after* the brace.
The AWS CLI's own example (``awscli/examples/iam/simulate-custom-policy.rst``)
reports ``StartPosition {Line 1, Column 38}`` / ``EndPosition {Line 1,
Column 167}`` for a one-line policy whose statement opens at column 37 and
closes at column 166.
"""

from __future__ import annotations

import json
import re
from bisect import bisect_right
from typing import Any

from ._elements import Position

__all__ = ["JsonError", "JsonNumber", "decode", "statement_spans"]


class JsonError(ValueError):
    """The text is not JSON, or an object repeats a key."""


class JsonNumber(str):
    """A JSON number, kept as the text it was written as."""

    __slots__ = ()


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise JsonError("duplicate key")
    return obj


def _constant(name: str) -> Any:
    raise JsonError(f"{name} is not JSON")


_DECODER = json.JSONDecoder(
    object_pairs_hook=_pairs,
    parse_int=JsonNumber,
    parse_float=JsonNumber,
    parse_constant=_constant,
)


def decode(text: str) -> Any:
    """Decode ``text`` strictly; raises :class:`JsonError` for anything not plain JSON."""
    try:
        return _DECODER.decode(text)
    except JsonError:
        raise
    except (ValueError, RecursionError) as exc:
        # json.JSONDecodeError is a ValueError; nesting deeper than the
        # interpreter's recursion limit surfaces as RecursionError.
        raise JsonError(str(exc)) from None


# Strings (with their escapes) and the structural characters; everything else
# between them (whitespace, numbers, true/false/null) is skipped.
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\]:,]')
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def _position(line_starts: list[int], offset: int) -> Position:
    line = bisect_right(line_starts, offset)
    return Position(line, offset - line_starts[line - 1] + 1)


def statement_spans(text: str) -> list[tuple[Position, Position]]:
    """Start and end of each statement object of a decoded, valid policy ``text``.

    One span per statement, in document order: every object directly inside
    the top-level ``"Statement"`` array, or the ``"Statement"`` object itself.
    """
    line_starts = [0] + [m.end() for m in _LINE_BREAK.finditer(text)]
    spans: list[tuple[Position, Position]] = []
    depth = 0
    key: str | None = None  # last string seen at depth 1 (a top-level key)
    in_statement = False  # inside the value of the top-level "Statement"
    statement_depth = 0  # depth at which a statement object opens
    start = 0
    for match in _TOKEN.finditer(text):
        token = match.group()
        char = token[0]
        if char == '"':
            if depth == 1:
                key = json.loads(token)
            continue
        if char == ":" and depth == 1:
            in_statement = key == "Statement"
            statement_depth = 2
        elif char in "{[":
            depth += 1
            if in_statement and depth == statement_depth and char == "[":
                statement_depth = 3
            elif in_statement and depth == statement_depth and char == "{":
                start = match.end()
        elif char in "}]":
            if in_statement and depth == statement_depth and char == "}":
                spans.append((_position(line_starts, start), _position(line_starts, match.end())))
            depth -= 1
            if depth == 1:
                in_statement = False
    return spans
