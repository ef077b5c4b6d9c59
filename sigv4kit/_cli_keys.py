"""``sigv4kit keys``: manage the access keys of a sigv4kit key store.

The store half lives in :mod:`sigv4kit.middleware`; it is imported inside the
run functions only, so importing the core never imports the server.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import json
import logging
import os
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from typing import Any, TypeVar

from ._cli import EXIT_CODES_HELP, CLIError, ExitCode, Streams, validated
from ._exceptions import SigV4Error

__all__ = ["DEFAULT_STORE_URL", "STORE_ENV", "add_parser", "open_cli_store", "run"]

T = TypeVar("T")

STORE_ENV = "SIGV4KIT_STORE"
DEFAULT_STORE_URL = "sqlite:///sigv4kit.db"
NEW_MASTER_KEY_ENV = "SIGV4KIT_NEW_MASTER_KEY"
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
does not exist. A key's secret is printed only when it is created."""

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
    name: str = _keygen().validate_principal_name(text)
    return name


@validated
def _access_key_id(text: str) -> str:
    key_id: str = _keygen().validate_access_key_id(text)
    return key_id


@validated
def _session_seconds(text: str) -> int:
    try:
        seconds = int(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a whole number of seconds") from None
    checked: int = _keygen().validate_session_duration(seconds)
    return checked


def add_parser(sub: Any) -> None:
    """Register the ``keys`` subcommand and its actions."""
    keys = sub.add_parser(
        "keys",
        help="manage access keys in a key store",
        description=DESCRIPTION,
        epilog=EXAMPLES + "\n" + EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    # Accepted before the action too (`keys --store URL list`); a separate
    # dest, because an action's own default would overwrite this one.
    keys.add_argument("--store", dest="keys_store", default=None, metavar="URL", help="store URL")
    actions = keys.add_subparsers(dest="keys_command", required=True, metavar="ACTION")

    def action(name: str, help_text: str, runner: Callable[..., ExitCode], **kw: Any) -> Any:
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
        p.set_defaults(run=runner)
        return p

    p = action("create", "create an access key (the secret is shown once)", _run_create)
    p.add_argument(
        "--principal", required=True, type=_principal_name,
        help="owner of the key (created if new)",
    )
    kind = p.add_mutually_exclusive_group()
    kind.add_argument("--role", action="store_true", help="a new principal is a role")
    kind.add_argument("--root", action="store_true", help="a new principal is a root user")
    p.add_argument("--json", action="store_true", help="print one JSON object")

    p = action("list", "list access keys (never secrets)", _run_list)
    p.add_argument(
        "--principal", default=None, type=_principal_name, help="only this principal's keys"
    )
    p.add_argument("--json", action="store_true", help="print a JSON array")

    p = action("show", "show one access key (never its secret)", _run_show)
    p.add_argument("access_key_id", metavar="AKID", type=_access_key_id)
    p.add_argument("--json", action="store_true", help="print one JSON object")

    for name, help_text, runner in (
        ("activate", "set an access key Active", _run_activate),
        ("deactivate", "set an access key Inactive", _run_deactivate),
        ("delete", "delete an access key for good", _run_delete),
    ):
        p = action(name, help_text, runner)
        p.add_argument("access_key_id", metavar="AKID", type=_access_key_id)

    p = action(
        "rotate",
        "replace a principal's access key",
        _run_rotate,
        description=(
            "Create a new key for the principal and retire the previous one: its most "
            "recent key is set Inactive (kept for rollback; --keep-previous-active leaves it "
            "Active for a grace period), older keys are deleted, so the 2-key limit never "
            "blocks a rotation. Temporary credentials are not touched."
        ),
    )
    p.add_argument("--principal", required=True, type=_principal_name)
    p.add_argument("--keep-previous-active", action="store_true")
    p.add_argument("--json", action="store_true", help="print one JSON object")

    p = action("create-session", "issue temporary ASIA credentials", _run_create_session)
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
        _run_purge_sessions,
    )

    p = action(
        "rewrap",
        "re-encrypt every secret under a new master key",
        _run_rewrap,
        description=REWRAP_HELP,
    )
    p.add_argument("--new-master-key-file", default=None, metavar="PATH")


def run(args: argparse.Namespace, streams: Streams) -> ExitCode:
    """Dispatch to the chosen ``keys`` action."""
    result: ExitCode = args.run(args, streams)
    return result


# -- plumbing ---------------------------------------------------------------


def _keygen() -> Any:
    # The validators are internals of the store (not in sigv4kit.middleware's API).
    return importlib.import_module("sigv4kit.middleware.store.keygen")


def _middleware() -> Any:
    # Imported on use: the core never imports the server half at import time
    # (and the server package is typed separately, so it is Any here).
    return importlib.import_module("sigv4kit.middleware")


def store_url(args: argparse.Namespace) -> str:
    """The store URL: ``--store``, else ``$SIGV4KIT_STORE``, else the default."""
    url: str | None = args.store or getattr(args, "keys_store", None)
    if url is None:
        url = os.environ.get(STORE_ENV) or DEFAULT_STORE_URL
    return url


@contextlib.contextmanager
def _store_log_to(streams: Streams) -> Iterator[None]:
    # The store reports (e.g. "created the master key file") through logging;
    # on the command line those belong on the command's stderr.
    logger = logging.getLogger("sigv4kit.middleware")
    handler = logging.StreamHandler(streams.stderr)
    handler.setFormatter(logging.Formatter("warning: %(message)s"))
    handler.setLevel(logging.WARNING)
    previous = logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.propagate = previous


def open_cli_store(url: str, *, create: bool = False) -> Any:
    """The store at ``url``; unless ``create``, it must exist already.

    Only `keys create` may create a store (and its key file): a typo in
    --store or ?schema= must not silently start an empty one.
    """
    mw = _middleware()
    try:
        return mw.open_store(url, create=create)
    except mw.StoreNotFoundError as exc:
        # Not the URL itself: a postgresql:// one may carry a password.
        raise CLIError(
            f"{exc}; create a key first with `sigv4kit keys create`, "
            f"or give --store / ${STORE_ENV}"
        ) from None
    except mw.StoreError as exc:
        # open_store raises the base class only for a URL it cannot use (no or
        # an unknown scheme, a malformed path or schema): a bad option value.
        if type(exc) is mw.StoreError:
            raise CLIError(str(exc), ExitCode.USAGE) from None
        raise


def _with_manager(
    args: argparse.Namespace,
    streams: Streams,
    fn: Callable[[Any], Awaitable[T]],
    *,
    create: bool = False,
) -> T:
    mw = _middleware()
    url = store_url(args)

    async def go(store: Any) -> T:
        try:
            if not isinstance(store, mw.KeyManager):
                raise CLIError(f"the store at {url} does not support key management")
            return await fn(store)
        finally:
            await store.aclose()

    with _store_log_to(streams):
        try:
            return asyncio.run(go(open_cli_store(url, create=create)))
        except OSError as exc:
            raise CLIError(f"{url}: {exc.strerror or exc}") from None
        except (SigV4Error, KeyboardInterrupt):
            raise
        except Exception as exc:  # never a traceback on the command line
            raise CLIError(f"unexpected {type(exc).__name__} from the key store: {exc}") from None


def _time(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _write_fields(streams: Streams, fields: dict[str, Any], as_json: bool) -> None:
    if as_json:
        streams.stdout.write(json.dumps(fields, indent=2) + "\n")
        return
    width = max(len(k) for k in fields)
    for key, value in fields.items():
        streams.stdout.write(f"{key.ljust(width)}  {'' if value is None else value}\n")


def _key_fields(info: Any) -> dict[str, Any]:
    return {
        "access_key_id": info.access_key_id,
        "principal": info.principal,
        "status": info.status.value,
        "type": "temporary" if info.is_temporary else "long-term",
        "created_at": _time(info.created_at),
        "expiration": _time(info.expires_at),
        "last_used_at": _time(info.last_used_at),
        "last_used_region": info.last_used_region,
        "last_used_service": info.last_used_service,
    }


# -- actions ----------------------------------------------------------------


def _run_create(args: argparse.Namespace, streams: Streams) -> ExitCode:
    mw = _middleware()
    PrincipalKind = mw.PrincipalKind

    kind = PrincipalKind.ROLE if args.role else PrincipalKind.USER

    async def go(store: Any) -> tuple[bool, Any]:
        created = False
        principal = await store.get_principal(args.principal)
        if principal is None:
            try:
                await store.create_principal(args.principal, kind=kind, root=args.root)
                created = True
            except mw.StoreError:
                # Another process created it a moment ago: use that one.
                if await store.get_principal(args.principal) is None:
                    raise
        elif (args.role and principal.kind is not PrincipalKind.ROLE) or (
            args.root and not principal.root
        ):
            raise CLIError(
                f"principal {args.principal!r} already exists as a "
                f"{'root ' if principal.root else ''}{principal.kind.value}; "
                "--role and --root only apply to a new principal"
            )
        return created, await store.create_key(args.principal)

    created, key = _with_manager(args, streams, go, create=True)
    if created:
        what = "role" if args.role else ("root user" if args.root else "user")
        streams.stderr.write(f"created principal {args.principal!r} ({what})\n")
    _write_fields(
        streams,
        {
            "access_key_id": key.access_key_id,
            "secret_access_key": key.secret_access_key,
            "principal": key.principal,
            "status": key.status.value,
            "created_at": _time(key.created_at),
        },
        args.json,
    )
    streams.stderr.write("The secret access key is shown only now: store it safely.\n")
    return ExitCode.OK


def _run_list(args: argparse.Namespace, streams: Streams) -> ExitCode:
    async def go(store: Any) -> list[Any]:
        return list(await store.list_keys(args.principal))

    keys = _with_manager(args, streams, go)
    rows = [_key_fields(k) for k in keys]
    if args.json:
        streams.stdout.write(json.dumps(rows, indent=2) + "\n")
        return ExitCode.OK
    headers = ["ACCESS KEY ID", "PRINCIPAL", "STATUS", "TYPE", "CREATED", "EXPIRES", "LAST USED"]
    table = [
        [
            r["access_key_id"],
            r["principal"],
            r["status"],
            r["type"],
            r["created_at"],
            r["expiration"] or "-",
            " ".join(
                x for x in (r["last_used_at"], r["last_used_region"], r["last_used_service"]) if x
            )
            or "never",
        ]
        for r in rows
    ]
    widths = [max(len(str(c)) for c in col) for col in zip(headers, *table, strict=False)]
    for line in [headers, *table]:
        streams.stdout.write(
            "  ".join(str(c).ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() + "\n"
        )
    return ExitCode.OK


def _run_show(args: argparse.Namespace, streams: Streams) -> ExitCode:
    async def go(store: Any) -> Any:
        return await store.get_key_info(args.access_key_id)

    info = _with_manager(args, streams, go)
    if info is None:
        raise CLIError(f"no access key {args.access_key_id} in the store")
    # _key_fields never holds a secret or session token: AccessKeyInfo has none.
    _write_fields(streams, _key_fields(info), args.json)
    return ExitCode.OK


def _status_action(args: argparse.Namespace, streams: Streams, active: bool) -> ExitCode:
    async def go(store: Any) -> Any:
        if active:
            return await store.activate_key(args.access_key_id)
        return await store.deactivate_key(args.access_key_id)

    info = _with_manager(args, streams, go)
    streams.stdout.write(f"{info.access_key_id} is now {info.status.value}\n")
    return ExitCode.OK


def _run_activate(args: argparse.Namespace, streams: Streams) -> ExitCode:
    return _status_action(args, streams, True)


def _run_deactivate(args: argparse.Namespace, streams: Streams) -> ExitCode:
    return _status_action(args, streams, False)


def _run_delete(args: argparse.Namespace, streams: Streams) -> ExitCode:
    async def go(store: Any) -> None:
        await store.delete_key(args.access_key_id)

    _with_manager(args, streams, go)
    streams.stdout.write(f"deleted {args.access_key_id}\n")
    return ExitCode.OK


def _run_rotate(args: argparse.Namespace, streams: Streams) -> ExitCode:
    async def go(store: Any) -> Any:
        return await store.rotate_key(
            args.principal, keep_previous_active=args.keep_previous_active
        )

    result = _with_manager(args, streams, go)
    key = result.new_key
    fields: dict[str, Any] = {
        "access_key_id": key.access_key_id,
        "secret_access_key": key.secret_access_key,
        "principal": key.principal,
        "status": key.status.value,
        "created_at": _time(key.created_at),
    }
    previous_status = "Active" if args.keep_previous_active else "Inactive"
    if args.json:
        fields["previous_access_key_id"] = result.kept[0] if result.kept else None
        fields["previous_status"] = previous_status if result.kept else None
        fields["deleted_access_key_ids"] = list(result.deleted)
        _write_fields(streams, fields, True)
    else:
        _write_fields(streams, fields, False)
        for kid in result.kept:
            streams.stderr.write(f"previous key {kid} is {previous_status}\n")
        for kid in result.deleted:
            streams.stderr.write(f"deleted older key {kid}\n")
    streams.stderr.write("The secret access key is shown only now: store it safely.\n")
    return ExitCode.OK


def _run_create_session(args: argparse.Namespace, streams: Streams) -> ExitCode:
    async def go(store: Any) -> Any:
        return await store.create_session(args.principal, duration_seconds=args.duration)

    creds = _with_manager(args, streams, go)
    _write_fields(
        streams,
        {
            "access_key_id": creds.access_key_id,
            "secret_access_key": creds.secret_access_key,
            "session_token": creds.session_token,
            "expiration": _time(creds.expiration),
        },
        args.json,
    )
    return ExitCode.OK


def _run_purge_sessions(args: argparse.Namespace, streams: Streams) -> ExitCode:
    async def go(store: Any) -> int:
        return int(await store.delete_expired_sessions())

    count = _with_manager(args, streams, go)
    streams.stdout.write(f"deleted {count} expired session(s)\n")
    return ExitCode.OK


def _new_master_key(args: argparse.Namespace) -> Any:
    MasterKey = _middleware().MasterKey

    if args.new_master_key_file is not None:
        return MasterKey.from_file(args.new_master_key_file)
    text = os.environ.get(NEW_MASTER_KEY_ENV)
    if text is not None:
        return MasterKey.from_base64(text, source=NEW_MASTER_KEY_ENV)
    return None


def _run_rewrap(args: argparse.Namespace, streams: Streams) -> ExitCode:
    MasterKey = _middleware().MasterKey

    new_key = _new_master_key(args)

    async def go(store: Any) -> tuple[int, Any, bool, str]:
        owns_file = bool(getattr(store, "owns_key_file", False))
        key = new_key
        if key is None:
            if not owns_file:
                raise CLIError(
                    "no new master key: give --new-master-key-file PATH or set "
                    f"{NEW_MASTER_KEY_ENV} (base64 of 32 bytes)",
                    ExitCode.USAGE,
                )
            key = MasterKey.generate()
        current = str(getattr(store, "master_key_id", ""))
        if key.key_id == current:
            raise CLIError(f"the new master key is the one already in use ({current})")
        count = await store.rewrap(key)
        return count, key, owns_file, current

    count, key, owns_file, old_id = _with_manager(args, streams, go)
    streams.stdout.write(
        f"re-encrypted {count} secret(s): master key {old_id or '?'} -> {key.key_id}\n"
    )
    if owns_file:
        streams.stdout.write("the key file beside the database now holds the new master key\n")
    else:
        streams.stderr.write(
            "now configure the new master key (SIGV4KIT_MASTER_KEY or "
            "SIGV4KIT_MASTER_KEY_FILE) everywhere this store is opened\n"
        )
    return ExitCode.OK
