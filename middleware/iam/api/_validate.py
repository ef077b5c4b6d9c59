"""Validation of Query request inputs against the model's constraints, in AWS's words.

``1 validation error detected: Value 'a b' at 'userName' failed to satisfy constraint:
Member must satisfy regular expression pattern: [\\w+=,.@-]+``
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

from ._shapes import QueryError, echo, sensitive

__all__ = ["validate_params"]


def validate_params(shape: Any, params: Mapping[str, Any]) -> None:
    """Check ``params`` against the constraints of ``shape`` as AWS does.

    Raises :class:`QueryError` (``ValidationError``) listing every violation in
    AWS's words: required members, lengths, ranges, patterns and enums.
    """
    if shape is None:
        return
    problems = list(_check_structure(shape, params, ""))
    if problems:
        count = len(problems)
        noun = "error" if count == 1 else "errors"
        raise QueryError(
            "ValidationError", f"{count} validation {noun} detected: " + "; ".join(problems)
        )

def _lower_camel(name: str) -> str:
    return name[:1].lower() + name[1:]


def _check_structure(shape: Any, value: Mapping[str, Any], path: str) -> Iterable[str]:
    for name, member in shape.members.items():
        member_path = f"{path}.{_lower_camel(name)}" if path else _lower_camel(name)
        if name not in value:
            if name in shape.required_members:
                yield f"Value null at '{member_path}' failed to satisfy constraint: " + (
                    "Member must not be null"
                )
            continue
        yield from _check(member, value[name], member_path)


def _check(shape: Any, value: Any, path: str) -> Iterable[str]:
    meta = shape.metadata
    kind = shape.type_name
    if kind == "structure":
        yield from _check_structure(shape, value, path)
        return
    if kind == "list":
        yield from _check_length(shape, value, path, len(value))
        for number, item in enumerate(value, 1):
            yield from _check(shape.member, item, f"{path}.{number}.member")
        return
    if kind == "map":
        yield from _check_length(shape, value, path, len(value))
        for map_key, item in value.items():
            yield from _check(shape.key, map_key, f"{path}.{map_key}.key")
            yield from _check(shape.value, item, f"{path}.{map_key}.value")
        return
    if kind == "string":
        yield from _check_length(shape, value, path, len(value))
        pattern = meta.get("pattern")
        if pattern is not None and not _compiled(pattern).fullmatch(value):
            yield _violation(shape, value, path, f"satisfy regular expression pattern: {pattern}")
        enum = shape.enum
        if enum and value not in enum:
            yield _violation(shape, value, path, f"satisfy enum value set: [{', '.join(enum)}]")
        return
    if kind in ("integer", "long", "float", "double"):
        if "min" in meta and value < meta["min"]:
            rule = f"have value greater than or equal to {meta['min']}"
            yield _violation(shape, value, path, rule)
        if "max" in meta and value > meta["max"]:
            rule = f"have value less than or equal to {meta['max']}"
            yield _violation(shape, value, path, rule)


def _check_length(shape: Any, value: Any, path: str, length: int) -> Iterable[str]:
    meta = shape.metadata
    if "min" in meta and length < meta["min"]:
        yield _violation(shape, value, path, f"have length greater than or equal to {meta['min']}")
    if "max" in meta and length > meta["max"]:
        yield _violation(shape, value, path, f"have length less than or equal to {meta['max']}")


def _violation(shape: Any, value: Any, path: str, rule: str) -> str:
    if sensitive(shape):
        return f"Value at '{path}' failed to satisfy constraint: Member must {rule}"
    shown = value if isinstance(value, str) else str(value)
    if isinstance(value, list | dict):
        shown = f"{len(value)} items"
    return f"Value '{echo(shown)}' at '{path}' failed to satisfy constraint: Member must {rule}"


class _UnicodeClass:
    """A Java ``[...]`` class with ``\\p{L}``-style categories, then ``*`` or ``+``.

    Python's ``re`` has no Unicode property classes; IAM's and STS's tag patterns
    (``[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+``) are all of this one form.
    """

    _FORM = re.compile(r"\[((?:\\p\{[A-Z]\})+)((?:[^\]\\]|\\.)*)\]([*+])")

    def __init__(self, pattern: str) -> None:
        form = self._FORM.fullmatch(pattern)
        if form is None:
            raise ValueError(f"unsupported pattern in the service model: {pattern}")
        self._categories = tuple(re.findall(r"\\p\{([A-Z])\}", form[1]))
        self._chars = frozenset(re.sub(r"\\(.)", r"\1", form[2]))
        self._empty_ok = form[3] == "*"

    def fullmatch(self, value: str) -> bool:
        if not value:
            return self._empty_ok
        return all(
            char in self._chars or unicodedata.category(char).startswith(self._categories)
            for char in value
        )


@functools.cache
def _compiled(pattern: str) -> re.Pattern[str] | _UnicodeClass:
    # The model's patterns are Java regular expressions from botocore's data (not
    # from requests); apart from the Unicode classes above, the ones IAM and STS
    # use mean the same in Python.
    if "\\p{" in pattern:
        return _UnicodeClass(pattern)
    # Java's \w and \d are ASCII-only, as re.ASCII makes them.
    return re.compile(pattern, re.DOTALL | re.ASCII)
