"""Secrets at rest: the AES-256-GCM envelope, master keys and key files."""

from __future__ import annotations

import base64
import logging
import os
import sqlite3
import stat
import threading
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import given, settings
from hypothesis import strategies as st
from sigv4kit.middleware import (
    MasterKey,
    MasterKeyError,
    SecretDecryptionError,
    SQLiteKeyStore,
)
from sigv4kit.middleware.store.secrets import (
    MASTER_KEY_ENV,
    MASTER_KEY_FILE_ENV,
    create_key_file,
    envelope_key_id,
    resolve_master_key,
)

SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
AKID = "AKIAIOSFODNN7EXAMPLE"
KEY_BYTES = bytes(range(32))


# -- envelope -------------------------------------------------------------------


def test_round_trip() -> None:
    key = MasterKey.generate()
    envelope = key.seal(SECRET, access_key_id=AKID)
    assert key.open(envelope, access_key_id=AKID) == SECRET
    assert SECRET.encode() not in envelope


def test_envelope_layout_is_aes_gcm_with_key_id_as_aad() -> None:
    # Decrypt with cryptography directly, following the documented layout:
    # version | 8-byte key id | 12-byte nonce | ciphertext+tag, AAD = header + key id.
    key = MasterKey(KEY_BYTES)
    nonce = b"\x01" * 12
    envelope = key.seal(SECRET, access_key_id=AKID, nonce=nonce)
    assert envelope[0] == 1
    assert envelope[9:21] == nonce
    assert envelope_key_id(envelope) == key.key_id == envelope[1:9].hex()
    plain = AESGCM(KEY_BYTES).decrypt(nonce, envelope[21:], envelope[:9] + AKID.encode())
    assert plain == SECRET.encode()
    assert len(envelope) == 1 + 8 + 12 + len(SECRET) + 16


def test_fresh_nonce_every_time() -> None:
    key = MasterKey.generate()
    envelopes = {key.seal(SECRET, access_key_id=AKID) for _ in range(50)}
    assert len(envelopes) == 50
    assert len({e[9:21] for e in envelopes}) == 50


def test_ciphertext_moved_to_another_key_id_fails() -> None:
    key = MasterKey.generate()
    envelope = key.seal(SECRET, access_key_id=AKID)
    with pytest.raises(SecretDecryptionError, match="another access key"):
        key.open(envelope, access_key_id="AKIAOTHERKEYEXAMPLE2")


@pytest.mark.parametrize("position", [0, 1, 8, 9, 20, 21, -1])
def test_any_altered_byte_fails_closed(position: int) -> None:
    key = MasterKey.generate()
    envelope = bytearray(key.seal(SECRET, access_key_id=AKID))
    envelope[position] ^= 0x01
    with pytest.raises(SecretDecryptionError):
        key.open(bytes(envelope), access_key_id=AKID)


def test_truncated_envelope() -> None:
    key = MasterKey.generate()
    envelope = key.seal(SECRET, access_key_id=AKID)
    for n in (0, 1, 9, 36):
        with pytest.raises(SecretDecryptionError, match="truncated"):
            key.open(envelope[:n], access_key_id=AKID)


def test_unknown_envelope_version() -> None:
    key = MasterKey.generate()
    envelope = b"\x02" + key.seal(SECRET, access_key_id=AKID)[1:]
    with pytest.raises(SecretDecryptionError, match="version 2"):
        key.open(envelope, access_key_id=AKID)


def test_wrong_master_key_fails_with_both_key_ids() -> None:
    right, wrong = MasterKey.generate(), MasterKey.generate()
    envelope = right.seal(SECRET, access_key_id=AKID)
    with pytest.raises(SecretDecryptionError) as info:
        wrong.open(envelope, access_key_id=AKID)
    message = str(info.value)
    assert right.key_id in message
    assert wrong.key_id in message
    assert SECRET not in message


def test_wrong_key_with_forged_key_id_still_fails() -> None:
    right, wrong = MasterKey.generate(), MasterKey.generate()
    envelope = right.seal(SECRET, access_key_id=AKID)
    forged = envelope[:1] + bytes.fromhex(wrong.key_id) + envelope[9:]
    with pytest.raises(SecretDecryptionError, match="failed authentication"):
        wrong.open(forged, access_key_id=AKID)


