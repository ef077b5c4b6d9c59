"""The compiled and the pure-Python build of the fast paths, side by side, in process.

Under a loaded machine, wrk's throughput (bench_middleware) swings more than
the difference between the builds; this measures each build's CPU time per
request without a server: SigV4Middleware in front of a raw ASGI echo over
thousands of distinct freshly signed GETs (every one on the fast path), the
FastVerifier alone (prepare + finish), and the bare echo. Each build runs in
its own interpreter (SIGV4KIT_PURE_PYTHON=1 for the pure one), alternately,
and medians are compared. Prints figures; asserts nothing.

    .venv/bin/python benchmarks/bench_fastpath_builds.py [--rounds N]
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from typing import Any

import sigv4kit

AKID, SECRET = "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
REQUESTS = 3000
REPEATS = 5
ROUNDS = 3
PURE_ENV = "SIGV4KIT_PURE_PYTHON"


def _scopes(now: datetime) -> list[dict[str, Any]]:
    credentials = sigv4kit.Credentials(AKID, SECRET)
    scopes = []
    for index in range(REQUESTS):
        result = sigv4kit.sign("GET", f"/hello?id={index}", [("Host", "127.0.0.1:8000")],
                               credentials=credentials, region="us-east-1",
                               service="execute-api", now=now)
        added = dict(result.added_headers)
        scopes.append({
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
            "method": "GET", "scheme": "http", "path": "/hello", "raw_path": b"/hello",
            "query_string": f"id={index}".encode(), "root_path": "",
            "headers": [(b"host", b"127.0.0.1:8000"), (b"user-agent", b"wrk"),
                        (b"x-amz-date", added["X-Amz-Date"].encode()),
                        (b"authorization", added["Authorization"].encode())],
            "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 8000),
        })
    return scopes


async def echo(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-length", b"5")]})
    await send({"type": "http.response.body", "body": b"hello"})


def measure() -> dict[str, float]:
    """This interpreter's build: CPU microseconds per request of each part."""
    from sigv4kit.middleware import MemoryKeyStore, SigV4Middleware

    from sigv4kit._build import compiled
    from sigv4kit.verify._fast import FastVerifier

    now = datetime.now(UTC)
    scopes = _scopes(now)
    key = sigv4kit.KeyRecord(access_key_id=AKID, secret_access_key=SECRET, principal="bench")
    middleware = SigV4Middleware(echo, store=MemoryKeyStore([key]))
    fast = FastVerifier(sigv4kit.Verifier())
    statuses: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    async def serve(app: Any) -> None:
        for scope in scopes:
            await app(dict(scope), receive, send)

    def verify() -> None:
        for scope in scopes:
            prepared = fast.prepare("GET", scope["raw_path"], scope["query_string"],
                                    scope["headers"], now, sigv4kit.EMPTY_SHA256)
            assert prepared is not None
            assert fast.finish(prepared, key, now) is not None

    loop = asyncio.new_event_loop()
    parts = {
        "echo": lambda: loop.run_until_complete(serve(echo)),
        "middleware": lambda: loop.run_until_complete(serve(middleware)),
        "fastverifier": verify,
    }
    gc.disable()
    out: dict[str, float] = {"compiled": float(compiled())}
    for name, run in parts.items():
        samples = []
        for _ in range(REPEATS):
            start = time.process_time()
            run()
            samples.append((time.process_time() - start) / REQUESTS * 1e6)
        out[name] = statistics.median(samples)
    assert set(statuses) == {200}, "a request was refused: not what is measured"
    return out


def main() -> None:
    rounds = ROUNDS
    if "--rounds" in sys.argv:
        rounds = int(sys.argv[sys.argv.index("--rounds") + 1])
    results: dict[str, list[dict[str, float]]] = {"compiled": [], "pure": []}
    for _ in range(rounds):
        for build in results:
            env = {k: v for k, v in os.environ.items() if k != PURE_ENV}
            if build == "pure":
                env[PURE_ENV] = "1"
            out = subprocess.run([sys.executable, __file__, "--measure"], env=env, check=True,
                                 capture_output=True, text=True).stdout
            results[build].append(json.loads(out))
    if not all(run["compiled"] for run in results["compiled"]):
        print("no compiled build installed: both columns are the pure build")
    print(f"in process, CPU time per request, {REQUESTS} distinct freshly signed GETs, "
          f"median of {rounds} alternating rounds x {REPEATS}")
    print(f"{'':34s}{'compiled':>10s}{'pure':>10s}")
    for part, label in (("echo", "bare ASGI echo"), ("middleware", "SigV4Middleware + echo"),
                        ("fastverifier", "FastVerifier prepare + finish")):
        compiled, pure = (statistics.median(run[part] for run in results[build])
                          for build in ("compiled", "pure"))
        print(f"  {label:32s}{compiled:8.2f} us{pure:8.2f} us   pure / compiled "
              f"{pure / compiled:4.2f}x")


if __name__ == "__main__":
    if "--measure" in sys.argv:
        print(json.dumps(measure()))
    else:
        main()
