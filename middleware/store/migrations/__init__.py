"""Alembic's script directory for the key store (see :mod:`..migrate`)."""
