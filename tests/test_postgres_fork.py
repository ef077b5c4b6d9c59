"""PostgresKeyStore across ``os.fork()`` (gunicorn ``--preload`` forks after the app exists).

The scenario runs in a subprocess (tests/_postgres_fork.py) against the real
server: a store in use in the parent (pooled connections, the LISTEN
connection, the flusher task), a fork, then both processes keep using it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from _workers import run_forking

SCRIPT = Path(__file__).with_name("_postgres_fork.py")


@pytest.mark.parametrize("variant", ["idle", "locks-held", "loop-done"])
def test_store_survives_a_fork(pg_url: str, variant: str) -> None:
    # The child looks keys up, records uses (written by its own flusher) and
    # hears changes made elsewhere, on sessions of its own; the parent keeps
    # working, also after the child closed its store and exited.
    code, out, err = run_forking([sys.executable, str(SCRIPT), pg_url, variant])
    assert out.strip().splitlines() == ["ok"], out + err
    assert code == 0, err
