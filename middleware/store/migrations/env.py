"""Alembic environment: always the connection :mod:`..migrate` passes in.

Runs inside that connection's transaction (one transaction for the whole
upgrade, under the caller's lock); never connects by itself.
"""

from __future__ import annotations

from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, transactional_ddl=True)
with context.begin_transaction():
    context.run_migrations()
