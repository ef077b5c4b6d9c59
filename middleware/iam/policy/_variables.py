"""Policy variables: ``${aws:username}``, ``${aws:PrincipalTag/team, 'none'}``, ``${*}``.

Rules (reference_policies_variables):

* Variables are replaced only in policies with ``"Version": "2012-10-17"``; otherwise (no Version,
  or 2008-10-17) ``${...}`` is literal text. They appear in ``Resource``/``NotResource`` and in the
  values of String, ARN and Bool conditions (the caller decides where; this module only parses and
  resolves).
* The key name is case-insensitive and read from the request context, which also holds the
  principal's keys (``aws:username``, ``aws:userid``, ``aws:PrincipalTag/...``). Only single-valued
  keys can be substituted: a multivalued context value does not resolve.
* ``${key, 'default'}`` gives a value to use when the key is absent.
* ``${*}``, ``${?}`` and ``${$}`` stand for a literal ``*``, ``?`` and ``$``.
* A substituted value is literal: a ``*`` inside a tag value is not a wildcard. Substitution
  therefore produces parts, not a string: policy text (whose ``*``/``?`` stay wildcards) and
  :class:`Literal` text, which :func:`as_tokens` turns into literal tokens for the matcher.
* A variable with no value and no default makes the value match nothing; the caller treats the whole
  value as absent and reports the key as missing.

A malformed variable (``${`` without ``}``, an empty name, a default not in single quotes) raises
:class:`VariableSyntaxError`; the evaluator records it as an evaluation error (fail closed).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ._match import ARN_SEGMENTS, Matcher, Token, compile_arn, compile_glob, glob_tokens

__all__ = [
    "Literal",
    "Lookup",
    "Template",
    "Variable",
    "VariableSyntaxError",
    "as_text",
    "as_tokens",
    "has_variables",
    "literal_parts",
    "parse_template",
    "pattern_matcher",
    "split_arn_parts",
    "substitute",
]

_ESCAPES = {"*": "*", "?": "?", "$": "$"}


class VariableSyntaxError(ValueError):
    """A ``${...}`` that cannot be read as a policy variable."""


@dataclass(frozen=True, slots=True)
class Literal:
    """Text taken literally by the matcher: an escape or a substituted value."""

    text: str


@dataclass(frozen=True, slots=True)
class Variable:
    """``${key}`` or ``${key, 'default'}``."""

    key: str  # as written
    default: str | None = None


Part = str | Literal | Variable
Template = tuple[Part, ...]
Lookup = Callable[[str], "str | Sequence[str] | None"]
"""Reads a context value by key, case-insensitively; None when absent."""


def parse_template(text: str, *, variables: bool) -> Template:
    """Split policy text into text, escapes and variables (``variables=False``: all text)."""
    if not variables or "${" not in text:
        return (text,) if text else ()
    parts: list[Part] = []
    pos = 0
    while (start := text.find("${", pos)) >= 0:
        close = text.find("}", start + 2)
        if close < 0:
            raise VariableSyntaxError(f"policy variable without a closing brace in {text!r}")
        if start > pos:
            parts.append(text[pos:start])
        parts.append(_parse_variable(text[start + 2 : close], text))
        pos = close + 1
    if pos < len(text):
        parts.append(text[pos:])
    return tuple(parts)


def _parse_variable(body: str, text: str) -> Literal | Variable:
    if body in _ESCAPES:
        return Literal(_ESCAPES[body])
    name, comma, rest = body.partition(",")
    name = name.strip()
    if not name or any(char.isspace() or char in "${" for char in name):
        raise VariableSyntaxError(f"invalid policy variable ${{{body}}} in {text!r}")
    if not comma:
        return Variable(name)
    default = rest.strip()
    if len(default) < 2 or default[0] != "'" or default[-1] != "'":
        raise VariableSyntaxError(
            f"the default of ${{{body}}} must be in single quotes, e.g. ${{{name}, 'none'}}"
        )
    return Variable(name, default[1:-1])


def has_variables(template: Template) -> bool:
    """Whether resolving the template needs the request context."""
    return any(isinstance(part, Variable) for part in template)


def substitute(template: Template, lookup: Lookup) -> tuple[str | Literal, ...] | Variable:
    """Replace every variable by its value (a :class:`Literal`).

    Returns the first variable that has neither a single value nor a default instead.
    """
    resolved: list[str | Literal] = []
    for part in template:
        if isinstance(part, Variable):
            value = lookup(part.key)
            if not isinstance(value, str):
                if part.default is None:
                    return part
                value = part.default
            resolved.append(Literal(value))
        else:
            resolved.append(part)
    return tuple(resolved)


def literal_parts(template: Template) -> tuple[str | Literal, ...]:
    """A template known to hold no variables, as resolved parts."""
    parts = substitute(template, _absent)
    if isinstance(parts, Variable):
        raise ValueError(f"unexpected policy variable ${{{parts.key}}}")
    return parts


def _absent(key: str) -> None:
    return None


def as_text(parts: Sequence[str | Literal]) -> str:
    """The resolved value as a plain string (for ``StringEquals`` and friends)."""
    return "".join(part if isinstance(part, str) else part.text for part in parts)


def as_tokens(parts: Sequence[str | Literal]) -> tuple[Token, ...]:
    """The resolved value as a pattern: wildcards in policy text only."""
    tokens: list[Token] = []
    for part in parts:
        if isinstance(part, str):
            tokens.extend(glob_tokens(part))
        elif part.text:
            tokens.append(part.text)
    return tuple(tokens)


def pattern_matcher(parts: Sequence[str | Literal], *, arn: bool) -> Matcher:
    """Compile resolved parts into a matcher; ``arn`` matches segment by segment.

    An ARN pattern without five colons in its policy text (``"*"``) matches the whole value.
    """
    segments = split_arn_parts(parts) if arn else None
    if segments is None:
        return compile_glob(as_tokens(parts))
    return compile_arn([as_tokens(segment) for segment in segments])


def split_arn_parts(
    parts: Sequence[str | Literal],
) -> list[tuple[str | Literal, ...]] | None:
    """Split resolved parts at the first five colons of the *policy text* (never in a value).

    None when the policy text has fewer than five colons (not an ARN pattern).
    """
    segments: list[list[str | Literal]] = [[]]
    for part in parts:
        if not isinstance(part, str) or len(segments) == ARN_SEGMENTS:
            segments[-1].append(part)
            continue
        pieces = part.split(":", ARN_SEGMENTS - len(segments))
        segments[-1].append(pieces[0])
        for piece in pieces[1:]:
            segments.append([piece])
    if len(segments) != ARN_SEGMENTS:
        return None
    return [tuple(p for p in segment if p != "") for segment in segments]
