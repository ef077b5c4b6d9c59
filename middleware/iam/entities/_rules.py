"""IAM's name, path, tag and paging rules, unique ids and ARNs: pure functions.

Constraints are botocore's IAM model (``iam/2010-05-08/service-2.json``
shapes ``userNameType``/``existingUserNameType`` ``[\\w+=,.@-]+`` 1-64,
``roleNameType`` 1-64, ``groupNameType`` 1-128, ``policyNameType`` 1-128,
``pathType`` ``(\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)`` 1-512,
``pathPrefixType`` 1-512, ``maxItemsType`` 1-1000, ``markerType``
``[\\u0020-\\u00FF]+`` 1-320, ``tagKeyType`` 1-128, ``tagValueType`` 0-256,
``tagListType`` max 50, ``roleMaxSessionDurationType`` 3600-43200,
``roleDescriptionType`` max 1000, ``policyDescriptionType`` max 1000,
``policyVersionIdType`` ``v[1-9][0-9]*(\\.[A-Za-z0-9-]*)?``) and the IAM User
Guide (reference_iam-quotas.md: names are unique case-insensitively, 2 access
keys per user, 10 managed policies per user/group/role, 5 versions, 50 tags).

``ValidationError`` messages follow AWS's validation text ("1 validation error
detected: Value 'x' at 'userName' failed to satisfy constraint: Member must
satisfy regular expression pattern: [\\w+=,.@-]+").

Imports: the standard library and :mod:`._errors`.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from ._errors import InvalidInput, LimitExceeded, ValidationError
from ._model import Tag

__all__ = [
    "DEFAULT_MAX_ITEMS",
    "MAX_ACCESS_KEYS_PER_USER",
    "MAX_ATTACHED_POLICIES",
    "MAX_POLICY_VERSIONS",
    "MAX_TAGS",
    "Random",
    "arn",
    "check_description",
    "check_document",
    "check_max_items",
    "check_max_session_duration",
    "check_name",
    "check_path",
    "check_path_prefix",
    "check_tag_keys",
    "check_tag_total",
    "check_tags",
    "check_version_id",
    "decode_marker",
    "encode_marker",
    "merged_tag_count",
    "new_account_id",
    "new_unique_id",
    "parse_policy_arn",
]

#: ``random(n) -> n bytes``: the injected randomness source (``secrets.token_bytes``).
Random = Callable[[int], bytes]

DEFAULT_MAX_ITEMS = (
    100  # IAM: "If you do not include this parameter, the number ... defaults to 100"
)
MAX_ACCESS_KEYS_PER_USER = 2
MAX_ATTACHED_POLICIES = (
    10  # "Managed policies attached to an IAM user/role/group": 10 (default quota)
)
MAX_POLICY_VERSIONS = 5
MAX_TAGS = 50

_NAME_PATTERN = r"[\w+=,.@-]+"
_NAME_RE = re.compile(_NAME_PATTERN, re.ASCII)
_PATH_PATTERN = r"(\u002F)|(\u002F[\u0021-\u007E]+\u002F)"
_PATH_RE = re.compile(r"/|/[\x21-\x7e]+/")
_PREFIX_RE = re.compile(r"/[\x21-\x7e]*")
_VERSION_RE = re.compile(r"v[1-9][0-9]*(\.[A-Za-z0-9-]*)?")
_TAG_EXTRA = frozenset("_.:/=+-@")

#: Maximum name length per kind and the parameter name AWS reports.
_NAME_LIMITS = {"user": 64, "role": 64, "group": 128, "policy": 128}

_BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def _invalid(value: object, member: str, constraint: str) -> ValidationError:
    return ValidationError(
        f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy "
        f"constraint: {constraint}"
    )


def _check_length(value: str, member: str, low: int, high: int) -> None:
    if len(value) < low:
        raise _invalid(value, member, f"Member must have length greater than or equal to {low}")
    if len(value) > high:
        raise _invalid(value, member, f"Member must have length less than or equal to {high}")


def check_name(value: object, kind: str, member: str) -> str:
    """A user/role (1-64), group or policy (1-128) name: ``[\\w+=,.@-]+``."""
    if not isinstance(value, str):
        raise _invalid(value, member, "Member must not be null")
    _check_length(value, member, 1, _NAME_LIMITS[kind])
    if not _NAME_RE.fullmatch(value):
        raise _invalid(
            value, member, f"Member must satisfy regular expression pattern: {_NAME_PATTERN}"
        )
    return value


def check_path(value: object, member: str = "path") -> str:
    """``/`` or ``/a/b/``: 1-512 characters, ``!`` to ``~`` between the slashes."""
    if not isinstance(value, str):
        raise _invalid(value, member, "Member must not be null")
    _check_length(value, member, 1, 512)
    if not _PATH_RE.fullmatch(value):
        raise _invalid(
            value, member, f"Member must satisfy regular expression pattern: {_PATH_PATTERN}"
        )
    return value


def check_path_prefix(value: str | None) -> str:
    """A listing's ``PathPrefix`` (default ``/``): starts with ``/``, 1-512 characters."""
    if value is None:
        return "/"
    _check_length(value, "pathPrefix", 1, 512)
    if not _PREFIX_RE.fullmatch(value):
        raise _invalid(
            value,
            "pathPrefix",
            r"Member must satisfy regular expression pattern: \u002F[\u0021-\u007F]*",
        )
    return value


