"""Virtual MFA devices in the key store: IAM's lifecycle, the one-time check, throttling.

Every test runs on SQLite and on PostgreSQL; the replay test races real
processes on one database file / schema.
"""

from __future__ import annotations

import asyncio
import io
import logging
import multiprocessing
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import zxingcpp
from PIL import Image
from sigv4kit.middleware import MasterKey, PostgresKeyStore, SQLiteKeyStore
from sigv4kit.middleware.iam.mfa import (
    DeleteConflict,
    EntityAlreadyExists,
    InvalidAuthenticationCode,
    LimitExceeded,
    MFAAuthenticationFailed,
    MFAFailure,
    MFASettings,
    MFAStore,
    NoSuchEntity,
    ValidationError,
    code_at,
)
from sigv4kit.middleware.store.schema import DEFAULT_ACCOUNT_ID, mfa_devices

MASTER = MasterKey.generate()
ACCT = DEFAULT_ACCOUNT_ID
T0 = datetime(2026, 12, 3, 10, 0, 0, tzinfo=UTC)  # a step boundary: 1796292000 / 30


def _b32decode(text: str) -> bytes:
    import base64

    return base64.b32decode(text + "=" * (-len(text) % 8))


def _step(now: datetime) -> int:
    return int(now.timestamp()) // 30


def _open(target: str) -> Any:
    if target.startswith("postgresql"):
        return PostgresKeyStore(target, master_key=MASTER, listen=False)
    return SQLiteKeyStore(target, master_key=MASTER)


@pytest.fixture(params=["sqlite", "postgres"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "mfa.db")
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
async def store(target: str) -> AsyncIterator[Any]:
    s = _open(target)
    await s.create_principal("bob")
    await s.create_principal("alice")
    try:
        yield s
    finally:
        await s.aclose()


async def _enabled(
    mfa: MFAStore, name: str = "bob-phone", user: str = "bob"
) -> tuple[str, bytes, str]:
    """A device enabled for ``user`` at T0 (codes of steps T0-1 and T0): serial, seed, user id."""
    new = await mfa.create_virtual_mfa_device(ACCT, name, now=T0)
    seed = _b32decode(new.base32_string_seed)
    s = _step(T0)
    await mfa.enable_mfa_device(
        ACCT, user, new.serial_number, code_at(seed, s - 1), code_at(seed, s), now=T0
    )
    (device,) = await mfa.list_mfa_devices(ACCT, user)
    assert device.user_id is not None
    return new.serial_number, seed, device.user_id


async def test_virtual_device_lifecycle(store: Any) -> None:
    mfa = MFAStore(store)
    new = await mfa.create_virtual_mfa_device(ACCT, "bob-phone", path="/team/", now=T0)
    serial = f"arn:aws:iam::{ACCT}:mfa/team/bob-phone"
    assert new.serial_number == serial
    assert len(new.base32_string_seed) == 64
    assert len(_b32decode(new.base32_string_seed)) == 40
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(new.qr_code_png)))
    assert [r.text for r in decoded] == [
        f"otpauth://totp/bob-phone@{ACCT}?secret={new.base32_string_seed}&issuer=sigv4kit"
    ]
    with pytest.raises(EntityAlreadyExists):
        await mfa.create_virtual_mfa_device(ACCT, "bob-phone", path="/team/", now=T0)
    unassigned = await mfa.list_virtual_mfa_devices(ACCT, "Unassigned")
    assert [(d.serial_number, d.user_name) for d in unassigned] == [(serial, None)]
    assert await mfa.list_virtual_mfa_devices(ACCT, "Assigned") == []

    seed = _b32decode(new.base32_string_seed)
    s = _step(T0)
    device = await mfa.enable_mfa_device(
        ACCT, "bob", serial, code_at(seed, s), code_at(seed, s + 1), now=T0
    )
    assert (device.user_name, device.enable_date) == ("bob", T0)
    assert [d.serial_number for d in await mfa.list_mfa_devices(ACCT, "bob")] == [serial]
    assert await mfa.list_mfa_devices(ACCT, "alice") == []
    assert [d.user_name for d in await mfa.list_virtual_mfa_devices(ACCT, "Assigned")] == ["bob"]
    with pytest.raises(EntityAlreadyExists, match="already in use"):
        await mfa.enable_mfa_device(
            ACCT, "alice", serial, code_at(seed, s + 2), code_at(seed, s + 3), now=T0
        )
    with pytest.raises(DeleteConflict):
        await mfa.delete_virtual_mfa_device(serial)
    with pytest.raises(NoSuchEntity):
        await mfa.deactivate_mfa_device(ACCT, "alice", serial, now=T0)
    await mfa.deactivate_mfa_device(ACCT, "bob", serial, now=T0)
    assert await mfa.list_mfa_devices(ACCT, "bob") == []
    await mfa.delete_virtual_mfa_device(serial)
    assert await mfa.list_virtual_mfa_devices(ACCT) == []
    with pytest.raises(NoSuchEntity):
        await mfa.delete_virtual_mfa_device(serial)
    with pytest.raises(NoSuchEntity, match=r"The user with name carol cannot be found\."):
        await mfa.list_mfa_devices(ACCT, "carol")


