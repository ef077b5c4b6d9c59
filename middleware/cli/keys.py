"""``sigv4kit keys``: manage the access keys of a sigv4kit key store.

Registered into the ``sigv4kit`` command through the ``sigv4kit.commands`` entry point
(:mod:`sigv4kit.cli._hook`): the core imports this module only when ``keys`` is run.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass

from sigv4kit.cli import EXIT_CODES_HELP, ExitCode, Streams, validated

from ..iam._cli_root_keys import ROOT_KEYS_FLAG
from ..store.keygen import (
    validate_access_key_id,
    validate_principal_name,
    validate_session_duration,
)
from ._keys_actions import (
    NEW_MASTER_KEY_ENV,
    run_activate,
    run_create,
    run_create_session,
    run_deactivate,
    run_delete,
    run_list,
    run_purge_sessions,
    run_rewrap,
    run_rotate,
    run_show,
)
from ._store import DEFAULT_STORE_URL, STORE_ENV

__all__ = ["COMMAND", "HELP", "KeysCommand"]

#: The line ``sigv4kit --help`` shows (read from this file without importing it).
HELP = "manage access keys in a key store"
#: STS's default ``DurationSeconds`` (one hour).
DEFAULT_SESSION_SECONDS = 3600

DESCRIPTION = f"""\
Manage the access keys a sigv4kit service accepts.

