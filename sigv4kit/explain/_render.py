"""Rendering an :class:`Explanation` for a terminal: the findings, then the two sides
line by line with the first difference marked."""

from __future__ import annotations

import difflib

from ..canonical._diagnostics import (
    REDACTED,
    LineDiff,
    redact_line,
    split_lines,
)
from ._model import Explanation

__all__ = ["render_explanation"]


def _side_by_side(title: str, server: str, ours: str, diff: LineDiff | None, colour: bool) -> str:
    """Both texts aligned (difflib): common lines once, differing ones as a pair."""
    out = [f"{title} (service | ours):"]
    theirs = [redact_line(line) for line in split_lines(server)]
    mine = [redact_line(line) for line in split_lines(ours)]
    # Compare with redacted token values equal, so they do not show as differences.
    a_keys = [REDACTED if REDACTED in line else line for line in theirs]
    b_keys = [REDACTED if REDACTED in line else line for line in mine]
    first = True

    def paint(text: str) -> str:
        return f"\x1b[31m{text}\x1b[0m" if colour else text

    matcher = difflib.SequenceMatcher(a=a_keys, b=b_keys, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            out += [f"  {line}" for line in theirs[i1:i2]]
            continue
        mark = "> " if first and diff is not None else "~ "
        first = False
        out += [paint(f"{mark}{line}") for line in theirs[i1:i2]]
        out += [paint(f"{mark}{line}   <- ours") for line in mine[j1:j2]]
    return "\n".join(out)


def render_explanation(exp: Explanation, *, colour: bool = False) -> str:
    """Human-readable text of an :class:`Explanation`."""
    out = [f"{exp.code}: {exp.message.splitlines()[0] if exp.message else ''}".rstrip()]
    for title, server, ours, diff in (
        ("Canonical request", exp.server_canonical_request, exp.our_canonical_request,
         exp.canonical_diff),
        ("String to sign", exp.server_string_to_sign, exp.our_string_to_sign,
         exp.string_to_sign_diff),
    ):
        if server is None:
            continue
        out.append("")
        if ours is None:
            out.append(f"{title} (service):")
            out += [f"  {redact_line(line)}" for line in split_lines(server)]
        else:
            out.append(_side_by_side(title, server, ours, diff, colour))
    for label, d in (("canonical request", exp.canonical_diff),
                     ("string to sign", exp.string_to_sign_diff)):
        if d is not None:
            out.append("")
            out.append(
                f"First difference in the {label}: line {d.line} ({d.part})\n"
                f"  service: {d.server!r}\n  ours:    {d.ours!r}"
            )
    out.append("")
    out.append("Likely cause:" if len(exp.findings) == 1 else "Likely causes:")
    out += [f"  - {f.text}" for f in exp.findings]
    return "\n".join(out) + "\n"