def test_master_key_never_printed() -> None:
    key = MasterKey(KEY_BYTES, source="test")
    assert base64.b64encode(KEY_BYTES).decode() not in repr(key)
    assert KEY_BYTES.hex() not in repr(key)
    assert str(KEY_BYTES) not in repr(key)


def test_key_id_is_stable_and_distinct() -> None:
    assert MasterKey(KEY_BYTES).key_id == MasterKey(KEY_BYTES).key_id
    assert MasterKey(KEY_BYTES).key_id != MasterKey(bytes(32)).key_id
    assert len(MasterKey(KEY_BYTES).key_id) == 16


# -- master key configuration ------------------------------------------------------


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def test_env_key() -> None:
    key = resolve_master_key({MASTER_KEY_ENV: b64(KEY_BYTES)}, default_key_file=None)
    assert key.material == KEY_BYTES


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "SIGV4KIT_MASTER_KEY is empty"),
        ("   ", "SIGV4KIT_MASTER_KEY is empty"),
        ("not base64!!", "SIGV4KIT_MASTER_KEY is not valid base64"),
        ("QUJ", "not valid base64"),
        (b64(bytes(16)), "decodes to 16 bytes; a master key must be exactly 32 bytes"),
        (b64(bytes(33)), "decodes to 33 bytes"),
        ("ÄÖÜ", "not valid base64"),
    ],
)
def test_bad_env_key_precise_errors(value: str, message: str) -> None:
    with pytest.raises(MasterKeyError, match=message):
        resolve_master_key({MASTER_KEY_ENV: value}, default_key_file=None)


def test_both_env_variables_is_an_error(tmp_path: Path) -> None:
    env = {MASTER_KEY_ENV: b64(KEY_BYTES), MASTER_KEY_FILE_ENV: str(tmp_path / "k")}
    with pytest.raises(MasterKeyError, match="set only one"):
        resolve_master_key(env, default_key_file=None)


def test_key_file_env(tmp_path: Path) -> None:
    path = tmp_path / "master.key"
    path.write_text(b64(KEY_BYTES) + "\n")
    path.chmod(0o600)
    key = resolve_master_key({MASTER_KEY_FILE_ENV: str(path)}, default_key_file=None)
    assert key.material == KEY_BYTES


def test_key_file_env_errors(tmp_path: Path) -> None:
    with pytest.raises(MasterKeyError, match="does not exist"):
        resolve_master_key({MASTER_KEY_FILE_ENV: str(tmp_path / "nope")}, default_key_file=None)
    with pytest.raises(MasterKeyError, match="SIGV4KIT_MASTER_KEY_FILE is empty"):
        resolve_master_key({MASTER_KEY_FILE_ENV: ""}, default_key_file=None)
    bad = tmp_path / "bad.key"
    bad.write_text(b64(bytes(31)))
    with pytest.raises(MasterKeyError, match="decodes to 31 bytes"):
        resolve_master_key({MASTER_KEY_FILE_ENV: str(bad)}, default_key_file=None)
    binary = tmp_path / "binary.key"
    binary.write_bytes(b"\xff\xfe" * 16)
    with pytest.raises(MasterKeyError, match="not base64 text"):
        resolve_master_key({MASTER_KEY_FILE_ENV: str(binary)}, default_key_file=None)


def test_server_databases_require_a_configured_key() -> None:
    # PostgreSQL passes no default key file: nothing is ever generated.
    with pytest.raises(MasterKeyError, match="a master key is required"):
        resolve_master_key({}, default_key_file=None)


def test_default_key_file_created_0600_with_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "keys.db.key"
    os.umask(0o022)
    with caplog.at_level(logging.WARNING, logger="sigv4kit.middleware.store"):
        key = resolve_master_key({}, default_key_file=path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert base64.b64decode(path.read_text().strip()) == key.material
    assert any("keys.db.key" in r.getMessage() for r in caplog.records)
    assert b64(key.material) not in caplog.text
    # Second start reads the same key, silently.
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="sigv4kit.middleware.store"):
        again = resolve_master_key({}, default_key_file=path)
    assert again.material == key.material
    assert caplog.records == []
    assert [p.name for p in tmp_path.iterdir()] == ["keys.db.key"]  # no temp files left


