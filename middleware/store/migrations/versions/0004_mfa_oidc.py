"""MFA devices: clock drift and throttling; OIDC identity providers.

* ``mfa_devices.drift_steps``: the device's clock offset in TOTP time steps,
  learned by ``EnableMFADevice`` and ``ResyncMFADevice`` (two consecutive
  codes found within a bounded window) and applied to every later check.
* ``mfa_devices.failed_attempts`` and ``mfa_devices.locked_until``: after
  repeated wrong codes a device is refused for a while, whatever worker or
  process is asked (the counter is updated atomically in the database).
* ``oidc_providers``: IAM's OpenID Connect providers (URL, client ids,
  thumbprints), one per URL per account, for ``AssumeRoleWithWebIdentity``.

Revision ID: 0004_mfa_oidc
Revises: 0003_iam_generation
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0004_mfa_oidc"
down_revision = "0003_iam_generation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    ts: sa.types.TypeEngine[Any] = sa.String(32) if sqlite else sa.DateTime(timezone=True)
    with op.batch_alter_table("mfa_devices") as batch:
        batch.add_column(
            sa.Column("drift_steps", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(
            sa.Column("failed_attempts", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("locked_until", ts))
    op.create_table(
        "oidc_providers",
        sa.Column(
            "account_id",
            sa.String(12),
            sa.ForeignKey("accounts.account_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("url", sa.String(255), primary_key=True),
        sa.Column("client_ids", sa.Text(), nullable=False),
        sa.Column("thumbprints", sa.Text(), nullable=False),
        sa.Column("created_at", ts, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("oidc_providers")
    with op.batch_alter_table("mfa_devices") as batch:
        batch.drop_column("locked_until")
        batch.drop_column("failed_attempts")
        batch.drop_column("drift_steps")