@pytest.mark.parametrize(
    ("name", "path"), [("", "/"), ("a/b", "/"), ("x" * 227, "/"), ("ok", "no-slash"), ("ok", "//")]
)
async def test_names_and_paths_are_validated(store: Any, name: str, path: str) -> None:
    with pytest.raises(ValidationError, match="1 validation error detected"):
        await MFAStore(store).create_virtual_mfa_device(ACCT, name, path=path, now=T0)


async def test_enable_needs_two_consecutive_codes(store: Any) -> None:
    mfa = MFAStore(store)
    new = await mfa.create_virtual_mfa_device(ACCT, "d", now=T0)
    seed = _b32decode(new.base32_string_seed)
    s = _step(T0)
    for first, second in [
        (code_at(seed, s), code_at(seed, s)),  # the same code twice
        (code_at(seed, s), code_at(seed, s + 2)),  # a gap
        (code_at(seed, s + 1), code_at(seed, s)),  # the wrong order
        (code_at(seed, s + 11), code_at(seed, s + 12)),  # beyond the ±10 step search
        ("000000", "abcdef"),
    ]:
        with pytest.raises(InvalidAuthenticationCode) as caught:
            await mfa.enable_mfa_device(ACCT, "bob", new.serial_number, first, second, now=T0)
        assert caught.value.message == "Authentication code for device is not valid."
        assert (caught.value.code, caught.value.status) == ("InvalidAuthenticationCode", 403)
    assert await mfa.list_mfa_devices(ACCT, "bob") == []


async def test_a_code_is_accepted_once(store: Any) -> None:
    mfa = MFAStore(store)
    serial, seed, uid = await _enabled(mfa)
    later = T0 + timedelta(seconds=95)  # three steps after enabling
    s = _step(later)
    ok = await mfa.verify_code(serial, code_at(seed, s), principal_id=uid, now=later)
    assert (ok.serial_number, ok.step, ok.authenticated_at) == (serial, s, later)
    with pytest.raises(MFAAuthenticationFailed) as caught:
        await mfa.verify_code(serial, code_at(seed, s), principal_id=uid, now=later)
    assert caught.value.reason is MFAFailure.REPLAYED
    assert caught.value.code == "AccessDenied"
    assert caught.value.message == (
        "MultiFactorAuthentication failed with invalid MFA one time pass code."
    )
    # The previous step's code is inside the window but older than the one used.
    with pytest.raises(MFAAuthenticationFailed) as caught:
        await mfa.verify_code(serial, code_at(seed, s - 1), principal_id=uid, now=later)
    assert caught.value.reason is MFAFailure.REPLAYED
    # The codes spent by EnableMFADevice are spent too.
    with pytest.raises(MFAAuthenticationFailed):
        await mfa.verify_code(serial, code_at(seed, _step(T0)), principal_id=uid, now=T0)
    # The next step's code (the device a little ahead) works once.
    await mfa.verify_code(serial, code_at(seed, s + 1), principal_id=uid, now=later)
    with pytest.raises(MFAAuthenticationFailed) as caught:
        await mfa.verify_code(
            serial, code_at(seed, s + 2), principal_id=uid, now=T0 + timedelta(hours=1)
        )
    assert caught.value.reason is MFAFailure.INVALID


