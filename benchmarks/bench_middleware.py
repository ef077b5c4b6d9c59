"""Middleware cost under load, and a 1 GiB signed upload with bounded memory.

1. Throughput: the same small ASGI app served by uvicorn (one worker, in a
   subprocess, loopback only) without and with ``SigV4Middleware``, driven by
   ``wrk`` (Debian package) with one signed GET replayed inside the skew
   window. Rounds alternate between the two servers; the median of each is
   compared. Without ``wrk`` a small bounded asyncio/httpx load generator is
   used instead.
2. Memory: a 1 GiB body signed with its SHA-256 (S3 rules) is uploaded to the
   middleware in front of an app that hashes what it receives; the server's
   peak RSS (``VmHWM``) is printed.

Prints ratios and figures; asserts nothing.

    .venv/bin/python benchmarks/bench_middleware.py [--skip-upload]
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx

import sigv4kit

AKID, SECRET = "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
CREDENTIALS = sigv4kit.Credentials(AKID, SECRET)
DURATION = 4  # seconds per wrk round
ROUNDS = 5
CONNECTIONS = 16
UPLOAD_SIZE = 1024**3
UPLOAD_CHUNK = 1024 * 1024


# -- the server side (run in a subprocess: `bench_middleware.py --serve MODE PORT`) ----------


async def hello(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain"), (b"content-length", b"5")]})
    await send({"type": "http.response.body", "body": b"hello"})


async def sink(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Hashes the (verified) body it receives and answers with the digest."""
    if scope["type"] != "http":
        return
    digest = hashlib.sha256()
    while True:
        message = await receive()
        digest.update(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = digest.hexdigest().encode()
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def serve(mode: str, port: int) -> None:
    import uvicorn
    from sigv4kit.middleware import MemoryKeyStore, SigV4Middleware

    store = MemoryKeyStore(
        [sigv4kit.KeyRecord(access_key_id=AKID, secret_access_key=SECRET, principal="bench")]
    )
    app: Any
    if mode == "plain":
        app = hello
    elif mode == "signed":
        app = SigV4Middleware(hello, store=store)
    elif mode == "sqlite":
        app = SigV4Middleware(hello, store=f"sqlite:///{os.environ['BENCH_DB']}")
    else:
        app = SigV4Middleware(sink, store=store)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False,
                lifespan="off")


# -- the client side ------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    def __init__(self, mode: str) -> None:
        self.port = free_port()
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--serve", mode, str(self.port)],
            env={**os.environ, "PYTHONPATH": os.getcwd()},
        )
        deadline = time.monotonic() + 15
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    self.close()
                    raise RuntimeError(f"{mode} server did not start") from None
                time.sleep(0.05)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def peak_rss_mib(self) -> float:
        with open(f"/proc/{self.process.pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        return float("nan")

    def cpu_seconds(self) -> float:
        """User + system CPU time the server process has used so far."""
        with open(f"/proc/{self.process.pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def signed_headers(url: str, path: str = "/hello") -> dict[str, str]:
    host = url.removeprefix("http://")
    result = sigv4kit.sign("GET", path, [("Host", host)], credentials=CREDENTIALS,
                           region="us-east-1", service="execute-api", now=datetime.now(UTC))
    return {name: value for name, value in result.added_headers}


def run_wrk(url: str, headers: dict[str, str]) -> tuple[float, int]:
    command = ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{DURATION}s", "--latency"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run([*command, f"{url}/hello"], capture_output=True, text=True,
                            check=True).stdout
    match = re.search(r"Requests/sec:\s+([\d.]+)", output)
    total = re.search(r"(\d+) requests in", output)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if match is None or total is None or non2xx is not None:
        raise RuntimeError(f"wrk failed or got errors:\n{output}")
    return float(match.group(1)), int(total.group(1))


async def _async_load(url: str, headers: dict[str, str]) -> tuple[float, int]:
    done = 0
    deadline = time.monotonic() + DURATION
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=CONNECTIONS)) as client:

        async def worker() -> None:
            nonlocal done
            while time.monotonic() < deadline:
                response = await client.get(f"{url}/hello", headers=headers)
                if response.status_code != 200:
                    raise RuntimeError(response.text)
                done += 1

        await asyncio.gather(*(worker() for _ in range(CONNECTIONS)))
    return done / DURATION, done


def load(server: Server, headers: dict[str, str]) -> tuple[float, float]:
    """Requests per second, and server CPU microseconds per request."""
    cpu_before = server.cpu_seconds()
    if shutil.which("wrk"):
        rate, count = run_wrk(server.url, headers)
    else:
        rate, count = asyncio.run(_async_load(server.url, headers))
    return rate, (server.cpu_seconds() - cpu_before) / count * 1e6


