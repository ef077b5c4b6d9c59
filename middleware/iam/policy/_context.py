"""Context entries for simulation: the AWS CLI's shorthand and JSON forms.

``aws iam simulate-custom-policy --context-entries`` takes a list of
``ContextEntry`` structures (botocore ``iam/2010-05-08``: ``ContextKeyName``,
``ContextKeyValues``, ``ContextKeyType``), written either as JSON or in the
CLI's shorthand, one entry per shell word::

    ContextKeyName=aws:SourceIp,ContextKeyValues=203.0.113.7,ContextKeyType=ip
    ContextKeyName=aws:TagKeys,ContextKeyValues=a,b,ContextKeyType=stringList
    '[{"ContextKeyName": "aws:username", "ContextKeyValues": ["bob"], "ContextKeyType": "string"}]'

The shorthand rules follow the AWS CLI's documented syntax: ``key=value``
pairs separated by commas; after ``ContextKeyValues=`` further comma-separated
words belong to the list until a word followed by ``=`` starts the next pair;
``[a,b]`` is an explicit list; values may be single- or double-quoted; ``\\,``
is a literal comma. :func:`parse_context_entries` returns typed
:class:`ContextEntry` objects (each value checked against its type) and
:func:`context_mapping` turns them into the mapping
:func:`~sigv4kit.middleware.iam.policy.evaluate` reads: list types become
multivalued keys (tuples), the others single values.

Raises :class:`ContextEntryError` (a ``ValueError``) with a message naming the
entry and the problem.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from sigv4kit import SigV4Error

__all__ = [
    "ContextEntry",
    "ContextEntryError",
    "ContextKeyType",
    "context_mapping",
    "parse_context_entries",
]

NAME, VALUES, TYPE = "ContextKeyName", "ContextKeyValues", "ContextKeyType"
_KEY_CHARS = re.compile(r"[A-Za-z0-9_.#/:\-]+")
# A bare value starts with anything but a quote, bracket, brace, '=', ',' or space;
# it runs to the next unescaped ',' (and, after the first value of a list, '=').
_BARE_START = set("'\"[{=,") | set(" \t\r\n")
_FIRST_STOP = set(",'\"]}")
_NEXT_STOP = set(",'\"=")


class ContextEntryError(SigV4Error, ValueError):
    """A context entry could not be read; the message says which and why."""


class ContextKeyType(StrEnum):
    """The value types of a context entry (botocore ``ContextKeyTypeEnum``)."""

    STRING = "string"
    STRING_LIST = "stringList"
    NUMERIC = "numeric"
    NUMERIC_LIST = "numericList"
    BOOLEAN = "boolean"
    BOOLEAN_LIST = "booleanList"
    IP = "ip"
    IP_LIST = "ipList"
    BINARY = "binary"
    BINARY_LIST = "binaryList"
    DATE = "date"
    DATE_LIST = "dateList"

    @property
    def is_list(self) -> bool:
        """Whether the key is multivalued."""
        return self.value.endswith("List")


@dataclass(frozen=True, slots=True, kw_only=True)
class ContextEntry:
    """One condition context key with its value(s) for a simulation."""

    key: str
    values: tuple[str, ...]
    type: ContextKeyType

    def to_aws(self) -> dict[str, object]:
        """The entry as IAM's ``ContextEntry`` structure."""
        return {NAME: self.key, VALUES: list(self.values), TYPE: self.type.value}


def parse_context_entries(text: str | Sequence[str]) -> tuple[ContextEntry, ...]:
    """Read context entries written as the AWS CLI takes them.

    ``text`` is either one string (a JSON list or object, or shorthand entries
    separated by whitespace) or a sequence of shell words, each one entry in
    shorthand or JSON, exactly as ``--context-entries`` receives them.

    Raises:
        ContextEntryError: malformed syntax, an unknown or missing member, an
            unknown type, a value that does not fit its type, or a key given twice.
    """
    words = _split_entries(text) if isinstance(text, str) else list(text)
    entries: list[ContextEntry] = []
    for number, word in enumerate(words, start=1):
        for raw in _read_word(word, number):
            entries.append(_typed_entry(raw, number))
    _refuse_duplicates(entries)
    return tuple(entries)


def context_mapping(entries: Sequence[ContextEntry]) -> dict[str, str | tuple[str, ...]]:
    """The request context for :func:`evaluate`: list types are multivalued."""
    return {e.key: e.values if e.type.is_list else e.values[0] for e in entries}


# --- splitting a text into entries -------------------------------------------------


