"""Wildcard matching for IAM policies: ``*`` and ``?`` without regular expressions.

IAM patterns (actions, resources, ``StringLike``, ``ArnLike``) know two wildcards: ``*`` (any run of
characters, including none) and ``?`` (exactly one character). Building a regular expression from
policy text invites ReDoS and escaping bugs (``.`` and ``+`` in ARNs), so patterns are compiled into
*pieces*: the literal runs between the ``*``. The first piece is anchored at the start, the last at
the end, and every middle piece is found at its leftmost position: for patterns whose only
variable-length wildcard is ``*``, leftmost-first placement is always correct, so there is no
backtracking and a match costs at most O(len(text) x len(pattern)), with ``str.find`` doing most of
the work.

A pattern is a sequence of tokens: literal strings and :class:`Wildcard` markers.
:func:`glob_tokens` reads policy text (every ``*``/``?`` is a wildcard); policy variables produce
literal tokens for substituted values, so a ``*`` inside a tag value stays a ``*`` (see
``_variables``).

Case: the matcher compares code points exactly. Callers lower-case both sides for actions, which IAM
matches case-insensitively ("iam:ListAccessKeys is the same as IAM:listaccesskeys",
reference_policies_elements_action). Resource ARNs and ``ArnLike`` are case-sensitive.

ARNs (``arn:partition:service:region:account-id:resource``) are matched segment by segment: the
first five colons delimit segments, so a wildcard cannot run across them, while the resource part
may itself contain colons and slashes, and a ``*`` there spans both
(reference_policies_elements_resource, and the ``ArnLike`` example of
reference_policies_elements_condition_operators).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import Enum

__all__ = [
    "ARN_SEGMENTS",
    "Matcher",
    "Token",
    "Wildcard",
    "arn_like",
    "compile_arn",
    "compile_arn_pattern",
    "compile_glob",
    "compile_pattern",
    "glob_tokens",
    "split_arn",
    "wildcard_match",
]

ARN_SEGMENTS = 6
"""``arn``, partition, service, region, account id, resource (which may contain colons)."""


class Wildcard(Enum):
    """A wildcard token in a compiled pattern."""

    STAR = "*"
    ANY_CHAR = "?"


Token = str | Wildcard
"""A literal run of characters or a wildcard."""

Matcher = Callable[[str], bool]


def glob_tokens(text: str) -> tuple[Token, ...]:
    """Read policy text as a pattern: every ``*`` and ``?`` is a wildcard."""
    tokens: list[Token] = []
    start = 0
    for index, char in enumerate(text):
        if char in "*?":
            if index > start:
                tokens.append(text[start:index])
            tokens.append(Wildcard.STAR if char == "*" else Wildcard.ANY_CHAR)
            start = index + 1
    if start < len(text):
        tokens.append(text[start:])
    return tuple(tokens)


@dataclass(frozen=True, slots=True)
class _Piece:
    """A run between two ``*``: literal chunks at fixed offsets, ``?`` in the gaps."""

    length: int
    chunks: tuple[tuple[int, str], ...]
    literal: str | None  # the whole piece when it holds no ``?``

    def at(self, text: str, pos: int) -> bool:
        if pos < 0 or pos + self.length > len(text):
            return False
        if self.literal is not None:
            return text.startswith(self.literal, pos)
        return all(text.startswith(chunk, pos + offset) for offset, chunk in self.chunks)

    def find(self, text: str, start: int, end: int) -> int:
        """The leftmost position p in [start, end - length] where the piece matches, or -1."""
        last = end - self.length
        if self.literal is not None:
            return text.find(self.literal, start, end)
        if not self.chunks:  # only ``?``: any position that leaves room
            return start if start <= last else -1
        offset, first = self.chunks[0]
        pos = start
        while pos <= last:
            hit = text.find(first, pos + offset, last + offset + len(first))
            if hit < 0:
                return -1
            candidate = hit - offset
            if self.at(text, candidate):
                return candidate
            pos = candidate + 1
        return -1


def _piece(tokens: Sequence[Token]) -> _Piece:
    chunks: list[tuple[int, str]] = []
    offset = 0
    for token in tokens:
        if token is Wildcard.ANY_CHAR:
            offset += 1
        elif isinstance(token, str) and token:
            if chunks and chunks[-1][0] + len(chunks[-1][1]) == offset:
                chunks[-1] = (chunks[-1][0], chunks[-1][1] + token)
            else:
                chunks.append((offset, token))
            offset += len(token)
    literal: str | None = None
    if offset == 0:
        literal = ""
    elif len(chunks) == 1 and chunks[0][0] == 0 and len(chunks[0][1]) == offset:
        literal = chunks[0][1]
    return _Piece(length=offset, chunks=tuple(chunks), literal=literal)


def _pieces(tokens: Iterable[Token]) -> list[_Piece]:
    """Split at every ``*`` (runs of ``*`` collapse)."""
    groups: list[list[Token]] = [[]]
    for token in tokens:
        if token is Wildcard.STAR:
            groups.append([])
        else:
            groups[-1].append(token)
    return [_piece(group) for group in groups]


def compile_glob(tokens: Iterable[Token]) -> Matcher:
    """Compile a token sequence into a function ``text -> bool`` (whole-text match)."""
    pieces = _pieces(tokens)
    if len(pieces) == 1:
        return _exact_matcher(pieces[0])
    head, middle, tail = pieces[0], pieces[1:-1], pieces[-1]
    if not middle and head.literal is not None and tail.literal is not None:
        return _affix_matcher(head.literal, tail.literal)
    return _general_matcher(head, tuple(middle), tail)


def _exact_matcher(piece: _Piece) -> Matcher:
    if piece.literal is not None:
        return piece.literal.__eq__
    return lambda text: len(text) == piece.length and piece.at(text, 0)


def _affix_matcher(prefix: str, suffix: str) -> Matcher:
    """``prefix*suffix``: the commonest shapes (``*``, ``s3:Get*``, ``*.txt``) in one step."""
    if not suffix:
        if not prefix:
            return lambda text: True
        return lambda text: text.startswith(prefix)
    minimum = len(prefix) + len(suffix)
    return lambda text: (
        len(text) >= minimum and text.startswith(prefix) and text.endswith(suffix)
    )


def _general_matcher(head: _Piece, middle: tuple[_Piece, ...], tail: _Piece) -> Matcher:
    minimum = head.length + tail.length + sum(piece.length for piece in middle)

    def match(text: str) -> bool:
        size = len(text)
        if size < minimum or not head.at(text, 0):
            return False
        end = size - tail.length
        if not tail.at(text, end):
            return False
        pos = head.length
        for piece in middle:
            found = piece.find(text, pos, end)
            if found < 0:
                return False
            pos = found + piece.length
        return True

    return match


def compile_pattern(pattern: str, *, ignore_case: bool = False) -> Matcher:
    """Compile policy text (``*`` and ``?`` are wildcards).

    With ``ignore_case`` the pattern is lower-cased and the returned matcher lower-cases its
    argument; callers matching many patterns against one text should lower-case once themselves.
    """
    if not ignore_case:
        return compile_glob(glob_tokens(pattern))
    matcher = compile_glob(glob_tokens(pattern.lower()))
    return lambda text: matcher(text.lower())


def wildcard_match(pattern: str, text: str) -> bool:
    """Whether ``text`` matches ``pattern`` exactly, ``*`` and ``?`` being wildcards."""
    return compile_glob(glob_tokens(pattern))(text)


def split_arn(text: str) -> list[str] | None:
    """The six segments of an ARN, or None when ``text`` has fewer than five colons."""
    segments = text.split(":", ARN_SEGMENTS - 1)
    return segments if len(segments) == ARN_SEGMENTS else None


def compile_arn(segments: Sequence[Iterable[Token]]) -> Matcher:
    """Match an ARN segment by segment; ``segments`` holds six token sequences."""
    heads = [tuple(tokens) for tokens in segments]
    if all(all(isinstance(token, str) for token in tokens) for tokens in heads[:-1]):
        # The usual shape (``arn:aws:s3:::bucket/*``): the first five segments are literal, and a
        # literal prefix holding exactly five colons pins them all, so only the resource part
        # needs the glob.
        prefix = ":".join("".join(tokens) for tokens in heads[:-1]) + ":"  # type: ignore[arg-type]
        if prefix.count(":") == ARN_SEGMENTS - 1:
            rest = compile_glob(heads[-1])
            start = len(prefix)
            return lambda value: value.startswith(prefix) and rest(value[start:])
    # Wildcards in the first five segments (``arn:aws:orders:*:123456789012:order/*``): the
    # leading literal segments are one prefix check, a segment that is only ``*`` (which
    # matches any colon-free text) needs no check, and the rest are matched one by one.
    fixed = 0
    while fixed < ARN_SEGMENTS - 1 and all(isinstance(token, str) for token in heads[fixed]):
        fixed += 1
    prefix = "".join("".join(tokens) + ":" for tokens in heads[:fixed])  # type: ignore[arg-type]
    start, count = len(prefix), ARN_SEGMENTS - fixed
    checks = tuple(
        (index - fixed, compile_glob(tokens))
        for index, tokens in enumerate(heads)
        if index >= fixed and not (tokens and all(token is Wildcard.STAR for token in tokens))
    )

    def match(value: str) -> bool:
        if not value.startswith(prefix):
            return False
        parts = value[start:].split(":", count - 1)
        if len(parts) != count:
            return False
        for index, matcher in checks:  # noqa: SIM110 - a plain loop: this runs per statement
            if not matcher(parts[index]):
                return False
        return True

    return match


def compile_arn_pattern(pattern: str) -> Matcher:
    """Compile an ARN pattern (a ``Resource`` entry or an ``ArnLike`` value).

    A pattern without five colons (``"*"`` above all) is matched against the whole value, so ``"*"``
    matches every resource, ARN or not.
    """
    segments = split_arn(pattern)
    if segments is None:
        return compile_glob(glob_tokens(pattern))
    return compile_arn([glob_tokens(segment) for segment in segments])


def arn_like(pattern: str, value: str) -> bool:
    """``ArnLike`` / ``ArnEquals``: six segments, each matched with ``*`` and ``?``."""
    return compile_arn_pattern(pattern)(value)
