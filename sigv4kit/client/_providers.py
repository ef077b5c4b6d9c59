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
import logging
import os
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from .._exceptions import CredentialsError
from ..signing._credentials import Credentials

__all__ = [
    "ADVISORY_REFRESH_WINDOW",
    "MANDATORY_REFRESH_WINDOW",
    "CredentialsNotFoundError",
    "CredentialsProvider",
    "EnvironmentCredentialsProvider",
    "ExpiringCredentials",
    "RefreshableCredentialsProvider",
    "StaticCredentialsProvider",
]

_log = logging.getLogger("sigv4kit.credentials")

#: botocore ``RefreshableCredentials._advisory_refresh_timeout``: inside this
#: window before expiry one caller refreshes while the others keep signing
#: with the current keys; a failed refresh is logged and the keys kept.
ADVISORY_REFRESH_WINDOW = timedelta(minutes=15)
#: botocore ``_mandatory_refresh_timeout``: inside this window every caller
#: waits for the refresh, and a failed refresh raises.
MANDATORY_REFRESH_WINDOW = timedelta(minutes=10)


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


