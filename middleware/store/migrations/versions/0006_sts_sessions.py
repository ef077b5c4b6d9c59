"""STS sessions: what a role session needs beyond revision 0001's ``sessions`` row.

* ``sessions.mfa_authenticated_at``: when the MFA code was checked (the
  session's ``aws:MultiFactorAuthAge`` counts from it; carried through role
  chaining from a GetSessionToken MFA session).
* ``sessions.federated_provider``: the OIDC provider ARN of a web-identity
  session (``aws:FederatedProvider``).
* ``sessions.transitive_tag_keys``: the session tags (JSON list of keys) that
  pass on to sessions this one assumes (role chaining).
* ``sessions.source_arn``: who asked for the session (the user or session
  ARN, or the provider's subject), for the audit trail.

Revision ID: 0006_sts_sessions
Revises: 0005_audit_events
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0006_sts_sessions"
down_revision = "0005_audit_events"
branch_labels = None
depends_on = None


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    ts: sa.types.TypeEngine[Any] = sa.String(32) if sqlite else sa.DateTime(timezone=True)
    with op.batch_alter_table("sessions") as batch:
        batch.add_column(sa.Column("mfa_authenticated_at", ts))
        batch.add_column(sa.Column("federated_provider", sa.String(2048)))
        batch.add_column(sa.Column("transitive_tag_keys", sa.Text()))
        batch.add_column(sa.Column("source_arn", sa.String(2048)))


def downgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        batch.drop_column("source_arn")
        batch.drop_column("transitive_tag_keys")
        batch.drop_column("federated_provider")
        batch.drop_column("mfa_authenticated_at")
