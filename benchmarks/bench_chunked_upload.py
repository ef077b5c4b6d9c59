"""A 1 GiB aws-chunked upload from SigV4Auth to SigV4Middleware under uvicorn.

The client streams the body (signed chunks, CRC32 trailer) from a generator
over loopback; the server (a subprocess: uvicorn + SigV4Middleware + a sink
app) decodes and verifies every chunk. Two server modes: the default, which
holds the verified body back (spooled to a temporary file) until the trailer
checked out, and stream_verified_chunks, which hands chunks to the app as they
verify. Prints throughput and the peak RSS of both processes; asserts nothing.

    .venv/bin/python benchmarks/bench_chunked_upload.py [GiB]
"""

from __future__ import annotations

import os
import resource
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

import sigv4kit
from sigv4kit import ChecksumAlgorithm, ChunkedEncoding, SigningSettings, StreamingMode

AKID, SECRET = "AKIABENCHCHUNKED0001", "bench/secret+for+the+chunked/upload0000"
BLOCK = 1024 * 1024
HERE = Path(__file__).parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def blocks(total: int) -> Iterator[bytes]:
    block = bytes(range(256)) * (BLOCK // 256)
    for _ in range(total // BLOCK):
        yield block


def run(total: int, stream: bool) -> tuple[float, float]:
    port = free_port()
    env = {**os.environ, "BENCH_AKID": AKID, "BENCH_SECRET": SECRET,
           "BENCH_STREAM": "1" if stream else "0"}
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "_chunked_sink:app", "--app-dir", str(HERE),
         "--port", str(port), "--log-level", "warning", "--no-access-log"],
        env=env,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("the server did not start") from None
                time.sleep(0.05)
        auth = sigv4kit.SigV4Auth(
            sigv4kit.Credentials(AKID, SECRET), region="us-east-1", service="s3",
            settings=SigningSettings.s3(),
            chunked=ChunkedEncoding(mode=StreamingMode.SIGNED_TRAILER,
                                    checksum=ChecksumAlgorithm.CRC32),
        )
        with httpx.Client(auth=auth, timeout=600) as client:
            start = time.perf_counter()
            response = client.put(f"http://127.0.0.1:{port}/bucket/big.bin",
                                  content=blocks(total),
                                  headers={"Content-Length": str(total)})
            elapsed = time.perf_counter() - start
        if response.status_code != 200 or response.headers["x-received"] != str(total):
            raise RuntimeError(f"upload failed: {response.status_code} {response.text[:300]}")
        return elapsed, peak_rss_mib(server.pid)
    finally:
        server.terminate()
        server.wait(10)


def main() -> None:
    gib = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
    total = int(gib * 1024**3) // BLOCK * BLOCK
    mib = total / 1024**2
    print(f"{mib:.0f} MiB upload, signed 64 KiB chunks, CRC32 trailer, loopback")
    for stream in (False, True):
        elapsed, server_rss = run(total, stream)
        mode = "chunk-by-chunk delivery" if stream else "held back until verified"
        rate = mib / elapsed
        print(f"server {mode:27s} {rate:7.0f} MiB/s  server peak RSS {server_rss:6.1f} MiB")
    client_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"client peak RSS {client_rss:.1f} MiB  (target < 64 MiB for each process)")


if __name__ == "__main__":
    main()
