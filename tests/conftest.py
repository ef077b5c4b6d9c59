"""Shared fixtures: per-test PostgreSQL schemas and Redis prefixes (see tests/_services.py)."""

from __future__ import annotations

from collections.abc import Iterator

import _services
import pytest

# Every audit event the session builds is scanned for the session's secrets (see the module).
pytest_plugins = ["_audit_leaks"]


@pytest.fixture
def pg_url() -> Iterator[str]:
    """``postgresql://...?schema=<random>``: a schema of its own, dropped afterwards."""
    yield from _services.postgres_schema()


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A random Redis key prefix; its keys are deleted afterwards."""
    yield from _services.redis_prefix()
