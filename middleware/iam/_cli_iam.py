"""``sigv4kit iam``: local administration of the IAM store (the first administrator).

``sigv4kit iam bootstrap --store URL --user NAME [--account-id ID] [--json]``
creates the account if needed, a user with the managed policy
``AdministratorAccess`` (``Allow * on *``) attached, and an access key, and
prints ``account_id``, ``user``, ``arn``, ``access_key_id`` and
``secret_access_key``: the only time the secret is shown. From there, boto3's
``iam`` client and the AWS CLI manage everything through ``sigv4kit serve``.

``sigv4kit iam revoke-sessions ROLE --store URL [--account-id ID]`` revokes
every session of the role issued until now, as AWS's console does: the
role's inline policy ``AWSRevokeOlderSessions`` denies everything to
sessions whose ``aws:TokenIssueTime`` is earlier (new sessions are not
affected).

``sigv4kit iam create-root-access-key`` / ``list-root-access-keys`` /
``delete-root-access-key`` manage the root user's access keys, which AWS
advises against: creating one needs ``--i-understand-root-keys-are-unsafe``
and prints a warning (:mod:`._cli_root_keys`).

The group is registered into the ``sigv4kit`` command through
the ``sigv4kit.commands`` entry points (``middleware/cli/``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from sigv4kit import SigV4Error
from sigv4kit.cli import EXIT_CODES_HELP, CLIError, ExitCode, Streams

from ._cli_root_keys import add_root_key_parsers, with_iam

__all__ = [
    "ADMIN_POLICY_DOCUMENT",
    "ADMIN_POLICY_NAME",
    "REVOKE_POLICY_NAME",
    "add_parser",
    "bootstrap",
    "revoke_document",
    "revoke_sessions",
]

#: The inline role policy AWS's console writes to revoke a role's active sessions.
REVOKE_POLICY_NAME = "AWSRevokeOlderSessions"

#: The administrator's managed policy (AWS's own is named the same).
ADMIN_POLICY_NAME = "AdministratorAccess"
ADMIN_POLICY_DOCUMENT = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
)

DESCRIPTION = """\
Create the first administrator of an account: the account (if needed), a user
with the AdministratorAccess policy (Allow * on *), and an access key. The
secret access key is printed this once; store it safely."""

EXAMPLES = """\
examples:
  sigv4kit iam bootstrap --store sqlite:///iam.db --user admin
  sigv4kit iam bootstrap --store sqlite:///iam.db --user admin --account-id 123456789012 --json
"""


def add_parser(sub: Any) -> None:
    """Register the ``iam`` command group."""
    group = sub.add_parser(
        "iam",
        help="administer the IAM store locally (bootstrap an administrator, access report, "
             "root access keys)",
        description="Local administration of the IAM store.",
        epilog=EXAMPLES + "\n" + EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = group.add_subparsers(dest="iam_command", required=True, metavar="ACTION")
    p = actions.add_parser(
        "bootstrap",
        help="create an administrator user with an access key",
        description=DESCRIPTION,
        epilog=EXAMPLES + "\n" + EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--store", required=True, metavar="URL", help="the store URL")
    p.add_argument("--user", required=True, metavar="NAME", help="the administrator's user name")
    p.add_argument("--account-id", metavar="ID",
                   help="12-digit account id (default: the store's only account, or a new one)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--console-password", action="store_true",
                   help="also give the administrator a random console password (printed once)")
    p.add_argument("--root-password", action="store_true",
                   help="also set a random console password for the account's root user "
                        "(printed once)")
    p.set_defaults(run=run_bootstrap)
    r = actions.add_parser(
        "revoke-sessions",
        help="deny every session of a role issued until now",
        description="Revoke a role's active sessions as AWS's console does: an inline policy "
                    f"{REVOKE_POLICY_NAME} denying everything to sessions issued before now.",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    r.add_argument("role", metavar="ROLE", help="the role's name")
    r.add_argument("--store", required=True, metavar="URL", help="the store URL")
    r.add_argument("--account-id", metavar="ID",
                   help="12-digit account id (default: the store's only account)")
    r.set_defaults(run=run_revoke_sessions)

    from ._cli_report import add_report_parser

    add_report_parser(actions)
    add_root_key_parsers(actions)


def revoke_document(now: datetime) -> str:
    """AWS's revocation policy: deny everything to sessions issued before ``now``."""
    issued_before = now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Deny", "Action": ["*"], "Resource": ["*"],
        "Condition": {"DateLessThan": {"aws:TokenIssueTime": issued_before}},
    }]})


