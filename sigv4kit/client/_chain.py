"""The provider chain: botocore's resolver when installed, else environment, shared
files; ``default_credentials_provider`` builds it."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from .._exceptions import CredentialsError
from ..signing._credentials import Credentials
from ._providers import (
    CredentialsNotFoundError,
    CredentialsProvider,
    EnvironmentCredentialsProvider,
)
from ._shared_files import SharedFilesCredentialsProvider

__all__ = [
    "BotocoreCredentialsProvider",
    "ChainCredentialsProvider",
    "default_credentials_provider",
]


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
