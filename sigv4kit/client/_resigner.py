"""Re-signing per attempt: one operation's attempts, each signed at a fresh time.

Imports: httpx, the signing core, :mod:`._httpx`, :mod:`._providers` (the
auth that constructs a resigner is only described, by :class:`_Auth`).
"""

from __future__ import annotations

from typing import Protocol

import httpx

from ..signing._credentials import Credentials
from ..signing._signer import SigningResult
from ._httpx import (
    DEFAULT_MAX_ATTEMPTS,
    INVOCATION_ID_HEADER,
    SDK_REQUEST_HEADER,
    _sdk_request_value,
)
from ._providers import CredentialsProvider

__all__ = ["Resigner"]

_INVOCATION_ID_NAME = INVOCATION_ID_HEADER.encode("ascii")
_SDK_REQUEST_NAME = SDK_REQUEST_HEADER.encode("ascii")


class _Auth(Protocol):
    """What a resigner needs of its :class:`~sigv4kit.SigV4Auth`."""

    provider: CredentialsProvider

    def _sign_with(
        self,
        request: httpx.Request,
        credentials: Credentials,
        payload_hash: str | None,
        sdk_headers: tuple[tuple[bytes, bytes], ...],
    ) -> SigningResult: ...


class Resigner:
    """One operation's attempts: signs each at a fresh time with current credentials.

    :class:`SigV4Auth` stores one in ``request.extensions[RESIGN_EXTENSION]``;
    a transport that resends the request (a retry) calls it first, so no
    attempt reuses an old ``X-Amz-Date`` or signature. Call it in sync code,
    ``await resigner.async_resign(request)`` in async code (a credential
    refresh then runs off the event loop).

    Every attempt signs :data:`INVOCATION_ID_HEADER` (``invocation_id``, the
    same for the whole operation) and :data:`SDK_REQUEST_HEADER`
    (``attempt=N; max=M``), so each attempt has its own signature even within
    one second. ``max_attempts`` is what a retrying transport allows;
    :meth:`set_max_attempts` re-signs the current attempt with another one.
    """

    __slots__ = ("_auth", "_invocation_id", "_payload_hash", "attempt", "max_attempts")

    def __init__(
        self,
        auth: _Auth,
        payload_hash: str | None,
        *,
        invocation_id: str,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    ) -> None:
        self._auth = auth
        self._payload_hash = payload_hash
        self._invocation_id = invocation_id.encode("utf-8")  # as it is sent
        self.max_attempts = max_attempts
        #: Attempts signed so far (the one on the wire is number ``attempt``).
        self.attempt = 0

    @property
    def invocation_id(self) -> str:
        """The operation's ``amz-sdk-invocation-id``, the same on every attempt."""
        return self._invocation_id.decode("utf-8")

    def _sign(self, request: httpx.Request, credentials: Credentials) -> SigningResult:
        sdk_headers = (
            (_INVOCATION_ID_NAME, self._invocation_id),
            (_SDK_REQUEST_NAME, _sdk_request_value(self.attempt, self.max_attempts)),
        )
        return self._auth._sign_with(request, credentials, self._payload_hash, sdk_headers)

    def sign_next(self, request: httpx.Request, credentials: Credentials) -> SigningResult:
        """Sign the next attempt with ``credentials``."""
        self.attempt += 1
        return self._sign(request, credentials)

    def __call__(self, request: httpx.Request) -> SigningResult:
        return self.sign_next(request, self._auth.provider.resolve())

    async def async_resign(self, request: httpx.Request) -> SigningResult:
        return self.sign_next(request, await self._auth.provider.resolve_async())

    def set_max_attempts(self, request: httpx.Request, max_attempts: int) -> None:
        """State another ``max`` (a transport's); re-signs the current attempt."""
        if max_attempts != self.max_attempts:
            self.max_attempts = max_attempts
            self._sign(request, self._auth.provider.resolve())

    async def async_set_max_attempts(self, request: httpx.Request, max_attempts: int) -> None:
        """:meth:`set_max_attempts` for async code."""
        if max_attempts != self.max_attempts:
            self.max_attempts = max_attempts
            self._sign(request, await self._auth.provider.resolve_async())
