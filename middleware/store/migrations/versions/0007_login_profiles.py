"""Console passwords and sessions: login profiles, password history and policy, sign-in state.

* ``login_profiles``: one per IAM user with a console password (``owner_id``
  its principal id) or per account root (``owner_id`` the account id): the
  Argon2id hash (PHC string), when it was set, ``PasswordResetRequired``,
  ``MaxSigninSessionDuration``.
* ``password_history``: earlier hashes of an owner, newest first, for the
  account policy's ``PasswordReusePrevention`` (1-24 remembered).
* ``password_policies``: the account password policy (absent: IAM's default).
* ``console_sessions``: server-side console sessions, keyed by the SHA-256
  of the cookie's token (a database read never yields a usable cookie), with
  the idle and absolute expiry, and the sign-in step reached (MFA pending,
  password change required, signed in).
* ``signin_throttle``: failed sign-ins per (account, user name) key, whether
  or not the user exists, and the lock they set (every worker agrees).

Revision ID: 0007_login_profiles
Revises: 0006_sts_sessions
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0007_login_profiles"
down_revision = "0006_sts_sessions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    ts: sa.types.TypeEngine[Any] = sa.String(32) if sqlite else sa.DateTime(timezone=True)
    op.create_table(
        "login_profiles",
        sa.Column("owner_id", sa.String(32), nullable=False),
        sa.Column("account_id", sa.String(12), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("created_at", ts, nullable=False),
        sa.Column("password_changed_at", ts, nullable=False),
        sa.Column("password_reset_required", sa.Boolean(), nullable=False,
                  server_default=sa.false()),
        sa.Column("max_signin_session_duration", sa.Integer()),
        sa.PrimaryKeyConstraint("owner_id", name="pk_login_profiles"),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.account_id"],
                                name="fk_login_profiles_account_id", ondelete="CASCADE"),
    )
    op.create_table(
        "password_history",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("owner_id", sa.String(32), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("set_at", ts, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_password_history"),
    )
    op.create_index("ix_password_history_owner_id", "password_history", ["owner_id"])
    op.create_table(
        "password_policies",
        sa.Column("account_id", sa.String(12), nullable=False),
        sa.Column("minimum_length", sa.Integer(), nullable=False),
        sa.Column("require_symbols", sa.Boolean(), nullable=False),
        sa.Column("require_numbers", sa.Boolean(), nullable=False),
        sa.Column("require_uppercase", sa.Boolean(), nullable=False),
        sa.Column("require_lowercase", sa.Boolean(), nullable=False),
        sa.Column("allow_users_to_change", sa.Boolean(), nullable=False),
        sa.Column("max_password_age", sa.Integer()),
        sa.Column("reuse_prevention", sa.Integer()),
        sa.Column("hard_expiry", sa.Boolean()),
        sa.PrimaryKeyConstraint("account_id", name="pk_password_policies"),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.account_id"],
                                name="fk_password_policies_account_id", ondelete="CASCADE"),
    )
    op.create_table(
        "console_sessions",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("account_id", sa.String(12), nullable=False),
        sa.Column("owner_id", sa.String(32), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("created_at", ts, nullable=False),
        sa.Column("last_seen_at", ts, nullable=False),
        sa.Column("expires_at", ts, nullable=False),
        sa.Column("mfa_authenticated", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("source_ip", sa.String(64)),
        sa.PrimaryKeyConstraint("token_hash", name="pk_console_sessions"),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.account_id"],
                                name="fk_console_sessions_account_id", ondelete="CASCADE"),
    )
    op.create_index("ix_console_sessions_owner_id", "console_sessions", ["owner_id"])
    op.create_table(
        "signin_throttle",
        sa.Column("throttle_key", sa.String(64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("first_failure_at", ts, nullable=False),
        sa.Column("locked_until", ts),
        sa.PrimaryKeyConstraint("throttle_key", name="pk_signin_throttle"),
    )


def downgrade() -> None:
    op.drop_table("signin_throttle")
    op.drop_index("ix_console_sessions_owner_id", table_name="console_sessions")
    op.drop_table("console_sessions")
    op.drop_table("password_policies")
    op.drop_index("ix_password_history_owner_id", table_name="password_history")
    op.drop_table("password_history")
    op.drop_table("login_profiles")
