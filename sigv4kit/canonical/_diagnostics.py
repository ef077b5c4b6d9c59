"""Diagnostics of canonical text, written once: redaction and the first differing line.

Every place that shows a canonical request, a string to sign or a header block to a
person (error messages, ``explain``, the CLI, the verifier's error bodies, logs) redacts
with :func:`redact_line` / :func:`redact_values` and compares with
:func:`first_line_diff`, so the marker and the line names cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "REDACTED",
    "LineDiff",
    "first_line_diff",
    "line_part",
    "redact_line",
    "redact_text",
    "redact_values",
    "same_line",
    "split_lines",
]

#: What a secret reads as wherever it would be shown (smithy-rs prints the same).
REDACTED = "** REDACTED **"

#: Header lines whose value is a credential.
_SECRET_HEADERS = frozenset({"x-amz-security-token", "authorization"})

_MISSING = "<missing>"


def redact_line(line: str) -> str:
    """``name:value`` with the value redacted when the header carries a credential."""
    name, colon, _ = line.partition(":")
    if colon and name.strip().lower() in _SECRET_HEADERS:
        return f"{name}:{REDACTED}"
    return line


def redact_text(text: str) -> str:
    """Every line of ``text`` through :func:`redact_line` (line breaks kept)."""
    return "\n".join(redact_line(line) for line in text.split("\n"))


def redact_values(text: str, values: Iterable[str | None]) -> str:
    """``text`` with every occurrence of each non-empty value replaced by :data:`REDACTED`."""
    for value in values:
        if value:
            text = text.replace(value, REDACTED)
    return text


def split_lines(text: str) -> list[str]:
    """The lines of ``text``, ``\\r\\n`` or ``\\n`` separated."""
    return text.replace("\r\n", "\n").split("\n")


def line_part(index: int, lines: list[str], *, string_to_sign: bool = False) -> str:
    """What line ``index`` (0-based) of a canonical request (or string to sign) holds."""
    if string_to_sign:
        return {0: "algorithm", 1: "request time", 2: "credential scope"}.get(
            index, "canonical request hash"
        )
    # method, URI, query, headers..., blank, signed headers, payload hash
    names = {0: "HTTP method", 1: "canonical URI", 2: "canonical query string"}
    if index in names:
        return names[index]
    if index == len(lines) - 1:
        return "payload hash"
    if index == len(lines) - 2:
        return "signed headers"
    return "canonical headers"


def same_line(server: str, ours: str) -> bool:
    """Equal lines, or the same header with a redacted value on either side."""
    if server == ours:
        return True
    # A redacted session token on either side hides the same value.
    name_s, _, value_s = server.partition(":")
    name_o, _, value_o = ours.partition(":")
    return name_s == name_o and REDACTED in (value_s, value_o)


@dataclass(frozen=True, slots=True, kw_only=True)
class LineDiff:
    """The first line where the service's text and ours differ (1-based ``line``).

    ``part`` names what the line holds ("canonical URI", "credential scope", ...);
    ``server`` and ``ours`` are the lines, redacted.
    """

    line: int
    part: str
    server: str
    ours: str


def first_line_diff(server: str, ours: str, *, string_to_sign: bool = False) -> LineDiff | None:
    """The first differing line of two canonical requests (or strings to sign), or None.

    Line breaks are normalized on both sides, a header redacted on either side matches
    any value, and the lines in the result are redacted.
    """
    theirs, mine = split_lines(server), split_lines(ours)
    for index in range(max(len(theirs), len(mine))):
        a = theirs[index] if index < len(theirs) else _MISSING
        b = mine[index] if index < len(mine) else _MISSING
        if not same_line(a, b):
            return LineDiff(
                line=index + 1,
                part=line_part(index, mine, string_to_sign=string_to_sign),
                server=redact_line(a),
                ours=redact_line(b),
            )
    return None
