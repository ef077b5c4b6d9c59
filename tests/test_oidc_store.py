"""IAM's OpenID Connect providers in the key store (SQLite and PostgreSQL), used by STS."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from _oidc_issuer import running_issuer
from sigv4kit.middleware import MasterKey, PostgresKeyStore, SQLiteKeyStore
from sigv4kit.middleware.iam.mfa import (
    EntityAlreadyExists,
    InvalidInput,
    LimitExceeded,
    NoSuchEntity,
    ValidationError,
)
from sigv4kit.middleware.iam.oidc import (
    InvalidIdentityToken,
    JWKSCache,
    OIDCProviderStore,
    validate_web_identity,
)
from sigv4kit.middleware.store.schema import DEFAULT_ACCOUNT_ID

ACCT = DEFAULT_ACCOUNT_ID
NOW = datetime(2026, 12, 3, tzinfo=UTC)
GH = "https://token.actions.githubusercontent.com"
GH_ARN = f"arn:aws:iam::{ACCT}:oidc-provider/token.actions.githubusercontent.com"
PRINT = "6938fd4d98bab03faadb97b34396831e3780aea1"


@pytest.fixture(params=["sqlite", "postgres"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Any]:
    key = MasterKey.generate()
    if request.param == "sqlite":
        s: Any = SQLiteKeyStore(tmp_path / "oidc.db", master_key=key)
    else:
        s = PostgresKeyStore(request.getfixturevalue("pg_url"), master_key=key, listen=False)
    await s.create_principal("bootstrap")  # creates the default account
    try:
        yield s
    finally:
        await s.aclose()


async def test_provider_lifecycle(store: Any) -> None:
    providers = OIDCProviderStore(store)
    created = await providers.create_open_id_connect_provider(
        ACCT, GH, client_ids=["sts.amazonaws.com"], thumbprints=[PRINT.upper()], now=NOW
    )
    assert created.arn == GH_ARN
    assert created.thumbprints == (PRINT,)
    for url in (GH, GH + "/"):
        with pytest.raises(EntityAlreadyExists, match="already exists"):
            await providers.create_open_id_connect_provider(ACCT, url, now=NOW)
    got = await providers.get_open_id_connect_provider(GH_ARN)
    assert got.client_ids == ("sts.amazonaws.com",)
    await providers.add_client_id_to_open_id_connect_provider(GH_ARN, "app-2")
    await providers.add_client_id_to_open_id_connect_provider(GH_ARN, "app-2")
    assert (await providers.find(ACCT, GH)).client_ids == ("sts.amazonaws.com", "app-2")
    await providers.remove_client_id_from_open_id_connect_provider(GH_ARN, "sts.amazonaws.com")
    assert (await providers.find(ACCT, GH)).client_ids == ("app-2",)
    await providers.update_open_id_connect_provider_thumbprint(GH_ARN, [])
    assert (await providers.get_open_id_connect_provider(GH_ARN)).thumbprints == ()
    assert await providers.find(ACCT, GH + "/") is None  # issuers are matched exactly
    assert await providers.find("111111111111", GH) is None
    assert [p.url for p in await providers.list_open_id_connect_providers(ACCT)] == [GH]
    await providers.delete_open_id_connect_provider(GH_ARN)
    assert await providers.list_open_id_connect_providers(ACCT) == []
    with pytest.raises(NoSuchEntity, match=f"OpenIDConnect provider not found for arn {GH_ARN}"):
        await providers.get_open_id_connect_provider(GH_ARN)


async def test_provider_input_is_checked(store: Any) -> None:
    providers = OIDCProviderStore(store)
    with pytest.raises(InvalidInput):
        await providers.create_open_id_connect_provider(ACCT, "http://example.com", now=NOW)
    with pytest.raises(ValidationError):
        await providers.create_open_id_connect_provider(ACCT, GH, thumbprints=["abc"], now=NOW)
    with pytest.raises(ValidationError):
        await providers.create_open_id_connect_provider(ACCT, GH, client_ids=[""], now=NOW)
    with pytest.raises(LimitExceeded):
        await providers.create_open_id_connect_provider(
            ACCT, GH, client_ids=[f"c{i}" for i in range(101)], now=NOW
        )
    with pytest.raises(LimitExceeded):
        await providers.create_open_id_connect_provider(ACCT, GH, thumbprints=[PRINT] * 6, now=NOW)
    with pytest.raises(InvalidInput):
        await providers.get_open_id_connect_provider("arn:aws:iam::1:oidc-provider/x")
    assert await providers.list_open_id_connect_providers(ACCT) == []


async def test_sts_validates_against_stored_providers(store: Any) -> None:
    providers = OIDCProviderStore(store)
    with running_issuer() as issuer:
        now = 1_800_000_000
        claims = {"iss": issuer.url, "sub": "s", "aud": "app", "exp": now + 60, "iat": now}
        token = issuer.token(claims)
        async with httpx.AsyncClient() as client:
            jwks = JWKSCache(client)
            with pytest.raises(InvalidIdentityToken, match="No OpenIDConnect provider found"):
                await validate_web_identity(
                    token, account_id=ACCT, providers=providers, jwks=jwks, now=now
                )
            await providers.create_open_id_connect_provider(
                ACCT, issuer.url, client_ids=["app"], now=NOW
            )
            identity = await validate_web_identity(
                token, account_id=ACCT, providers=providers, jwks=jwks, now=now
            )
    assert identity.provider_arn == f"arn:aws:iam::{ACCT}:oidc-provider/{issuer.url[7:]}"
    assert (identity.subject, identity.audience) == ("s", "app")
