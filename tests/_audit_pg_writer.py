"""A separate writer process for the PostgreSQL chain test: ``URL WORKER``."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from sigv4kit.middleware.audit import AuditLog, AuditSettings, SqlAuditSink

sys.path.insert(0, str(Path(__file__).parent))
from _audit_util import event


async def main(url: str, worker: int) -> None:
    log = AuditLog(await SqlAuditSink.open(url), AuditSettings(flush_interval=0.01))
    await log.start()
    for i in range(100):
        log.emit(event(worker * 1000 + i))
        if i % 10 == 9:
            await asyncio.sleep(0.02)  # several batches, interleaved with the other writers
    await log.aclose()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