def _split_entries(text: str) -> list[str]:
    """Split on whitespace outside quotes, keeping ``k = v , w`` spacing inside one entry."""
    stripped = text.strip()
    if not stripped:
        raise ContextEntryError("no context entries given")
    if stripped[0] in "[{":
        return [stripped]
    words: list[str] = []
    current: list[str] = []
    quote = ""
    for index, char in enumerate(stripped):
        if quote:
            current.append(char)
            if char == quote and stripped[index - 1] != "\\":
                quote = ""
        elif char in "'\"":
            quote = char
            current.append(char)
        elif char.isspace() and not _joins(stripped, index, current):
            if current:
                words.append("".join(current))
                current = []
        else:
            current.append(char)
    if quote:
        raise ContextEntryError(f"unterminated {quote} quote in context entries")
    words.append("".join(current))
    return [w for w in words if w]


def _joins(text: str, index: int, current: list[str]) -> bool:
    before = "".join(current).rstrip()
    after = text[index:].lstrip()
    return bool(before) and (before[-1] in ",=" or after[:1] in (",", "="))


# --- one word: JSON or shorthand ----------------------------------------------------


def _read_word(word: str, number: int) -> Iterator[Mapping[str, object]]:
    stripped = word.strip()
    if stripped[:1] in ("[", "{"):
        yield from _read_json(stripped, number)
    else:
        yield _Shorthand(word, number).parse()


