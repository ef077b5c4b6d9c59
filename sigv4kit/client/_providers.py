"""Credential providers: where the keys come from, and keeping them fresh.

A provider hands out a frozen :class:`~sigv4kit.Credentials` snapshot per
request (so a refresh can never mix an old key id with a new secret, the
mistake botocore's ``get_frozen_credentials`` exists to prevent)::

    CredentialsProvider                 resolve() / resolve_async()
     ├── StaticCredentialsProvider        fixed keys
     ├── EnvironmentCredentialsProvider   AWS_ACCESS_KEY_ID / _SECRET_ACCESS_KEY / _SESSION_TOKEN
     ├── SharedFilesCredentialsProvider   ~/.aws/credentials and ~/.aws/config, credential_process
     ├── RefreshableCredentialsProvider   a callable returning ExpiringCredentials
     ├── BotocoreCredentialsProvider      botocore's whole chain (extra ``sigv4kit[aws]``)
     └── ChainCredentialsProvider         the first provider that has credentials

:func:`default_credentials_provider` is the AWS SDKs' order: environment,
shared files (profile), then botocore's chain (SSO, web identity, assume
role, ECS, IMDS) when botocore is installed.

``resolve_async`` never blocks the event loop: file reads, processes and
refresh callables run in a worker thread (``asyncio.to_thread``), and a
refresh runs once however many threads and tasks ask at the same time.
"""

from __future__ import annotations

import abc
import asyncio
import configparser
import json
import logging
import os
import shlex
import subprocess
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from .._exceptions import CredentialsError
from ..signing._credentials import Credentials

__all__ = [
    "ADVISORY_REFRESH_WINDOW",
    "MANDATORY_REFRESH_WINDOW",
    "BotocoreCredentialsProvider",
    "ChainCredentialsProvider",
    "CredentialsNotFoundError",
    "CredentialsProvider",
    "EnvironmentCredentialsProvider",
    "ExpiringCredentials",
    "RefreshableCredentialsProvider",
    "SharedFilesCredentialsProvider",
    "StaticCredentialsProvider",
    "default_credentials_provider",
    "run_credential_process",
]

_log = logging.getLogger("sigv4kit.credentials")

#: botocore ``RefreshableCredentials._advisory_refresh_timeout``: inside this
#: window before expiry one caller refreshes while the others keep signing
#: with the current keys; a failed refresh is logged and the keys kept.
ADVISORY_REFRESH_WINDOW = timedelta(minutes=15)
#: botocore ``_mandatory_refresh_timeout``: inside this window every caller
#: waits for the refresh, and a failed refresh raises.
MANDATORY_REFRESH_WINDOW = timedelta(minutes=10)

#: A credential_process that hangs must not hang every request.
_PROCESS_TIMEOUT = 60.0


class CredentialsNotFoundError(CredentialsError):
    """The source has no credentials (a chain then tries the next one)."""


@dataclass(frozen=True, slots=True)
class ExpiringCredentials:
    """Credentials and the time they stop working (None: never)."""

    credentials: Credentials
    expires_at: datetime | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.credentials, Credentials):
            raise CredentialsError(
                f"credentials must be a Credentials, not {type(self.credentials).__name__}"
            )
        if self.expires_at is not None and (
            not isinstance(self.expires_at, datetime) or self.expires_at.tzinfo is None
        ):
            raise CredentialsError("expires_at must be a timezone-aware datetime or None")


class CredentialsProvider(abc.ABC):
    """Something that can produce credentials for the next request.

    Subclasses implement :meth:`resolve` (which may block: files, processes,
    network); :meth:`resolve_async` runs it in a worker thread unless a
    subclass knows it cannot block.

    Raises :class:`~sigv4kit.CredentialsError` (``CredentialsNotFoundError``
    when the source simply has none).
    """

    @abc.abstractmethod
    def resolve(self) -> Credentials:
        """Credentials to sign the next request with (may block)."""

    async def resolve_async(self) -> Credentials:
        """:meth:`resolve` without blocking the event loop."""
        return await asyncio.to_thread(self.resolve)

    def invalidate(self, credentials: Credentials) -> bool:
        """Forget ``credentials`` after a service called them expired.

        Returns True when the next :meth:`resolve` will fetch new ones (the
        auth then retries the request once); False for sources that cannot
        refresh, such as fixed keys.
        """
        return False


