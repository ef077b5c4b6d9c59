"""PostgreSQL cross-node invalidation: one raw psycopg ``LISTEN`` connection per process.

Triggers on ``access_keys`` call ``pg_notify`` in the transaction that
changes a key, so a notification arrives exactly when the change commits;
the listener evicts the named key. The cache is trusted only while the
listener is up: when it drops (notifications may be lost) the cache is
cleared (unless ``outage_grace`` allows cached keys to outlive it), and once
it is back the cache is cleared again (changes before ``LISTEN`` were not
heard). A heartbeat every ``heartbeat`` seconds notices a silently dead
connection. SQLAlchemy has no ``LISTEN``: this stays on the raw driver.

Imports: psycopg (through :mod:`.engine`), :mod:`.cache`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .cache import KeyCache
from .engine import postgres_connect, require_psycopg

if TYPE_CHECKING:
    from psycopg import AsyncConnection

__all__ = ["CHANNEL_PREFIX", "ChangeListener"]

logger = logging.getLogger("sigv4kit.middleware.store")

#: The channel is per schema, so stores in other schemas of one database
#: (tests, tenants) do not evict each other's keys.
CHANNEL_PREFIX = "sigv4kit_keys."


class ChangeListener:
    """Evicts changed keys from ``cache``; :attr:`listening` says whether the cache is trusted."""

    def __init__(
        self,
        *,
        conninfo: str,
        schema: str,
        cache: KeyCache,
        heartbeat: float,
        timeout: float,
        outage_grace: float,
        clock: Callable[[], float],
    ) -> None:
        self._conninfo = conninfo
        self._schema = schema
        self.channel = CHANNEL_PREFIX + schema
        self._cache = cache
        self._heartbeat = heartbeat
        self._timeout = timeout
        self._outage_grace = outage_grace
        self._clock = clock
        self.listening = False
        self.lost_at = float("-inf")
        self.up = asyncio.Event()
        self.closed = False

    def after_fork(self) -> None:
        """In a forked child: not listening (the LISTEN connection is the parent's).

        :meth:`run` must be started again on the child's loop; until it is up
        the cache is not trusted, and it is cleared once it is.
        """
        self.listening = False
        self.lost_at = float("-inf")
        self.up = asyncio.Event()

    async def run(self) -> None:
        """Listen until cancelled, reconnecting with backoff (up to 1 s)."""
        from psycopg import sql

        require_psycopg()
        delay = 0.05
        while not self.closed:
            conn: AsyncConnection[Any] | None = None
            try:
                conn = await postgres_connect(
                    self._conninfo, self._schema, self._timeout, autocommit=True
                )
                await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.channel)))
                self._cache.clear()
                self.listening = True
                self.up.set()
                if delay > 0.05:
                    logger.warning("key change listener reconnected; key cache cleared")
                delay = 0.05
                while True:
                    async for notify in conn.notifies(timeout=self._heartbeat):
                        self._cache.evict([notify.payload])
                    # The heartbeat is bounded by the connection's statement_timeout
                    # and TCP keepalives; no wait_for, whose cancellation of a
                    # psycopg query could itself wait on a dead socket.
                    await conn.execute("SELECT 1")
            except asyncio.CancelledError:
                self._lose()
                raise
            except Exception as exc:
                if self.listening:
                    logger.warning(
                        "key change listener lost (%s); lookups bypass the cache until it is back",
                        type(exc).__name__,
                    )
                self._lose()
            finally:
                if conn is not None:
                    with contextlib.suppress(Exception):
                        await conn.close()
            await asyncio.sleep(delay)
            delay = min(delay * 2, 1.0)

    def _lose(self) -> None:
        if self.listening:
            self.lost_at = self._clock()
        self.listening = False
        self.up.clear()
        if self._outage_grace <= 0:
            self._cache.clear()

    def in_grace(self) -> bool:
        """True while cached keys may still be served after losing the listener."""
        return self._clock() - self.lost_at < self._outage_grace
