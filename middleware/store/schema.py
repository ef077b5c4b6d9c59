"""The key store's tables, once, in SQLAlchemy Core (both SQLite and PostgreSQL).

Designed for IAM: an account owns principals (users and roles, one table so
access keys and sessions have one owner column), groups and managed
policies. Every entity has a unique id with AWS's prefix (:data:`PREFIXES`)
and a path, so its ARN is derived (:func:`principal_arn`), never stored.

Not every table is used yet: groups, policies, attachments, tags, MFA
devices and audit records exist so the IAM issues add code, not a schema
rewrite. The history that creates these tables is in ``migrations/``; this
module is what the code queries and must match the head revision (a test
compares them).

Imports: SQLAlchemy and :mod:`.entities` (the default account, ARNs).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from .entities import DEFAULT_ACCOUNT_ID, principal_arn

__all__ = [
    "DEFAULT_ACCOUNT_ID",
    "ENVELOPE",
    "PREFIXES",
    "UTCDateTime",
    "access_keys",
    "accounts",
    "audit_checkpoints",
    "audit_event_resources",
    "audit_events",
    "audit_records",
    "cache_generation",
    "console_sessions",
    "group_memberships",
    "groups",
    "iam_generation",
    "inline_policies",
    "login_profiles",
    "metadata",
    "mfa_devices",
    "oidc_providers",
    "password_history",
    "password_policies",
    "policies",
    "policy_attachments",
    "policy_versions",
    "principal_arn",
    "principals",
    "roles",
    "service_last_used",
    "sessions",
    "signin_throttle",
    "sqlite_metadata",
    "tags",
    "to_utc",
]


#: Unique-id prefixes, as IAM issues them ("Unique identifiers", IAM User
#: Guide, reference_identifiers.html#identifiers-prefixes).
PREFIXES = {
    "user": "AIDA",
    "group": "AGPA",
    "role": "AROA",
    "policy": "ANPA",
    "access_key": "AKIA",
    "session_key": "ASIA",
}

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """An aware UTC datetime: ``TIMESTAMPTZ`` on PostgreSQL, fixed-width text on SQLite.

    SQLite has no time type; the text is ``isoformat(timespec="microseconds")``
    in UTC (the format sigv4kit always wrote), so string order is time order.
    Naive datetimes are refused: every time a store writes is in UTC.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: sa.Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(sa.String(32))
        return dialect.type_descriptor(sa.DateTime(timezone=True))

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("a store time must be timezone-aware")
        value = value.astimezone(UTC)
        return value.isoformat(timespec="microseconds") if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> datetime | None:
        return to_utc(value)


