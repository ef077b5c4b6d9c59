"""Validating a web-identity token for ``AssumeRoleWithWebIdentity``.

The checks, in order (each refusal is STS's error for it):

1. ``WebIdentityToken`` is 4 to 20,000 characters (STS API constraint);
2. it is a JWS compact serialization whose protected header names one of
   RS256/RS384/RS512/ES256/ES384/ES512 (the algorithms IAM accepts; ``none``
   and HS* are refused whatever else the header says);
3. its (not yet trusted) ``iss`` names a provider of the account;
4. its signature verifies with the provider's key of the header's ``kid``
   (:class:`~._jwks.JWKSCache`: fetched, cached, refetched once for a new kid);
5. ``iss`` equals the provider URL, ``aud`` is one of its client ids, ``sub``
   is present, ``exp`` is in the future and ``nbf``/``iat`` are not, within
   :data:`LEEWAY_SECONDS`.

Parsing and signatures are joserfc's; the time is passed in.

Imports: joserfc, :mod:`._errors`, :mod:`._provider`, :mod:`._jwks`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from joserfc import jws, jwt
from joserfc.errors import ExpiredTokenError, JoseError, MissingClaimError
from joserfc.jwk import KeySet

from ._errors import (
    ExpiredTokenException,
    InvalidIdentityToken,
    WebIdentityValidationError,
)
from ._jwks import JWKSCache
from ._provider import OIDCProvider, ProviderRegistry

__all__ = [
    "ALGORITHMS",
    "LEEWAY_SECONDS",
    "MAX_TOKEN_CHARS",
    "WebIdentity",
    "check_claims",
    "validate_web_identity",
]

#: What IAM accepts for OIDC tokens (IAM User Guide, "Create an OIDC provider").
ALGORITHMS = ("RS256", "RS384", "RS512", "ES256", "ES384", "ES512")
#: Clock skew tolerated on exp/nbf/iat: small, as RFC 7519 §4.1.4 advises.
LEEWAY_SECONDS = 60
#: STS's WebIdentityToken length constraint (botocore ``clientTokenType``: 4..20000).
MAX_TOKEN_CHARS = 20_000
MIN_TOKEN_CHARS = 4


@dataclass(frozen=True, slots=True, kw_only=True)
class WebIdentity:
    """A validated web identity: what the trust policy and the session read."""

    provider_arn: str
    #: ``host[:port]/path``: the prefix of ``<prefix>:aud``, ``:sub``, ``:amr``.
    provider_prefix: str
    issuer: str
    subject: str
    #: The client id that matched (``Audience`` in the response, ``<prefix>:aud``).
    audience: str
    amr: tuple[str, ...]
    expires_at: int
    #: Every claim (the token's payload, never the token itself).
    claims: Mapping[str, Any] = field(repr=False)

    def condition_keys(self) -> dict[str, str | list[str]]:
        """``<prefix>:aud``, ``:sub``, ``:amr`` (multivalued), ``:azp``/``:oaud`` if present."""
        p = self.provider_prefix
        keys: dict[str, str | list[str]] = {f"{p}:aud": self.audience, f"{p}:sub": self.subject}
        if self.amr:
            keys[f"{p}:amr"] = list(self.amr)
        for name in ("azp", "oaud"):
            value = self.claims.get(name)
            if isinstance(value, str):
                keys[f"{p}:{name}"] = value
        return keys


def _header_and_issuer(token: str) -> tuple[dict[str, Any], str]:
    try:
        compact = jws.extract_compact(token.encode("ascii"))
        claims = json.loads(compact.payload)
    except (JoseError, ValueError, UnicodeError, TypeError):
        raise InvalidIdentityToken("The web identity token is not a signed JWT.") from None
    header = dict(compact.headers())
    if header.get("alg") not in ALGORITHMS:
        raise InvalidIdentityToken(
            f"The web identity token's algorithm is not one of {', '.join(ALGORITHMS)}."
        )
    issuer = claims.get("iss") if isinstance(claims, dict) else None
    if not isinstance(issuer, str):
        raise InvalidIdentityToken("The web identity token has no issuer (iss).")
    return header, issuer


def _verify(token: str, keys: KeySet) -> dict[str, Any]:
    try:
        return dict(jwt.decode(token, keys, algorithms=list(ALGORITHMS)).claims)
    except JoseError:
        raise InvalidIdentityToken("The web identity token's signature is not valid.") from None


def check_claims(claims: dict[str, Any], provider: OIDCProvider, *, now: int) -> str:
    """RFC 7519 claim checks against ``provider`` at ``now``; returns the matching audience."""
    registry = jwt.JWTClaimsRegistry(
        now=now,
        leeway=LEEWAY_SECONDS,
        iss={"essential": True, "value": provider.url},
        sub={"essential": True},
        exp={"essential": True},
    )
    try:
        registry.validate(claims)
    except ExpiredTokenError:
        raise ExpiredTokenException(
            f"Token expired: current date/time {now} must be before the expiration date/time "
            f"{claims.get('exp')}"
        ) from None
    except MissingClaimError as exc:
        raise InvalidIdentityToken(f"The web identity token lacks a claim: {exc}") from None
    except JoseError as exc:
        raise InvalidIdentityToken(f"The web identity token is not valid: {exc}") from None
    aud = claims.get("aud")
    audiences = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
    for candidate in audiences:
        if isinstance(candidate, str) and candidate in provider.client_ids:
            return candidate
    raise InvalidIdentityToken("Incorrect token audience")


async def validate_web_identity(
    token: object,
    *,
    account_id: str,
    providers: ProviderRegistry,
    jwks: JWKSCache,
    now: float,
) -> WebIdentity:
    """Validate ``token`` for ``account_id`` at Unix time ``now``; see the module docstring.

    Raises :class:`WebIdentityValidationError`, :class:`InvalidIdentityToken`,
    :class:`ExpiredTokenException`, :class:`IDPCommunicationError`.
    """
    if not isinstance(token, str) or not MIN_TOKEN_CHARS <= len(token) <= MAX_TOKEN_CHARS:
        size = len(token) if isinstance(token, str) else 0
        raise WebIdentityValidationError(
            "1 validation error detected: Value at 'webIdentityToken' failed to satisfy "
            f"constraint: Member must have length between {MIN_TOKEN_CHARS} and "
            f"{MAX_TOKEN_CHARS} (got {size})"
        )
    header, issuer = _header_and_issuer(token)
    provider = await providers.find(account_id, issuer)
    if provider is None:
        raise InvalidIdentityToken(
            f"No OpenIDConnect provider found in your account for {issuer[:255]}"
        )
    kid = header.get("kid")
    keys = await jwks.keys(provider.url, kid=kid if isinstance(kid, str) else None)
    claims = _verify(token, keys)
    audience = check_claims(claims, provider, now=int(now))
    amr = claims.get("amr")
    amrs = (amr,) if isinstance(amr, str) else tuple(a for a in amr or () if isinstance(a, str))
    return WebIdentity(
        provider_arn=provider.arn,
        provider_prefix=provider.prefix,
        issuer=issuer,
        subject=str(claims["sub"]),
        audience=audience,
        amr=amrs,
        expires_at=int(claims["exp"]),
        claims=claims,
    )
