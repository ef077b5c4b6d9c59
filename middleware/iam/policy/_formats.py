"""The value formats IAM's parser checks: condition dates and resource ARNs.

Pure string functions with IAM's messages (``_rules.Messages``). The shapes
follow what moto's ``policy_validation.py`` records of IAM's answers
(IAM.md §1.7): an ARN needs ``arn:<partition>:<service>``; the partition must
be this service's own (``aws``) or ``*``; IAM and S3 resources carry no region;
an IAM resource path starts with one of IAM's resource types.
"""

from __future__ import annotations

import re
from functools import lru_cache

from ._rules import Messages

__all__ = ["legacy_resource", "resource_error", "valid_date"]

# ISO 8601 as IAM's legacy parser reads it: a year (optionally negative),
# optional month and day, optional time with optional fraction and zone
# (moto's _validate_iso_8601_datetime documents the accepted shapes).
# Every number is bounded (\d{1,9}) so no int() sees thousands of digits.
_ISO_DATE = re.compile(
    r"(?P<y>-?\d{1,9})(?:-(?P<mo>\d{1,9})(?:-(?P<d>\d{1,9}))?)?"
    r"(?:t(?:(?P<h>\d{1,9})(?::(?P<mi>\d{1,9})(?::(?P<s>\d{1,9})(?:\.\d{1,9})?)?)?"
    r"(?:z|[+-]\d{2}(?::\d{2})?)?)?)?",
    re.ASCII,
)
# Epoch seconds: a signed 64-bit count (Java's Long.MAX_VALUE); years within
# what a Java date holds (-292275054..292278993), as IAM's legacy parser accepts.
_EPOCH_MAX = 2**63 - 1
_LIMITS = (
    ("y", -292_275_054, 292_278_993),
    ("mo", 1, 12),
    ("d", 1, 31),
    ("h", 0, 23),
    ("mi", 0, 59),
    ("s", 0, 59),
)


def valid_date(value: str) -> bool:
    """Whether a Date condition value is an ISO 8601 date/time or epoch seconds."""
    # The longest valid value ("-292275054-12-31T23:59:59.999999999+23:59") has
    # 41 characters; the length test also keeps big strings out of the cache.
    return len(value) <= 48 and _valid_date(value)


@lru_cache(maxsize=1024)  # the same few dates recur across statements
def _valid_date(value: str) -> bool:
    lowered = value.lower()
    if "t" not in lowered and "-" not in lowered:
        digits = len(lowered) <= 19 and lowered.isascii() and lowered.isdigit()
        return digits and int(lowered) <= _EPOCH_MAX
    match = _ISO_DATE.fullmatch(lowered)
    if match is None:
        return False
    return all(
        match.group(name) is None or low <= int(match.group(name)) <= high
        for name, low, high in _LIMITS
    )


def resource_error(resource: str) -> str | None:
    """IAM's message when ``resource`` is not a usable ARN, else ``None``."""
    if resource == "*":
        return None
    parts = resource.split(":", 5)
    if len(parts) < 2:
        return Messages.ARN_FORMAT.format(resource=resource)
    partition = parts[1]
    if partition not in ("aws", "*"):
        rest = parts[2:] + ["*"] * (4 - len(parts[2:]))
        if len(parts) == 3 and parts[2] == "":
            rest[0] = "*"
        arn = ":".join(["arn", partition, *rest])
        return Messages.PARTITION.format(partition=partition, arn=arn)
    if len(parts) < 3:
        return Messages.RESOURCE_VENDOR
    service = parts[2]
    region = parts[3] if len(parts) > 3 else None
    if service == "iam" and region != "":
        return Messages.IAM_REGION.format(resource=resource)
    if service == "s3" and region != "":
        return Messages.S3_REGION.format(resource=resource)
    if service == "iam":
        path = parts[5] if len(parts) > 5 else ""
        if path != "*" and not path.startswith(_IAM_PATHS):
            return Messages.IAM_PATH
    return None


_IAM_PATHS = (
    "user/",
    "federated-user/",
    "role/",
    "group/",
    "instance-profile/",
    "mfa/",
    "server-certificate/",
    "policy/",
    "sms-mfa/",
    "saml-provider/",
    "oidc-provider/",
    "report/",
    "access-report/",
)


def legacy_resource(resource: str) -> bool:
    # IAM's legacy parser: a short ARN may not contain "::", and the service
    # segment may not be empty (moto _legacy_parse_resource_like).
    if resource == "*":
        return True
    parts = resource.split(":")
    return (len(parts) > 5 or "::" not in resource) and len(parts) > 2 and parts[2] != ""
