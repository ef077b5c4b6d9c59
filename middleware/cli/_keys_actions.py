"""The actions of ``sigv4kit keys``: each opens the store, does one thing, prints the result."""

from __future__ import annotations

import argparse
import json
import os
from datetime import UTC, datetime
from typing import Any

from sigv4kit.cli import CLIError, ExitCode, Streams

from .. import AccessKeyInfo, KeyManager, MasterKey, PrincipalKind, StoreError
from ..iam._cli_root_keys import refuse_root_key, root_key_warning, root_session_warning
from ..store.entities import DEFAULT_ACCOUNT_ID
from ._store import with_manager

__all__ = [
    "NEW_MASTER_KEY_ENV",
    "run_activate",
    "run_create",
    "run_create_session",
    "run_deactivate",
    "run_delete",
    "run_list",
    "run_purge_sessions",
    "run_rewrap",
    "run_rotate",
    "run_show",
]

NEW_MASTER_KEY_ENV = "SIGV4KIT_NEW_MASTER_KEY"


def run_create(args: argparse.Namespace, streams: Streams) -> ExitCode:
    kind = PrincipalKind.ROLE if args.role else PrincipalKind.USER
    # A root user's key cannot be limited by any policy: refused before the
    # store is opened unless the flag says the operator knows (issue 16).
    if args.root and not args.root_keys_unsafe:
        raise refuse_root_key()

    async def go(store: KeyManager) -> tuple[bool, bool, Any]:
        created = False
        principal = await store.get_principal(args.principal)
        if principal is not None and principal.root and not args.root_keys_unsafe:
            raise refuse_root_key()
        if principal is None:
            try:
                await store.create_principal(args.principal, kind=kind, root=args.root)
                created = True
            except StoreError:
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
        root = args.root if principal is None else principal.root
        return created, root, await store.create_key(args.principal)

    created, root, key = with_manager(args, streams, go, create=True)
    if root:
        streams.stderr.write(root_key_warning(DEFAULT_ACCOUNT_ID))
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


def run_list(args: argparse.Namespace, streams: Streams) -> ExitCode:
    async def go(store: KeyManager) -> list[Any]:
        return list(await store.list_keys(args.principal))

    keys = with_manager(args, streams, go)
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


def run_show(args: argparse.Namespace, streams: Streams) -> ExitCode:
    async def go(store: KeyManager) -> Any:
        return await store.get_key_info(args.access_key_id)

    info = with_manager(args, streams, go)
    if info is None:
        raise CLIError(f"no access key {args.access_key_id} in the store")
    # _key_fields never holds a secret or session token: AccessKeyInfo has none.
    _write_fields(streams, _key_fields(info), args.json)
    return ExitCode.OK


def _status_action(args: argparse.Namespace, streams: Streams, active: bool) -> ExitCode:
    async def go(store: KeyManager) -> Any:
        if active:
            return await store.activate_key(args.access_key_id)
        return await store.deactivate_key(args.access_key_id)

    info = with_manager(args, streams, go)
    streams.stdout.write(f"{info.access_key_id} is now {info.status.value}\n")
    return ExitCode.OK


def run_activate(args: argparse.Namespace, streams: Streams) -> ExitCode:
    return _status_action(args, streams, True)


def run_deactivate(args: argparse.Namespace, streams: Streams) -> ExitCode:
    return _status_action(args, streams, False)


def run_delete(args: argparse.Namespace, streams: Streams) -> ExitCode:
    async def go(store: KeyManager) -> None:
        await store.delete_key(args.access_key_id)

    with_manager(args, streams, go)
    streams.stdout.write(f"deleted {args.access_key_id}\n")
    return ExitCode.OK


def run_rotate(args: argparse.Namespace, streams: Streams) -> ExitCode:
    async def go(store: KeyManager) -> tuple[bool, Any]:
        principal = await store.get_principal(args.principal)
        root = principal is not None and principal.root
        if root and not args.root_keys_unsafe:
            raise refuse_root_key()
        return root, await store.rotate_key(
            args.principal, keep_previous_active=args.keep_previous_active
        )

    root, result = with_manager(args, streams, go)
    if root:
        streams.stderr.write(root_key_warning(DEFAULT_ACCOUNT_ID))
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


def run_create_session(args: argparse.Namespace, streams: Streams) -> ExitCode:
    async def go(store: KeyManager) -> tuple[bool, Any]:
        principal = await store.get_principal(args.principal)
        root = principal is not None and principal.root
        return root, await store.create_session(args.principal, duration_seconds=args.duration)

    root, creds = with_manager(args, streams, go)
    if root:
        streams.stderr.write(root_session_warning(DEFAULT_ACCOUNT_ID))
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


def run_purge_sessions(args: argparse.Namespace, streams: Streams) -> ExitCode:
    async def go(store: KeyManager) -> int:
        return int(await store.delete_expired_sessions())

    count = with_manager(args, streams, go)
    streams.stdout.write(f"deleted {count} expired session(s)\n")
    return ExitCode.OK


def _new_master_key(args: argparse.Namespace) -> MasterKey | None:
    if args.new_master_key_file is not None:
        return MasterKey.from_file(args.new_master_key_file)
    text = os.environ.get(NEW_MASTER_KEY_ENV)
    if text is not None:
        return MasterKey.from_base64(text, source=NEW_MASTER_KEY_ENV)
    return None


def run_rewrap(args: argparse.Namespace, streams: Streams) -> ExitCode:
    new_key = _new_master_key(args)

    async def go(store: KeyManager) -> tuple[int, Any, bool, str]:
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

    count, key, owns_file, old_id = with_manager(args, streams, go)
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


def _key_fields(info: AccessKeyInfo) -> dict[str, Any]:
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
