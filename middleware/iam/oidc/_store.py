"""IAM's OpenID Connect providers in the key store, and the registry STS reads.

:class:`OIDCProviderStore` keeps what ``CreateOpenIDConnectProvider`` and its
siblings manage (URL, client ids, thumbprints; one provider per URL and
account) and is the :class:`~._provider.ProviderRegistry` that
:func:`~._validate.validate_web_identity` asks. Operations name providers by
ARN (``arn:aws:iam::ACCOUNT:oidc-provider/<host/path>``), as IAM's API does.

IAM's limits (IAM User Guide, "IAM and AWS STS quotas"; botocore ``iam``
shapes): client ids 1..255 characters, at most 100 per provider; thumbprints
exactly 40 hex digits, at most 5.

Imports: SQLAlchemy, the store's schema, :mod:`._provider`, the IAM errors of
:mod:`..entities`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ...store.schema import accounts, oidc_providers
from ..entities import (
    EntityAlreadyExists,
    InvalidInput,
    LimitExceeded,
    NoSuchEntity,
    ValidationError,
)
from ._errors import IDPRejectedClaim
from ._provider import OIDCProvider, check_provider_url, provider_arn

if TYPE_CHECKING:
    from ...store.base import SQLKeyStore

__all__ = ["MAX_CLIENT_IDS", "MAX_THUMBPRINTS", "OIDCProviderStore"]

MAX_CLIENT_IDS = 100
MAX_THUMBPRINTS = 5
_O = oidc_providers.c
_ARN_RE = re.compile(r"arn:aws:iam::([0-9]{12}):oidc-provider/(.+)", re.ASCII)
_THUMBPRINT_RE = re.compile(r"[0-9A-Fa-f]{40}", re.ASCII)


def _client_ids(values: Iterable[object]) -> list[str]:
    out: list[str] = []
    for value in values:
        if not isinstance(value, str) or not 1 <= len(value) <= 255:
            raise ValidationError(
                "1 validation error detected: Value at 'clientIDList' failed to satisfy "
                "constraint: Member must have length between 1 and 255"
            )
        if value not in out:
            out.append(value)
    if len(out) > MAX_CLIENT_IDS:
        raise LimitExceeded(
            f"Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: {MAX_CLIENT_IDS}"
        )
    return out


def _thumbprints(values: Iterable[object]) -> list[str]:
    out = []
    for value in values:
        if not isinstance(value, str) or not _THUMBPRINT_RE.fullmatch(value):
            raise ValidationError(
                "1 validation error detected: Value at 'thumbprintList' failed to satisfy "
                "constraint: Member must have length 40"
            )
        out.append(value.lower())
    if len(out) > MAX_THUMBPRINTS:
        raise LimitExceeded(
            f"Cannot exceed quota for ThumbprintsPerOpenIdConnectProvider: {MAX_THUMBPRINTS}"
        )
    return out


def _provider(row: Any) -> OIDCProvider:
    return OIDCProvider(
        account_id=row.account_id,
        url=row.url,
        client_ids=tuple(json.loads(row.client_ids)),
        thumbprints=tuple(json.loads(row.thumbprints)),
    )


class OIDCProviderStore:
    """OIDC providers over a key store (SQLite or PostgreSQL); a :class:`ProviderRegistry`.

    ```python
    providers = OIDCProviderStore(store)
    p = await providers.create_open_id_connect_provider(
        "000000000000", "https://token.actions.githubusercontent.com",
        client_ids=["sts.amazonaws.com"], now=now)
    identity = await validate_web_identity(token, account_id="000000000000",
                                           providers=providers, jwks=cache, now=time.time())
    ```

    Raises IAM's errors (``EntityAlreadyExists``, ``NoSuchEntity``,
    ``LimitExceeded``, ``ValidationError``, ``InvalidInput``).
    """

    def __init__(self, store: SQLKeyStore) -> None:
        self._store = store

    async def find(self, account_id: str, issuer: str) -> OIDCProvider | None:
        """The account's provider registered with exactly the URL ``issuer``."""

        async def op(conn: AsyncConnection) -> OIDCProvider | None:
            row = (
                await conn.execute(
                    sa.select(oidc_providers).where(_O.account_id == account_id, _O.url == issuer)
                )
            ).first()
            return None if row is None else _provider(row)

        return await self._store._read(op)

    async def create_open_id_connect_provider(
        self,
        account_id: str,
        url: str,
        *,
        client_ids: Sequence[str] = (),
        thumbprints: Sequence[str] = (),
        now: datetime,
    ) -> OIDCProvider:
        """``CreateOpenIDConnectProvider``. Raises :class:`EntityAlreadyExists` for a known URL."""
        try:
            check_provider_url(url)
        except IDPRejectedClaim as exc:
            raise InvalidInput(exc.message) from None
        ids, prints = _client_ids(client_ids), _thumbprints(thumbprints)
        arn = provider_arn(account_id, url)

        async def op(conn: AsyncConnection) -> OIDCProvider:
            exists = sa.select(accounts.c.account_id).where(accounts.c.account_id == account_id)
            if (await conn.execute(exists)).first() is None:
                raise NoSuchEntity(f"The account {account_id} cannot be found.")
            # One provider per ARN: https://x and https://x/ are the same provider.
            urls = await conn.execute(sa.select(_O.url).where(_O.account_id == account_id))
            if any(provider_arn(account_id, u) == arn for u in urls.scalars()):
                raise EntityAlreadyExists(f"Provider with url {url} already exists.")
            await conn.execute(
                sa.insert(oidc_providers).values(
                    account_id=account_id,
                    url=url,
                    client_ids=json.dumps(ids),
                    thumbprints=json.dumps(prints),
                    created_at=now,
                )
            )
            return OIDCProvider(
                account_id=account_id, url=url, client_ids=tuple(ids), thumbprints=tuple(prints)
            )

        return await self._store._write(op)

    @staticmethod
    async def _row(conn: AsyncConnection, arn: str) -> Any:
        match = _ARN_RE.fullmatch(arn) if isinstance(arn, str) else None
        if match is None:
            raise InvalidInput(f"ARN {arn} is not valid.")
        account_id, prefix = match.groups()
        rows = await conn.execute(
            sa.select(oidc_providers).where(
                _O.account_id == account_id,
                _O.url.in_([f"https://{prefix}", f"https://{prefix}/", f"http://{prefix}"]),
            )
        )
        for row in rows:
            if provider_arn(account_id, row.url) == arn:
                return row
        raise NoSuchEntity(f"OpenIDConnect provider not found for arn {arn}")

    async def get_open_id_connect_provider(self, arn: str) -> OIDCProvider:
        """``GetOpenIDConnectProvider``. Raises :class:`NoSuchEntity`."""

        async def op(conn: AsyncConnection) -> OIDCProvider:
            return _provider(await self._row(conn, arn))

        return await self._store._read(op)

    async def list_open_id_connect_providers(self, account_id: str) -> list[OIDCProvider]:
        """``ListOpenIDConnectProviders``: the account's providers, by URL."""

        async def op(conn: AsyncConnection) -> list[OIDCProvider]:
            query = sa.select(oidc_providers).where(_O.account_id == account_id).order_by(_O.url)
            return [_provider(r) for r in await conn.execute(query)]

        return await self._store._read(op)

    async def delete_open_id_connect_provider(self, arn: str) -> None:
        """``DeleteOpenIDConnectProvider``. Raises :class:`NoSuchEntity`."""

        async def op(conn: AsyncConnection) -> None:
            row = await self._row(conn, arn)
            await conn.execute(
                sa.delete(oidc_providers).where(_O.account_id == row.account_id, _O.url == row.url)
            )

        await self._store._write(op)

    async def _update(self, arn: str, column: str, change: Any) -> None:
        async def op(conn: AsyncConnection) -> None:
            row = await self._row(conn, arn)
            value = change(json.loads(getattr(row, column)))
            await conn.execute(
                sa.update(oidc_providers)
                .where(_O.account_id == row.account_id, _O.url == row.url)
                .values({column: json.dumps(value)})
            )

        await self._store._write(op)

    async def add_client_id_to_open_id_connect_provider(self, arn: str, client_id: str) -> None:
        """``AddClientIDToOpenIDConnectProvider`` (adding a present id changes nothing)."""
        await self._update(arn, "client_ids", lambda ids: _client_ids([*ids, client_id]))

    async def remove_client_id_from_open_id_connect_provider(
        self, arn: str, client_id: str
    ) -> None:
        """``RemoveClientIDFromOpenIDConnectProvider`` (removing an absent id changes nothing)."""
        await self._update(arn, "client_ids", lambda ids: [i for i in ids if i != client_id])

    async def update_open_id_connect_provider_thumbprint(
        self, arn: str, thumbprints: Sequence[str]
    ) -> None:
        """``UpdateOpenIDConnectProviderThumbprint``: replace the list."""
        prints = _thumbprints(thumbprints)
        await self._update(arn, "thumbprints", lambda _old: prints)
