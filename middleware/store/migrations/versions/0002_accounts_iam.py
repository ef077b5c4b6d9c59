"""Accounts and IAM-ready tables; today's principals become users of the default account.

* New: ``accounts``, ``principals`` (users ``AIDA...`` and roles ``AROA...``
  with account, path and unique id), ``roles``, ``groups``,
  ``group_memberships``, ``policies``, ``policy_versions``,
  ``inline_policies``, ``policy_attachments``, ``tags``, ``sessions``,
  ``mfa_devices``, ``audit_records``.
* ``access_keys`` is rebuilt to point at ``principals.principal_id``; every
  key keeps its id, status, sealed secret, times and last use; every
  temporary key gets its ``sessions`` row.
* The change triggers (SQLite's cache generation, PostgreSQL's NOTIFY) are
  recreated on the new tables.
* ``schema_migrations`` gets version 2, so a sigv4kit from before Alembic
  refuses this database instead of misreading it.

Revision ID: 0002_accounts_iam
Revises: 0001_baseline
"""

from __future__ import annotations

import base64
import secrets
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0002_accounts_iam"
down_revision = "0001_baseline"
branch_labels = None
depends_on = None

DEFAULT_ACCOUNT_ID = "000000000000"
_ONE_OWNER = "(principal_id IS NULL) <> (group_id IS NULL)"
_SQLITE_BUMP = "UPDATE cache_generation SET value = value + 1 WHERE id = 1;"
_KEY_FIELDS = (
    "status, secret_envelope, master_key_id, principal_id, expires_at, session_token_sha256"
)


def _new_id(prefix: str) -> str:
    return prefix + base64.b32encode(secrets.token_bytes(10)).decode("ascii")


def _fk(column: str, target: str, ondelete: str = "CASCADE", **kw: object) -> sa.Column[str]:
    return sa.Column(column, sa.String(32), sa.ForeignKey(target, ondelete=ondelete), **kw)  # type: ignore[arg-type]