async def revoke_sessions(iam: Any, role_name: str, account_id: str | None,
                          now: datetime) -> dict[str, str]:
    """Write :data:`REVOKE_POLICY_NAME` on the role (replacing an earlier one)."""
    account = await _account(iam, account_id)
    role = await iam.get_role(account, role_name)
    await iam.put_role_policy(account, role.role_name, REVOKE_POLICY_NAME, revoke_document(now))
    return {"role": role.arn, "policy": REVOKE_POLICY_NAME,
            "revoked_before": now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}


async def bootstrap(iam: Any, user_name: str, account_id: str | None) -> dict[str, str]:
    """Create the account if needed, the administrator and its key; the printed fields.

    Raises IAM's errors (``EntityAlreadyExists`` for an existing user,
    ``ValidationError`` for a bad name) and :class:`CLIError` when the store
    holds several accounts and none was named.
    """
    account = await _account(iam, account_id)
    user = await iam.create_user(account, user_name)
    policy_arn = f"arn:aws:iam::{account}:policy/{ADMIN_POLICY_NAME}"
    try:
        await iam.get_policy(account, policy_arn)
    except SigV4Error as exc:
        if getattr(exc, "code", None) != "NoSuchEntity":
            raise
        await iam.create_policy(account, ADMIN_POLICY_NAME, ADMIN_POLICY_DOCUMENT,
                                description="Allows every action on every resource.")
    await iam.attach_user_policy(account, user_name, policy_arn)
    key = await iam.create_access_key(account, user_name)
    return {"account_id": account, "user": user.user_name, "arn": user.arn,
            "access_key_id": key.access_key_id, "secret_access_key": key.secret_access_key}


async def _account(iam: Any, account_id: str | None) -> str:
    if account_id is not None:
        try:
            return str((await iam.get_account(account_id)).account_id)
        except SigV4Error as exc:
            if getattr(exc, "code", None) != "NoSuchEntity":
                raise
        return str((await iam.create_account(account_id)).account_id)
    accounts = await iam.list_accounts()
    if len(accounts) > 1:
        names = ", ".join(a.account_id for a in accounts)
        raise CLIError(f"the store holds several accounts ({names}): pass --account-id",
                       ExitCode.USAGE)
    if accounts:
        return str(accounts[0].account_id)
    return str((await iam.create_account()).account_id)


async def _run(store_url: str, work: Callable[[Any], Awaitable[dict[str, str]]]
               ) -> dict[str, str]:
    return await with_iam(store_url, work, create=True)


def random_password() -> str:
    """A random console password meeting any IAM policy: 20 characters of every kind."""
    import secrets
    import string

    body = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(16))
    return f"{body}Aa1!"


async def _passwords(store: Any, fields: dict[str, str], *, user: bool, root: bool) -> None:
    from datetime import UTC, datetime

    from .login import LoginStore

    logins = LoginStore(store)
    now = datetime.now(UTC)
    if user:
        password = random_password()
        await logins.create_login_profile(fields["account_id"], fields["user"], password, now=now)
        fields["console_password"] = password
    if root:
        password = random_password()
        await logins.set_root_password(fields["account_id"], password, now=now)
        fields["root_password"] = password


async def bootstrap_with_passwords(iam: Any, args: argparse.Namespace) -> dict[str, str]:
    """:func:`bootstrap`, then the console passwords ``--console-password`` /
    ``--root-password`` ask for."""
    fields = await bootstrap(iam, args.user, args.account_id)
    await _passwords(iam._store, fields, user=args.console_password, root=args.root_password)
    return fields


def _fields(store_url: str, work: Callable[[Any], Awaitable[dict[str, str]]]
            ) -> dict[str, str]:
    try:
        return asyncio.run(_run(store_url, work))
    except CLIError:
        raise
    except SigV4Error as exc:
        code = getattr(exc, "code", None)
        raise CLIError(f"{code}: {exc}" if code else str(exc)) from None


def run_revoke_sessions(args: argparse.Namespace, streams: Streams) -> ExitCode:
    now = datetime.now(UTC)
    fields = _fields(args.store, lambda iam: revoke_sessions(iam, args.role, args.account_id,
                                                             now))
    streams.stdout.write(json.dumps(fields) + "\n")
    return ExitCode.OK


def run_bootstrap(args: argparse.Namespace, streams: Streams) -> ExitCode:
    fields = _fields(args.store, lambda iam: bootstrap_with_passwords(iam, args))
    if args.json:
        streams.stdout.write(json.dumps(fields) + "\n")
    else:
        streams.stdout.write("".join(f"{name}: {value}\n" for name, value in fields.items()))
        streams.stderr.write(
            "The secret access key (and any password) is shown this once: store it safely.\n")
    return ExitCode.OK