class StaticCredentialsProvider(CredentialsProvider):
    """Always the same credentials."""

    def __init__(self, credentials: Credentials) -> None:
        if not isinstance(credentials, Credentials):
            raise CredentialsError(f"expected Credentials, not {type(credentials).__name__}")
        self._credentials = credentials

    def __repr__(self) -> str:
        return f"StaticCredentialsProvider({self._credentials!r})"

    def resolve(self) -> Credentials:
        return self._credentials

    async def resolve_async(self) -> Credentials:
        return self._credentials


class EnvironmentCredentialsProvider(CredentialsProvider):
    """``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY`` and ``AWS_SESSION_TOKEN``.

    Read at every call (cheap), so a changed environment is picked up.
    ``environ`` defaults to :data:`os.environ`.
    """

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self._environ = environ

    def resolve(self) -> Credentials:
        env = os.environ if self._environ is None else self._environ
        key = env.get("AWS_ACCESS_KEY_ID", "")
        secret = env.get("AWS_SECRET_ACCESS_KEY", "")
        if not key and not secret:
            raise CredentialsNotFoundError("AWS_ACCESS_KEY_ID is not set")
        if not key or not secret:
            missing = "AWS_ACCESS_KEY_ID" if not key else "AWS_SECRET_ACCESS_KEY"
            raise CredentialsError(f"{missing} is not set while its partner is")
        token = env.get("AWS_SESSION_TOKEN") or env.get("AWS_SECURITY_TOKEN") or None
        return Credentials(key, secret, token)

    async def resolve_async(self) -> Credentials:
        return self.resolve()


def _utcnow() -> datetime:
    return datetime.now(UTC)


