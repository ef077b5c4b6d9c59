"""Web-identity tokens against a real local OIDC issuer (uvicorn): accepted and refused."""

from __future__ import annotations

import base64
import hashlib
import hmac
import importlib
import json
import pkgutil
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from _oidc_issuer import Issuer, running_issuer
from cryptography.hazmat.primitives import serialization
from joserfc.jwk import RSAKey
from sigv4kit.middleware.iam import oidc
from sigv4kit.middleware.iam.oidc import (
    ExpiredTokenException,
    IDPCommunicationError,
    IDPRejectedClaim,
    InvalidIdentityToken,
    JWKSCache,
    JWKSSettings,
    OIDCProvider,
    StaticProviders,
    WebIdentityValidationError,
    check_provider_url,
    condition_prefix,
    provider_arn,
    validate_web_identity,
)

ACCT = "123456789012"
NOW = 1_800_000_000
CLIENT = "sts.amazonaws.com"


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def issuer() -> Iterator[Issuer]:
    with running_issuer() as running:
        yield running


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def jwks(clock: Clock) -> AsyncIterator[JWKSCache]:
    async with httpx.AsyncClient() as client:
        yield JWKSCache(
            client, settings=JWKSSettings(ttl=600, min_refresh_interval=60), clock=clock
        )


def _claims(issuer: Issuer, **over: Any) -> dict[str, Any]:
    claims = {
        "iss": issuer.url,
        "sub": "repo:octo/app:ref:refs/heads/main",
        "aud": CLIENT,
        "iat": NOW - 10,
        "nbf": NOW - 10,
        "exp": NOW + 300,
        "amr": ["pwd", "mfa"],
    }
    claims.update(over)
    return {k: v for k, v in claims.items() if v is not None}


async def _validate(token: object, issuer: Issuer, jwks: JWKSCache, now: float = NOW) -> Any:
    providers = StaticProviders(
        [OIDCProvider(account_id=ACCT, url=issuer.url, client_ids=(CLIENT, "other-app"))]
    )
    return await validate_web_identity(
        token, account_id=ACCT, providers=providers, jwks=jwks, now=now
    )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _segments(header: dict[str, Any], claims: dict[str, Any]) -> str:
    return _b64(json.dumps(header).encode()) + "." + _b64(json.dumps(claims).encode())


@pytest.mark.parametrize(
    ("kid", "alg"),
    [
        ("rsa-1", "RS256"),
        ("rsa-1", "RS384"),
        ("rsa-1", "RS512"),
        ("ec-1", "ES256"),
        ("ec-384", "ES384"),
        ("ec-521", "ES512"),
    ],
)
async def test_valid_tokens_are_accepted(
    issuer: Issuer, jwks: JWKSCache, kid: str, alg: str
) -> None:
    token = issuer.token(_claims(issuer), kid=kid, alg=alg)
    identity = await _validate(token, issuer, jwks)
    port = issuer.url.rsplit(":", 1)[1]
    assert identity.provider_prefix == f"127.0.0.1:{port}"
    assert identity.provider_arn == f"arn:aws:iam::{ACCT}:oidc-provider/127.0.0.1:{port}"
    assert identity.subject == "repo:octo/app:ref:refs/heads/main"
    assert identity.audience == CLIENT
    assert identity.amr == ("pwd", "mfa")
    assert identity.expires_at == NOW + 300
    assert identity.condition_keys() == {
        f"127.0.0.1:{port}:aud": CLIENT,
        f"127.0.0.1:{port}:sub": "repo:octo/app:ref:refs/heads/main",
        f"127.0.0.1:{port}:amr": ["pwd", "mfa"],
    }
    assert token not in repr(identity)


async def test_audience_list_and_leeway(issuer: Issuer, jwks: JWKSCache) -> None:
    token = issuer.token(_claims(issuer, aud=["someone-else", "other-app"]))
    assert (await _validate(token, issuer, jwks)).audience == "other-app"
    # Expired 30 s ago, issued 30 s ahead: inside the 60 s leeway.
    token = issuer.token(_claims(issuer, exp=NOW - 30, iat=NOW + 30, nbf=NOW + 30))
    assert (await _validate(token, issuer, jwks)).subject


