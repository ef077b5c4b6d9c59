"""The real PostgreSQL and Redis servers the store and replay tests use.

CI (``.ci/run``) starts both; a test that cannot reach one *fails* with a
clear message. Only ``SIGV4KIT_SKIP_SERVICES=1``, set by hand, turns those
failures into skips (CI never sets it). Each test gets its own PostgreSQL
schema and Redis key prefix with random names, removed afterwards.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

import pytest

POSTGRES_DSN = os.environ.get("SIGV4KIT_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("SIGV4KIT_TEST_REDIS", "redis://127.0.0.1:6379/0")
SKIP_ENV = "SIGV4KIT_SKIP_SERVICES"

_reachable: dict[str, str | None] = {}


def _unreachable(service: str, problem: str) -> None:
    message = (
        f"{service} is not reachable ({problem}); start it (.ci/run does) or set "
        f"{SKIP_ENV}=1 to skip these tests explicitly"
    )
    if os.environ.get(SKIP_ENV) == "1":
        pytest.skip(message)
    pytest.fail(message, pytrace=False)


def require_postgres() -> None:
    """Fail (or skip with SIGV4KIT_SKIP_SERVICES=1) unless PostgreSQL answers."""
    if "postgres" not in _reachable:
        import psycopg

        try:
            with psycopg.connect(POSTGRES_DSN, connect_timeout=3) as conn:
                conn.execute("SELECT 1")
            _reachable["postgres"] = None
        except psycopg.Error as exc:
            _reachable["postgres"] = str(exc).splitlines()[0] if str(exc) else repr(exc)
    problem = _reachable["postgres"]
    if problem is not None:
        _unreachable(f"PostgreSQL at {POSTGRES_DSN}", problem)


def require_redis() -> None:
    """Fail (or skip with SIGV4KIT_SKIP_SERVICES=1) unless Redis answers."""
    if "redis" not in _reachable:
        import redis

        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3, socket_timeout=3)
        try:
            client.ping()
            _reachable["redis"] = None
        except (redis.RedisError, OSError) as exc:
            _reachable["redis"] = repr(exc)
        finally:
            client.close()
    problem = _reachable["redis"]
    if problem is not None:
        _unreachable(f"Redis at {REDIS_URL}", problem)


def new_schema_name() -> str:
    return "sigv4kit_t_" + secrets.token_hex(6)


def drop_schema(schema: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(POSTGRES_DSN, autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


def schema_url(schema: str) -> str:
    return f"{POSTGRES_DSN}?schema={schema}"


def postgres_schema() -> Iterator[str]:
    """A fresh schema's store URL; the schema is dropped afterwards."""
    require_postgres()
    schema = new_schema_name()
    try:
        yield schema_url(schema)
    finally:
        drop_schema(schema)


def redis_prefix() -> Iterator[str]:
    """A random key prefix; its keys are deleted afterwards."""
    require_redis()
    import redis

    prefix = f"sigv4kit-test-{secrets.token_hex(6)}:"
    try:
        yield prefix
    finally:
        client = redis.Redis.from_url(REDIS_URL)
        try:
            keys = list(client.scan_iter(match=prefix + "*", count=1000))
            if keys:
                client.delete(*keys)
        finally:
            client.close()
