"""OIDC identity providers: their URL rules, ARNs, condition-key prefixes and registry.

IAM's OIDC provider URL "must begin with https://" and is case-sensitive;
sigv4kit also accepts ``http://`` on a loopback address (local development
and tests). The provider's ARN and its condition keys use the URL without
the scheme: ``arn:aws:iam::ACCOUNT:oidc-provider/token.actions.githubusercontent.com``
and ``token.actions.githubusercontent.com:aud`` (IAM User Guide, "Available
keys for AWS OIDC federation"); for a loopback provider the prefix is
``127.0.0.1:PORT`` (plus any path).

The registry is what ``AssumeRoleWithWebIdentity`` asks: "is there a provider
for this issuer in this account, and what are its client ids?". It is a
protocol, so the IAM API's ``CreateOpenIDConnectProvider`` can back it with
the store; :class:`StaticProviders` keeps providers in memory.

Imports: the standard library.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import urlsplit

from ._errors import IDPRejectedClaim

__all__ = [
    "OIDCProvider",
    "ProviderRegistry",
    "StaticProviders",
    "check_provider_url",
    "condition_prefix",
    "provider_arn",
]


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_provider_url(url: str) -> str:
    """``url`` if it can be an OIDC provider: ``https://host[/path]``, or ``http://`` on loopback.

    No query, fragment or credentials; a port only on loopback (IAM's URLs
    have none). Raises :class:`IDPRejectedClaim` naming what is wrong.
    """
    if not isinstance(url, str) or not 1 <= len(url) <= 255:
        raise IDPRejectedClaim("The provider URL must be 1 to 255 characters.")
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.query or parts.fragment or parts.username or parts.password or not host:
        raise IDPRejectedClaim(f"The provider URL {url} is not a valid OIDC issuer URL.")
    loopback = _is_loopback(host)
    if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
        raise IDPRejectedClaim(f"The provider URL {url} must begin with https://")
    try:
        port = parts.port
    except ValueError:
        raise IDPRejectedClaim(f"The provider URL {url} has an invalid port.") from None
    if port is not None and not loopback:
        raise IDPRejectedClaim(f"The provider URL {url} must not name a port.")
    return url


def condition_prefix(url: str) -> str:
    """The provider's name in ARNs and condition keys: the URL without scheme and final ``/``.

    ``https://oidc.eks.us-west-2.amazonaws.com/id/EX`` gives
    ``oidc.eks.us-west-2.amazonaws.com/id/EX``; ``http://127.0.0.1:8080``
    gives ``127.0.0.1:8080``.
    """
    parts = urlsplit(check_provider_url(url))
    return (parts.netloc + parts.path).rstrip("/")


def provider_arn(account_id: str, url: str) -> str:
    """``arn:aws:iam::ACCOUNT:oidc-provider/<condition prefix>``."""
    return f"arn:aws:iam::{account_id}:oidc-provider/{condition_prefix(url)}"


@dataclass(frozen=True, slots=True, kw_only=True)
class OIDCProvider:
    """An IAM OIDC provider: the issuer URL, its audiences (client ids) and thumbprints."""

    account_id: str
    url: str
    client_ids: tuple[str, ...]
    #: SHA-1 thumbprints of the issuer's certificate chain (IAM keeps them;
    #: a TLS-verified fetch through the system's CA store is what sigv4kit checks).
    thumbprints: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        check_provider_url(self.url)

    @property
    def arn(self) -> str:
        return provider_arn(self.account_id, self.url)

    @property
    def prefix(self) -> str:
        return condition_prefix(self.url)


class ProviderRegistry(Protocol):
    """Where ``AssumeRoleWithWebIdentity`` finds the provider of a token's issuer."""

    async def find(self, account_id: str, issuer: str) -> OIDCProvider | None:
        """The account's provider whose URL is exactly ``issuer``, else None."""


class StaticProviders:
    """An in-memory :class:`ProviderRegistry` (tests, or providers from configuration)."""

    def __init__(self, providers: Iterable[OIDCProvider] = ()) -> None:
        self._by_key = {(p.account_id, p.url): p for p in providers}

    def add(self, provider: OIDCProvider) -> None:
        self._by_key[(provider.account_id, provider.url)] = provider

    async def find(self, account_id: str, issuer: str) -> OIDCProvider | None:
        return self._by_key.get((account_id, issuer))