def to_utc(value: str | datetime | None) -> datetime | None:
    """A stored time (SQLite text or a PostgreSQL datetime) as an aware UTC datetime."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.astimezone(UTC)


_TS = UTCDateTime()
_ID = sa.String(32)
_NAME = sa.String(128)
_PATH = sa.String(512)
_DOC = sa.Text()  # a JSON policy document or tag set


def _id(name: str, **kw: object) -> sa.Column[str]:
    return sa.Column(name, _ID, **kw)  # type: ignore[arg-type]


accounts = sa.Table(
    "accounts",
    metadata,
    sa.Column("account_id", sa.String(12), primary_key=True),  # 12 digits
    sa.Column("alias", sa.String(63), unique=True),
    sa.Column("created_at", _TS, nullable=False),
)

policies = sa.Table(
    "policies",
    metadata,
    _id("policy_id", primary_key=True),  # ANPA...
    # NULL for AWS-managed policies (arn:aws:iam::aws:policy/...).
    sa.Column("account_id", sa.ForeignKey("accounts.account_id", ondelete="CASCADE")),
    sa.Column("name", _NAME, nullable=False),
    sa.Column("path", _PATH, nullable=False, server_default="/"),
    sa.Column("description", sa.String(1000)),
    sa.Column("default_version_id", sa.String(16), nullable=False, server_default="v1"),
    sa.Column("created_at", _TS, nullable=False),
    sa.Column("updated_at", _TS, nullable=False),
    # The highest version number issued: ids are never reused (0003).
    sa.Column("last_version_number", sa.Integer(), nullable=False, server_default="1"),
    sa.UniqueConstraint("account_id", "name"),
)

policy_versions = sa.Table(
    "policy_versions",
    metadata,
    sa.Column(
        "policy_id", sa.ForeignKey("policies.policy_id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("version_id", sa.String(16), primary_key=True),  # v1, v2, ...
    sa.Column("document", _DOC, nullable=False),
    sa.Column("created_at", _TS, nullable=False),
)

principals = sa.Table(
    "principals",
    metadata,
    _id("principal_id", primary_key=True),  # AIDA... users, AROA... roles
    sa.Column(
        "account_id",
        sa.ForeignKey("accounts.account_id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("kind", sa.String(8), nullable=False),
    sa.Column("name", sa.String(64), nullable=False),
    sa.Column("path", _PATH, nullable=False, server_default="/"),
    # Today's "root" principals (every action allowed); the IAM issues map
    # them to the account's root user.
    sa.Column("is_root", sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.Column("permissions_boundary", sa.ForeignKey("policies.policy_id", ondelete="SET NULL")),
    sa.Column("created_at", _TS, nullable=False),
    sa.CheckConstraint("kind IN ('user', 'role')", name="kind"),
    # IAM: a user and a role may share a name; two users may not.
    sa.UniqueConstraint("account_id", "kind", "name"),
)

roles = sa.Table(
    "roles",
    metadata,
    sa.Column(
        "principal_id",
        sa.ForeignKey("principals.principal_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("trust_policy", _DOC),
    sa.Column("max_session_duration", sa.Integer(), nullable=False, server_default="3600"),
    sa.Column("description", sa.String(1000)),
)

groups = sa.Table(
    "groups",
    metadata,
    _id("group_id", primary_key=True),  # AGPA...
    sa.Column(
        "account_id",
        sa.ForeignKey("accounts.account_id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("name", sa.String(128), nullable=False),
    sa.Column("path", _PATH, nullable=False, server_default="/"),
    sa.Column("created_at", _TS, nullable=False),
    sa.UniqueConstraint("account_id", "name"),
)

group_memberships = sa.Table(
    "group_memberships",
    metadata,
    sa.Column("group_id", sa.ForeignKey("groups.group_id", ondelete="CASCADE"), primary_key=True),
    sa.Column(
        "principal_id",
        sa.ForeignKey("principals.principal_id", ondelete="CASCADE"),
        primary_key=True,
    ),
)

# An inline policy or an attachment belongs to a principal (user or role) or
# a group: two nullable owner columns, exactly one set, so both keep a
# foreign key with ON DELETE CASCADE.
_ONE_OWNER = "(principal_id IS NULL) <> (group_id IS NULL)"

inline_policies = sa.Table(
    "inline_policies",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("principal_id", sa.ForeignKey("principals.principal_id", ondelete="CASCADE")),
    sa.Column("group_id", sa.ForeignKey("groups.group_id", ondelete="CASCADE")),
    sa.Column("name", _NAME, nullable=False),
    sa.Column("document", _DOC, nullable=False),
    sa.CheckConstraint(_ONE_OWNER, name="one_owner"),
    sa.UniqueConstraint("principal_id", "name"),
    sa.UniqueConstraint("group_id", "name"),
)

policy_attachments = sa.Table(
    "policy_attachments",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("policy_id", sa.ForeignKey("policies.policy_id", ondelete="CASCADE"), nullable=False),
    sa.Column("principal_id", sa.ForeignKey("principals.principal_id", ondelete="CASCADE")),
    sa.Column("group_id", sa.ForeignKey("groups.group_id", ondelete="CASCADE")),
    sa.CheckConstraint(_ONE_OWNER, name="one_owner"),
    sa.UniqueConstraint("policy_id", "principal_id"),
    sa.UniqueConstraint("policy_id", "group_id"),
)

# Tags of any taggable entity, by its unique id (the prefixes keep ids of
# different kinds apart); removed with the entity by the code that deletes it.
tags = sa.Table(
    "tags",
    metadata,
    sa.Column("resource_id", sa.String(256), primary_key=True),
    sa.Column("key", sa.String(128), primary_key=True),
    sa.Column("value", sa.String(256), nullable=False),
)

access_keys = sa.Table(
    "access_keys",
    metadata,
    # Creation order for listings and "most recent key" (ties on created_at).
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("access_key_id", sa.String(128), nullable=False, unique=True),
    sa.Column(
        "principal_id",
        sa.ForeignKey("principals.principal_id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("status", sa.String(8), nullable=False),
    sa.Column("secret_envelope", sa.LargeBinary(), nullable=False),
    sa.Column("master_key_id", sa.String(64), nullable=False),
    sa.Column("created_at", _TS, nullable=False),
    # Temporary (ASIA) keys only: the expiry and the session token's SHA-256
    # are here, not in `sessions`, so a lookup reads one row.
    sa.Column("expires_at", _TS),
    sa.Column("session_token_sha256", sa.String(64)),
    sa.Column("last_used_at", _TS),
    sa.Column("last_used_region", sa.String(64)),
    sa.Column("last_used_service", sa.String(64)),
    sa.CheckConstraint("status IN ('Active', 'Inactive')", name="status"),
    sa.CheckConstraint(
        "(expires_at IS NULL) = (session_token_sha256 IS NULL)", name="session_fields"
    ),
    sa.Index(None, "principal_id", "created_at", "id"),
)

sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column(
        "access_key_id",
        sa.ForeignKey("access_keys.access_key_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    # The user (GetSessionToken) or the role (AssumeRole) the session acts as.
    sa.Column(
        "principal_id",
        sa.ForeignKey("principals.principal_id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("role_session_name", sa.String(64)),
    sa.Column("issued_at", _TS, nullable=False),
    sa.Column("mfa_authenticated", sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.Column("source_identity", sa.String(64)),
    sa.Column("session_policy", _DOC),  # inline session policy (JSON)
    sa.Column("session_policy_arns", _DOC),  # JSON list of managed policy ARNs
    sa.Column("session_tags", _DOC),  # JSON object
    # Revision 0006: when MFA was checked, the web identity's provider, the
    # transitive tag keys (JSON list) and who asked for the session.
    sa.Column("mfa_authenticated_at", _TS),
    sa.Column("federated_provider", sa.String(2048)),
    sa.Column("transitive_tag_keys", _DOC),
    sa.Column("source_arn", sa.String(2048)),
)

# Last use per principal and service (0008): what GetServiceLastAccessedDetails
# and RoleLastUsed read. A key's uses count for its owner (a role session's
# key belongs to the role), and the row outlives the key; it goes with the
# principal. Written by the batched last-used flush, never on the request path.
service_last_used = sa.Table(
    "service_last_used",
    metadata,
    sa.Column(
        "principal_id",
        sa.ForeignKey("principals.principal_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("service", sa.String(64), primary_key=True),  # the signing scope's service
    sa.Column("last_used_at", _TS, nullable=False),
    sa.Column("last_used_region", sa.String(64)),
)

mfa_devices = sa.Table(
    "mfa_devices",
    metadata,
    sa.Column("serial_number", sa.String(256), primary_key=True),  # arn:aws:iam::ACCT:mfa/NAME
    sa.Column(
        "account_id",
        sa.ForeignKey("accounts.account_id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("principal_id", sa.ForeignKey("principals.principal_id", ondelete="SET NULL")),
    sa.Column("seed_envelope", sa.LargeBinary(), nullable=False),  # sealed like secrets
    sa.Column("master_key_id", sa.String(64), nullable=False),
    # The last TOTP time step accepted: a code is never accepted twice.
    sa.Column("last_used_step", sa.BigInteger()),
    sa.Column("enabled_at", _TS),
    sa.Column("created_at", _TS, nullable=False),
    # The device clock's offset in time steps (EnableMFADevice, ResyncMFADevice).
    sa.Column("drift_steps", sa.Integer(), nullable=False, server_default="0"),
    # Throttling: wrong codes in a row, and the lock they set (every worker agrees).
    sa.Column("failed_attempts", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("locked_until", _TS),
)

oidc_providers = sa.Table(
    "oidc_providers",
    metadata,
    sa.Column(
        "account_id",
        sa.ForeignKey("accounts.account_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    # The issuer URL exactly as registered (IAM compares it case-sensitively).
    sa.Column("url", sa.String(255), primary_key=True),
    sa.Column("client_ids", _DOC, nullable=False),  # JSON list, in the order added
    sa.Column("thumbprints", _DOC, nullable=False),  # JSON list of 40 hex digits each
    sa.Column("created_at", _TS, nullable=False),
)

audit_records = sa.Table(
    "audit_records",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("at", _TS, nullable=False),
    sa.Column("account_id", sa.String(12)),
    sa.Column("principal_arn", sa.String(2048)),
    sa.Column("access_key_id", sa.String(128)),
    sa.Column("action", sa.String(128), nullable=False),
    sa.Column("resource", sa.String(2048)),
    sa.Column("outcome", sa.String(16), nullable=False),
    sa.Column("request_id", sa.String(64)),
    sa.Column("source_ip", sa.String(64)),
    sa.Column("details", _DOC),  # JSON, never secrets
    sa.Index(None, "at"),
)

#: Bumped in the same transaction by every IAM write (0003): authorization
#: snapshots cached at generation N are current while it is still N.
iam_generation = sa.Table(
    "iam_generation",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
    sa.Column("value", sa.BigInteger(), nullable=False),
    sa.CheckConstraint("id = 1", name="single_row"),
)

# Audit events in one hash chain (see sigv4kit.middleware.audit): ``seq`` is
# the chain position, the lookup attributes are indexed with the time so
# "this user's events, newest first" is an index scan.
audit_events = sa.Table(
    "audit_events",
    metadata,
    sa.Column("seq", sa.BigInteger(), primary_key=True, autoincrement=False),
    sa.Column("event_id", sa.String(64), nullable=False, unique=True),
    sa.Column("event_time", _TS, nullable=False),
    sa.Column("event_source", sa.String(128), nullable=False),
    sa.Column("event_name", sa.String(128), nullable=False),
    sa.Column("user_name", sa.String(128)),
    sa.Column("access_key_id", sa.String(128)),
    sa.Column("read_only", sa.Boolean(), nullable=False),
    sa.Column("record", sa.Text(), nullable=False),  # the JSON line, as hashed
    sa.Column("previous_hash", sa.String(64), nullable=False),
    sa.Column("row_hash", sa.String(64), nullable=False),
    sa.Index(None, "event_time"),
    sa.Index(None, "user_name", "event_time"),
    sa.Index(None, "event_name", "event_time"),
    sa.Index(None, "access_key_id", "event_time"),
    sa.Index(None, "event_source", "event_time"),
)

audit_event_resources = sa.Table(
    "audit_event_resources",
    metadata,
    sa.Column("seq", sa.ForeignKey("audit_events.seq", ondelete="CASCADE"), primary_key=True),
    sa.Column("resource_name", sa.String(2048), primary_key=True),
    sa.Index(None, "resource_name"),
)

# Signed chain heads: rewriting the chain after a checkpoint needs the key.
audit_checkpoints = sa.Table(
    "audit_checkpoints",
    metadata,
    sa.Column("seq", sa.BigInteger(), primary_key=True, autoincrement=False),
    sa.Column("row_hash", sa.String(64), nullable=False),
    sa.Column("key_fingerprint", sa.String(64), nullable=False),
    sa.Column("signature", sa.String(128), nullable=False),
    sa.Column("signed_at", _TS, nullable=False),
)

# Console passwords (0007): one login profile per user (``owner_id`` its
# principal id) or account root (the account id); Argon2id PHC strings only.
login_profiles = sa.Table(
    "login_profiles",
    metadata,
    sa.Column("owner_id", _ID, primary_key=True),
    sa.Column(
        "account_id",
        sa.ForeignKey("accounts.account_id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("password_hash", sa.Text(), nullable=False),
    sa.Column("created_at", _TS, nullable=False),
    sa.Column("password_changed_at", _TS, nullable=False),
    sa.Column("password_reset_required", sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.Column("max_signin_session_duration", sa.Integer()),
)

# Earlier hashes of an owner, for PasswordReusePrevention.
password_history = sa.Table(
    "password_history",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("owner_id", _ID, nullable=False),
    sa.Column("password_hash", sa.Text(), nullable=False),
    sa.Column("set_at", _TS, nullable=False),
    sa.Index(None, "owner_id"),
)

# The account password policy; no row means IAM's default policy.
password_policies = sa.Table(
    "password_policies",
    metadata,
    sa.Column(
        "account_id",
        sa.ForeignKey("accounts.account_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("minimum_length", sa.Integer(), nullable=False),
    sa.Column("require_symbols", sa.Boolean(), nullable=False),
    sa.Column("require_numbers", sa.Boolean(), nullable=False),
    sa.Column("require_uppercase", sa.Boolean(), nullable=False),
    sa.Column("require_lowercase", sa.Boolean(), nullable=False),
    sa.Column("allow_users_to_change", sa.Boolean(), nullable=False),
    sa.Column("max_password_age", sa.Integer()),
    sa.Column("reuse_prevention", sa.Integer()),
    sa.Column("hard_expiry", sa.Boolean()),
)

# Server-side console sessions, keyed by the SHA-256 of the cookie's token.
console_sessions = sa.Table(
    "console_sessions",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column(
        "account_id",
        sa.ForeignKey("accounts.account_id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("owner_id", _ID, nullable=False),
    sa.Column("state", sa.String(16), nullable=False),  # mfa / change / active
    sa.Column("created_at", _TS, nullable=False),
    sa.Column("last_seen_at", _TS, nullable=False),
    sa.Column("expires_at", _TS, nullable=False),
    sa.Column("mfa_authenticated", sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.Column("source_ip", sa.String(64)),
    sa.Index(None, "owner_id"),
)

# Failed console sign-ins per (account, user name) key, existing user or not.
signin_throttle = sa.Table(
    "signin_throttle",
    metadata,
    sa.Column("throttle_key", sa.String(64), primary_key=True),
    sa.Column("failures", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("first_failure_at", _TS, nullable=False),
    sa.Column("locked_until", _TS),
)

#: SQLite only: bumped by triggers on key changes; other processes poll it
#: (PostgreSQL notifies instead).
sqlite_metadata = sa.MetaData()
cache_generation = sa.Table(
    "cache_generation",
    sqlite_metadata,
    sa.Column("id", sa.Integer(), primary_key=True),
    sa.Column("value", sa.Integer(), nullable=False),
)


# Read as bytes whatever SQLite's storage class: a tampered value (text) must
# be refused by the envelope check, not break the driver's decoding.
ENVELOPE = sa.cast(access_keys.c.secret_envelope, sa.LargeBinary).label("secret_envelope")
