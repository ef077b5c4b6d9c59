"""IAM's credential report as CSV: one pure function over the account's principals.

The columns are IAM's, in IAM's order (IAM User Guide, "Getting credential
reports", id_credentials_getting-report.html): ``user``, ``arn``,
``user_creation_time``, the four password columns, ``mfa_active``, five
columns for each of two access keys, two for each of two signing
certificates. The first row is the account's root user (``<root_account>``).

Values as IAM writes them: ``true``/``false``; times in ISO 8601 with the
offset (``2026-12-03T10:00:00+00:00``); ``N/A`` when there is nothing (a key
never used, a second key that does not exist); ``not_supported`` for the root
user's password rotation. sigv4kit has no console passwords yet, so
``password_enabled`` is ``false`` for users (``not_supported`` for root) and
the other password columns are ``N/A``. Certificates do not exist:
``false`` / ``N/A``.

Imports: the standard library, :mod:`..entities`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import UTC, datetime

from ..entities._activity import KeyActivity, PrincipalActivity

__all__ = ["CREDENTIAL_REPORT_COLUMNS", "credential_report_csv"]

CREDENTIAL_REPORT_COLUMNS = (
    "user",
    "arn",
    "user_creation_time",
    "password_enabled",
    "password_last_used",
    "password_last_changed",
    "password_next_rotation",
    "mfa_active",
    "access_key_1_active",
    "access_key_1_last_rotated",
    "access_key_1_last_used_date",
    "access_key_1_last_used_region",
    "access_key_1_last_used_service",
    "access_key_2_active",
    "access_key_2_last_rotated",
    "access_key_2_last_used_date",
    "access_key_2_last_used_region",
    "access_key_2_last_used_service",
    "cert_1_active",
    "cert_1_last_rotated",
    "cert_2_active",
    "cert_2_last_rotated",
)
_NA = "N/A"
_ROOT = "<root_account>"


def _time(value: datetime | None) -> str:
    return _NA if value is None else value.astimezone(UTC).isoformat(timespec="seconds")


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _key_columns(key: KeyActivity | None) -> list[str]:
    if key is None:
        return ["false", _NA, _NA, _NA, _NA]
    return [
        _bool(key.active),
        _time(key.created_at),
        _time(key.last_used_at),
        key.last_used_region or _NA,
        key.last_used_service or _NA,
    ]


def _row(name: str, arn: str, created: datetime, root: bool, mfa: bool,
         keys: Sequence[KeyActivity]) -> list[str]:
    password = ["not_supported", _NA, "not_supported", "not_supported"] if root else [
        "false", _NA, _NA, _NA]
    first = keys[0] if keys else None
    second = keys[1] if len(keys) > 1 else None
    return [name, arn, _time(created), *password, _bool(mfa), *_key_columns(first),
            *_key_columns(second), "false", _NA, "false", _NA]


def credential_report_csv(
    account_id: str, account_created: datetime, principals: Sequence[PrincipalActivity]
) -> str:
    """The report for ``account_id``: root first, then every user by name.

    The root row gathers the keys of the account's root principals (sigv4kit
    lets more than one principal act as root) and is MFA-active when one of
    them has an enabled device.
    """
    roots = [p for p in principals if p.root]
    root_keys = sorted((k for p in roots for k in p.keys), key=lambda k: k.created_at)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CREDENTIAL_REPORT_COLUMNS)
    writer.writerow(_row(_ROOT, f"arn:aws:iam::{account_id}:root", account_created, True,
                         any(p.mfa_active for p in roots), root_keys))
    for user in principals:
        if user.kind == "user" and not user.root:
            arn = f"arn:aws:iam::{account_id}:user{user.path}{user.name}"
            writer.writerow(_row(user.name, arn, user.created_at, False, user.mfa_active,
                                 user.keys))
    return out.getvalue()