def _create_tables(ts: sa.types.TypeEngine[Any]) -> None:
    op.create_table(
        "accounts",
        sa.Column("account_id", sa.String(12), primary_key=True),
        sa.Column("alias", sa.String(63), unique=True),
        sa.Column("created_at", ts, nullable=False),
    )
    op.create_table(
        "policies",
        sa.Column("policy_id", sa.String(32), primary_key=True),
        sa.Column(
            "account_id", sa.String(12), sa.ForeignKey("accounts.account_id", ondelete="CASCADE")
        ),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("path", sa.String(512), nullable=False, server_default="/"),
        sa.Column("description", sa.String(1000)),
        sa.Column("default_version_id", sa.String(16), nullable=False, server_default="v1"),
        sa.Column("created_at", ts, nullable=False),
        sa.Column("updated_at", ts, nullable=False),
        sa.UniqueConstraint("account_id", "name"),
    )
    op.create_table(
        "policy_versions",
        _fk("policy_id", "policies.policy_id", primary_key=True),
        sa.Column("version_id", sa.String(16), primary_key=True),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("created_at", ts, nullable=False),
    )
    op.create_table(
        "principals",
        sa.Column("principal_id", sa.String(32), primary_key=True),
        sa.Column(
            "account_id",
            sa.String(12),
            sa.ForeignKey("accounts.account_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("path", sa.String(512), nullable=False, server_default="/"),
        sa.Column("is_root", sa.Boolean(), nullable=False, server_default=sa.false()),
        _fk("permissions_boundary", "policies.policy_id", "SET NULL"),
        sa.Column("created_at", ts, nullable=False),
        sa.CheckConstraint("kind IN ('user', 'role')", name="ck_principals_kind"),
        sa.UniqueConstraint("account_id", "kind", "name"),
    )
    op.create_table(
        "roles",
        _fk("principal_id", "principals.principal_id", primary_key=True),
        sa.Column("trust_policy", sa.Text()),
        sa.Column("max_session_duration", sa.Integer(), nullable=False, server_default="3600"),
        sa.Column("description", sa.String(1000)),
    )
    op.create_table(
        "groups",
        sa.Column("group_id", sa.String(32), primary_key=True),
        sa.Column(
            "account_id",
            sa.String(12),
            sa.ForeignKey("accounts.account_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("path", sa.String(512), nullable=False, server_default="/"),
        sa.Column("created_at", ts, nullable=False),
        sa.UniqueConstraint("account_id", "name"),
    )
    op.create_table(
        "group_memberships",
        _fk("group_id", "groups.group_id", primary_key=True),
        _fk("principal_id", "principals.principal_id", primary_key=True),
    )
    for name, extra in (
        (
            "inline_policies",
            [
                sa.Column("name", sa.String(128), nullable=False),
                sa.Column("document", sa.Text(), nullable=False),
            ],
        ),
        ("policy_attachments", [_fk("policy_id", "policies.policy_id", nullable=False)]),
    ):
        unique = "name" if name == "inline_policies" else "policy_id"
        op.create_table(
            name,
            sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
            *extra,
            _fk("principal_id", "principals.principal_id"),
            _fk("group_id", "groups.group_id"),
            sa.CheckConstraint(_ONE_OWNER, name=f"ck_{name}_one_owner"),
            sa.UniqueConstraint("principal_id", unique),
            sa.UniqueConstraint("group_id", unique),
        )
    op.create_table(
        "tags",
        sa.Column("resource_id", sa.String(256), primary_key=True),
        sa.Column("key", sa.String(128), primary_key=True),
        sa.Column("value", sa.String(256), nullable=False),
    )
    op.create_table(
        "access_keys",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("access_key_id", sa.String(128), nullable=False, unique=True),
        _fk("principal_id", "principals.principal_id", nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("secret_envelope", sa.LargeBinary(), nullable=False),
        sa.Column("master_key_id", sa.String(64), nullable=False),
        sa.Column("created_at", ts, nullable=False),
        sa.Column("expires_at", ts),
        sa.Column("session_token_sha256", sa.String(64)),
        sa.Column("last_used_at", ts),
        sa.Column("last_used_region", sa.String(64)),
        sa.Column("last_used_service", sa.String(64)),
        sa.CheckConstraint("status IN ('Active', 'Inactive')", name="ck_access_keys_status"),
        sa.CheckConstraint(
            "(expires_at IS NULL) = (session_token_sha256 IS NULL)",
            name="ck_access_keys_session_fields",
        ),
    )
    op.create_index(
        "ix_access_keys_principal_id_created_at_id",
        "access_keys",
        ["principal_id", "created_at", "id"],
    )
    op.create_table(
        "sessions",
        sa.Column(
            "access_key_id",
            sa.String(128),
            sa.ForeignKey("access_keys.access_key_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        _fk("principal_id", "principals.principal_id", nullable=False),
        sa.Column("role_session_name", sa.String(64)),
        sa.Column("issued_at", ts, nullable=False),
        sa.Column("mfa_authenticated", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("source_identity", sa.String(64)),
        sa.Column("session_policy", sa.Text()),
        sa.Column("session_policy_arns", sa.Text()),
        sa.Column("session_tags", sa.Text()),
    )
    op.create_table(
        "mfa_devices",
        sa.Column("serial_number", sa.String(256), primary_key=True),
        sa.Column(
            "account_id",
            sa.String(12),
            sa.ForeignKey("accounts.account_id", ondelete="CASCADE"),
            nullable=False,
        ),
        _fk("principal_id", "principals.principal_id", "SET NULL"),
        sa.Column("seed_envelope", sa.LargeBinary(), nullable=False),
        sa.Column("master_key_id", sa.String(64), nullable=False),
        sa.Column("last_used_step", sa.BigInteger()),
        sa.Column("enabled_at", ts),
        sa.Column("created_at", ts, nullable=False),
    )
    op.create_table(
        "audit_records",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("at", ts, nullable=False),
        sa.Column("account_id", sa.String(12)),
        sa.Column("principal_arn", sa.String(2048)),
        sa.Column("access_key_id", sa.String(128)),
        sa.Column("action", sa.String(128), nullable=False),
        sa.Column("resource", sa.String(2048)),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("request_id", sa.String(64)),
        sa.Column("source_ip", sa.String(64)),
        sa.Column("details", sa.Text()),
    )
    op.create_index("ix_audit_records_at", "audit_records", ["at"])


def _copy_principals(conn: sa.Connection, now: object) -> None:
    conn.execute(
        sa.text("INSERT INTO accounts (account_id, created_at) VALUES (:a, :t)"),
        {"a": DEFAULT_ACCOUNT_ID, "t": now},
    )
    rows = conn.execute(
        sa.text("SELECT name, kind, is_root, created_at FROM legacy_principals ORDER BY name")
    ).all()
    for name, kind, is_root, created_at in rows:
        pid = _new_id("AROA" if kind == "role" else "AIDA")
        conn.execute(
            sa.text(
                "INSERT INTO principals (principal_id, account_id, kind, name, path, is_root, "
                "created_at) VALUES (:p, :a, :k, :n, '/', :r, :t)"
            ),
            {
                "p": pid,
                "a": DEFAULT_ACCOUNT_ID,
                "k": kind,
                "n": name,
                "r": bool(is_root),
                "t": created_at,
            },
        )
        if kind == "role":
            conn.execute(sa.text("INSERT INTO roles (principal_id) VALUES (:p)"), {"p": pid})


def _copy_keys(conn: sa.Connection, order: str) -> None:
    conn.execute(
        sa.text(
            "INSERT INTO access_keys (access_key_id, principal_id, status, secret_envelope, "  # noqa: S608 - `order` is one of two constants
            "master_key_id, created_at, expires_at, session_token_sha256, last_used_at, "
            "last_used_region, last_used_service) "
            "SELECT k.access_key_id, p.principal_id, k.status, k.secret_envelope, "
            "k.master_key_id, k.created_at, k.expires_at, k.session_token_sha256, "
            "k.last_used_at, k.last_used_region, k.last_used_service "
            "FROM legacy_access_keys k JOIN principals p "
            f"ON p.name = k.principal AND p.account_id = :a ORDER BY k.created_at, {order}"
        ),
        {"a": DEFAULT_ACCOUNT_ID},
    )
    conn.execute(
        sa.text(
            "INSERT INTO sessions (access_key_id, principal_id, issued_at, mfa_authenticated) "
            "SELECT access_key_id, principal_id, created_at, :f FROM access_keys "
            "WHERE expires_at IS NOT NULL"
        ),
        {"f": False},
    )


def upgrade() -> None:
    conn = op.get_bind()
    sqlite = conn.dialect.name == "sqlite"
    if sqlite:
        for trigger in (
            "access_keys_insert",
            "access_keys_delete",
            "access_keys_update",
            "principals_delete",
            "principals_update",
        ):
            op.execute(f"DROP TRIGGER {trigger}")
    else:
        op.execute("DROP TRIGGER access_keys_insert_delete ON access_keys")
        op.execute("DROP TRIGGER access_keys_update ON access_keys")
    op.rename_table("access_keys", "legacy_access_keys")
    op.rename_table("principals", "legacy_principals")
    now = datetime.now(UTC)
    _create_tables(sa.String(32) if sqlite else sa.DateTime(timezone=True))
    _copy_principals(conn, now.isoformat(timespec="microseconds") if sqlite else now)
    _copy_keys(conn, "k.rowid" if sqlite else "k.seq")
    op.drop_table("legacy_access_keys")
    op.drop_table("legacy_principals")
    if sqlite:
        for name, when in (
            ("access_keys_insert", "AFTER INSERT ON access_keys"),
            ("access_keys_delete", "AFTER DELETE ON access_keys"),
            ("access_keys_update", f"AFTER UPDATE OF {_KEY_FIELDS} ON access_keys"),
            ("principals_delete", "AFTER DELETE ON principals"),
            ("principals_update", "AFTER UPDATE ON principals"),
        ):
            op.execute(f"CREATE TRIGGER {name} {when} BEGIN {_SQLITE_BUMP} END")
    else:
        # sigv4kit_key_changed() (the baseline's) notifies with the key id.
        op.execute(
            "CREATE TRIGGER access_keys_insert_delete AFTER INSERT OR DELETE ON access_keys "
            "FOR EACH ROW EXECUTE FUNCTION sigv4kit_key_changed()"
        )
        # Not on last_used_*: batched bookkeeping must not flush every replica's cache.
        op.execute(
            f"CREATE TRIGGER access_keys_update AFTER UPDATE OF {_KEY_FIELDS} ON access_keys "
            "FOR EACH ROW EXECUTE FUNCTION sigv4kit_key_changed()"
        )
    conn.execute(
        sa.text("INSERT INTO schema_migrations VALUES (2, :d, :t)"),
        {
            "d": "moved to Alembic (alembic_version)",
            "t": now.isoformat(timespec="microseconds") if sqlite else now,
        },
    )


def downgrade() -> None:  # pragma: no cover - sigv4kit never downgrades
    raise NotImplementedError("sigv4kit does not downgrade its key store")
