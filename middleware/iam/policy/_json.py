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
from json.decoder import scanstring as _scanstring  # type: ignore[attr-defined]
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


# Finding positions re-reads statements that already passed the strict decoder;
# the plain decoder does it at C speed (no Python hook per object).
_PLAIN = json.JSONDecoder()


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


_SPACE = re.compile(r"[ \t\n\r]*")


def _skip(text: str, index: int) -> int:
    match = _SPACE.match(text, index)
    assert match is not None  # the pattern matches the empty string
    return match.end()


def _object_spans(text: str, index: int) -> list[tuple[int, int]]:
    """Offsets of the statement objects in the value that starts at ``index``."""
    if text[index] == "{":
        return [(index, _PLAIN.raw_decode(text, index)[1])]
    spans = []
    index = _skip(text, index + 1)  # past "["
    while text[index] != "]":
        end = _PLAIN.raw_decode(text, index)[1]
        spans.append((index, end))
        index = _skip(text, end)
        if text[index] == ",":
            index = _skip(text, index + 1)
    return spans


def statement_spans(text: str) -> list[tuple[Position, Position]]:
    """Start and end of each statement object of a decoded, valid policy ``text``.

    One span per statement, in document order: every object directly inside
    the top-level ``"Statement"`` array, or the ``"Statement"`` object itself.
    Walks the top-level object with the :mod:`json` module's own (C) string
    scanner and decoder, so only positions are computed here.
    """
    offsets: list[tuple[int, int]] = []
    index = _skip(text, _skip(text, 0) + 1)  # past the top-level "{"
    while text[index] == '"':
        key, index = _scanstring(text, index + 1)
        index = _skip(text, _skip(text, index) + 1)  # past ":"
        if key == "Statement":
            offsets = _object_spans(text, index)
            # Past the last statement: a "]" closes an array, an object ends there.
            end = offsets[-1][1] if offsets else index
            end = _skip(text, end)
            index = _skip(text, end + 1) if text[end] == "]" else end
        else:
            index = _skip(text, _PLAIN.raw_decode(text, index)[1])
        if text[index] == ",":
            index = _skip(text, index + 1)
    return _positions(text, offsets)


def _positions(text: str, offsets: list[tuple[int, int]]) -> list[tuple[Position, Position]]:
    # Lines end at CRLF, CR or LF. Rewriting CRLF as " \n" and CR as "\n" keeps
    # every offset, so counting "\n" is enough. The position reported is the one
    # just after the brace (start + 1, end), as the AWS CLI example shows.
    flat = text.replace("\r\n", " \n").replace("\r", "\n") if "\r" in text else text
    line, line_start, seen = 1, 0, 0
    out: list[Position] = []
    for offset in (o for pair in offsets for o in (pair[0] + 1, pair[1])):
        line += flat.count("\n", seen, offset)
        newline = flat.rfind("\n", seen, offset)
        if newline >= 0:
            line_start = newline + 1
        seen = offset
        out.append(Position(line, offset - line_start + 1))
    return list(zip(out[::2], out[1::2], strict=True))
