"""Schema migrations: Alembic, one history for SQLite and PostgreSQL, run at start-up.

:func:`upgrade` brings a database to :data:`HEAD` inside the caller's
transaction, with an in-code Alembic configuration (users need no
``alembic.ini``). On PostgreSQL it first takes a transaction-level advisory
lock per schema, so replicas starting together migrate once: the others
wait, then find nothing to do. SQLite serializes the same way through the
caller's ``BEGIN IMMEDIATE``.

A database written by sigv4kit before Alembic (a ``schema_migrations``
table at version 1) is adopted: stamped at the baseline revision, which is
that schema, then upgraded like any other. A database at a revision this
code does not know (a newer sigv4kit) is refused with
:class:`SchemaVersionError`, as is one left anywhere but at head.

Imports: Alembic, SQLAlchemy, the store errors.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from .errors import SchemaVersionError

__all__ = ["BASELINE", "HEAD", "current_revision", "upgrade"]

#: The revision that is the pre-Alembic schema (``schema_migrations`` version 1).
BASELINE = "0001_baseline"
#: The revision this code reads and writes.
HEAD = "0008_service_last_used"

_SCRIPTS = Path(__file__).with_name("migrations")


def _config(conn: sa.Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(_SCRIPTS))
    config.attributes["connection"] = conn
    return config


def current_revision(conn: sa.Connection) -> str | None:
    """The Alembic revision recorded in the database (None before the first)."""
    return MigrationContext.configure(conn).get_current_revision()


def _legacy_version(conn: sa.Connection) -> int | None:
    if not sa.inspect(conn).has_table("schema_migrations"):
        return None
    value = conn.execute(sa.text("SELECT MAX(version) FROM schema_migrations")).scalar()
    return None if value is None else int(value)


def upgrade(conn: sa.Connection, *, schema: str | None = None) -> None:
    """Migrate to :data:`HEAD` in ``conn``'s open transaction.

    ``schema`` (PostgreSQL) is created when missing and names the advisory
    lock. Raises :class:`SchemaVersionError` for a database this code cannot
    serve.
    """
    if conn.dialect.name == "postgresql":
        assert schema is not None
        conn.execute(
            sa.text("SELECT pg_advisory_xact_lock(hashtextextended(:name, 0))"),
            {"name": f"sigv4kit.migrations.{schema}"},
        )
        conn.execute(sa.schema.CreateSchema(schema, if_not_exists=True))
    config = _config(conn)
    where = f"schema {schema!r}" if schema else "the key database"
    current = current_revision(conn)
    if current is None:
        legacy = _legacy_version(conn)
        if legacy == 1:
            command.stamp(config, BASELINE)
        elif legacy is not None:
            raise SchemaVersionError(
                f"{where} has schema version {legacy}, which this sigv4kit does not know: "
                "upgrade sigv4kit"
            )
    elif current not in _known_revisions(config):
        raise SchemaVersionError(
            f"{where} is at schema revision {current!r}, newer than this sigv4kit "
            f"(which knows up to {HEAD!r}): upgrade sigv4kit"
        )
    command.upgrade(config, "head")
    check_head(conn, where)


def check_head(conn: sa.Connection, where: str = "the key database") -> None:
    """Raise :class:`SchemaVersionError` unless the database is at :data:`HEAD`."""
    current = current_revision(conn)
    if current != HEAD:
        raise SchemaVersionError(f"{where} is at schema revision {current!r}, expected {HEAD!r}")


def _known_revisions(config: Config) -> set[str]:
    return {rev.revision for rev in ScriptDirectory.from_config(config).walk_revisions()}