def check_max_items(value: int | None) -> int:
    """``MaxItems``: 1-1000, default 100."""
    if value is None:
        return DEFAULT_MAX_ITEMS
    if isinstance(value, bool) or not isinstance(value, int):
        raise _invalid(value, "maxItems", "Member must be an integer")
    if value < 1:
        raise _invalid(value, "maxItems", "Member must have value greater than or equal to 1")
    if value > 1000:
        raise _invalid(value, "maxItems", "Member must have value less than or equal to 1000")
    return value


def check_max_session_duration(value: int) -> int:
    """A role's ``MaxSessionDuration``: 3600-43200 seconds."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise _invalid(value, "maxSessionDuration", "Member must be an integer")
    if value < 3600:
        raise _invalid(
            value, "maxSessionDuration", "Member must have value greater than or equal to 3600"
        )
    if value > 43200:
        raise _invalid(
            value, "maxSessionDuration", "Member must have value less than or equal to 43200"
        )
    return value


def check_description(value: str | None, member: str = "description") -> str | None:
    """A role or policy description: at most 1000 characters."""
    if value is not None:
        _check_length(value, member, 0, 1000)
    return value


def check_document(value: object, member: str = "policyDocument") -> str:
    """A policy document must be text (the parser checks the rest)."""
    if not isinstance(value, str):
        raise _invalid(value, member, "Member must not be null")
    return value


def check_version_id(value: object) -> str:
    """A policy version id ``v1``, ``v2``, ... (``policyVersionIdType``)."""
    if not isinstance(value, str) or not _VERSION_RE.fullmatch(value):
        raise _invalid(
            value,
            "versionId",
            r"Member must satisfy regular expression pattern: v[1-9][0-9]*(\.[A-Za-z0-9-]*)?",
        )
    return value


def _tag_text_ok(text: str) -> bool:
    # tagKeyType [\p{L}\p{Z}\p{N}_.:/=+\-@]+ : letters, separators, numbers, and _.:/=+-@
    return all(c in _TAG_EXTRA or unicodedata.category(c)[0] in "LZN" for c in text)


def check_tags(tags: Iterable[Tag] | Mapping[str, str]) -> tuple[Tag, ...]:
    """Tags of one request: at most 50, keys 1-128, values 0-256, keys unique ignoring case."""
    items = (
        tuple(Tag(key=k, value=v) for k, v in tags.items())
        if isinstance(tags, Mapping)
        else tuple(tags)
    )
    if len(items) > MAX_TAGS:
        raise _invalid(
            "[" + ", ".join(t.key for t in items) + "]",
            "tags",
            f"Member must have length less than or equal to {MAX_TAGS}",
        )
    seen: set[str] = set()
    for n, tag in enumerate(items, 1):
        if not isinstance(tag.key, str) or not isinstance(tag.value, str):
            raise _invalid(tag, f"tags.{n}.member", "Member must not be null")
        _check_length(tag.key, f"tags.{n}.member.key", 1, 128)
        _check_length(tag.value, f"tags.{n}.member.value", 0, 256)
        if not _tag_text_ok(tag.key):
            raise _invalid(
                tag.key,
                f"tags.{n}.member.key",
                r"Member must satisfy regular expression pattern: [\p{L}\p{Z}\p{N}_.:/=+\-@]+",
            )
        if not _tag_text_ok(tag.value):
            raise _invalid(
                tag.value,
                f"tags.{n}.member.value",
                r"Member must satisfy regular expression pattern: [\p{L}\p{Z}\p{N}_.:/=+\-@]*",
            )
        if tag.key.lower() in seen:
            # IAM: tag keys are case-insensitive within an entity.
            raise InvalidInput(
                "Duplicate tag keys found. Please note that Tag keys are case insensitive."
            )
        seen.add(tag.key.lower())
    return items


def check_tag_keys(keys: Sequence[str]) -> tuple[str, ...]:
    """UntagX's ``TagKeys``: at most 50 keys of 1-128 characters."""
    keys = tuple(keys)
    if len(keys) > MAX_TAGS:
        raise _invalid(
            "[" + ", ".join(keys) + "]",
            "tagKeys",
            f"Member must have length less than or equal to {MAX_TAGS}",
        )
    for n, key in enumerate(keys, 1):
        _check_length(key, f"tagKeys.{n}.member", 1, 128)
    return keys