def test_missing_default_key_file_not_recreated_when_not_allowed(tmp_path: Path) -> None:
    with pytest.raises(MasterKeyError, match=r"key file .* is missing"):
        resolve_master_key({}, default_key_file=tmp_path / "k.key", create=False)


def test_group_readable_key_file_warns(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "k.key"
    path.write_text(b64(KEY_BYTES))
    path.chmod(0o644)
    with caplog.at_level(logging.WARNING, logger="sigv4kit.middleware.store"):
        MasterKey.from_file(path)
    assert "chmod 600" in caplog.text


def test_concurrent_key_file_creation_agrees(tmp_path: Path) -> None:
    path = tmp_path / "race.key"
    results: list[bytes] = []
    barrier = threading.Barrier(8)

    def create() -> None:
        barrier.wait()
        results.append(create_key_file(path).material)

    threads = [threading.Thread(target=create) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 8
    assert len(set(results)) == 1
    assert base64.b64decode(path.read_text()) == results[0]


def test_unwritable_directory(tmp_path: Path) -> None:
    with pytest.raises(MasterKeyError, match="cannot create master key file"):
        create_key_file(tmp_path / "missing-dir" / "k.key")


# -- in the SQLite store -------------------------------------------------------------


async def test_store_opened_with_wrong_master_key_fails_closed(tmp_path: Path) -> None:
    right, wrong = MasterKey.generate(), MasterKey.generate()
    store = SQLiteKeyStore(tmp_path / "k.db", master_key=right)
    await store.create_principal("alice")
    await store.create_key("alice")
    await store.aclose()
    with pytest.raises(SecretDecryptionError) as info:
        SQLiteKeyStore(tmp_path / "k.db", master_key=wrong)
    assert right.key_id in str(info.value)
    assert wrong.key_id in str(info.value)


async def test_row_copied_onto_another_key_fails(tmp_path: Path) -> None:
    key = MasterKey.generate()
    store = SQLiteKeyStore(tmp_path / "k.db", master_key=key)
    await store.create_principal("alice")
    await store.create_principal("mallory")
    victim = await store.create_key("alice")
    attacker = await store.create_key("mallory")
    with sqlite3.connect(tmp_path / "k.db") as conn:
        conn.execute(
            "UPDATE access_keys SET secret_envelope = "
            "(SELECT secret_envelope FROM access_keys WHERE access_key_id = ?) "
            "WHERE access_key_id = ?",
            (victim.access_key_id, attacker.access_key_id),
        )
    conn.close()
    fresh = SQLiteKeyStore(tmp_path / "k.db", master_key=key)
    try:
        with pytest.raises(SecretDecryptionError, match="another access key"):
            await fresh.get_key(attacker.access_key_id)
        assert (await fresh.get_key(victim.access_key_id)) is not None
    finally:
        await fresh.aclose()
        await store.aclose()


async def test_no_plaintext_secret_in_database_files(tmp_path: Path) -> None:
    db = tmp_path / "k.db"
    store = SQLiteKeyStore(db, environ={})
    await store.create_principal("alice")
    key = await store.create_key("alice")
    session = await store.create_session("alice", duration_seconds=900)
    await store.rotate_key("alice")

    def assert_clean() -> None:
        files = [p for p in tmp_path.iterdir() if p.name.startswith("k.db") and p.suffix != ".key"]
        assert any(p.name.endswith("-wal") for p in files) or files
        for path in files:
            data = path.read_bytes()
            for needle in (key.secret_access_key, session.secret_access_key, session.session_token):
                assert needle.encode() not in data, path
                assert needle.encode("utf-16-le") not in data, path

    assert_clean()  # WAL not yet checkpointed
    await store.aclose()
    assert_clean()
    for name in ("k.db", "k.db-wal", "k.db-shm"):
        if (tmp_path / name).exists():
            assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600


async def test_store_with_keys_but_lost_key_file(tmp_path: Path) -> None:
    store = SQLiteKeyStore(tmp_path / "k.db", environ={})
    await store.create_principal("alice")
    await store.create_key("alice")
    await store.aclose()
    (tmp_path / "k.db.key").unlink()
    with pytest.raises(MasterKeyError, match="missing"):
        SQLiteKeyStore(tmp_path / "k.db", environ={})
    assert not (tmp_path / "k.db.key").exists()  # no fresh key that could never decrypt


async def test_rewrap_with_default_key_file(tmp_path: Path) -> None:
    db = tmp_path / "k.db"
    store = SQLiteKeyStore(db, environ={})
    assert store.owns_key_file
    await store.create_principal("alice")
    key = await store.create_key("alice")
    session = await store.create_session("alice", duration_seconds=900)
    old_id = store.master_key_id
    new = MasterKey.generate()
    assert await store.rewrap(new) == 2
    assert store.master_key_id == new.key_id != old_id
    assert (await store.get_key(key.access_key_id)).secret_access_key == key.secret_access_key
    await store.aclose()
    assert base64.b64decode((tmp_path / "k.db.key").read_text()) == new.material
    assert stat.S_IMODE((tmp_path / "k.db.key").stat().st_mode) == 0o600
    assert not (tmp_path / "k.db.key.new").exists()
    reopened = SQLiteKeyStore(db, environ={})
    try:
        record = await reopened.get_key(session.access_key_id)
        assert record is not None
        assert record.secret_access_key == session.secret_access_key
    finally:
        await reopened.aclose()


async def test_rewrap_with_configured_key(tmp_path: Path) -> None:
    db = tmp_path / "k.db"
    old, new = MasterKey.generate(), MasterKey.generate()
    store = SQLiteKeyStore(db, environ={MASTER_KEY_ENV: old.to_base64()})
    assert not store.owns_key_file
    await store.create_principal("alice")
    key = await store.create_key("alice")
    assert await store.rewrap(new) == 1
    await store.aclose()
    assert not (tmp_path / "k.db.key").exists()
    with pytest.raises(SecretDecryptionError, match=new.key_id):
        SQLiteKeyStore(db, environ={MASTER_KEY_ENV: old.to_base64()})
    reopened = SQLiteKeyStore(db, environ={MASTER_KEY_ENV: new.to_base64()})
    try:
        assert (
            await reopened.get_key(key.access_key_id)
        ).secret_access_key == key.secret_access_key
    finally:
        await reopened.aclose()


async def test_rewrap_is_all_or_nothing(tmp_path: Path) -> None:
    db = tmp_path / "k.db"
    old = MasterKey.generate()
    store = SQLiteKeyStore(db, master_key=old)
    await store.create_principal("alice")
    await store.create_key("alice")
    second = await store.create_key("alice")
    with sqlite3.connect(db) as conn:  # corrupt one sealed secret
        conn.execute(
            "UPDATE access_keys SET secret_envelope = substr(secret_envelope, 1, 30) || "
            "zeroblob(40) WHERE access_key_id = ?",
            (second.access_key_id,),
        )
    conn.close()
    with pytest.raises(SecretDecryptionError):
        await store.rewrap(MasterKey.generate())
    assert store.master_key_id == old.key_id
    with sqlite3.connect(db) as conn:
        ids = {r[0] for r in conn.execute("SELECT master_key_id FROM access_keys")}
    conn.close()
    assert ids == {old.key_id}
    await store.aclose()


async def test_interrupted_rewrap_is_finished_on_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "k.db"
    store = SQLiteKeyStore(db, environ={})
    await store.create_principal("alice")
    key = await store.create_key("alice")
    new = MasterKey.generate()

    def crash(*args: object) -> None:
        raise OSError("simulated crash before the rename")

    monkeypatch.setattr("sigv4kit.middleware.store.masterkeys.os.replace", crash)
    with pytest.raises(OSError, match="simulated"):
        await store.rewrap(new)
    monkeypatch.undo()
    await store.aclose()
    assert (tmp_path / "k.db.key.new").exists()
    reopened = SQLiteKeyStore(db, environ={})
    try:
        assert reopened.master_key_id == new.key_id
        assert (
            await reopened.get_key(key.access_key_id)
        ).secret_access_key == key.secret_access_key
        assert not (tmp_path / "k.db.key.new").exists()
    finally:
        await reopened.aclose()


async def test_running_store_follows_a_rewrap_by_another_process(tmp_path: Path) -> None:
    db = tmp_path / "k.db"
    service = SQLiteKeyStore(db, environ={}, cache_ttl=0.0)  # a running worker
    admin = SQLiteKeyStore(db, environ={})  # the CLI
    try:
        await admin.create_principal("alice")
        key = await admin.create_key("alice")
        assert (await service.get_key(key.access_key_id)) is not None
        new = MasterKey.generate()
        await admin.rewrap(new)
        record = await service.get_key(key.access_key_id)  # re-reads the key file
        assert record is not None
        assert record.secret_access_key == key.secret_access_key
        assert service.master_key_id == new.key_id
    finally:
        await service.aclose()
        await admin.aclose()


async def test_running_store_with_env_key_fails_closed_after_rewrap(tmp_path: Path) -> None:
    db = tmp_path / "k.db"
    old = MasterKey.generate()
    env = {MASTER_KEY_ENV: old.to_base64()}
    service = SQLiteKeyStore(db, environ=env, cache_ttl=0.0)
    admin = SQLiteKeyStore(db, environ=env)
    try:
        await admin.create_principal("alice")
        key = await admin.create_key("alice")
        new = MasterKey.generate()
        await admin.rewrap(new)
        with pytest.raises(SecretDecryptionError, match=new.key_id):
            await service.get_key(key.access_key_id)
    finally:
        await service.aclose()
        await admin.aclose()


# -- properties ---------------------------------------------------------------------

_KEY = MasterKey.generate()
_OTHER = MasterKey.generate()
_ids = st.from_regex(r"A[KS]IA[A-Z2-7]{16}", fullmatch=True)


@settings(max_examples=200, deadline=None)
@given(secret=st.text(min_size=1, max_size=128), akid=_ids)
def test_property_round_trip(secret: str, akid: str) -> None:
    assert _KEY.open(_KEY.seal(secret, access_key_id=akid), access_key_id=akid) == secret


@settings(max_examples=200, deadline=None)
@given(
    akid=_ids,
    other=_ids,
    position=st.integers(min_value=0, max_value=1 + 8 + 12 + 40 + 16 - 1),
    flip=st.integers(min_value=1, max_value=255),
)
def test_property_fails_closed(akid: str, other: str, position: int, flip: int) -> None:
    envelope = bytearray(_KEY.seal(SECRET, access_key_id=akid))
    if other != akid:
        with pytest.raises(SecretDecryptionError):
            _KEY.open(bytes(envelope), access_key_id=other)
    with pytest.raises(SecretDecryptionError):
        _OTHER.open(bytes(envelope), access_key_id=akid)
    envelope[position] ^= flip
    with pytest.raises(SecretDecryptionError):
        _KEY.open(bytes(envelope), access_key_id=akid)


async def test_writer_follows_a_rewrap_by_another_process(tmp_path: Path) -> None:
    db = tmp_path / "k.db"
    old_cli = SQLiteKeyStore(db, environ={})
    admin = SQLiteKeyStore(db, environ={})
    try:
        await admin.create_principal("alice")
        await admin.create_key("alice")
        new = MasterKey.generate()
        await admin.rewrap(new)
        created = await old_cli.create_key("alice")  # must seal under the new key
    finally:
        await old_cli.aclose()
        await admin.aclose()
    reopened = SQLiteKeyStore(db, environ={})
    try:
        assert reopened.master_key_id == new.key_id
        record = await reopened.get_key(created.access_key_id)
        assert record is not None
        assert record.secret_access_key == created.secret_access_key
    finally:
        await reopened.aclose()


async def test_env_keyed_writer_refuses_after_rewrap(tmp_path: Path) -> None:
    db = tmp_path / "k.db"
    env = {MASTER_KEY_ENV: MasterKey.generate().to_base64()}
    stale = SQLiteKeyStore(db, environ=env)
    admin = SQLiteKeyStore(db, environ=env)
    try:
        await admin.create_principal("alice")
        await admin.create_key("alice")
        new = MasterKey.generate()
        await admin.rewrap(new)
        with pytest.raises(SecretDecryptionError, match="re-wrapped under master key"):
            await stale.create_session("alice", duration_seconds=900)
        assert len(await admin.list_keys()) == 1  # nothing sealed under the old key
    finally:
        await stale.aclose()
        await admin.aclose()