class RefreshableCredentialsProvider(CredentialsProvider):
    """Credentials from a callable, refreshed ahead of their expiry.

    ```python
    def fetch() -> ExpiringCredentials:
        data = my_vault.read("aws")           # blocking is fine: async callers
        return ExpiringCredentials(           # run this in a worker thread
            Credentials(data["key"], data["secret"], data["token"]),
            expires_at=data["expiration"],
        )

    auth = SigV4Auth(RefreshableCredentialsProvider(fetch), region=..., service=...)
    ```

    Within ``advisory_window`` of the expiry, one caller refreshes while the
    others carry on with the current credentials (a failure is logged and
    the old credentials kept). Within ``mandatory_window``, or when there are
    no credentials yet, everyone waits for the refresh and a failure raises
    :class:`~sigv4kit.CredentialsError`. A refresh runs once however many
    threads and asyncio tasks ask concurrently; async callers wait without
    blocking the event loop.
    """

    def __init__(
        self,
        refresh: Callable[[], ExpiringCredentials],
        *,
        advisory_window: timedelta = ADVISORY_REFRESH_WINDOW,
        mandatory_window: timedelta = MANDATORY_REFRESH_WINDOW,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        if mandatory_window > advisory_window:
            raise ValueError("mandatory_window must not be longer than advisory_window")
        self._refresh = refresh
        self._advisory = advisory_window
        self._mandatory = mandatory_window
        self._clock = clock or _utcnow
        self._lock = threading.Lock()
        self._current: ExpiringCredentials | None = None
        self._inflight: Future[Credentials] | None = None

    def __repr__(self) -> str:
        return f"RefreshableCredentialsProvider(refresh={self._refresh!r})"

    def _state(self) -> tuple[Credentials | None, bool]:
        """(credentials usable now, must wait for a refresh)."""
        current = self._current
        if current is None:
            return None, True
        if current.expires_at is None:
            return current.credentials, False
        return current.credentials, current.expires_at - self._clock() <= self._mandatory

    def _needs_advisory(self) -> bool:
        current = self._current
        if current is None or current.expires_at is None:
            return False
        return current.expires_at - self._clock() <= self._advisory

    def _begin(self) -> tuple[Future[Credentials], bool]:
        with self._lock:
            if self._inflight is not None:
                return self._inflight, False
            future: Future[Credentials] = Future()
            self._inflight = future
            return future, True

    def _run_refresh(self, future: Future[Credentials]) -> None:
        try:
            fresh = self._refresh()
            if not isinstance(fresh, ExpiringCredentials):
                raise CredentialsError(
                    "the refresh callable must return ExpiringCredentials, "
                    f"not {type(fresh).__name__}"
                )
            if fresh.expires_at is not None and fresh.expires_at - self._clock() <= timedelta(0):
                raise CredentialsError("the refreshed credentials are already expired")
        except BaseException as exc:
            with self._lock:
                self._inflight = None
            future.set_exception(exc)
            return
        with self._lock:
            self._current = fresh
            self._inflight = None
        future.set_result(fresh.credentials)

    @staticmethod
    def _translate(exc: BaseException) -> CredentialsError:
        if isinstance(exc, CredentialsError):
            return exc
        return CredentialsError(f"refreshing credentials failed: {type(exc).__name__}: {exc}")

    def _advisory_failed(self, exc: BaseException) -> None:
        _log.warning(
            "advisory credential refresh failed, keeping the current credentials: %s: %s",
            type(exc).__name__,
            exc,
        )

    def invalidate(self, credentials: Credentials) -> bool:
        with self._lock:
            # Only the credentials that failed are dropped: when many requests
            # fail at once, the first refresh serves them all.
            if self._current is not None and self._current.credentials == credentials:
                self._current = None
        return True

    def resolve(self) -> Credentials:
        credentials, must_wait = self._state()
        if not must_wait:
            assert credentials is not None
            if not self._needs_advisory():
                return credentials
            future, owner = self._begin()
            if owner:
                self._run_refresh(future)
                exc = future.exception()
                if exc is None:
                    return future.result()
                self._advisory_failed(exc)
            return credentials
        future, owner = self._begin()
        if owner:
            self._run_refresh(future)
        try:
            return future.result()
        except Exception as exc:
            raise self._translate(exc) from exc

    async def resolve_async(self) -> Credentials:
        credentials, must_wait = self._state()
        if not must_wait:
            assert credentials is not None
            if not self._needs_advisory():
                return credentials
            future, owner = self._begin()
            if owner:
                await asyncio.to_thread(self._run_refresh, future)
                exc = future.exception()
                if exc is None:
                    return future.result()
                self._advisory_failed(exc)
            return credentials
        future, owner = self._begin()
        if owner:
            await asyncio.to_thread(self._run_refresh, future)
        try:
            return await asyncio.wrap_future(future)
        except Exception as exc:
            raise self._translate(exc) from exc


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


class BotocoreCredentialsProvider(CredentialsProvider):
    """botocore's full credential chain (SSO, web identity, assume role, IMDS, ...).

    Needs the ``aws`` extra: ``pip install 'sigv4kit[aws]'``. ``session`` is a
    ``botocore.session.Session`` (one is made for ``profile`` otherwise).
    botocore's refreshes block (they call STS, SSO or IMDS), so
    :meth:`resolve_async` runs them in a worker thread; a current credential
    is read without leaving the event loop.

    Raises :class:`~sigv4kit.CredentialsError` when botocore is missing or
    finds nothing.
    """

    def __init__(self, session: Any = None, *, profile: str | None = None) -> None:
        self._session = session
        self._profile = profile
        self._lock = threading.Lock()
        self._botocore_credentials: Any = None

    def __repr__(self) -> str:
        return f"BotocoreCredentialsProvider(profile={self._profile!r})"

    def _credentials_object(self) -> Any:
        if self._botocore_credentials is not None:
            return self._botocore_credentials
        with self._lock:
            if self._botocore_credentials is None:
                session = self._session
                if session is None:
                    try:
                        import botocore.session
                    except ImportError:
                        raise CredentialsError(
                            "BotocoreCredentialsProvider needs botocore: "
                            "pip install 'sigv4kit[aws]'"
                        ) from None
                    session = botocore.session.Session(profile=self._profile)
                try:
                    found = session.get_credentials()
                except Exception as exc:
                    raise CredentialsError(
                        f"botocore's credential chain failed: {type(exc).__name__}: {exc}"
                    ) from exc
                if found is None:
                    raise CredentialsNotFoundError("botocore's credential chain found nothing")
                self._botocore_credentials = found
            return self._botocore_credentials

    @staticmethod
    def _freeze(found: Any) -> Credentials:
        try:
            frozen = found.get_frozen_credentials()
        except Exception as exc:
            raise CredentialsError(
                f"botocore could not refresh credentials: {type(exc).__name__}: {exc}"
            ) from exc
        return Credentials(frozen.access_key, frozen.secret_key, frozen.token or None)

    def resolve(self) -> Credentials:
        return self._freeze(self._credentials_object())

    async def resolve_async(self) -> Credentials:
        found = self._botocore_credentials
        if found is None:
            return await asyncio.to_thread(self.resolve)
        refresh_needed = getattr(found, "refresh_needed", None)
        if callable(refresh_needed) and refresh_needed():
            return await asyncio.to_thread(self._freeze, found)
        return self._freeze(found)


class ChainCredentialsProvider(CredentialsProvider):
    """The first provider that has credentials; remembered once found.

    A provider that raises :class:`CredentialsNotFoundError` is skipped;
    any other :class:`~sigv4kit.CredentialsError` (a malformed file, a
    failing credential_process) stops the chain, as in the AWS SDKs.
    """

    def __init__(self, providers: Sequence[CredentialsProvider]) -> None:
        if not providers:
            raise ValueError("a chain needs at least one provider")
        self._providers = tuple(providers)
        self._found: CredentialsProvider | None = None

    def __repr__(self) -> str:
        return f"ChainCredentialsProvider({list(self._providers)!r})"

    def _not_found(self, reasons: list[str]) -> CredentialsNotFoundError:
        return CredentialsNotFoundError("no credentials found; tried: " + "; ".join(reasons))

    def invalidate(self, credentials: Credentials) -> bool:
        found = self._found
        return found.invalidate(credentials) if found is not None else False

    def resolve(self) -> Credentials:
        if self._found is not None:
            return self._found.resolve()
        reasons = []
        for provider in self._providers:
            try:
                credentials = provider.resolve()
            except CredentialsNotFoundError as exc:
                reasons.append(f"{type(provider).__name__}: {exc}")
                continue
            self._found = provider
            return credentials
        raise self._not_found(reasons)

    async def resolve_async(self) -> Credentials:
        if self._found is not None:
            return await self._found.resolve_async()
        reasons = []
        for provider in self._providers:
            try:
                credentials = await provider.resolve_async()
            except CredentialsNotFoundError as exc:
                reasons.append(f"{type(provider).__name__}: {exc}")
                continue
            self._found = provider
            return credentials
        raise self._not_found(reasons)


def _botocore_available() -> bool:
    try:
        import botocore.session  # noqa: F401
    except ImportError:
        return False
    return True


def default_credentials_provider(
    profile: str | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    use_botocore: bool = True,
) -> ChainCredentialsProvider:
    """The AWS SDKs' default chain: environment, shared files, then botocore's chain.

    An explicit ``profile`` skips the environment keys (botocore does the
    same). botocore joins the chain only when installed (``sigv4kit[aws]``)
    and ``use_botocore`` is true.
    """
    providers: list[CredentialsProvider] = []
    if profile is None:
        providers.append(EnvironmentCredentialsProvider(environ))
    providers.append(SharedFilesCredentialsProvider(profile, environ=environ))
    if use_botocore and _botocore_available():
        providers.append(BotocoreCredentialsProvider(profile=profile))
    return ChainCredentialsProvider(providers)
