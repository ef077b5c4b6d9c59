"""STS's request rules as pure functions: durations, role ARNs, tags, source identity, sizes.

Each raises STS's error with AWS's wording (the API reference and the
messages STS answers), never touching a store.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from ..authz import AccessDenied
from ._errors import STSError, packed_policy_too_large, sts_validation

__all__ = [
    "CHAINED_MAX_SECONDS",
    "DEFAULT_ROLE_SECONDS",
    "PACKED_LIMIT",
    "RoleName",
    "check_source_identity",
    "check_tags",
    "packed_percent",
    "parse_role_arn",
    "role_duration",
    "session_token_duration",
]

#: AssumeRole's default ``DurationSeconds`` (one hour).
DEFAULT_ROLE_SECONDS = 3600
#: "role chaining limits your ... session to a maximum of one hour" (id_roles_terms-and-concepts).
CHAINED_MAX_SECONDS = 3600
#: GetSessionToken: default 12 hours, root user 1 hour at most (and by default).
SESSION_TOKEN_DEFAULT = 43200
ROOT_SESSION_MAX = 3600
#: Characters the packed session policies and tags may take (100% of PackedPolicySize).
PACKED_LIMIT = 2048

_ROLE_ARN = re.compile(r"arn:aws:iam::(\d{12}):role(/(?:[\x21-\x7e]*/)?)([\w+=,.@-]{1,64})")


class RoleName(tuple[str, str, str]):
    """``(account, path, name)`` of a role ARN."""

    @property
    def account(self) -> str:
        return self[0]

    @property
    def path(self) -> str:
        return self[1]

    @property
    def name(self) -> str:
        return self[2]


def parse_role_arn(value: str, *, caller_arn: str, action: str) -> RoleName:
    """The role an ARN names; a string that is no role ARN is refused as AWS does.

    AWS answers ``ValidationError`` for a string that is not an ARN and
    ``AccessDenied`` for an ARN that names no role it could assume.
    """
    if not value.startswith("arn:"):
        raise sts_validation(f"{value[:128]} is invalid")
    match = _ROLE_ARN.fullmatch(value)
    if match is None:
        raise AccessDenied(
            f"User: {caller_arn} is not authorized to perform: {action} on resource: {value}"
        )
    return RoleName((match.group(1), match.group(2), match.group(3)))


def role_duration(requested: int | None, *, max_session: int, chained: bool) -> int:
    """AssumeRole's ``DurationSeconds``: at most the role's maximum, 1 hour when chained."""
    duration = DEFAULT_ROLE_SECONDS if requested is None else requested
    if chained and duration > CHAINED_MAX_SECONDS:
        raise sts_validation(
            "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed "
            "by role chaining."
        )
    if duration > max_session:
        raise sts_validation(
            "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
        )
    return duration


def session_token_duration(requested: int | None, *, root: bool) -> int:
    """GetSessionToken's ``DurationSeconds`` (the model bounds it to 900..129600)."""
    if root:
        duration = ROOT_SESSION_MAX if requested is None else requested
        if duration > ROOT_SESSION_MAX:
            raise sts_validation(
                "1 validation error detected: Value '"
                f"{duration}' at 'durationSeconds' failed to satisfy constraint: Member must "
                f"have value less than or equal to {ROOT_SESSION_MAX}"
            )
        return duration
    return SESSION_TOKEN_DEFAULT if requested is None else requested


def check_tags(
    tags: Sequence[Mapping[str, str]],
    transitive: Sequence[str],
    inherited: Mapping[str, str],
) -> dict[str, str]:
    """The session's tags: the request's, plus the caller session's transitive tags.

    Keys are unique ignoring case; ``TransitiveTagKeys`` must name tags of
    the request; a transitive tag of the caller cannot be set again
    (id_session-tags: "you cannot ... override a transitive tag").
    """
    found: dict[str, str] = {}
    lowered: set[str] = set()
    for tag in tags:
        key = tag["Key"]
        if key.lower() in lowered:
            raise sts_validation(
                "Duplicate tag keys found. Please note that Tag keys are case insensitive."
            )
        lowered.add(key.lower())
        found[key] = tag["Value"]
    for key in transitive:
        if key.lower() not in lowered:
            raise sts_validation(
                f"The transitive tag key {key[:128]} is not one of the session's tags."
            )
    for key, value in inherited.items():
        if key.lower() in lowered:
            raise STSError(
                "InvalidParameterValue",
                f"The session tag {key[:128]} is a transitive tag of the calling session and "
                "cannot be set again.",
            )
        found[key] = value
    return found


def check_source_identity(requested: str | None, inherited: str | None) -> str | None:
    """``SourceIdentity``: set once, then kept by every chained session."""
    if requested is not None and requested.lower().startswith("aws:"):
        raise sts_validation("SourceIdentity cannot begin with the prefix 'aws:'.")
    if inherited is None:
        return requested
    if requested is not None and requested != inherited:
        raise AccessDenied(
            "The SourceIdentity of the calling session cannot be changed "
            f"(it is {inherited})."
        )
    return inherited


def _minified(policy: str) -> str:
    try:
        return json.dumps(json.loads(policy), separators=(",", ":"))
    except ValueError:
        return policy


def packed_percent(
    policy: str | None, policy_arns: Sequence[str], tags: Mapping[str, Any]
) -> int:
    """``PackedPolicySize``: how much of the session's room its policies and tags take (%).

    AWS's compression is not documented; this counts the minified policy,
    the ARNs and the tags against :data:`PACKED_LIMIT` characters. Over
    100% is ``PackedPolicyTooLarge``.
    """
    size = len(_minified(policy)) if policy else 0
    size += sum(len(a) for a in policy_arns)
    size += sum(len(k) + len(str(v)) for k, v in tags.items())
    percent = math.ceil(100 * size / PACKED_LIMIT)
    if percent > 100:
        raise packed_policy_too_large(percent)
    return percent