async def _refused(token: object, issuer: Issuer, jwks: JWKSCache, error: type[Exception]) -> Any:
    with pytest.raises(error) as caught:
        await _validate(token, issuer, jwks)
    assert type(caught.value) is error
    if isinstance(token, str) and len(token) > 8:
        assert token not in str(caught.value)
        assert token not in repr(caught.value)
    return caught.value


async def test_another_key_is_refused(issuer: Issuer, jwks: JWKSCache) -> None:
    # A key the issuer never published, under a published kid.
    issuer.add_key("forged", RSAKey.generate_key(2048, private=True), publish=False)
    forged = issuer.token(_claims(issuer), kid="forged")
    _header, claims, sig = forged.split(".")
    relabelled = issuer.token(_claims(issuer), kid="rsa-1").split(".")
    token = ".".join([relabelled[0], claims, sig])
    error = await _refused(token, issuer, jwks, InvalidIdentityToken)
    assert (error.code, error.status) == ("InvalidIdentityToken", 400)


async def test_an_ec_key_under_an_rsa_algorithm_is_refused(issuer: Issuer, jwks: JWKSCache) -> None:
    # The header names the EC key's kid but claims RS256 over an ES256 signature.
    good = issuer.token(_claims(issuer), kid="ec-1").split(".")
    lying = _segments({"alg": "RS256", "kid": "ec-1"}, _claims(issuer)).split(".")[0]
    await _refused(".".join([lying, good[1], good[2]]), issuer, jwks, InvalidIdentityToken)


async def test_alg_none_is_refused(issuer: Issuer, jwks: JWKSCache) -> None:
    token = _segments({"alg": "none", "typ": "JWT"}, _claims(issuer)) + "."
    await _refused(token, issuer, jwks, InvalidIdentityToken)
    token = _segments({"alg": "none", "kid": "rsa-1"}, _claims(issuer)) + ".c2ln"
    await _refused(token, issuer, jwks, InvalidIdentityToken)


def _public_pem(issuer: Issuer) -> bytes:
    key = issuer.keys["rsa-1"].public_key
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


@pytest.mark.parametrize("claimed_alg", ["HS256", "RS256"])
async def test_hmac_with_the_public_key_as_secret_is_refused(
    issuer: Issuer, jwks: JWKSCache, claimed_alg: str
) -> None:
    # The classic key-confusion attack: HMAC-SHA256 keyed with the published
    # public key, the header saying HS256 or lying that it is RS256.
    signing_input = _segments({"alg": claimed_alg, "kid": "rsa-1"}, _claims(issuer))
    mac = hmac.new(_public_pem(issuer), signing_input.encode(), hashlib.sha256).digest()
    await _refused(signing_input + "." + _b64(mac), issuer, jwks, InvalidIdentityToken)


async def test_expired_token(issuer: Issuer, jwks: JWKSCache) -> None:
    token = issuer.token(_claims(issuer, exp=NOW - 61))
    error = await _refused(token, issuer, jwks, ExpiredTokenException)
    assert (error.code, error.status) == ("ExpiredTokenException", 400)


@pytest.mark.parametrize(
    ("over", "message"),
    [
        ({"nbf": NOW + 120}, "not valid"),
        ({"iat": NOW + 120}, "not valid"),
        ({"aud": "someone-else"}, "Incorrect token audience"),
        ({"aud": ["a", "b"]}, "Incorrect token audience"),
        ({"sub": None}, "lacks a claim"),
        ({"exp": None}, "lacks a claim"),
        ({"exp": "soon"}, "not valid"),
    ],
)
async def test_claims_are_checked(
    issuer: Issuer, jwks: JWKSCache, over: dict[str, Any], message: str
) -> None:
    error = await _refused(
        issuer.token(_claims(issuer, **over)), issuer, jwks, InvalidIdentityToken
    )
    assert message in error.message


