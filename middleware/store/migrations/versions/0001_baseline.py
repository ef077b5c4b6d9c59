"""Baseline: the schema sigv4kit wrote before Alembic (``schema_migrations`` version 1).

A database created then is stamped at this revision, never migrated by it;
a fresh database runs it, so every database reaches head by the same
later revisions. The SQL is that release's, per dialect, frozen.

Revision ID: 0001_baseline
Revises: (none)
"""

from __future__ import annotations

from alembic import op

revision = "0001_baseline"
down_revision = None
branch_labels = None
depends_on = None

_SQLITE_BUMP = "UPDATE cache_generation SET value = value + 1 WHERE id = 1;"

_SQLITE = (
    """CREATE TABLE principals (
        name TEXT PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('user', 'role')),
        is_root INTEGER NOT NULL DEFAULT 0 CHECK (is_root IN (0, 1)),
        created_at TEXT NOT NULL
    )""",
    """CREATE TABLE access_keys (
        access_key_id TEXT PRIMARY KEY,
        principal TEXT NOT NULL REFERENCES principals(name) ON DELETE CASCADE,
        status TEXT NOT NULL CHECK (status IN ('Active', 'Inactive')),
        secret_envelope BLOB NOT NULL,
        master_key_id TEXT NOT NULL,
        created_at TEXT NOT NULL,
        expires_at TEXT,
        session_token_sha256 TEXT,
        last_used_at TEXT,
        last_used_region TEXT,
        last_used_service TEXT,
        CHECK ((expires_at IS NULL) = (session_token_sha256 IS NULL))
    )""",
    "CREATE INDEX access_keys_by_principal ON access_keys(principal, created_at)",
    """CREATE TABLE cache_generation (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        value INTEGER NOT NULL
    )""",
    "INSERT INTO cache_generation (id, value) VALUES (1, 0)",
    f"CREATE TRIGGER access_keys_insert AFTER INSERT ON access_keys BEGIN {_SQLITE_BUMP} END",
    f"CREATE TRIGGER access_keys_delete AFTER DELETE ON access_keys BEGIN {_SQLITE_BUMP} END",
    "CREATE TRIGGER access_keys_update AFTER UPDATE OF status, secret_envelope, "
    "master_key_id, principal, expires_at, session_token_sha256 ON access_keys "
    f"BEGIN {_SQLITE_BUMP} END",
    f"CREATE TRIGGER principals_delete AFTER DELETE ON principals BEGIN {_SQLITE_BUMP} END",
    f"CREATE TRIGGER principals_update AFTER UPDATE ON principals BEGIN {_SQLITE_BUMP} END",
    """CREATE TABLE schema_migrations (
        version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at TEXT NOT NULL
    )""",
    "INSERT INTO schema_migrations VALUES "
    "(1, 'principals, access keys, cache generation', "
    "strftime('%Y-%m-%dT%H:%M:%f000+00:00', 'now'))",
)

_POSTGRES = (
    """CREATE TABLE principals (
        name TEXT PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('user', 'role')),
        is_root BOOLEAN NOT NULL DEFAULT FALSE,
        created_at TIMESTAMPTZ NOT NULL
    )""",
    """CREATE TABLE access_keys (
        access_key_id TEXT PRIMARY KEY,
        seq BIGINT GENERATED ALWAYS AS IDENTITY,
        principal TEXT NOT NULL REFERENCES principals(name) ON DELETE CASCADE,
        status TEXT NOT NULL CHECK (status IN ('Active', 'Inactive')),
        secret_envelope BYTEA NOT NULL,
        master_key_id TEXT NOT NULL,
        created_at TIMESTAMPTZ NOT NULL,
        expires_at TIMESTAMPTZ,
        session_token_sha256 TEXT,
        last_used_at TIMESTAMPTZ,
        last_used_region TEXT,
        last_used_service TEXT,
        CHECK ((expires_at IS NULL) = (session_token_sha256 IS NULL))
    )""",
    "CREATE INDEX access_keys_by_principal ON access_keys (principal, created_at, seq)",
    """CREATE FUNCTION sigv4kit_key_changed() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'DELETE' THEN
                PERFORM pg_notify('sigv4kit_keys.' || TG_TABLE_SCHEMA, OLD.access_key_id);
            ELSE
                PERFORM pg_notify('sigv4kit_keys.' || TG_TABLE_SCHEMA, NEW.access_key_id);
            END IF;
            RETURN NULL;
        END $$""",
    "CREATE TRIGGER access_keys_insert_delete AFTER INSERT OR DELETE ON access_keys "
    "FOR EACH ROW EXECUTE FUNCTION sigv4kit_key_changed()",
    "CREATE TRIGGER access_keys_update AFTER UPDATE OF status, secret_envelope, "
    "master_key_id, principal, expires_at, session_token_sha256 ON access_keys "
    "FOR EACH ROW EXECUTE FUNCTION sigv4kit_key_changed()",
    """CREATE TABLE schema_migrations (
        version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL
    )""",
    "INSERT INTO schema_migrations VALUES "
    "(1, 'principals, access keys, change notifications', now())",
)


def upgrade() -> None:
    statements = _SQLITE if op.get_context().dialect.name == "sqlite" else _POSTGRES
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:  # pragma: no cover - sigv4kit never downgrades
    raise NotImplementedError("the baseline is not downgraded")
