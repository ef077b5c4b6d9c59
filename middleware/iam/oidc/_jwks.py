"""The providers' signing keys: discovery, JWKS fetch, a TTL cache, one refresh per unknown kid.

``<issuer>/.well-known/openid-configuration`` names ``jwks_uri`` (OpenID
Connect Discovery 1.0 §4); the key set there is fetched with httpx, kept for
:attr:`JWKSSettings.ttl`, and fetched again early at most once per
:attr:`JWKSSettings.min_refresh_interval` when a token names a ``kid`` the
cached set lacks (the provider rotated its keys). Every failure to fetch or
parse (unreachable, non-200, not JSON, too large, an issuer mismatch, no
usable key) raises :class:`IDPCommunicationError`: no keys, no tokens.

Only RSA and EC keys are kept; a symmetric (``oct``) key in a public key set
is a misconfiguration, and using it would let anyone holding the JWKS sign.

Imports: httpx, joserfc, :mod:`._errors`, :mod:`._provider`.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from ._errors import IDPCommunicationError
from ._provider import check_provider_url

__all__ = ["JWKSCache", "JWKSSettings"]

_KEY_TYPES = frozenset({"RSA", "EC"})


@dataclass(frozen=True, slots=True, kw_only=True)
class JWKSSettings:
    """How provider keys are fetched and kept."""

    #: How long a fetched key set is used before it is fetched again.
    ttl: float = 3600.0
    #: An unknown ``kid`` refetches early at most this often per provider, so
    #: tokens with made-up kids cannot make us hammer the provider.
    min_refresh_interval: float = 60.0
    #: Per request (connect, read): a slow provider fails closed, it does not hang STS.
    timeout: float = 5.0
    #: Discovery documents and key sets larger than this are refused.
    max_bytes: int = 256 * 1024


@dataclass(slots=True)
class _Entry:
    keys: KeySet
    fetched_at: float


class JWKSCache:
    """Provider key sets by issuer URL, fetched on demand (see the module docstring).

    ```python
    cache = JWKSCache(httpx.AsyncClient())
    keys = await cache.keys("https://issuer.example", kid="abc")
    ```
    """

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        settings: JWKSSettings | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._settings = settings or JWKSSettings()
        self._clock = clock
        self._entries: dict[str, _Entry] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        #: Fetches made (discovery + key set count as one), for tests and metrics.
        self.fetches = 0

    async def keys(self, issuer: str, *, kid: str | None) -> KeySet:
        """The issuer's key set, fresh within the TTL, refetched once for an unknown ``kid``.

        Raises :class:`IDPCommunicationError` when it cannot be fetched.
        """
        lock = self._locks.setdefault(issuer, asyncio.Lock())
        async with lock:
            entry = self._entries.get(issuer)
            now = self._clock()
            if entry is not None and now - entry.fetched_at < self._settings.ttl:
                known = kid is None or any(k.kid == kid for k in entry.keys.keys)
                recent = now - entry.fetched_at < self._settings.min_refresh_interval
                if known or recent:
                    return entry.keys
            keys = await self._fetch(issuer)
            self._entries[issuer] = _Entry(keys, self._clock())
            return keys

    async def _get_json(self, url: str, what: str) -> dict[str, Any]:
        limit = self._settings.max_bytes
        try:
            async with self._client.stream(
                "GET", url, timeout=self._settings.timeout, follow_redirects=False
            ) as response:
                if response.status_code != 200:
                    raise IDPCommunicationError(
                        f"Couldn't retrieve verification key from your identity provider "
                        f"({what} answered HTTP {response.status_code})."
                    )
                body = b""
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > limit:
                        raise IDPCommunicationError(
                            f"The identity provider's {what} is larger than {limit} bytes."
                        )
        except httpx.HTTPError as exc:
            raise IDPCommunicationError(
                f"Couldn't retrieve verification key from your identity provider ({what}: "
                f"{type(exc).__name__})."
            ) from None
        try:
            document = json.loads(body)
        except ValueError:
            document = None
        if not isinstance(document, dict):
            raise IDPCommunicationError(f"The identity provider's {what} is not a JSON object.")
        return document

    async def _fetch(self, issuer: str) -> KeySet:
        self.fetches += 1
        discovery = await self._get_json(
            issuer.rstrip("/") + "/.well-known/openid-configuration", "discovery document"
        )
        if discovery.get("issuer") != issuer:
            raise IDPCommunicationError(
                "The identity provider's discovery document names another issuer."
            )
        jwks_uri = discovery.get("jwks_uri")
        if not isinstance(jwks_uri, str):
            raise IDPCommunicationError(
                "The identity provider's discovery document has no jwks_uri."
            )
        try:
            check_provider_url(jwks_uri.split("?", 1)[0])
        except Exception:
            raise IDPCommunicationError(
                "The identity provider's jwks_uri must be an https:// URL."
            ) from None
        document = await self._get_json(jwks_uri, "key set")
        raw = document.get("keys")
        if not isinstance(raw, list):
            raise IDPCommunicationError("The identity provider's key set has no keys.")
        usable = [k for k in raw if isinstance(k, dict) and k.get("kty") in _KEY_TYPES]
        try:
            return KeySet.import_key_set({"keys": usable})
        except (JoseError, ValueError, TypeError):
            raise IDPCommunicationError(
                "The identity provider's key set holds no usable RSA or EC key."
            ) from None