def merged_tag_count(existing: Iterable[str], added: Iterable[Tag]) -> int:
    """How many tags an entity has after adding ``added`` (same key ignoring case replaces)."""
    return len({k.lower() for k in existing} | {t.key.lower() for t in added})


def check_tag_total(existing: Iterable[str], added: Iterable[Tag]) -> None:
    """Raise :class:`LimitExceeded` when an entity would carry more than 50 tags."""
    if merged_tag_count(existing, added) > MAX_TAGS:
        raise LimitExceeded("The number of tags has reached the maximum limit.")


def new_unique_id(prefix: str, random: Random) -> str:
    """``prefix`` + 17 base32 characters: 21 characters, like IAM's ``AIDACKCEVSQ6C2EXAMPLE``."""
    # 256 is a multiple of 32: every byte maps to a character without bias.
    return prefix + "".join(_BASE32[b % 32] for b in random(17))


def new_account_id(random: Random) -> str:
    """12 random decimal digits (rejection sampling: bytes >= 250 are drawn again)."""
    digits: list[str] = []
    while len(digits) < 12:
        digits.extend(str(b % 10) for b in random(16) if b < 250)
    return "".join(digits[:12])


def arn(account_id: str, kind: str, path: str, name: str) -> str:
    """``arn:aws:iam::<account>:<kind><path><name>`` (kind: user, group, role, policy)."""
    return f"arn:aws:iam::{account_id}:{kind}{path}{name}"


_POLICY_ARN_RE = re.compile(r"arn:aws:iam::(\d{12}|aws):policy(/(?:[\x21-\x7e]*/)?)([\w+=,.@-]+)")


def parse_policy_arn(value: object) -> tuple[str, str, str]:
    """``(account, path, name)`` of a managed policy ARN; :class:`InvalidInput` otherwise."""
    if not isinstance(value, str) or not 20 <= len(value) <= 2048:
        raise InvalidInput(f"ARN {value} is not valid.")
    match = _POLICY_ARN_RE.fullmatch(value)
    if match is None:
        raise InvalidInput(f"ARN {value} is not valid.")
    return match.group(1), match.group(2), match.group(3)


def encode_marker(key: Sequence[Any]) -> str:
    """An opaque marker for the item after ``key`` (URL-safe base64 of its sort key)."""
    raw = json.dumps(list(key), separators=(",", ":"), ensure_ascii=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_marker(marker: str | None, arity: int) -> tuple[Any, ...] | None:
    """The sort key a marker holds, or None; :class:`InvalidInput` for a foreign marker."""
    if marker is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(marker + "=" * (-len(marker) % 4))
        key = json.loads(raw)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidInput("Invalid Marker.") from None
    if (
        not isinstance(key, list)
        or len(key) != arity
        or not all(isinstance(part, (str, int)) and not isinstance(part, bool) for part in key)
    ):
        raise InvalidInput("Invalid Marker.")
    return tuple(key)
