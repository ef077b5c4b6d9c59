"""IAM bookkeeping: a change counter for authorization caches, policy version numbers.

* ``iam_generation``: one row, bumped in the same transaction by every IAM
  write (users, groups, roles, policies, attachments, memberships, tags,
  boundaries), so a cached authorization snapshot is known to be current by
  comparing one integer (PostgreSQL also announces the new value on the
  store's ``NOTIFY`` channel). Both databases: IAM writers lock this row
  first, which serializes them (IAM's case-insensitive name checks and
  quotas cannot race).
* ``policies.last_version_number``: the highest version number ever issued,
  so version ids are never reused after ``DeletePolicyVersion`` (``v1``,
  ``v2``, ... as IAM numbers them).

Revision ID: 0003_iam_generation
Revises: 0002_accounts_iam
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_iam_generation"
down_revision = "0002_accounts_iam"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "iam_generation",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("id = 1", name="single_row"),
    )
    op.execute("INSERT INTO iam_generation (id, value) VALUES (1, 0)")
    with op.batch_alter_table("policies") as batch:
        batch.add_column(
            sa.Column("last_version_number", sa.Integer(), nullable=False, server_default="1")
        )


def downgrade() -> None:  # pragma: no cover - sigv4kit never downgrades
    raise NotImplementedError("sigv4kit does not downgrade its key store")
