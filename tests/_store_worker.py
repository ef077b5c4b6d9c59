"""A separate OS process using a shared SQLite key store (tests/test_sqlite.py).

Usage: python tests/_store_worker.py DB NAME PEER ROUNDS
Prints one JSON object: the keys it created (with secrets) and what it saw.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from datetime import UTC, datetime

from sigv4kit.middleware import KeyLimitExceededError, SQLiteKeyStore, StoreError


async def main(db: str, name: str, peer: str, rounds: int) -> dict[str, object]:
    store = SQLiteKeyStore(db, flush_interval=0.05, cache_ttl=0.0, negative_cache_ttl=0.0)
    created: dict[str, str] = {}
    limit_errors = 0
    try:
        for i in range(rounds):
            principal = f"{name}-{i}"
            await store.create_principal(principal)
            for _ in range(3):
                try:
                    key = await store.create_key(principal)
                except KeyLimitExceededError:
                    limit_errors += 1
                else:
                    created[key.access_key_id] = key.secret_access_key
                    store.record_use(
                        key.access_key_id, at=datetime.now(UTC), region=name, service="s3"
                    )
            # Both processes race for the same principal's two slots.
            with contextlib.suppress(StoreError):
                await store.create_principal(f"shared-{i}")
            for _ in range(2):
                try:
                    key = await store.create_key(f"shared-{i}")
                except KeyLimitExceededError:
                    limit_errors += 1
                else:
                    created[key.access_key_id] = key.secret_access_key
        # Read what the peer wrote, through this process's own store object.
        seen_peer = 0
        for _ in range(400):
            peer_keys = [k for k in await store.list_keys() if k.principal.startswith(peer)]
            if len(peer_keys) == 2 * rounds:
                for info in peer_keys:
                    record = await store.get_key(info.access_key_id)
                    assert record is not None
                    assert record.principal == info.principal
                seen_peer = len(peer_keys)
                break
            await asyncio.sleep(0.05)
        await store.flush()
    finally:
        await store.aclose()
    return {"created": created, "limit_errors": limit_errors, "seen_peer": seen_peer}


if __name__ == "__main__":
    db, name, peer, rounds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    print(json.dumps(asyncio.run(main(db, name, peer, rounds))))