The store is --store URL, else ${STORE_ENV}, else {DEFAULT_STORE_URL}
(sqlite:///relative/path.db, sqlite:////absolute/path.db, or
postgresql://user@host:5432/db?schema=name). Secrets are encrypted with the
master key from SIGV4KIT_MASTER_KEY (base64 of 32 bytes) or
SIGV4KIT_MASTER_KEY_FILE; for SQLite with neither, from <db>.key beside the
database, created (mode 0600) on first use. PostgreSQL requires one of the
two variables.

`keys create` creates the store, and the principal (as a user, or --role /
--root), when they do not exist yet; every other action refuses a store that
does not exist. A key's secret is printed only when it is created.

A root user's key (--root, or an existing root principal) has unrestricted
access to the account and no policy can limit it: AWS advises against it.
`keys create` and `keys rotate` make one only with
{ROOT_KEYS_FLAG}, and print a warning every time.
See also `sigv4kit iam create-root-access-key`."""

EXAMPLES = """\
examples:
  sigv4kit keys create --principal alice
  sigv4kit keys create --principal deploy-bot --json --store sqlite:////srv/keys.db
  sigv4kit keys deactivate AKIAEXAMPLEEXAMPLE23 --store postgresql://admin@db/keys
  sigv4kit keys list --principal alice
  sigv4kit keys show AKIAEXAMPLEEXAMPLE23 --json
  sigv4kit keys deactivate AKIAEXAMPLEEXAMPLE23
  sigv4kit keys rotate --principal alice --keep-previous-active
  sigv4kit keys create-session --principal alice --duration 900 --json
  sigv4kit keys purge-sessions
  SIGV4KIT_NEW_MASTER_KEY=$(head -c32 /dev/urandom | base64) sigv4kit keys rewrap
"""

REWRAP_HELP = f"""\
Re-encrypt every stored secret under a new master key, in one transaction.

The new key comes from --new-master-key-file (a file holding base64 of 32
bytes), else ${NEW_MASTER_KEY_ENV} (base64). When the store uses its default
key file beside the database and neither is given, a new random key is
generated. With the default key file, the file is replaced by the new key;
with SIGV4KIT_MASTER_KEY or SIGV4KIT_MASTER_KEY_FILE, configure the new key
there before services restart (they refuse to start with the old one)."""


# Option values are checked while parsing, so a bad one is a usage error
# (exit 2) like any other, before a store is opened.
@validated
def _principal_name(text: str) -> str:
    name: str = validate_principal_name(text)
    return name


@validated
def _access_key_id(text: str) -> str:
    key_id: str = validate_access_key_id(text)
    return key_id


@validated
def _session_seconds(text: str) -> int:
    try:
        seconds = int(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a whole number of seconds") from None
    checked: int = validate_session_duration(seconds)
    return checked


def _add_arguments(keys: argparse.ArgumentParser) -> None:
    keys.description = DESCRIPTION
    keys.epilog = EXAMPLES + "\n" + EXIT_CODES_HELP
    # Accepted before the action too (`keys --store URL list`); a separate
    # dest, because an action's own default would overwrite this one.
    keys.add_argument("--store", dest="keys_store", default=None, metavar="URL", help="store URL")
    actions = keys.add_subparsers(dest="keys_command", required=True, metavar="ACTION")

    def action(
        name: str, help_text: str, runner: Callable[..., ExitCode], **kw: str
    ) -> argparse.ArgumentParser:
        p = actions.add_parser(
            name,
            help=help_text,
            description=kw.pop("description", help_text),
            epilog=EXAMPLES + "\n" + EXIT_CODES_HELP,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        p.add_argument(
            "--store",
            default=None,
            metavar="URL",
            help=f"store URL (default: ${STORE_ENV}, else {DEFAULT_STORE_URL})",
        )
        p.set_defaults(keys_action=runner)
        return p

    p = action("create", "create an access key (the secret is shown once)", run_create)
    p.add_argument(
        "--principal", required=True, type=_principal_name,
        help="owner of the key (created if new)",
    )
    kind = p.add_mutually_exclusive_group()
    kind.add_argument("--role", action="store_true", help="a new principal is a role")
    kind.add_argument(
        "--root", action="store_true",
        help=f"a new principal is a root user (discouraged; needs {ROOT_KEYS_FLAG})",
    )
    p.add_argument(
        ROOT_KEYS_FLAG, dest="root_keys_unsafe", action="store_true",
        help="required for a key of a root user: it cannot be limited by policies",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")

    p = action("list", "list access keys (never secrets)", run_list)
    p.add_argument(
        "--principal", default=None, type=_principal_name, help="only this principal's keys"
    )
    p.add_argument("--json", action="store_true", help="print a JSON array")

    p = action("show", "show one access key (never its secret)", run_show)
    p.add_argument("access_key_id", metavar="AKID", type=_access_key_id)
    p.add_argument("--json", action="store_true", help="print one JSON object")

    for name, help_text, runner in (
        ("activate", "set an access key Active", run_activate),
        ("deactivate", "set an access key Inactive", run_deactivate),
        ("delete", "delete an access key for good", run_delete),
    ):
        p = action(name, help_text, runner)
        p.add_argument("access_key_id", metavar="AKID", type=_access_key_id)

    p = action(
        "rotate",
        "replace a principal's access key",
        run_rotate,
        description=(
            "Create a new key for the principal and retire the previous one: its most "
            "recent key is set Inactive (kept for rollback; --keep-previous-active leaves it "
            "Active for a grace period), older keys are deleted, so the 2-key limit never "
            "blocks a rotation. Temporary credentials are not touched."
        ),
    )
    p.add_argument("--principal", required=True, type=_principal_name)
    p.add_argument("--keep-previous-active", action="store_true")
    p.add_argument(
        ROOT_KEYS_FLAG, dest="root_keys_unsafe", action="store_true",
        help="required to rotate a root user's key",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")

    p = action("create-session", "issue temporary ASIA credentials", run_create_session)
    p.add_argument(
        "--principal", required=True, type=_principal_name, help="an existing principal"
    )
    p.add_argument(
        "--duration",
        type=_session_seconds,
        default=DEFAULT_SESSION_SECONDS,
        metavar="SECONDS",
        help=f"900 to 129600 seconds (default {DEFAULT_SESSION_SECONDS}, as STS)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")

    action(
        "purge-sessions",
        "delete temporary credentials past their expiry",
        run_purge_sessions,
    )

    p = action(
        "rewrap",
        "re-encrypt every secret under a new master key",
        run_rewrap,
        description=REWRAP_HELP,
    )
    p.add_argument("--new-master-key-file", default=None, metavar="PATH")


@dataclass(frozen=True, slots=True, kw_only=True)
class KeysCommand:
    """The ``keys`` command group (a :class:`sigv4kit.cli.Command`)."""

    name: str = "keys"
    help: str = HELP

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """Add ``--store`` and one sub-parser per action."""
        _add_arguments(parser)

    def run(self, args: argparse.Namespace, streams: Streams) -> int:
        """Dispatch to the chosen action."""
        action: Callable[[argparse.Namespace, Streams], ExitCode] = args.keys_action
        return int(action(args, streams))


#: The object the ``sigv4kit.commands`` entry point ``keys`` names.
COMMAND = KeysCommand()
