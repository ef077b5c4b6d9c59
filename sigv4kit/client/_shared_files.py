"""Credentials from the shared AWS files (``~/.aws/credentials``, ``~/.aws/config``)
and from a ``credential_process``."""

from __future__ import annotations

import asyncio
import configparser
import json
import os
import shlex
import subprocess
import threading
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .._exceptions import CredentialsError
from ..signing._credentials import Credentials
from ._providers import (
    CredentialsNotFoundError,
    CredentialsProvider,
    ExpiringCredentials,
    RefreshableCredentialsProvider,
    StaticCredentialsProvider,
)

__all__ = [
    "SharedFilesCredentialsProvider",
    "run_credential_process",
]


#: A credential_process that hangs must not hang every request.
_PROCESS_TIMEOUT = 60.0


def _parse_expiration(value: object, source: str) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise CredentialsError(f"{source}: Expiration must be an ISO 8601 string")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise CredentialsError(f"{source}: Expiration {value!r} is not ISO 8601") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def run_credential_process(
    command: str, *, timeout: float = _PROCESS_TIMEOUT
) -> ExpiringCredentials:
    """Run a ``credential_process`` command and parse its JSON (Version 1).

    The command is split like a POSIX shell would (no shell is started).
    Output: ``{"Version": 1, "AccessKeyId", "SecretAccessKey", "SessionToken",
    "Expiration"}``; the last two are optional.

    Raises :class:`~sigv4kit.CredentialsError` when the command fails, times
    out or prints something else. Its output (the secrets) is never quoted.
    """
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        raise CredentialsError(f"credential_process is not a valid command line: {exc}") from None
    if not argv:
        raise CredentialsError("credential_process is empty")
    try:
        done = subprocess.run(  # noqa: S603 - the user configured this command
            argv, capture_output=True, timeout=timeout, check=False
        )
    except FileNotFoundError:
        raise CredentialsError(f"credential_process {argv[0]!r} not found") from None
    except subprocess.TimeoutExpired:
        raise CredentialsError(f"credential_process timed out after {timeout:g} s") from None
    except OSError as exc:
        raise CredentialsError(f"credential_process could not start: {exc}") from None
    if done.returncode != 0:
        stderr = done.stderr.decode("utf-8", "replace").strip()[:500]
        raise CredentialsError(f"credential_process exited with status {done.returncode}: {stderr}")
    try:
        data: Any = json.loads(done.stdout)
    except ValueError:
        raise CredentialsError("credential_process did not print JSON") from None
    if not isinstance(data, dict):
        raise CredentialsError("credential_process did not print a JSON object")
    if data.get("Version") != 1:
        raise CredentialsError(
            f"credential_process printed Version {data.get('Version')!r}; only 1 is supported"
        )
    key, secret = data.get("AccessKeyId"), data.get("SecretAccessKey")
    if not isinstance(key, str) or not isinstance(secret, str) or not key or not secret:
        raise CredentialsError("credential_process output lacks AccessKeyId or SecretAccessKey")
    token = data.get("SessionToken")
    if token is not None and not isinstance(token, str):
        raise CredentialsError("credential_process SessionToken must be a string")
    return ExpiringCredentials(
        Credentials(key, secret, token or None),
        _parse_expiration(data.get("Expiration"), "credential_process"),
    )


def _read_ini(path: Path) -> configparser.RawConfigParser | None:
    parser = configparser.RawConfigParser()
    try:
        with path.open(encoding="utf-8") as handle:
            parser.read_file(handle)
    except FileNotFoundError:
        return None
    except (OSError, configparser.Error, UnicodeDecodeError) as exc:
        raise CredentialsError(f"cannot read {path}: {exc}") from None
    return parser