def _read_json(text: str, number: int) -> Iterator[Mapping[str, object]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ContextEntryError(
            f"context entry {number}: invalid JSON: {exc.msg} at position {exc.pos}"
        ) from None
    items = data if isinstance(data, list) else [data]
    for item in items:
        if not isinstance(item, dict):
            raise ContextEntryError(
                f"context entry {number}: expected a JSON object, got {type(item).__name__}"
            )
        yield item


class _Shorthand:
    """A small recursive-descent reader of one shorthand structure ``k=v,k=v``."""

    def __init__(self, text: str, number: int) -> None:
        self.text = text
        self.pos = 0
        self.number = number

    def error(self, problem: str) -> ContextEntryError:
        return ContextEntryError(
            f"context entry {self.number}: {problem} at column {self.pos + 1} of {self.text!r}"
        )

    def parse(self) -> dict[str, object]:
        members: dict[str, object] = {}
        while True:
            key, value = self._pair()
            if key in members:
                raise self.error(f"{key} given twice (use a space, not a comma, between entries)")
            members[key] = value
            self._skip_space()
            if self._at_end():
                return members
            self._expect(",")

    def _pair(self) -> tuple[str, object]:
        self._skip_space()
        match = _KEY_CHARS.match(self.text, self.pos)
        if match is None:
            raise self.error("expected a member name such as ContextKeyName")
        self.pos = match.end()
        self._skip_space()
        self._expect("=")
        self._skip_space()
        return match.group(), self._values()

    def _values(self) -> object:
        if self._at_end():
            return ""
        if self.text[self.pos] == "[":
            return self._explicit_list()
        if self.text[self.pos] == "{":
            raise self.error("nested structures are not part of a context entry")
        first = self._value(_FIRST_STOP)
        items = [first]
        while True:
            mark = self.pos
            self._skip_space()
            if self._at_end() or self.text[self.pos] != ",":
                self.pos = mark
                break
            self.pos += 1
            self._skip_space()
            if self._at_end() or self._starts_pair():
                self.pos = mark
                break
            items.append(self._value(_NEXT_STOP))
        return items if len(items) > 1 else first

    def _starts_pair(self) -> bool:
        match = _KEY_CHARS.match(self.text, self.pos)
        if match is None:
            return False
        rest = self.text[match.end() :].lstrip()
        return rest.startswith("=")

    def _explicit_list(self) -> list[str]:
        self._expect("[")
        items: list[str] = []
        self._skip_space()
        while not self._at_end() and self.text[self.pos] != "]":
            items.append(self._value(_FIRST_STOP))
            self._skip_space()
            if not self._at_end() and self.text[self.pos] != "]":
                self._expect(",")
                self._skip_space()
        self._expect("]")
        return items

    def _value(self, stops: set[str]) -> str:
        if self._at_end():
            return ""
        char = self.text[self.pos]
        if char in "'\"":
            return self._quoted(char)
        if char in _BARE_START:
            return ""
        out = [char]
        self.pos += 1
        if char == "\\" and self.text.startswith(",", self.pos):
            out[0] = ","
            self.pos += 1
        while not self._at_end():
            char = self.text[self.pos]
            if char == "\\" and self.text.startswith(",", self.pos + 1):
                out.append(",")
                self.pos += 2
                continue
            if char in stops:
                break
            out.append(char)
            self.pos += 1
        return "".join(out).rstrip()

    def _quoted(self, quote: str) -> str:
        out: list[str] = []
        self.pos += 1
        while not self._at_end():
            char = self.text[self.pos]
            if char == "\\" and self.text.startswith((quote, "\\"), self.pos + 1):
                out.append(self.text[self.pos + 1])
                self.pos += 2
                continue
            if char == quote:
                self.pos += 1
                return "".join(out)
            out.append(char)
            self.pos += 1
        raise self.error(f"unterminated {quote} quote")

    def _expect(self, char: str) -> None:
        if self._at_end() or self.text[self.pos] != char:
            found = "end of input" if self._at_end() else repr(self.text[self.pos])
            raise self.error(f"expected {char!r}, found {found}")
        self.pos += 1

    def _skip_space(self) -> None:
        while not self._at_end() and self.text[self.pos].isspace():
            self.pos += 1

    def _at_end(self) -> bool:
        return self.pos >= len(self.text)


# --- members to a typed entry -------------------------------------------------------


def _typed_entry(raw: Mapping[str, object], number: int) -> ContextEntry:
    unknown = sorted(set(raw) - {NAME, VALUES, TYPE})
    if unknown:
        raise ContextEntryError(
            f"context entry {number}: unknown member {unknown[0]!r} "
            f"(valid: {NAME}, {VALUES}, {TYPE})"
        )
    for member in (NAME, VALUES, TYPE):
        if member not in raw:
            raise ContextEntryError(f"context entry {number}: {member} is required")
    name, type_name, values = raw[NAME], raw[TYPE], raw[VALUES]
    if not isinstance(name, str) or not name:
        raise ContextEntryError(f"context entry {number}: {NAME} must be one non-empty string")
    if not isinstance(type_name, str) or type_name not in {t.value for t in ContextKeyType}:
        allowed = "|".join(t.value for t in ContextKeyType)
        raise ContextEntryError(
            f"context entry {number} ({name}): {TYPE} must be one of {allowed}, not {type_name!r}"
        )
    key_type = ContextKeyType(type_name)
    items = [values] if isinstance(values, str) else values
    if not isinstance(items, list) or not all(isinstance(v, str) for v in items):
        raise ContextEntryError(
            f"context entry {number} ({name}): {VALUES} must be a string or a list of strings"
        )
    if not key_type.is_list and len(items) != 1:
        raise ContextEntryError(
            f"context entry {number} ({name}): type {key_type.value} takes exactly one value, "
            f"got {len(items)}; use {key_type.value}List for several"
        )
    check = _CHECKS[key_type.value.removesuffix("List")]
    try:
        typed = tuple(check(value) for value in items)
    except ValueError as exc:
        raise ContextEntryError(f"context entry {number} ({name}): {exc}") from None
    return ContextEntry(key=name, values=typed, type=key_type)


def _refuse_duplicates(entries: list[ContextEntry]) -> None:
    seen: dict[str, str] = {}
    for entry in entries:
        folded = entry.key.lower()  # condition key names are not case-sensitive
        if folded in seen:
            raise ContextEntryError(
                f"context key {entry.key!r} given twice (also as {seen[folded]!r})"
            )
        seen[folded] = entry.key


def _string(value: str) -> str:
    return value


def _numeric(value: str) -> str:
    try:
        number = Decimal(value.strip())
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a number") from None
    if not number.is_finite():
        raise ValueError(f"{value!r} is not a finite number")
    return value.strip()


def _boolean(value: str) -> str:
    folded = value.strip().lower()
    if folded not in ("true", "false"):
        raise ValueError(f"{value!r} is not true or false")
    return folded


def _ip(value: str) -> str:
    try:
        ipaddress.ip_network(value.strip(), strict=False)
    except ValueError:
        raise ValueError(f"{value!r} is not an IP address or CIDR range") from None
    return value.strip()


def _binary(value: str) -> str:
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"{value!r} is not base64") from None
    return value


def _date(value: str) -> str:
    text = value.strip()
    if re.fullmatch(r"-?\d+", text):
        return text  # epoch seconds
    try:
        datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError(f"{value!r} is not an ISO 8601 date or epoch seconds") from None
    return text


_CHECKS: dict[str, Callable[[str], str]] = {
    "string": _string,
    "numeric": _numeric,
    "boolean": _boolean,
    "ip": _ip,
    "binary": _binary,
    "date": _date,
}