async def test_another_issuer_is_refused(issuer: Issuer, jwks: JWKSCache) -> None:
    token = issuer.token(_claims(issuer, iss="https://evil.example"))
    error = await _refused(token, issuer, jwks, InvalidIdentityToken)
    assert (
        error.message == "No OpenIDConnect provider found in your account for https://evil.example"
    )
    # The issuer URL with a trailing slash is another issuer (IAM compares exactly).
    token = issuer.token(_claims(issuer, iss=issuer.url + "/"))
    await _refused(token, issuer, jwks, InvalidIdentityToken)


@pytest.mark.parametrize(
    "garbage", ["abc", "a.b.c", "x" * 100, "e30.e30.e30", "..", 42, None, "é" * 10]
)
async def test_garbage_is_refused(issuer: Issuer, jwks: JWKSCache, garbage: object) -> None:
    expected = (
        WebIdentityValidationError
        if not isinstance(garbage, str) or len(garbage) < 4
        else InvalidIdentityToken
    )
    await _refused(garbage, issuer, jwks, expected)
    assert issuer.requests == []  # refused before any key fetch


async def test_oversized_token_is_refused(issuer: Issuer, jwks: JWKSCache) -> None:
    token = issuer.token(_claims(issuer, pad="x" * 20_000))
    error = await _refused(token, issuer, jwks, WebIdentityValidationError)
    assert error.code == "ValidationError"
    assert issuer.requests == []


async def test_issuer_down_fails_closed(issuer: Issuer, jwks: JWKSCache, clock: Clock) -> None:
    token = issuer.token(_claims(issuer))
    issuer.down = True
    error = await _refused(token, issuer, jwks, IDPCommunicationError)
    assert (error.code, error.status) == ("IDPCommunicationError", 400)
    issuer.down = False
    await _validate(token, issuer, jwks)
    # Keys past their TTL are not used when the issuer cannot be reached.
    clock.t += 601
    issuer.down = True
    await _refused(token, issuer, jwks, IDPCommunicationError)


async def test_unknown_kid_refetches_once(issuer: Issuer, jwks: JWKSCache, clock: Clock) -> None:
    await _validate(issuer.token(_claims(issuer)), issuer, jwks)
    assert jwks.fetches == 1
    await _validate(issuer.token(_claims(issuer), kid="ec-1"), issuer, jwks)
    assert jwks.fetches == 1  # cached
    clock.t += 61
    issuer.rotate("rsa-2")  # a new kid mid-test
    await _validate(issuer.token(_claims(issuer), kid="rsa-2"), issuer, jwks)
    assert jwks.fetches == 2
    # A made-up kid right after: refused without another fetch (rate limit).
    issuer.add_key("secret", RSAKey.generate_key(2048, private=True), publish=False)
    await _refused(issuer.token(_claims(issuer), kid="secret"), issuer, jwks, InvalidIdentityToken)
    assert jwks.fetches == 2
    jwks_paths = [p for p in issuer.requests if p == "/jwks"]
    assert len(jwks_paths) == 2


def test_provider_urls_and_prefixes() -> None:
    assert condition_prefix("https://token.actions.githubusercontent.com") == (
        "token.actions.githubusercontent.com"
    )
    assert condition_prefix(
        "https://oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
    ) == ("oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE")
    assert condition_prefix("http://127.0.0.1:8080") == "127.0.0.1:8080"
    assert provider_arn(ACCT, "https://accounts.google.com/") == (
        f"arn:aws:iam::{ACCT}:oidc-provider/accounts.google.com"
    )
    for bad in [
        "http://example.com",
        "https://example.com:8443",
        "https://example.com/?x=1",
        "https://user@example.com",
        "ftp://127.0.0.1",
        "http://10.0.0.1:80",
        "",
    ]:
        with pytest.raises(IDPRejectedClaim):
            check_provider_url(bad)
    assert check_provider_url("http://[::1]:9000/realm") == "http://[::1]:9000/realm"


def test_all_is_sorted_and_complete() -> None:
    def key(name: str) -> tuple[int, str]:
        return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)

    assert oidc.__all__ == sorted(oidc.__all__, key=key)
    for info in pkgutil.iter_modules(oidc.__path__):
        module = importlib.import_module(f"{oidc.__name__}.{info.name}")
        for name in module.__all__:
            assert getattr(oidc, name) is getattr(module, name), name
