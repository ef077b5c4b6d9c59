"""Alembic migrations: a database written by the store before Alembic is adopted.

The "before" database is made by the store code of the last commit before
the one store (``LEGACY_COMMIT``: ``middleware/_sqlite.py`` and
``middleware/_postgres.py`` read from git history and imported into the
package under another name), not by a copy of its schema: so the test sees
exactly the tables, triggers, version rows and sealed secrets that release
wrote. After the upgrade its principals, long-term keys and sessions must
still verify signed requests through the middleware.
"""

from __future__ import annotations

import contextlib
import importlib.util
import re
import subprocess
import sys
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import psycopg
import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sigv4kit.middleware import (
    MasterKey,
    PostgresKeyStore,
    PrincipalKind,
    SchemaVersionError,
    SigV4Middleware,
    SQLiteKeyStore,
)
from sigv4kit.middleware.store import migrate, schema
from sigv4kit.middleware.store.engine import postgres_conninfo_from_url

import sigv4kit

ROOT = Path(__file__).resolve().parent.parent
#: main before the one store: the last commit with _sqlite.py and _postgres.py.
LEGACY_COMMIT = "0e28da58072a136cca70b29640df3c7542f69a4f"
MASTER = MasterKey.generate()


#: The private modules the legacy code imports, and where their contents live now: the
#: legacy store runs against today's classes (errors, MasterKey), as it did before the move.
LEGACY_SIBLINGS = {
    "_store": ("errors", "entities", "protocols"),
    "_crypto": ("secrets",),
    "_keygen": ("keygen",),
    "_cache": ("cache",),
}


@contextlib.contextmanager
def legacy_siblings() -> Any:
    """``sigv4kit.middleware._store`` etc. as aliases of today's modules, for the legacy code."""
    added = []
    for old, new in LEGACY_SIBLINGS.items():
        qualified = f"sigv4kit.middleware.{old}"
        alias = ModuleType(qualified)
        for part in new:
            alias.__dict__.update(
                vars(importlib.import_module(f"sigv4kit.middleware.store.{part}"))
            )
        sys.modules[qualified] = alias
        added.append(qualified)
    try:
        yield
    finally:
        for qualified in added:
            del sys.modules[qualified]