async def test_the_device_must_be_the_callers_and_enabled(store: Any) -> None:
    mfa = MFAStore(store)
    serial, seed, uid = await _enabled(mfa)
    later = T0 + timedelta(minutes=5)
    code = code_at(seed, _step(later))
    for wrong_serial, principal in [
        (serial, "AIDAOTHERUSER0000000"),
        (serial + "x", uid),
        ("not an arn", uid),
    ]:
        with pytest.raises(MFAAuthenticationFailed) as caught:
            await mfa.verify_code(wrong_serial, code, principal_id=principal, now=later)
        assert caught.value.reason is MFAFailure.UNKNOWN_DEVICE
        assert "Please verify your MFA serial number is valid" in caught.value.message
    await mfa.deactivate_mfa_device(ACCT, "bob", serial, now=later)
    with pytest.raises(MFAAuthenticationFailed) as caught:
        await mfa.verify_code(serial, code, principal_id=uid, now=later)
    assert caught.value.reason is MFAFailure.UNKNOWN_DEVICE


async def test_drift_learned_at_enable_and_resync(store: Any) -> None:
    mfa = MFAStore(store)
    new = await mfa.create_virtual_mfa_device(ACCT, "fast", now=T0)
    seed = _b32decode(new.base32_string_seed)
    serial, s = new.serial_number, _step(T0)
    # The phone's clock runs 6 steps (3 minutes) ahead.
    await mfa.enable_mfa_device(
        ACCT, "bob", serial, code_at(seed, s + 6), code_at(seed, s + 7), now=T0
    )
    (device,) = await mfa.list_mfa_devices(ACCT, "bob")
    uid = device.user_id
    assert uid is not None
    later = T0 + timedelta(minutes=10)
    ls = _step(later)
    await mfa.verify_code(serial, code_at(seed, ls + 7), principal_id=uid, now=later)
    # Without the drift, the honest "now" code is outside the window.
    with pytest.raises(MFAAuthenticationFailed):
        await mfa.verify_code(serial, code_at(seed, ls + 100), principal_id=uid, now=later)
    # The phone is corrected to our time: resync with two consecutive codes.
    later2 = later + timedelta(minutes=1)
    ls2 = _step(later2)
    with pytest.raises(NoSuchEntity):
        await mfa.resync_mfa_device(ACCT, "alice", serial, "000000", "000001", now=later2)
    with pytest.raises(InvalidAuthenticationCode):
        await mfa.resync_mfa_device(
            ACCT, "bob", serial, code_at(seed, ls2 + 40), code_at(seed, ls2 + 41), now=later2
        )
    await mfa.resync_mfa_device(
        ACCT, "bob", serial, code_at(seed, ls2 + 8), code_at(seed, ls2 + 9), now=later2
    )
    later3 = later2 + timedelta(minutes=2)
    await mfa.verify_code(serial, code_at(seed, _step(later3) + 9), principal_id=uid, now=later3)


