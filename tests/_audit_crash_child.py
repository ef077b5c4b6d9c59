"""Child process of the crash test: emits events forever through a file sink.

After each batch is written it prints ``written N`` (N events written so far)
and flushes stdout; the parent kills it with SIGKILL at some point.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sigv4kit.middleware.audit import AuditEvent, AuditLog, AuditSettings, JsonLinesSink, SigningKey

sys.path.insert(0, str(Path(__file__).parent))
from _audit_util import event


class ReportingSink(JsonLinesSink):
    written = 0

    async def write(self, events: Sequence[AuditEvent]) -> None:
        await super().write(events)
        self.written += len(events)
        print(f"written {self.written}", flush=True)


async def main(directory: Path) -> None:
    sink = ReportingSink(directory, key=SigningKey(Ed25519PrivateKey.generate()))
    log = AuditLog(sink, AuditSettings(flush_interval=0.2))
    await log.start()
    i = 0
    while True:
        log.emit(event(i, seconds=0.001))
        i += 1
        if i % 20 == 0:
            await asyncio.sleep(0.002)


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1])))
