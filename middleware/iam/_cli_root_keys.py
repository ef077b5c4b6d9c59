"""``sigv4kit iam create-root-access-key`` / ``list-root-access-keys`` / ``delete-root-access-key``.

::

    sigv4kit iam create-root-access-key --store sqlite:///iam.db --account-id 123456789012 \\
        --i-understand-root-keys-are-unsafe [--json]
    sigv4kit iam list-root-access-keys --store sqlite:///iam.db --account-id 123456789012
    sigv4kit iam delete-root-access-key --store sqlite:///iam.db --account-id 123456789012 \\
        --access-key-id AKIA...

An account's root user exists implicitly and by default has no access keys.
AWS advises against root access keys: they have unrestricted access to the
account and no policy can limit them. So a root key is made only here, on
the local command line, only with :data:`ROOT_KEYS_FLAG` (without it: exit 2
saying why), and every time with :func:`root_key_warning` on stderr. The IAM
API never makes one. ``sigv4kit keys create --root`` asks for the same flag
and prints the same warning. The store side: :mod:`.entities._root_keys`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from sigv4kit import SigV4Error
from sigv4kit.cli import EXIT_CODES_HELP, CLIError, ExitCode, Streams, validated

__all__ = [
    "ROOT_KEYS_FLAG",
    "add_root_key_parsers",
    "refuse_root_key",
    "root_key_warning",
    "root_session_warning",
    "with_iam",
]

T = TypeVar("T")

#: The flag every command that creates a root access key requires.
ROOT_KEYS_FLAG = "--i-understand-root-keys-are-unsafe"

_WHY = ("root access keys have unrestricted access to every resource of the account, "
        "and no IAM policy can limit them")

DESCRIPTION = f"""\
Create an access key for an account's root user (arn:aws:iam::<account>:root).

AWS advises against it: root access keys have unrestricted access to every
resource of the account, and no IAM policy can limit them. Use IAM users or
roles with least-privilege policies instead (sigv4kit iam bootstrap creates an
administrator user). If a task truly needs a root access key, create it with
{ROOT_KEYS_FLAG}, and delete it
(sigv4kit iam delete-root-access-key) as soon as the task is done. The secret
access key is printed this once. An account's root user has at most two access
keys; the IAM API never creates one."""

EXAMPLES = f"""\
examples:
  sigv4kit iam create-root-access-key --store sqlite:///iam.db --account-id 123456789012 \\
      {ROOT_KEYS_FLAG} --json
  sigv4kit iam list-root-access-keys --store sqlite:///iam.db --account-id 123456789012
  sigv4kit iam delete-root-access-key --store sqlite:///iam.db --account-id 123456789012 \\
      --access-key-id AKIAEXAMPLEEXAMPLE23