async def test_wrong_codes_lock_the_device_for_every_worker(store: Any, target: str) -> None:
    mfa = MFAStore(store)
    serial, seed, uid = await _enabled(mfa)
    now = T0 + timedelta(minutes=1)
    for _ in range(4):
        with pytest.raises(MFAAuthenticationFailed) as caught:
            await mfa.verify_code(
                serial,
                "000000" if code_at(seed, _step(now)) != "000000" else "111111",
                principal_id=uid,
                now=now,
            )
        assert caught.value.reason is MFAFailure.INVALID
    # A right code resets the count ...
    await mfa.verify_code(serial, code_at(seed, _step(now)), principal_id=uid, now=now)
    # ... so five more wrong codes are needed to lock it, from another worker.
    other = _open(target)
    try:
        other_mfa = MFAStore(other)
        wrong = "000000" if code_at(seed, _step(now) + 1) != "000000" else "111111"
        for _ in range(5):
            with pytest.raises(MFAAuthenticationFailed):
                await other_mfa.verify_code(serial, wrong, principal_id=uid, now=now)
    finally:
        await other.aclose()
    # Locked: the right code is refused, in this process too, and not spent.
    nxt = now + timedelta(seconds=30)
    good = code_at(seed, _step(nxt))
    with pytest.raises(MFAAuthenticationFailed) as caught:
        await mfa.verify_code(serial, good, principal_id=uid, now=nxt)
    assert caught.value.reason is MFAFailure.LOCKED
    assert (
        str(caught.value) == "MultiFactorAuthentication failed with invalid MFA one time pass code."
    )
    # Enable/Resync are locked too.
    with pytest.raises(InvalidAuthenticationCode):
        await mfa.resync_mfa_device(
            ACCT, "bob", serial, good, code_at(seed, _step(nxt) + 1), now=nxt
        )
    # The lock ends after MFASettings.lockout (5 minutes from the fifth failure).
    after = now + timedelta(minutes=5, seconds=1)
    await mfa.verify_code(serial, code_at(seed, _step(after)), principal_id=uid, now=after)


async def test_limit_of_devices_per_user(store: Any) -> None:
    mfa = MFAStore(store, settings=replace(MFASettings(), max_devices_per_user=1))
    await _enabled(mfa, "one")
    new = await mfa.create_virtual_mfa_device(ACCT, "two", now=T0)
    seed = _b32decode(new.base32_string_seed)
    s = _step(T0)
    with pytest.raises(LimitExceeded, match="MFADevicesPerUser: 1"):
        await mfa.enable_mfa_device(
            ACCT, "bob", new.serial_number, code_at(seed, s), code_at(seed, s + 1), now=T0
        )


async def test_seed_is_sealed_to_its_serial(store: Any) -> None:
    mfa = MFAStore(store)
    a = await mfa.create_virtual_mfa_device(ACCT, "a", now=T0)
    b = await mfa.create_virtual_mfa_device(ACCT, "b", now=T0)

    async def rows(conn: Any) -> list[Any]:
        return list(
            await conn.execute(sa.select(mfa_devices).order_by(mfa_devices.c.serial_number))
        )

    ra, rb = await store._read(rows)
    for row, new in [(ra, a), (rb, b)]:
        envelope = bytes(row.seed_envelope)
        assert new.base32_string_seed.encode() not in envelope
        assert _b32decode(new.base32_string_seed) not in envelope
        assert row.master_key_id == MASTER.key_id

    # a's sealed seed copied onto b's row does not open (the serial is the associated data).
    async def swap(conn: Any) -> None:
        await conn.execute(
            sa.update(mfa_devices)
            .where(mfa_devices.c.serial_number == b.serial_number)
            .values(seed_envelope=bytes(ra.seed_envelope))
        )

    await store._write(swap)
    seed_a = _b32decode(a.base32_string_seed)
    s = _step(T0)
    from sigv4kit.middleware import SecretDecryptionError

    with pytest.raises(SecretDecryptionError):
        await mfa.enable_mfa_device(
            ACCT, "bob", b.serial_number, code_at(seed_a, s), code_at(seed_a, s + 1), now=T0
        )