class SharedFilesCredentialsProvider(CredentialsProvider):
    """A profile of the shared ``credentials`` and ``config`` files.

    Paths come from ``AWS_SHARED_CREDENTIALS_FILE`` / ``AWS_CONFIG_FILE``
    (default ``~/.aws/credentials`` / ``~/.aws/config``), the profile from
    ``profile``, else ``AWS_PROFILE``, else ``default``. In the config file a
    profile is ``[profile name]`` (``[default]`` stays bare). Sources in
    botocore's order: static keys in the credentials file, then
    ``credential_process`` (either file), then static keys in the config
    file. Process credentials with an ``Expiration`` are refreshed ahead of
    it like :class:`RefreshableCredentialsProvider`.

    Files are read once, on first use.
    """

    def __init__(
        self,
        profile: str | None = None,
        *,
        credentials_file: str | os.PathLike[str] | None = None,
        config_file: str | os.PathLike[str] | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        env = os.environ if environ is None else environ
        self.profile = (
            profile or env.get("AWS_PROFILE") or env.get("AWS_DEFAULT_PROFILE") or "default"
        )
        self.credentials_file = Path(
            credentials_file or env.get("AWS_SHARED_CREDENTIALS_FILE") or "~/.aws/credentials"
        ).expanduser()
        self.config_file = Path(
            config_file or env.get("AWS_CONFIG_FILE") or "~/.aws/config"
        ).expanduser()
        self._lock = threading.Lock()
        self._loaded: CredentialsProvider | None = None

    def __repr__(self) -> str:
        return f"SharedFilesCredentialsProvider(profile={self.profile!r})"

    def _section(
        self, parser: configparser.RawConfigParser | None, names: Sequence[str]
    ) -> dict[str, str]:
        if parser is None:
            return {}
        for name in names:
            if parser.has_section(name):
                return {k.lower(): v.strip() for k, v in parser.items(name)}
        return {}

    def _load(self) -> CredentialsProvider:
        creds_section = self._section(_read_ini(self.credentials_file), [self.profile])
        config_names = (
            ["default", "profile default"]
            if self.profile == "default"
            else [f"profile {self.profile}"]
        )
        config_section = self._section(_read_ini(self.config_file), config_names)
        where = f"profile {self.profile!r}"
        static = _static_from(creds_section, f"{where} in {self.credentials_file}")
        if static is not None:
            return StaticCredentialsProvider(static)
        command = creds_section.get("credential_process") or config_section.get(
            "credential_process"
        )
        if command:
            first = run_credential_process(command)
            if first.expires_at is None:
                return StaticCredentialsProvider(first.credentials)
            provider = RefreshableCredentialsProvider(lambda: run_credential_process(command))
            provider._current = first  # already fetched: no second run before it ages
            return provider
        static = _static_from(config_section, f"{where} in {self.config_file}")
        if static is not None:
            return StaticCredentialsProvider(static)
        raise CredentialsNotFoundError(
            f"{where} has no credentials in {self.credentials_file} or {self.config_file}"
        )

    def _provider(self) -> CredentialsProvider:
        loaded = self._loaded
        if loaded is None:
            with self._lock:
                if self._loaded is None:
                    self._loaded = self._load()
                loaded = self._loaded
        return loaded

    def resolve(self) -> Credentials:
        return self._provider().resolve()

    def invalidate(self, credentials: Credentials) -> bool:
        loaded = self._loaded
        return loaded.invalidate(credentials) if loaded is not None else False

    async def resolve_async(self) -> Credentials:
        loaded = self._loaded
        if loaded is None:
            loaded = await asyncio.to_thread(self._provider)
        return await loaded.resolve_async()


def _static_from(section: Mapping[str, str], where: str) -> Credentials | None:
    key = section.get("aws_access_key_id")
    secret = section.get("aws_secret_access_key")
    if not key and not secret:
        return None
    if not key or not secret:
        raise CredentialsError(f"{where} has only one of aws_access_key_id / aws_secret_access_key")
    token = section.get("aws_session_token") or section.get("aws_security_token") or None
    return Credentials(key, secret, token)
