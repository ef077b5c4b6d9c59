"""Console passwords in the key store: login profiles, the account policy, the sign-in check.

:class:`LoginStore` works on a key store (SQLite or PostgreSQL, SQLAlchemy
Core, through the store's ``_read``/``_write``: one transaction per call).

* Passwords are hashed with Argon2id (:mod:`._hash`) in a worker thread,
  outside any transaction; only PHC strings are stored.
* Every password set (by CreateLoginProfile, UpdateLoginProfile,
  ChangePassword) is remembered in ``password_history`` (the newest 24),
  and a new password is refused when it matches one of the last
  ``PasswordReusePrevention`` ones (the current one included), as IAM does.
* Failed sign-ins are throttled (:mod:`._throttle`), whether the user
  exists or not, so the lock says nothing about existence; an unknown
  user's password is still checked against a dummy hash, so the time taken
  says nothing either.

Imports: SQLAlchemy, the store's schema, :mod:`..entities` (errors), :mod:`._hash`,
:mod:`._policy`, :mod:`._model`, :mod:`._errors`, :mod:`._reads`, :mod:`._throttle`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ...store.schema import accounts, login_profiles, password_history, password_policies
from ..entities import EntityAlreadyExists, NoSuchEntity
from ._errors import PasswordChangeDenied, PasswordPolicyViolation, SignInFailed
from ._hash import hash_password, needs_rehash, verify_password
from ._model import LoginProfile, SignIn, SignInSettings
from ._policy import PasswordPolicy, password_expired, password_problems
from ._reads import account_policy, profile_row, recent_hashes, sign_in_lookup, user_row
from ._throttle import clear_failures, locked_until, record_failure, throttle_key

if TYPE_CHECKING:
    from ...store.base import SQLKeyStore

__all__ = ["MAX_REMEMBERED", "LoginStore"]

_L, _H = login_profiles.c, password_history.c

#: Passwords remembered per owner (IAM's PasswordReusePrevention is at most 24).
MAX_REMEMBERED = 24

_REUSED = "not one of the last {n} passwords"

# Checked when the user does not exist, so a wrong user name costs a hash too.
_DUMMY_HASH = hash_password("sigv4kit-no-such-user")


class LoginStore:
    """IAM's login profiles and password policy, and the console's sign-in check.

    ```python
    logins = LoginStore(store)
    await logins.create_login_profile("123456789012", "bob", "S3cret-pass!", now=now)
    sign_in = await logins.sign_in("123456789012", "bob", "S3cret-pass!", now=now)
    ```

    Raises IAM's errors (``NoSuchEntity``, ``EntityAlreadyExists``,
    :class:`PasswordPolicyViolation`, :class:`PasswordChangeDenied`) and the
    store's ``StoreUnavailableError``.
    """

    def __init__(self, store: SQLKeyStore, *, settings: SignInSettings | None = None) -> None:
        self._store = store
        self._settings = settings or SignInSettings()

    def __repr__(self) -> str:
        return f"LoginStore({self._settings!r})"

    # -- the account password policy -----------------------------------------------------

    async def password_policy(self, account_id: str) -> PasswordPolicy:
        """The policy in force: the account's, or IAM's default (``custom=False``)."""
        return await self._store._read(lambda conn: account_policy(conn, account_id))

    async def get_account_password_policy(self, account_id: str) -> PasswordPolicy:
        """GetAccountPasswordPolicy; NoSuchEntity while the account has none."""
        policy = await self.password_policy(account_id)
        if not policy.custom:
            raise NoSuchEntity(
                f"The Password Policy with domain name {account_id} cannot be found."
            )
        return policy

    async def update_account_password_policy(
        self, account_id: str, policy: PasswordPolicy
    ) -> None:
        """UpdateAccountPasswordPolicy: replace the whole policy (no partial updates)."""
        values = {
            "minimum_length": policy.minimum_length,
            "require_symbols": policy.require_symbols,
            "require_numbers": policy.require_numbers,
            "require_uppercase": policy.require_uppercase,
            "require_lowercase": policy.require_lowercase,
            "allow_users_to_change": policy.allow_users_to_change,
            "max_password_age": policy.max_password_age,
            "reuse_prevention": policy.reuse_prevention,
            "hard_expiry": policy.hard_expiry,
        }

        async def op(conn: AsyncConnection) -> None:
            await _require_account(conn, account_id)
            table = password_policies
            done = await conn.execute(
                sa.update(table).where(table.c.account_id == account_id).values(values)
            )
            if done.rowcount == 0:
                await conn.execute(sa.insert(table).values(account_id=account_id, **values))

        await self._store._write(op)

    async def delete_account_password_policy(self, account_id: str) -> None:
        """DeleteAccountPasswordPolicy; NoSuchEntity while the account has none."""

        async def op(conn: AsyncConnection) -> None:
            table = password_policies
            done = await conn.execute(sa.delete(table).where(table.c.account_id == account_id))
            if done.rowcount == 0:
                raise NoSuchEntity(
                    f"The Password Policy with domain name {account_id} cannot be found."
                )

        await self._store._write(op)

    async def password_changes(self, account_id: str) -> dict[str, datetime]:
        """When each owner of the account (user principal id, or the account id for root)
        last set a password, for the credential report."""

        async def q(conn: AsyncConnection) -> dict[str, datetime]:
            rows = await conn.execute(
                sa.select(_L.owner_id, _L.password_changed_at).where(_L.account_id == account_id)
            )
            return {str(r.owner_id): r.password_changed_at for r in rows}

        return await self._store._read(q)

    # -- login profiles -------------------------------------------------------------------

    async def create_login_profile(
        self,
        account_id: str,
        user_name: str,
        password: str,
        *,
        password_reset_required: bool = False,
        max_signin_session_duration: int | None = None,
        now: datetime,
    ) -> LoginProfile:
        """CreateLoginProfile. Raises NoSuchEntity, EntityAlreadyExists,
        :class:`PasswordPolicyViolation`."""

        async def check(conn: AsyncConnection) -> tuple[Any, PasswordPolicy]:
            user = await user_row(conn, account_id, user_name)
            if await profile_row(conn, user.principal_id) is not None:
                raise EntityAlreadyExists(f"Login Profile for user {user.name} already exists.")
            return user, await account_policy(conn, account_id)

        user, policy = await self._store._read(check)
        await self._check_new_password(policy, password, user.name, ())
        hashed = await asyncio.to_thread(hash_password, password)

        async def op(conn: AsyncConnection) -> LoginProfile:
            if await profile_row(conn, user.principal_id) is not None:
                raise EntityAlreadyExists(f"Login Profile for user {user.name} already exists.")
            await conn.execute(
                sa.insert(login_profiles).values(
                    owner_id=user.principal_id,
                    account_id=account_id,
                    password_hash=hashed,
                    created_at=now,
                    password_changed_at=now,
                    password_reset_required=password_reset_required,
                    max_signin_session_duration=max_signin_session_duration,
                )
            )
            await self._remember(conn, user.principal_id, hashed, now)
            return LoginProfile(
                user_name=user.name,
                create_date=now,
                password_reset_required=password_reset_required,
                max_signin_session_duration=max_signin_session_duration,
            )

        return await self._store._write(op)

    async def get_login_profile(self, account_id: str, user_name: str) -> LoginProfile:
        """GetLoginProfile. Raises NoSuchEntity (no user, or no password)."""

        async def q(conn: AsyncConnection) -> LoginProfile:
            user = await user_row(conn, account_id, user_name)
            row = await profile_row(conn, user.principal_id)
            if row is None:
                raise NoSuchEntity(f"Login Profile for User {user.name} cannot be found.")
            return LoginProfile(
                user_name=user.name,
                create_date=row.created_at,
                password_reset_required=bool(row.password_reset_required),
                max_signin_session_duration=row.max_signin_session_duration,
            )

        return await self._store._read(q)

    async def update_login_profile(
        self,
        account_id: str,
        user_name: str,
        *,
        password: str | None = None,
        password_reset_required: bool | None = None,
        max_signin_session_duration: int | None = None,
        reset_max_signin_session_duration: bool = False,
        now: datetime,
    ) -> None:
        """UpdateLoginProfile: a new password and/or the reset flag and session length."""

        async def check(conn: AsyncConnection) -> tuple[Any, PasswordPolicy, list[str]]:
            user = await user_row(conn, account_id, user_name)
            if await profile_row(conn, user.principal_id) is None:
                raise NoSuchEntity(f"Login Profile for User {user.name} cannot be found.")
            policy = await account_policy(conn, account_id)
            history = await recent_hashes(conn, user.principal_id, policy.reuse_prevention or 0)
            return user, policy, history

        user, policy, history = await self._store._read(check)
        hashed = None
        if password is not None:
            await self._check_new_password(policy, password, user.name, history)
            hashed = await asyncio.to_thread(hash_password, password)
        values: dict[str, Any] = {}
        if hashed is not None:
            values |= {"password_hash": hashed, "password_changed_at": now}
        if password_reset_required is not None:
            values["password_reset_required"] = password_reset_required
        if max_signin_session_duration is not None:
            values["max_signin_session_duration"] = max_signin_session_duration
        if reset_max_signin_session_duration:
            values["max_signin_session_duration"] = None

        async def op(conn: AsyncConnection) -> None:
            if values:
                done = await conn.execute(
                    sa.update(login_profiles)
                    .where(_L.owner_id == user.principal_id)
                    .values(values)
                )
                if done.rowcount == 0:
                    raise NoSuchEntity(f"Login Profile for User {user.name} cannot be found.")
            if hashed is not None:
                await self._remember(conn, user.principal_id, hashed, now)

        await self._store._write(op)

    async def delete_login_profile(self, account_id: str, user_name: str) -> None:
        """DeleteLoginProfile (the user's console sessions end with it)."""

        async def op(conn: AsyncConnection) -> None:
            user = await user_row(conn, account_id, user_name)
            done = await conn.execute(
                sa.delete(login_profiles).where(_L.owner_id == user.principal_id)
            )
            if done.rowcount == 0:
                raise NoSuchEntity(f"Login Profile for User {user.name} cannot be found.")
            await _end_sessions(conn, user.principal_id)

        await self._store._write(op)

    async def change_password(
        self, account_id: str, user_name: str, old: str, new: str, *, now: datetime
    ) -> None:
        """ChangePassword (the caller's own): the old password must match.

        Raises :class:`PasswordChangeDenied` (wrong old password),
        :class:`PasswordPolicyViolation`, NoSuchEntity (no password).
        """

        async def check(conn: AsyncConnection) -> tuple[Any, Any, PasswordPolicy, list[str]]:
            user = await user_row(conn, account_id, user_name)
            row = await profile_row(conn, user.principal_id)
            if row is None:
                raise NoSuchEntity(f"Login Profile for User {user.name} cannot be found.")
            policy = await account_policy(conn, account_id)
            history = await recent_hashes(conn, user.principal_id, policy.reuse_prevention or 0)
            return user, row, policy, history

        user, row, policy, history = await self._store._read(check)
        if not await asyncio.to_thread(verify_password, row.password_hash, old):
            raise PasswordChangeDenied()
        await self._set_password(account_id, user.principal_id, user.name, new, policy,
                                 history, now=now)

    async def set_root_password(self, account_id: str, password: str, *, now: datetime) -> None:
        """The account root user's console password (the policy does not apply to root)."""
        hashed = await asyncio.to_thread(hash_password, password)

        async def op(conn: AsyncConnection) -> None:
            await _require_account(conn, account_id)
            values = {"password_hash": hashed, "password_changed_at": now,
                      "password_reset_required": False}
            done = await conn.execute(
                sa.update(login_profiles).where(_L.owner_id == account_id).values(values)
            )
            if done.rowcount == 0:
                await conn.execute(
                    sa.insert(login_profiles).values(
                        owner_id=account_id, account_id=account_id, created_at=now, **values
                    )
                )

        await self._store._write(op)

    async def _set_password(
        self, account_id: str, owner_id: str, user_name: str, password: str,
        policy: PasswordPolicy, history: Sequence[str], *, now: datetime,
    ) -> None:
        await self._check_new_password(policy, password, user_name, history)
        hashed = await asyncio.to_thread(hash_password, password)

        async def op(conn: AsyncConnection) -> None:
            await conn.execute(
                sa.update(login_profiles)
                .where(_L.owner_id == owner_id)
                .values(password_hash=hashed, password_changed_at=now,
                        password_reset_required=False)
            )
            await self._remember(conn, owner_id, hashed, now)

        await self._store._write(op)

    @staticmethod
    async def _check_new_password(
        policy: PasswordPolicy, password: str, user_name: str, history: Sequence[str]
    ) -> None:
        problems = password_problems(policy, password, user_name=user_name)
        if not problems and history:
            for old in history:
                if await asyncio.to_thread(verify_password, old, password):
                    problems.append(_REUSED.format(n=len(history)))
                    break
        if problems:
            raise PasswordPolicyViolation(problems)

    @staticmethod
    async def _remember(conn: AsyncConnection, owner_id: str, hashed: str, now: datetime) -> None:
        await conn.execute(
            sa.insert(password_history).values(owner_id=owner_id, password_hash=hashed, set_at=now)
        )
        keep = (
            sa.select(_H.id)
            .where(_H.owner_id == owner_id)
            .order_by(_H.id.desc())
            .limit(MAX_REMEMBERED)
            .scalar_subquery()
        )
        await conn.execute(
            sa.delete(password_history).where(_H.owner_id == owner_id, _H.id.not_in(keep))
        )

    # -- the sign-in check ----------------------------------------------------------------

    async def sign_in(
        self, account: str, user_name: str | None, password: str, *, now: datetime
    ) -> SignIn:
        """Check a console sign-in: ``account`` is an id or alias, ``user_name`` None for root.

        Raises :class:`SignInFailed` (the same for a wrong account, user or
        password, so nothing tells them apart), also while the key is locked.
        """
        key = throttle_key(account, user_name)

        async def q(conn: AsyncConnection) -> tuple[Any, Any, Any, PasswordPolicy, list[str]]:
            lock = await locked_until(conn, key)
            return (lock, *await sign_in_lookup(conn, account, user_name))

        lock, found, profile, policy, serials = await self._store._read(q)
        stored = _DUMMY_HASH if profile is None else str(profile.password_hash)
        matches = await asyncio.to_thread(verify_password, stored, password)
        exists = profile is not None
        if lock is not None and lock > now:
            raise SignInFailed("locked", user_exists=exists)
        if not (matches and exists):
            await self._failed(key, now)
            raise SignInFailed("credentials", user_exists=exists)
        assert found is not None
        account_id, owner = found
        expired = user_name is not None and password_expired(
            policy, profile.password_changed_at, now
        )
        if expired and policy.hard_expiry:
            raise SignInFailed("expired", user_exists=True)
        await self._succeeded(key, owner[0], stored, password)
        duration = profile.max_signin_session_duration
        return SignIn(
            account_id=account_id,
            owner_id=owner[0],
            user_name=owner[1],
            mfa_serials=tuple(serials),
            must_change_password=bool(profile.password_reset_required) or expired,
            max_session=None if duration is None else timedelta(seconds=duration),
        )

    async def _failed(self, key: str, now: datetime) -> None:
        settings = self._settings
        await self._store._write(lambda conn: record_failure(conn, key, now, settings))

    async def _succeeded(self, key: str, owner_id: str, stored: str, password: str) -> None:
        rehashed = None
        if needs_rehash(stored):
            rehashed = await asyncio.to_thread(hash_password, password)

        async def op(conn: AsyncConnection) -> None:
            await clear_failures(conn, key)
            if rehashed is not None:
                await conn.execute(
                    sa.update(login_profiles).where(_L.owner_id == owner_id)
                    .values(password_hash=rehashed)
                )

        await self._store._write(op)

    async def set_own_password(
        self, account_id: str, owner_id: str, user_name: str | None, password: str, *,
        now: datetime,
    ) -> None:
        """The forced change at sign-in (the old password was just checked)."""

        async def q(conn: AsyncConnection) -> tuple[PasswordPolicy, list[str]]:
            policy = await account_policy(conn, account_id)
            return policy, await recent_hashes(conn, owner_id, policy.reuse_prevention or 0)

        policy, history = await self._store._read(q)
        if user_name is None:
            await self.set_root_password(account_id, password, now=now)
            return
        await self._set_password(account_id, owner_id, user_name, password, policy, history,
                                 now=now)


async def _require_account(conn: AsyncConnection, account_id: str) -> None:
    found = await conn.execute(
        sa.select(accounts.c.account_id).where(accounts.c.account_id == account_id)
    )
    if found.first() is None:
        raise NoSuchEntity(f"The account {account_id} cannot be found.")


async def _end_sessions(conn: AsyncConnection, owner_id: str) -> None:
    from ...store.schema import console_sessions

    await conn.execute(
        sa.delete(console_sessions).where(console_sessions.c.owner_id == owner_id)
    )