async def test_seed_and_codes_never_in_logs_reprs_or_errors(
    store: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    mfa = MFAStore(store)
    new = await mfa.create_virtual_mfa_device(ACCT, "quiet", now=T0)
    seed = _b32decode(new.base32_string_seed)
    s = _step(T0)
    codes = [code_at(seed, s + i) for i in range(4)]
    await mfa.enable_mfa_device(ACCT, "bob", new.serial_number, codes[0], codes[1], now=T0)
    (device,) = await mfa.list_mfa_devices(ACCT, "bob")
    assert device.user_id is not None
    texts = [repr(new), str(new), repr(device), repr(mfa)]
    for attempt in (codes[1], codes[0], "999999" if "999999" not in codes else "888888"):
        try:
            await mfa.verify_code(new.serial_number, attempt, principal_id=device.user_id, now=T0)
        except MFAAuthenticationFailed as exc:
            texts += [repr(exc), str(exc), exc.message, repr(exc.args)]
        else:
            raise AssertionError("a spent or wrong code was accepted")
    try:
        await mfa.enable_mfa_device(ACCT, "alice", new.serial_number, codes[2], codes[3], now=T0)
    except EntityAlreadyExists as exc:
        texts += [repr(exc), str(exc)]
    texts.append(caplog.text)
    secrets_ = [new.base32_string_seed, new.provisioning_uri, *codes[:2]]
    for text in texts:
        for secret in secrets_:
            assert secret not in text


# -- the race: two processes, one code ---------------------------------------------------

ROUNDS = 12


def _racer(
    target: str, material: bytes, serial: str, uid: str, seed: bytes, barrier: Any, out: Any
) -> None:
    async def run() -> list[bool]:
        s = (
            PostgresKeyStore(target, master_key=MasterKey(material), listen=False)
            if target.startswith("postgresql")
            else SQLiteKeyStore(target, master_key=MasterKey(material))
        )
        mfa = MFAStore(s, settings=replace(MFASettings(), max_failures=10_000))
        won: list[bool] = []
        reasons: list[str] = []
        try:
            for k in range(ROUNDS):
                now = T0 + timedelta(seconds=60 + 30 * k)
                code = code_at(seed, _step(now))
                barrier.wait(timeout=60)
                try:
                    await mfa.verify_code(serial, code, principal_id=uid, now=now)
                    won.append(True)
                except MFAAuthenticationFailed as exc:
                    # Only a lost race may refuse the code (checked by the parent).
                    won.append(False)
                    reasons.append(exc.reason.value)
        finally:
            await s.aclose()
        return won, reasons

    out.put(asyncio.run(run()))


async def test_a_code_raced_by_two_processes_is_accepted_once(store: Any, target: str) -> None:
    mfa = MFAStore(store)
    serial, seed, uid = await _enabled(mfa)
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(2)
    out = ctx.Queue()
    procs = [
        ctx.Process(target=_racer, args=(target, MASTER.material, serial, uid, seed, barrier, out))
        for _ in range(2)
    ]
    for p in procs:
        p.start()
    answers = [await asyncio.to_thread(out.get, True, 120) for _ in procs]
    results = [won for won, _ in answers]
    # Every refusal was a replay (the code was spent by the other process).
    assert {r for _, reasons in answers for r in reasons} <= {"replayed"}
    for p in procs:
        await asyncio.to_thread(p.join, 30)
        assert p.exitcode == 0
    # Each round exactly one process won the code, never both, never neither.
    for k in range(ROUNDS):
        assert results[0][k] != results[1][k], k


async def test_rewrap_reseals_mfa_seeds(store: Any) -> None:
    mfa = MFAStore(store)
    serial, seed, uid = await _enabled(mfa)
    new_key = MasterKey.generate()
    count = await store.rewrap(new_key)
    assert count == 1  # the one seed (no access keys in this store)

    async def key_ids(conn: Any) -> list[str]:
        return list((await conn.execute(sa.select(mfa_devices.c.master_key_id))).scalars())

    assert await store._read(key_ids) == [new_key.key_id]
    later = T0 + timedelta(minutes=3)
    await mfa.verify_code(serial, code_at(seed, _step(later)), principal_id=uid, now=later)
    # Devices created afterwards are sealed under the new key too.
    await mfa.create_virtual_mfa_device(ACCT, "after", now=later)
    assert set(await store._read(key_ids)) == {new_key.key_id}
