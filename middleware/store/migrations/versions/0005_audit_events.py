"""Audit events: CloudTrail-shaped records in one hash chain, indexed for lookup.

* ``audit_events``: one row per event, ``seq`` its place in the chain (1, 2,
  ...; assigned by the writer under an advisory lock), the record's JSON line
  as hashed, ``previous_hash``/``row_hash`` (SHA-256 over the previous hash
  and the line), and the lookup attributes as indexed columns
  (``(attribute, event_time)``, so "by user, newest first" is an index scan).
* ``audit_event_resources``: the resource ARNs of each event (``ResourceName``
  lookups), indexed by name.
* ``audit_checkpoints``: Ed25519 signatures over the chain head, written
  after each batch, so rewriting the chain needs the private key.

``audit_records`` (revision 0002) is left as it is: nothing writes it.

Revision ID: 0005_audit_events
Revises: 0004_mfa_oidc
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_audit_events"
down_revision = "0004_mfa_oidc"
branch_labels = None
depends_on = None

_LOOKUP_COLUMNS = ("user_name", "event_name", "access_key_id", "event_source")


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    ts = sa.String(32) if sqlite else sa.DateTime(timezone=True)
    op.create_table(
        "audit_events",
        sa.Column("seq", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("event_time", ts, nullable=False),
        sa.Column("event_source", sa.String(128), nullable=False),
        sa.Column("event_name", sa.String(128), nullable=False),
        sa.Column("user_name", sa.String(128)),
        sa.Column("access_key_id", sa.String(128)),
        sa.Column("read_only", sa.Boolean(), nullable=False),
        sa.Column("record", sa.Text(), nullable=False),
        sa.Column("previous_hash", sa.String(64), nullable=False),
        sa.Column("row_hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_audit_events"),
        sa.UniqueConstraint("event_id", name="uq_audit_events_event_id"),
    )
    op.create_index("ix_audit_events_event_time", "audit_events", ["event_time"])
    for column in _LOOKUP_COLUMNS:
        op.create_index(
            f"ix_audit_events_{column}_event_time", "audit_events", [column, "event_time"]
        )
    op.create_table(
        "audit_event_resources",
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("resource_name", sa.String(2048), nullable=False),
        sa.PrimaryKeyConstraint("seq", "resource_name", name="pk_audit_event_resources"),
        sa.ForeignKeyConstraint(
            ["seq"],
            ["audit_events.seq"],
            name="fk_audit_event_resources_seq",
            ondelete="CASCADE",
        ),
    )
    op.create_index(
        "ix_audit_event_resources_resource_name", "audit_event_resources", ["resource_name"]
    )
    op.create_table(
        "audit_checkpoints",
        sa.Column("seq", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("row_hash", sa.String(64), nullable=False),
        sa.Column("key_fingerprint", sa.String(64), nullable=False),
        sa.Column("signature", sa.String(128), nullable=False),
        sa.Column("signed_at", ts, nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_audit_checkpoints"),
    )


def downgrade() -> None:  # pragma: no cover - sigv4kit never downgrades
    op.drop_table("audit_checkpoints")
    op.drop_table("audit_event_resources")
    op.drop_table("audit_events")