def legacy_module(name: str, tmp_path: Path) -> ModuleType:
    """``middleware/<name>.py`` as of LEGACY_COMMIT, importable inside sigv4kit.middleware."""
    source = subprocess.run(
        ["git", "-C", str(ROOT), "show", f"{LEGACY_COMMIT}:middleware/{name}.py"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    path = tmp_path / f"_legacy{name}.py"
    path.write_text(source)
    qualified = f"sigv4kit.middleware._legacy{name}"
    spec = importlib.util.spec_from_file_location(qualified, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[qualified] = module
    try:
        with legacy_siblings():
            spec.loader.exec_module(module)
    finally:
        del sys.modules[qualified]
    return module


async def fill(store: Any) -> dict[str, Any]:
    """Principals of every kind, keys in every state, a session and a last use."""
    await store.create_principal("alice")
    await store.create_principal("deployer", kind=PrincipalKind.ROLE)
    await store.create_principal("admin", root=True)
    active = await store.create_key("alice")
    inactive = await store.create_key("alice")
    await store.deactivate_key(inactive.access_key_id)
    await store.import_key(
        "deployer",
        access_key_id="AKIDEXAMPLE",
        secret_access_key="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
    )
    session = await store.create_session("admin", duration_seconds=3600)
    store.record_use(active.access_key_id, at=active.created_at, region="eu-west-1", service="s3")
    await store.flush()
    return {
        "principals": [
            (p.name, p.kind, p.root, p.created_at) for p in await store.list_principals()
        ],
        "keys": await store.list_keys(),
        "active": active,
        "inactive": inactive,
        "session": session,
    }


async def ok(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


async def status_of(store: Any, creds: sigv4kit.Credentials) -> int:
    auth = sigv4kit.SigV4Auth(creds, region="us-east-1", service="execute-api")
    app = SigV4Middleware(ok, store=store)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://svc", auth=auth
    ) as client:
        return (await client.get("/x")).status_code


async def check_adopted(store: Any, before: dict[str, Any]) -> None:
    after = [(p.name, p.kind, p.root, p.created_at) for p in await store.list_principals()]
    assert after == before["principals"]
    assert await store.list_keys() == before["keys"]
    active, inactive, session = before["active"], before["inactive"], before["session"]
    assert (await store.get_key_info(active.access_key_id)).last_used_region == "eu-west-1"
    record = await store.get_key(inactive.access_key_id)
    assert record is not None
    assert record.active is False
    assert record.secret_access_key == inactive.secret_access_key
    # Signed requests: the active key, the imported one and the session verify...
    assert (
        await status_of(store, sigv4kit.Credentials(active.access_key_id, active.secret_access_key))
        == 200
    )
    assert (
        await status_of(
            store, sigv4kit.Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
        )
        == 200
    )
    assert (
        await status_of(
            store,
            sigv4kit.Credentials(
                session.access_key_id, session.secret_access_key, session.session_token
            ),
        )
        == 200
    )
    # ... the inactive key and a session without its token do not.
    assert (
        await status_of(
            store, sigv4kit.Credentials(inactive.access_key_id, inactive.secret_access_key)
        )
        == 403
    )
    # InvalidToken is HTTP 400 in AWS's error table.
    assert (
        await status_of(
            store, sigv4kit.Credentials(session.access_key_id, session.secret_access_key)
        )
        == 400
    )
    assert (
        await status_of(
            store,
            sigv4kit.Credentials(session.access_key_id, session.secret_access_key, "not-the-token"),
        )
        == 400
    )
    # The store still works for new keys after adoption.
    assert (await store.rotate_key("alice")).kept == (inactive.access_key_id,)


def check_rows(conn: sa.Connection) -> None:
    rows = conn.execute(
        sa.text("SELECT principal_id, account_id, kind, name FROM principals ORDER BY name")
    ).all()
    assert [(r.account_id, r.kind, r.name) for r in rows] == [
        ("000000000000", "user", "admin"),
        ("000000000000", "user", "alice"),
        ("000000000000", "role", "deployer"),
    ]
    # IAM's unique-id prefixes: AIDA for users, AROA for roles.
    assert [r.principal_id[:4] for r in rows] == ["AIDA", "AIDA", "AROA"]
    assert conn.execute(sa.text("SELECT COUNT(*) FROM roles")).scalar() == 1
    sessions = conn.execute(sa.text("SELECT access_key_id FROM sessions")).scalars().all()
    assert [s[:4] for s in sessions] == ["ASIA"]
    assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == (
        "0008_service_last_used"
    )
    versions = conn.execute(sa.text("SELECT version FROM schema_migrations ORDER BY 1")).scalars()
    assert list(versions) == [1, 2]
    # 0008 seeded the per-service record from the one key use fill() noted
    # (check_adopted's signed requests since are execute-api uses).
    seeded = conn.execute(
        sa.text("SELECT p.name, u.service, u.last_used_region FROM service_last_used u "
                "JOIN principals p ON p.principal_id = u.principal_id "
                "WHERE u.service <> 'execute-api'")
    ).all()
    assert [tuple(row) for row in seeded] == [("alice", "s3", "eu-west-1")]


async def test_sqlite_database_of_the_previous_release_is_adopted(tmp_path: Path) -> None:
    legacy = legacy_module("_sqlite", tmp_path)
    db = tmp_path / "keys.db"
    old = legacy.SQLiteKeyStore(db, master_key=MASTER)
    try:
        before = await fill(old)
    finally:
        await old.aclose()
    store = SQLiteKeyStore(db, master_key=MASTER)
    try:
        await check_adopted(store, before)
    finally:
        await store.aclose()
    engine = sa.create_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        check_rows(conn)
    engine.dispose()
    # The previous release refuses the upgraded file instead of misreading it.
    with pytest.raises(SchemaVersionError, match="schema version 2"):
        legacy.SQLiteKeyStore(db, master_key=MASTER)


async def test_postgres_database_of_the_previous_release_is_adopted(
    tmp_path: Path, pg_url: str
) -> None:
    legacy = legacy_module("_postgres", tmp_path)
    old = legacy.PostgresKeyStore(pg_url, master_key=MASTER)
    try:
        before = await fill(old)
    finally:
        await old.aclose()
    store = PostgresKeyStore(pg_url, master_key=MASTER)
    try:
        await check_adopted(store, before)
    finally:
        await store.aclose()
    engine = pg_engine(pg_url)
    with engine.connect() as conn:
        check_rows(conn)
    engine.dispose()
    old = legacy.PostgresKeyStore(pg_url, master_key=MASTER)
    try:
        with pytest.raises(SchemaVersionError, match="version 2"):
            await old.get_key("AKIDEXAMPLE")
    finally:
        await old.aclose()


def pg_engine(pg_url: str) -> sa.Engine:
    """A plain SQLAlchemy engine on the test's schema (to read tables directly)."""
    conninfo, name = postgres_conninfo_from_url(pg_url)
    return sa.create_engine(
        "postgresql+psycopg://",
        creator=lambda: psycopg.connect(conninfo, options=f"-c search_path={name}"),
    )


def _schema_differences(conn: sa.Connection) -> list[Any]:
    context = MigrationContext.configure(conn, opts={"compare_type": False})
    diffs = compare_metadata(context, schema.metadata)
    # Index and constraint naming is the migrations' business; the tables and
    # columns the code queries must match exactly.
    return [
        d
        for d in diffs
        if d[0] in {"add_table", "remove_table", "add_column", "remove_column"}
        and not (
            d[0] == "remove_table"
            and d[1].name in {"alembic_version", "schema_migrations", "cache_generation"}
        )
    ]


async def test_head_matches_the_tables_the_code_uses(tmp_path: Path, pg_url: str) -> None:
    store = SQLiteKeyStore(tmp_path / "k.db", master_key=MASTER)
    await store.aclose()
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'k.db'}")
    with engine.connect() as conn:
        assert _schema_differences(conn) == []
    engine.dispose()
    pg = PostgresKeyStore(pg_url, master_key=MASTER, listen=False)
    try:
        assert await pg.schema_version() == "0008_service_last_used"
    finally:
        await pg.aclose()
    engine = pg_engine(pg_url)
    with engine.connect() as conn:
        assert _schema_differences(conn) == []
    engine.dispose()


async def test_middleware_answers_503_for_a_schema_it_does_not_know(pg_url: str) -> None:
    async with contextlib.AsyncExitStack() as stack:
        admin = PostgresKeyStore(pg_url, master_key=MASTER, listen=False)
        stack.push_async_callback(admin.aclose)
        await admin.create_principal("alice")
        key = await admin.create_key("alice")
    engine = pg_engine(pg_url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '0099_future'"))
    engine.dispose()
    store = PostgresKeyStore(pg_url, master_key=MASTER)
    try:
        creds = sigv4kit.Credentials(key.access_key_id, key.secret_access_key)
        # Fail closed like an unreachable database (503), never a 500.
        assert await status_of(store, creds) == 503
        with pytest.raises(SchemaVersionError):
            await store.get_key(key.access_key_id)
    finally:
        await store.aclose()


def test_the_wheel_ships_the_migrations(tmp_path: Path) -> None:
    # Alembic reads its scripts from the installed package: a non-editable
    # install must carry env.py and every revision.
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("sigv4kit-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    prefix = "sigv4kit/middleware/store/migrations/"
    for name in (
        "env.py",
        "versions/0001_baseline.py",
        "versions/0002_accounts_iam.py",
        "versions/0003_iam_generation.py",
        "versions/0004_mfa_oidc.py",
        "versions/0005_audit_events.py",
        "versions/0006_sts_sessions.py",
        "versions/0007_login_profiles.py",
        "versions/0008_service_last_used.py",
    ):
        assert prefix + name in names
    # The console's own CSS and JavaScript (package data; no CDN, no build step).
    for name in ("static/console.css", "static/console.js", "_app.py"):
        assert "sigv4kit/middleware/console/" + name in names


def session_rows(engine: sa.Engine) -> list[tuple[str, str, bool]]:
    """``(access key id, principal name, MFA flag)`` of every ``sessions`` row, by name."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT s.access_key_id, p.name, s.mfa_authenticated FROM sessions s "
                "JOIN principals p ON p.principal_id = s.principal_id ORDER BY p.name"
            )
        ).all()
    return [(kid, name, bool(mfa)) for kid, name, mfa in rows]


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
async def test_session_rows_follow_their_keys(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    # A temporary key has a `sessions` row (who, when, MFA); deleting the key
    # (expiry purge, principal deletion) deletes it: foreign keys are on for
    # every SQLite connection, so the cascade holds on both databases.
    if kind == "sqlite":
        store: Any = SQLiteKeyStore(tmp_path / "k.db", master_key=MASTER)
        engine = sa.create_engine(f"sqlite:///{tmp_path / 'k.db'}")
    else:
        pg_url = request.getfixturevalue("pg_url")
        store = PostgresKeyStore(pg_url, master_key=MASTER, listen=False)
        engine = pg_engine(pg_url)
    try:
        await store.create_principal("alice")
        await store.create_principal("bob")
        t0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
        short = await store.create_session("alice", duration_seconds=900, now=t0)
        await store.create_session("alice", duration_seconds=3600, now=t0)
        await store.create_session("bob", duration_seconds=3600, now=t0)
        rows = session_rows(engine)
        assert [(name, mfa) for _kid, name, mfa in rows] == [
            ("alice", False),
            ("alice", False),
            ("bob", False),
        ]
        assert short.access_key_id in {kid for kid, _name, _mfa in rows}
        assert await store.delete_expired_sessions(now=t0 + timedelta(seconds=1000)) == 1
        await store.delete_principal("bob")
        assert [name for _kid, name, _mfa in session_rows(engine)] == ["alice"]
    finally:
        await store.aclose()
        engine.dispose()


async def test_new_principals_get_iam_ids_in_the_default_account(tmp_path: Path) -> None:
    store = SQLiteKeyStore(tmp_path / "k.db", master_key=MASTER)
    try:
        await store.create_principal("alice")
        await store.create_principal("deployer", kind=PrincipalKind.ROLE)
    finally:
        await store.aclose()
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'k.db'}")
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT p.principal_id, p.account_id, p.kind, p.name, p.path, "
                "r.max_session_duration FROM principals p "
                "LEFT JOIN roles r ON r.principal_id = p.principal_id ORDER BY p.name"
            )
        ).all()
    engine.dispose()
    # AIDA + 16 base32 characters for a user, AROA for a role; a role gets its
    # roles row with IAM's default MaxSessionDuration (3600 s).
    assert re.fullmatch(r"AIDA[A-Z2-7]{16}", rows[0].principal_id)
    assert re.fullmatch(r"AROA[A-Z2-7]{16}", rows[1].principal_id)
    assert [tuple(r)[1:] for r in rows] == [
        ("000000000000", "user", "alice", "/", None),
        ("000000000000", "role", "deployer", "/", 3600),
    ]


def test_arns_are_derived_from_account_path_and_name() -> None:
    # The formats of IAM's ARNs (IAM User Guide, "IAM ARNs").
    assert (
        schema.principal_arn("123456789012", "user", "/division_abc/subdivision_xyz/", "Jane")
        == "arn:aws:iam::123456789012:user/division_abc/subdivision_xyz/Jane"
    )
    assert (
        schema.principal_arn("123456789012", "role", "/", "S3Access")
        == "arn:aws:iam::123456789012:role/S3Access"
    )


def _downgrade_to(engine: sa.Engine, revision: str) -> None:
    with engine.begin() as conn:
        command.downgrade(migrate._config(conn), revision)


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
async def test_0008_upgrades_a_store_at_0007_keeping_keys_and_seeding_service_uses(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    # A store at 0007 is today's store taken back one revision (0008's
    # downgrade drops only its table): its keys, sessions and last uses were
    # written by the store code, secrets sealed as they are in use.
    def open_store() -> Any:
        if kind == "sqlite":
            return SQLiteKeyStore(tmp_path / "k.db", master_key=MASTER)
        return PostgresKeyStore(request.getfixturevalue("pg_url"), master_key=MASTER)

    engine = (sa.create_engine(f"sqlite:///{tmp_path / 'k.db'}") if kind == "sqlite"
              else pg_engine(request.getfixturevalue("pg_url")))
    try:
        seeded = await _fill_downgrade_reopen(open_store, engine)
    finally:
        engine.dispose()
    assert [tuple(row) for row in seeded] == [("alice", "s3", "us-west-2")]


async def _fill_downgrade_reopen(open_store: Any, engine: sa.Engine) -> list[Any]:
    """Fill a store, take it back to 0007, open it again (upgraded): the seeded rows."""
    store = open_store()
    try:
        before = await fill(store)
        # Two keys of alice's used with s3 (the later one wins) and one with sqs.
        store.record_use(before["inactive"].access_key_id,
                         at=before["active"].created_at + timedelta(hours=1),
                         region="us-west-2", service="s3")
        store.record_use(before["inactive"].access_key_id,
                         at=before["active"].created_at - timedelta(hours=1),
                         region="ap-south-1", service="sqs")
        await store.flush()
        before["keys"] = await store.list_keys()
    finally:
        await store.aclose()
    _downgrade_to(engine, "0007_login_profiles")
    with engine.connect() as conn:
        assert migrate.current_revision(conn) == "0007_login_profiles"
        assert not sa.inspect(conn).has_table("service_last_used")
    # The key columns keep each key's *last* use only: the inactive key's is
    # the s3 one (the later), so the sqs use is not there to seed.
    store = open_store()
    try:
        await check_adopted(store, before)
    finally:
        await store.aclose()
    with engine.connect() as conn:
        assert migrate.current_revision(conn) == "0008_service_last_used"
        seeded = conn.execute(
            sa.text("SELECT p.name, u.service, u.last_used_region FROM service_last_used u "
                    "JOIN principals p ON p.principal_id = u.principal_id "
                    "WHERE u.service <> 'execute-api'")  # check_adopted's own requests
        ).all()
    return list(seeded)
