"""The IAM store's transport, change counter, lookups and paging (shared by every mixin).

:class:`IAMBase` runs operations on the key store's connections (its
``_read``/``_write``: SQLAlchemy Core on SQLite or PostgreSQL, one
transaction per call, driver errors mapped to ``StoreUnavailableError``).
Every write first bumps ``iam_generation`` (which also locks its row, so
IAM writers are serialized: the case-insensitive name checks and quotas
cannot race) and, on PostgreSQL, announces the new value on the store's
``NOTIFY`` channel as ``iam:<generation>``.

Imports: SQLAlchemy, the store's schema and key store, :mod:`._rules`,
:mod:`._errors`, :mod:`._model`.
"""

from __future__ import annotations

import secrets
import weakref
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ...store.pg_listen import CHANNEL_PREFIX
from ...store.schema import (
    accounts,
    groups,
    iam_generation,
    policies,
    principals,
    roles,
    tags,
)
from ._errors import NoSuchEntity, ValidationError
from ._model import Page, PolicyRef, Tag
from ._rules import (
    Random,
    arn,
    check_max_items,
    decode_marker,
    encode_marker,
    new_unique_id,
    parse_policy_arn,
)

if TYPE_CHECKING:
    from ...store.base import SQLKeyStore

__all__ = [
    "IAM_CHANGE_PREFIX",
    "IAMBase",
    "Op",
    "account_check",
    "bytewise",
    "page_of",
    "policy_ref",
    "same_name",
]

T = TypeVar("T")
Op = Callable[[AsyncConnection], Awaitable[T]]

#: NOTIFY payloads on the store's channel that announce an IAM change:
#: ``iam:<generation>`` (never a valid access key id, so the key cache
#: listener's eviction of it is harmless).
IAM_CHANGE_PREFIX = "iam:"

_P, _G, _POL = principals.c, groups.c, policies.c
_KIND_NOUN = {"user": "user", "role": "role", "group": "group"}


def bytewise(column: sa.ColumnElement[str], conn: AsyncConnection) -> sa.ColumnElement[str]:
    """Byte order on both databases: SQLite's BINARY collation, PostgreSQL's ``C``."""
    return column.collate("C") if conn.dialect.name == "postgresql" else column


def same_name(column: sa.ColumnElement[str], name: str) -> sa.ColumnElement[bool]:
    """IAM names are unique and found ignoring case ("Names are not distinguished by case")."""
    return sa.func.lower(column) == name.lower()


def account_check(account_id: object) -> str:
    """A 12-digit account id, or :class:`ValidationError`."""
    if not isinstance(account_id, str) or len(account_id) != 12 or not account_id.isdigit():
        raise ValidationError(
            f"1 validation error detected: Value '{account_id}' at 'accountId' failed to "
            "satisfy constraint: Member must satisfy regular expression pattern: [0-9]{12}"
        )
    return account_id


