"""OIDC federation: validating web-identity tokens for ``AssumeRoleWithWebIdentity``.

* :func:`validate_web_identity`: a token in, a :class:`WebIdentity` out
  (provider ARN and condition-key prefix, subject, audience, amr, claims), or
  STS's error (:class:`InvalidIdentityToken`, :class:`ExpiredTokenException`,
  :class:`IDPCommunicationError`, ...).
* :class:`JWKSCache`: the providers' keys (discovery, TTL, one refresh on a
  new ``kid``, fail closed).
* :class:`OIDCProviderStore`: IAM's ``*OpenIDConnectProvider*`` operations
  over the key store, and the registry STS asks.
* :class:`OIDCProvider`, :class:`ProviderRegistry`, :class:`StaticProviders`,
  :func:`condition_prefix`, :func:`provider_arn`, :func:`check_provider_url`.
"""

from __future__ import annotations

from ._errors import (
    ExpiredTokenException,
    IDPCommunicationError,
    IDPRejectedClaim,
    InvalidIdentityToken,
    WebIdentityError,
    WebIdentityValidationError,
)
from ._jwks import JWKSCache, JWKSSettings
from ._provider import (
    OIDCProvider,
    ProviderRegistry,
    StaticProviders,
    check_provider_url,
    condition_prefix,
    provider_arn,
)
from ._store import MAX_CLIENT_IDS, MAX_THUMBPRINTS, OIDCProviderStore
from ._validate import (
    ALGORITHMS,
    LEEWAY_SECONDS,
    MAX_TOKEN_CHARS,
    WebIdentity,
    check_claims,
    validate_web_identity,
)

__all__ = [
    "ALGORITHMS",
    "LEEWAY_SECONDS",
    "MAX_CLIENT_IDS",
    "MAX_THUMBPRINTS",
    "MAX_TOKEN_CHARS",
    "ExpiredTokenException",
    "IDPCommunicationError",
    "IDPRejectedClaim",
    "InvalidIdentityToken",
    "JWKSCache",
    "JWKSSettings",
    "OIDCProvider",
    "OIDCProviderStore",
    "ProviderRegistry",
    "StaticProviders",
    "WebIdentity",
    "WebIdentityError",
    "WebIdentityValidationError",
    "check_claims",
    "check_provider_url",
    "condition_prefix",
    "provider_arn",
    "validate_web_identity",
]
