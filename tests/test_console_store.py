"""Passwords, the sign-in check and console sessions on both databases (SQLite, PostgreSQL),
with the time passed in: throttling and its lock, password expiry (soft and hard), the root
user's sign-in by alias, idle and absolute session expiry, token rotation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sigv4kit.middleware import MasterKey, PostgresKeyStore, SQLiteKeyStore
from sigv4kit.middleware.console import ConsoleSessions, SessionState
from sigv4kit.middleware.iam.entities import IAMStore
from sigv4kit.middleware.iam.login import (
    DEFAULT_POLICY,
    LoginStore,
    PasswordPolicy,
    PasswordPolicyViolation,
    SignInFailed,
    SignInSettings,
    password_problems,
)

MASTER = MasterKey.generate()
T0 = datetime(2026, 12, 3, 10, 0, 0, tzinfo=UTC)
ACCOUNT = "123456789012"
PASSWORD = "Good-Password-1"


@pytest.fixture(params=["sqlite", "postgres"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Any]:
    if request.param == "sqlite":
        s: Any = SQLiteKeyStore(str(tmp_path / "console.db"), master_key=MASTER)
    else:
        s = PostgresKeyStore(str(request.getfixturevalue("pg_url")), master_key=MASTER,
                             listen=False)
    iam = IAMStore(s, clock=lambda: T0)
    await iam.create_account(ACCOUNT, alias="example")
    await iam.create_user(ACCOUNT, "bob")
    try:
        yield s
    finally:
        await s.aclose()


def test_password_problems_of_the_default_and_a_custom_policy() -> None:
    assert password_problems(DEFAULT_POLICY, "Abcdefg1") == []
    assert password_problems(DEFAULT_POLICY, "abcdefgh") == [
        "at least three of: uppercase letters, lowercase letters, numbers, symbols"]
    assert password_problems(DEFAULT_POLICY, "Bob-Pass1", user_name="bob-pass1") == [
        "not the user name"]
    strict = PasswordPolicy(minimum_length=12, require_symbols=True, require_numbers=True,
                            require_uppercase=True, require_lowercase=True)
    assert password_problems(strict, "short") == [
        "at least 12 characters", "at least one uppercase letter (A-Z)",
        "at least one number (0-9)", "at least one symbol (! @ # $ % ^ & * ...)"]
    assert password_problems(strict, "Long-enough-1") == []


async def test_sign_in_and_throttling(store: Any) -> None:
    logins = LoginStore(store, settings=SignInSettings(
        max_failures=3, window=timedelta(minutes=15), lockout=timedelta(minutes=10)))
    await logins.create_login_profile(ACCOUNT, "bob", PASSWORD, now=T0)
    ok = await logins.sign_in("example", "BOB", PASSWORD, now=T0)  # alias; names ignore case
    assert (ok.account_id, ok.user_name, ok.must_change_password) == (ACCOUNT, "bob", False)
    for _ in range(3):
        with pytest.raises(SignInFailed) as failed:
            await logins.sign_in(ACCOUNT, "bob", "wrong", now=T0)
        assert failed.value.reason == "credentials"
    with pytest.raises(SignInFailed) as locked:
        await logins.sign_in(ACCOUNT, "bob", PASSWORD, now=T0 + timedelta(minutes=9))
    assert locked.value.reason == "locked"
    # The lock ends; the right password signs in and clears the count.
    await logins.sign_in(ACCOUNT, "bob", PASSWORD, now=T0 + timedelta(minutes=11))
    # Unknown users are counted and locked the same way.
    for _ in range(3):
        with pytest.raises(SignInFailed) as ghost:
            await logins.sign_in(ACCOUNT, "ghost", "x", now=T0)
        assert ghost.value.user_exists is False
    with pytest.raises(SignInFailed) as ghost_locked:
        await logins.sign_in(ACCOUNT, "ghost", "x", now=T0)
    assert ghost_locked.value.reason == "locked"


async def test_password_expiry_soft_and_hard(store: Any) -> None:
    logins = LoginStore(store)
    await logins.create_login_profile(ACCOUNT, "bob", PASSWORD, now=T0)
    await logins.update_account_password_policy(
        ACCOUNT, PasswordPolicy(minimum_length=8, max_password_age=30, hard_expiry=False))
    later = T0 + timedelta(days=31)
    soft = await logins.sign_in(ACCOUNT, "bob", PASSWORD, now=later)
    assert soft.must_change_password is True
    await logins.update_account_password_policy(
        ACCOUNT, PasswordPolicy(minimum_length=8, max_password_age=30, hard_expiry=True))
    with pytest.raises(SignInFailed) as hard:
        await logins.sign_in(ACCOUNT, "bob", PASSWORD, now=later)
    assert hard.value.reason == "expired"
    # An administrator's reset makes the password new again.
    await logins.update_login_profile(ACCOUNT, "bob", password="Reset-Password-2", now=later)
    fresh = await logins.sign_in(ACCOUNT, "bob", "Reset-Password-2", now=later)
    assert fresh.must_change_password is False


async def test_reuse_prevention_counts_the_current_password(store: Any) -> None:
    logins = LoginStore(store)
    await logins.update_account_password_policy(
        ACCOUNT, PasswordPolicy(minimum_length=8, reuse_prevention=1,
                                allow_users_to_change=True))
    await logins.create_login_profile(ACCOUNT, "bob", PASSWORD, now=T0)
    with pytest.raises(PasswordPolicyViolation) as reused:
        await logins.change_password(ACCOUNT, "bob", PASSWORD, PASSWORD, now=T0)
    assert reused.value.reasons == ("not one of the last 1 passwords",)
    await logins.change_password(ACCOUNT, "bob", PASSWORD, "Other-Password-2", now=T0)
    await logins.change_password(ACCOUNT, "bob", "Other-Password-2", PASSWORD, now=T0)


async def test_root_sign_in(store: Any) -> None:
    logins = LoginStore(store)
    await logins.set_root_password(ACCOUNT, "Root-Password-9", now=T0)
    root = await logins.sign_in("example", None, "Root-Password-9", now=T0)
    assert (root.owner_id, root.user_name) == (ACCOUNT, None)
    with pytest.raises(SignInFailed):
        await logins.sign_in(ACCOUNT, None, "Root-Password-8", now=T0)


async def test_sessions_idle_absolute_and_rotation(store: Any) -> None:
    sessions = ConsoleSessions(store, idle=timedelta(minutes=15), absolute=timedelta(hours=1))
    token = await sessions.create(ACCOUNT, ACCOUNT, SessionState.MFA, now=T0, source_ip=None)
    assert (await sessions.get(token, now=T0)).state is SessionState.MFA  # type: ignore[union-attr]
    active = await sessions.advance(token, SessionState.ACTIVE, now=T0, mfa_authenticated=True)
    assert await sessions.get(token, now=T0) is None  # the old token stopped working
    session = await sessions.get(active, now=T0)
    assert session is not None
    assert session.mfa_authenticated is True
    assert session.is_root is True
    # Used every 10 minutes, it stays alive until the absolute limit.
    for minutes in (10, 20, 30, 40, 50):
        assert await sessions.get(active, now=T0 + timedelta(minutes=minutes)) is not None
    assert await sessions.get(active, now=T0 + timedelta(minutes=60)) is None
    # Idle for longer than 15 minutes: gone.
    idle = await sessions.create(ACCOUNT, ACCOUNT, SessionState.ACTIVE, now=T0, source_ip=None)
    assert await sessions.get(idle, now=T0 + timedelta(minutes=16)) is None
    # A shorter MaxSigninSessionDuration wins over the console's absolute limit.
    short = await sessions.create(ACCOUNT, ACCOUNT, SessionState.ACTIVE, now=T0,
                                  source_ip=None, max_session=timedelta(minutes=5))
    assert await sessions.get(short, now=T0 + timedelta(minutes=6)) is None
    ended = await sessions.create(ACCOUNT, ACCOUNT, SessionState.ACTIVE, now=T0, source_ip=None)
    await sessions.end(ended)
    assert await sessions.get(ended, now=T0) is None


async def test_change_password_by_the_root_user_is_invalid_user_type(store: Any) -> None:
    # The IAM API's own handler with the root user's snapshot (root has no access
    # keys to sign with in sigv4kit, so this is the handler, not the wire).
    from sigv4kit.middleware.iam.api import IAM_HANDLERS, Call
    from sigv4kit.middleware.iam.api._iam_context import IAMContext
    from sigv4kit.middleware.iam.login import InvalidUserType

    iam = IAMStore(store, clock=lambda: T0)
    snapshot = await iam.load_authorization(principal_id=ACCOUNT)
    assert snapshot is not None
    call = Call(action="ChangePassword", params={"OldPassword": "a", "NewPassword": "b"},
                request_id="r", context=IAMContext(iam=iam, snapshot=snapshot))
    with pytest.raises(InvalidUserType) as refused:
        await IAM_HANDLERS["ChangePassword"](call)
    assert (refused.value.code, refused.value.status) == ("InvalidUserType", 400)