"""

# IAM's accountIdType and accessKeyIdType (the store also holds imported ids).
_ACCOUNT_RE = re.compile(r"[0-9]{12}")
_KEY_ID_RE = re.compile(r"[A-Za-z0-9_]{3,128}")


def root_key_warning(account_id: str) -> str:
    """The warning printed on stderr whenever a root access key is created (AWS's advice)."""
    return (
        f"WARNING: this is an access key of the root user of account {account_id}. "
        f"As AWS warns, {_WHY}. Use IAM users or roles instead; keep this key secret and "
        "delete it when you are done (sigv4kit iam delete-root-access-key, or "
        "sigv4kit keys delete).\n"
    )


def root_session_warning(account_id: str) -> str:
    """The warning printed on stderr when a root principal gets temporary credentials."""
    return (
        f"WARNING: these are temporary credentials of the root user of account {account_id}: "
        "until they expire they can do everything in the account, and no IAM policy can "
        "limit them. Use IAM users or roles for everyday work.\n"
    )


def refuse_root_key() -> CLIError:
    """The usage error (exit 2) for creating a root access key without :data:`ROOT_KEYS_FLAG`."""
    return CLIError(
        f"refusing to create a root access key: {_WHY}; AWS advises using IAM users or "
        f"roles instead. To create one anyway, pass {ROOT_KEYS_FLAG}.",
        ExitCode.USAGE,
    )


@validated
def _account_id(text: str) -> str:
    if not _ACCOUNT_RE.fullmatch(text):
        raise ValueError(f"{text!r} is not a 12-digit account id")
    return text


@validated
def _access_key_id(text: str) -> str:
    if not _KEY_ID_RE.fullmatch(text):
        raise ValueError(f"{text!r} is not an access key id (3 to 128 of A-Z, a-z, 0-9, _)")
    return text


def add_root_key_parsers(actions: Any) -> None:
    """Register the three root-key actions under the ``iam`` group's actions."""

    def action(name: str, help_text: str, description: str) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = actions.add_parser(
            name, help=help_text, description=description,
            epilog=EXAMPLES + "\n" + EXIT_CODES_HELP,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        p.add_argument("--store", required=True, metavar="URL", help="the store URL")
        p.add_argument("--account-id", required=True, type=_account_id, metavar="ID",
                       help="the 12-digit id of an existing account")
        return p

    p = action("create-root-access-key",
               "create an access key for an account's root user (discouraged)", DESCRIPTION)
    p.add_argument(ROOT_KEYS_FLAG, dest="root_keys_unsafe", action="store_true",
                   help="required: confirm you know a root key cannot be limited by policies")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(run=run_create_root_key)

    p = action("list-root-access-keys", "list an account's root access keys (never secrets)",
               "List the access keys of an account's root user: id, status, creation and "
               "last use, never the secret.")
    p.add_argument("--json", action="store_true", help="print a JSON array")
    p.set_defaults(run=run_list_root_keys)

    p = action("delete-root-access-key", "delete one of an account's root access keys",
               "Delete an access key of an account's root user for good (requests signed "
               "with it fail at once). A key of an IAM user is never deleted here.")
    p.add_argument("--access-key-id", required=True, type=_access_key_id, metavar="AKID",
                   help="the root access key to delete")
    p.set_defaults(run=run_delete_root_key)


async def with_iam(store_url: str, work: Callable[[Any], Awaitable[T]], *, create: bool) -> T:
    """``work(IAMStore)`` on the SQL store at ``store_url`` (``create``: make it if missing),
    closed afterwards; any other store is a :class:`CLIError`."""
    from .. import open_store
    from ..store import SQLKeyStore
    from .entities import IAMStore

    store = open_store(store_url, create=create)
    if not isinstance(store, SQLKeyStore):
        await store.aclose()
        raise CLIError(f"{store_url} is not an SQL store (sqlite:/// or postgresql://)")
    try:
        return await work(IAMStore(store))
    finally:
        await store.aclose()


def _run(store_url: str, work: Callable[[Any], Awaitable[T]]) -> T:
    try:
        return asyncio.run(with_iam(store_url, work, create=False))
    except CLIError:
        raise
    except SigV4Error as exc:
        code = getattr(exc, "code", None)
        raise CLIError(f"{code}: {exc}" if code else str(exc)) from None


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def run_create_root_key(args: argparse.Namespace, streams: Streams) -> ExitCode:
    # Checked before the store is opened: without the flag nothing is touched.
    if not args.root_keys_unsafe:
        raise refuse_root_key()
    key = _run(args.store, lambda iam: iam.create_root_access_key(args.account_id))
    streams.stderr.write(root_key_warning(key.account_id))
    fields = {"account_id": key.account_id, "arn": key.arn,
              "access_key_id": key.access_key_id, "secret_access_key": key.secret_access_key}
    if args.json:
        streams.stdout.write(json.dumps(fields) + "\n")
    else:
        streams.stdout.write("".join(f"{name}: {value}\n" for name, value in fields.items()))
        streams.stderr.write("The secret access key is shown this once: store it safely.\n")
    return ExitCode.OK


def run_list_root_keys(args: argparse.Namespace, streams: Streams) -> ExitCode:
    keys = _run(args.store, lambda iam: iam.list_root_access_keys(args.account_id))
    rows = [{"access_key_id": k.access_key_id, "status": k.status,
             "created_at": _time(k.create_date), "last_used_at": _time(k.last_used_date),
             "principal": k.principal} for k in keys]
    if args.json:
        streams.stdout.write(json.dumps(rows, indent=2) + "\n")
        return ExitCode.OK
    if not rows:
        streams.stdout.write(f"the root user of account {args.account_id} has no access keys\n")
        return ExitCode.OK
    for r in rows:
        streams.stdout.write(f"{r['access_key_id']}  {r['status']:8s}  created {r['created_at']}"
                             f"  last used {r['last_used_at'] or 'never'}\n")
    return ExitCode.OK


def run_delete_root_key(args: argparse.Namespace, streams: Streams) -> ExitCode:
    _run(args.store, lambda iam: iam.delete_root_access_key(args.account_id,
                                                            args.access_key_id))
    streams.stdout.write(f"deleted {args.access_key_id} (root user of account "
                         f"{args.account_id})\n")
    return ExitCode.OK
