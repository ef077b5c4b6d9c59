"""Last use per principal and service, independent of the keys that were used.

* ``service_last_used``: ``(principal_id, service)`` -> the latest time and
  its region. Until now only each access key kept its *last* use, so a
  service called before another with the same key was forgotten, and every
  use went with its key (a deleted key, an expired role session). The rows
  go with the principal (``ON DELETE CASCADE``).

The table is seeded from what the keys remember: each key's last use, the
latest per principal and service.

Revision ID: 0008_service_last_used
Revises: 0007_login_profiles
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0008_service_last_used"
down_revision = "0007_login_profiles"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    ts: sa.types.TypeEngine[Any] = sa.String(32) if sqlite else sa.DateTime(timezone=True)
    table = op.create_table(
        "service_last_used",
        sa.Column("principal_id", sa.String(32), nullable=False),
        sa.Column("service", sa.String(64), nullable=False),
        sa.Column("last_used_at", ts, nullable=False),
        sa.Column("last_used_region", sa.String(64)),
        sa.PrimaryKeyConstraint("principal_id", "service", name="pk_service_last_used"),
        sa.ForeignKeyConstraint(["principal_id"], ["principals.principal_id"],
                                name="fk_service_last_used_principal_id", ondelete="CASCADE"),
    )
    keys = sa.table(
        "access_keys",
        sa.column("principal_id"), sa.column("last_used_service"),
        sa.column("last_used_at"), sa.column("last_used_region"),
    )
    # Both dialects store times that compare in time order (SQLite: fixed-width
    # UTC text), so the latest use per (principal, service) is a plain max.
    latest: dict[tuple[str, str], tuple[Any, Any]] = {}
    for pid, service, at, region in bind.execute(
        sa.select(keys.c.principal_id, keys.c.last_used_service, keys.c.last_used_at,
                  keys.c.last_used_region)
        .where(keys.c.last_used_at.is_not(None), keys.c.last_used_service.is_not(None))
    ):
        seen = latest.get((pid, service))
        if seen is None or seen[0] < at:
            latest[(pid, service)] = (at, region)
    if latest:
        op.bulk_insert(table, [
            {"principal_id": pid, "service": service, "last_used_at": at,
             "last_used_region": region}
            for (pid, service), (at, region) in latest.items()
        ])


def downgrade() -> None:
    op.drop_table("service_last_used")