class IAMBase:
    """Transport, generation counter and helpers; see the module docstring."""

    def __init__(
        self,
        store: SQLKeyStore,
        *,
        random: Random = secrets.token_bytes,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._store = store
        self._random = random
        self._clock = clock or (lambda: datetime.now(UTC))

    # -- transport ------------------------------------------------------------------------

    async def _read(self, fn: Op[T]) -> T:
        return await self._store._read(fn)

    async def _write(self, fn: Op[T], *, evict: Sequence[str] = ()) -> T:
        async def transaction(conn: AsyncConnection) -> tuple[int, T]:
            generation = await _bump(conn)
            return generation, await fn(conn)

        generation, result = await self._store._write(transaction)
        _LOCAL[self._store] = max(_LOCAL.get(self._store, 0), generation)
        if evict:
            self._store._cache.evict(list(evict))
        return result

    async def _write_keys(self, fn: Op[tuple[T, list[str]]]) -> T:
        """A write whose ``fn`` also returns access key ids the key cache must drop
        (it holds each key's owner name)."""
        result, key_ids = await self._write(fn)
        self._store._cache.evict(key_ids)
        return result

    @property
    def local_generation(self) -> int:
        """The generation after the latest IAM write made in this process on this key store.

        Shared by every :class:`IAMStore` on the same key store object, so a
        change made through one is known to the others at once, without a query.
        """
        return _LOCAL.get(self._store, 0)

    def _now(self) -> datetime:
        now = self._clock()
        if now.tzinfo is None:
            raise ValueError("the IAM store's clock must return aware datetimes")
        return now.astimezone(UTC)

    async def current_generation(self) -> int:
        """The IAM change counter now (one single-row read).

        A snapshot loaded at generation ``N`` is current while this is ``N``.
        """

        async def q(conn: AsyncConnection) -> int:
            return int((await conn.execute(_GENERATION)).scalar_one())

        return await self._read(q)

    # -- ids and lookups -----------------------------------------------------------------------

    async def _new_id(self, conn: AsyncConnection, prefix: str, column: sa.Column[str]) -> str:
        for _attempt in range(8):
            candidate = new_unique_id(prefix, self._random)
            taken = await conn.execute(sa.select(column).where(column == candidate))
            if taken.first() is None:
                return candidate
        raise RuntimeError("the randomness source repeats: no unique id in 8 draws")

    @staticmethod
    async def _require_account(conn: AsyncConnection, account_id: str) -> None:
        account_check(account_id)
        found = await conn.execute(
            sa.select(accounts.c.account_id).where(accounts.c.account_id == account_id)
        )
        if found.first() is None:
            raise NoSuchEntity(f"The account with id {account_id} cannot be found.")

    @staticmethod
    async def _principal_row(conn: AsyncConnection, account_id: str, kind: str, name: str) -> Any:
        """The user's or role's ``principals`` row (roles joined), or :class:`NoSuchEntity`.

        A root principal (``keys create --root``, root access keys) is the account's
        root user, not an IAM user: no user operation finds it by name.
        """
        account_check(account_id)
        query = sa.select(principals).where(
            _P.account_id == account_id, _P.kind == kind, same_name(_P.name, str(name)),
            _P.is_root == sa.false(),
        )
        if kind == "role":
            query = (
                sa.select(
                    principals,
                    roles.c.trust_policy,
                    roles.c.max_session_duration,
                    roles.c.description,
                )
                .select_from(principals.join(roles))
                .where(_P.account_id == account_id, _P.kind == kind, same_name(_P.name, str(name)))
            )
        row = (await conn.execute(query)).first()
        if row is None:
            raise NoSuchEntity(f"The {_KIND_NOUN[kind]} with name {name} cannot be found.")
        return row

    @staticmethod
    async def _group_row(conn: AsyncConnection, account_id: str, name: str) -> Any:
        account_check(account_id)
        row = (
            await conn.execute(
                sa.select(groups).where(_G.account_id == account_id, same_name(_G.name, str(name)))
            )
        ).first()
        if row is None:
            raise NoSuchEntity(f"The group with name {name} cannot be found.")
        return row

    @staticmethod
    async def _policy_row(
        conn: AsyncConnection, account_id: str, policy_arn: str, *, attaching: bool = False
    ) -> Any:
        """A customer managed policy of ``account_id`` by ARN, or :class:`NoSuchEntity`.

        IAM's message differs by operation: attaching (or using as a boundary)
        says "does not exist or is not attachable", reading says "was not found".
        """
        account_check(account_id)
        owner, path, name = parse_policy_arn(policy_arn)
        row = None
        if owner == account_id:
            row = (
                await conn.execute(
                    sa.select(policies).where(
                        _POL.account_id == account_id, same_name(_POL.name, name), _POL.path == path
                    )
                )
            ).first()
        if row is None:
            if attaching:
                raise NoSuchEntity(f"Policy {policy_arn} does not exist or is not attachable.")
            raise NoSuchEntity(f"Policy {policy_arn} was not found.")
        return row

    # -- shared pieces --------------------------------------------------------------------

    @staticmethod
    async def _tags_of(conn: AsyncConnection, resource_id: str) -> tuple[Tag, ...]:
        rows = await conn.execute(
            sa.select(tags.c.key, tags.c.value)
            .where(tags.c.resource_id == resource_id)
            .order_by(bytewise(tags.c.key, conn))
        )
        return tuple(Tag(key=k, value=v) for k, v in rows)

    @staticmethod
    async def _put_tags(conn: AsyncConnection, resource_id: str, new: Sequence[Tag]) -> None:
        """Add or replace tags (a key equal ignoring case replaces the old one)."""
        if not new:
            return
        await conn.execute(
            sa.delete(tags).where(
                tags.c.resource_id == resource_id,
                sa.func.lower(tags.c.key).in_([t.key.lower() for t in new]),
            )
        )
        await conn.execute(
            sa.insert(tags),
            [{"resource_id": resource_id, "key": t.key, "value": t.value} for t in new],
        )

    @staticmethod
    async def _boundary_ref(conn: AsyncConnection, policy_id: str | None) -> PolicyRef | None:
        if policy_id is None:
            return None
        row = (await conn.execute(sa.select(policies).where(_POL.policy_id == policy_id))).first()
        return None if row is None else policy_ref(row)

    @staticmethod
    async def _keyset_page(
        conn: AsyncConnection,
        query: sa.Select[Any],
        key: sa.ColumnElement[str],
        marker: str | None,
        max_items: int | None,
    ) -> tuple[list[Any], bool, str | None]:
        """One page of ``query`` ordered by the unique text column ``key`` (byte order)."""
        limit = check_max_items(max_items)
        after = decode_marker(marker, 1)
        ordered = bytewise(key, conn)
        if after is not None:
            query = query.where(ordered > str(after[0]))
        rows = list((await conn.execute(query.order_by(ordered).limit(limit + 1))).all())
        if len(rows) <= limit:
            return rows, False, None
        rows = rows[:limit]
        return rows, True, encode_marker([rows[-1]._mapping[key.name]])


def policy_ref(row: Any) -> PolicyRef:
    """The ``AttachedPolicy`` pair of a ``policies`` row."""
    return PolicyRef(
        policy_name=row.name, policy_arn=arn(row.account_id, "policy", row.path, row.name)
    )


def page_of(
    items: Sequence[T], key: Callable[[T], str], marker: str | None, max_items: int | None
) -> Page[T]:
    """Page an in-memory list already in ``key`` order (short lists: tags, versions, names)."""
    limit = check_max_items(max_items)
    after = decode_marker(marker, 1)
    rest = [item for item in items if after is None or key(item) > str(after[0])]
    if len(rest) <= limit:
        return Page(items=tuple(rest))
    chosen = rest[:limit]
    return Page(items=tuple(chosen), is_truncated=True, marker=encode_marker([key(chosen[-1])]))


_GENERATION = sa.select(iam_generation.c.value).where(iam_generation.c.id == 1)

# Per key store object: the generation its latest IAM write produced.
_LOCAL: weakref.WeakKeyDictionary[SQLKeyStore, int] = weakref.WeakKeyDictionary()


async def _bump(conn: AsyncConnection) -> int:
    """Bump the IAM generation (locking its row) and announce it on PostgreSQL."""
    await conn.execute(
        sa.update(iam_generation)
        .where(iam_generation.c.id == 1)
        .values(value=iam_generation.c.value + 1)
    )
    generation = int((await conn.execute(_GENERATION)).scalar_one())
    if conn.dialect.name == "postgresql":
        # Delivered at commit, on the channel the key listener already holds.
        channel = sa.literal(CHANNEL_PREFIX) + sa.func.current_schema()
        await conn.execute(
            sa.select(sa.func.pg_notify(channel, f"{IAM_CHANGE_PREFIX}{generation}"))
        )
    return generation