def provision_sqlite(directory: str) -> None:
    """A SQLite key store holding the bench key, for the `sqlite` server mode."""
    from sigv4kit.middleware import SQLiteKeyStore

    os.environ["SIGV4KIT_MASTER_KEY"] = base64.b64encode(os.urandom(32)).decode()
    os.environ["BENCH_DB"] = os.path.join(directory, "keys.db")

    async def run() -> None:
        store = SQLiteKeyStore(os.environ["BENCH_DB"])
        try:
            await store.create_principal("bench")
            await store.import_key("bench", access_key_id=AKID, secret_access_key=SECRET)
        finally:
            await store.aclose()

    asyncio.run(run())


def bench_throughput() -> None:
    with tempfile.TemporaryDirectory() as directory:
        provision_sqlite(directory)
        servers = {mode: Server(mode) for mode in ("plain", "signed", "sqlite")}
        results: dict[str, list[tuple[float, float]]] = {mode: [] for mode in servers}
        try:
            for mode in ("signed", "sqlite"):
                url = servers[mode].url
                assert httpx.get(f"{url}/hello", headers=signed_headers(url)).status_code == 200
                assert httpx.get(f"{url}/hello").status_code == 403
            for _ in range(ROUNDS):
                # The same headers in every run: only verification differs.
                for mode, server in servers.items():
                    results[mode].append(load(server, signed_headers(server.url)))
        finally:
            for server in servers.values():
                server.close()
    tool = "wrk" if shutil.which("wrk") else "asyncio/httpx load generator"
    rate = {mode: statistics.median(r for r, _ in runs) for mode, runs in results.items()}
    cpu = {mode: statistics.median(c for _, c in runs) for mode, runs in results.items()}
    print(f"load generator: {tool}, {CONNECTIONS} connections, {ROUNDS} x {DURATION}s rounds, "
          "alternating; medians")
    labels = {"plain": "app alone", "signed": "app + SigV4Middleware (memory store)",
              "sqlite": "app + SigV4Middleware (SQLite store)"}
    for mode, label in labels.items():
        print(f"uvicorn, {label:38s} {rate[mode]:8.0f} req/s  "
              f"{cpu[mode]:6.1f} us server CPU/request")
    for mode in ("signed", "sqlite"):
        print(f"{labels[mode]}: throughput ratio {rate[mode] / rate['plain']:5.2f}x, "
              f"server CPU ratio {cpu['plain'] / cpu[mode]:5.2f}x  (target >= 0.9x)")
    print("(the CPU ratio is the throughput ratio when the server is CPU-bound; it is robust "
          "to other load on the machine)")


def upload_chunks() -> Iterator[bytes]:
    block = hashlib.sha256(b"sigv4kit").digest() * (UPLOAD_CHUNK // 32)
    for index in range(UPLOAD_SIZE // UPLOAD_CHUNK):
        yield index.to_bytes(8, "big") + block[8:]


def bench_upload() -> None:
    digest = hashlib.sha256()
    for chunk in upload_chunks():
        digest.update(chunk)
    payload_hash = digest.hexdigest()
    server = Server("upload")
    try:
        host = server.url.removeprefix("http://")
        result = sigv4kit.sign(
            "PUT", "/bucket/big.bin", [("Host", host), ("Content-Length", str(UPLOAD_SIZE))],
            credentials=CREDENTIALS, region="us-east-1", service="s3",
            settings=sigv4kit.SigningSettings.s3(), payload_hash=payload_hash,
            now=datetime.now(UTC),
        )
        headers = {name: value for name, value in result.headers if name.lower() != "host"}
        idle = server.peak_rss_mib()
        start = time.perf_counter()
        with httpx.Client(timeout=600) as client:
            response = client.put(f"{server.url}/bucket/big.bin", headers=headers,
                                  content=upload_chunks())
        elapsed = time.perf_counter() - start
        peak = server.peak_rss_mib()
    finally:
        server.close()
    ok = response.status_code == 200 and response.text == payload_hash
    print(f"1 GiB signed upload: status {response.status_code}, body verified and replayed: {ok}")
    print(f"  {elapsed:5.1f} s ({UPLOAD_SIZE / elapsed / 1024**2:5.0f} MiB/s), "
          f"server peak RSS {peak:5.1f} MiB (idle {idle:5.1f} MiB)  (target < 100 MiB)")


def main() -> None:
    bench_throughput()
    if "--skip-upload" not in sys.argv:
        bench_upload()


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--serve":
        serve(sys.argv[2], int(sys.argv[3]))
    else:
        main()
