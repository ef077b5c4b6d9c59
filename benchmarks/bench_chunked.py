"""aws-chunked throughput: the server's decode-and-verify vs raw SHA-256, same run.

A 1 GiB body (configurable) is framed as STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER
with a CRC32 trailer (64 KiB chunks) and decoded and verified by
AwsChunkedDecoder, in one process. The headline is the server side alone:

- decode only: the body is encoded once into a temporary file (not timed);
  each round reads it back with ``readinto`` into one reused buffer and feeds
  a memoryview of it to the decoder, consuming what ``feed()`` returns before
  the next read (its contract for mutable buffers). The baseline rounds read
  the same file the same way into hashlib.sha256; a third kind of round runs
  the decoder on the calling thread alone (``worker_min_bytes=None``). Rounds
  alternate; medians and best rounds are compared. They run in a child
  process, so the peak RSS printed is that of the decoding (and the
  baseline, a buffer's worth) alone. Each round also prints the share of the
  CPUs that other processes used meanwhile (from /proc/stat), since on a
  shared machine that decides what two threads can get.

Then two layouts that include the client's cost:

- encode+decode, sequential: one thread encodes and decodes;
- encode+decode, pipelined: the encoder runs in a thread feeding the decoder
  through a bounded queue, as a client and a server run side by side
  (hashlib and zlib release the GIL on large buffers, so the two ends
  overlap on two cores).

Prints throughputs, ratios, the load average and the peak RSS; asserts nothing.

The read size (``--buffer``, 4 MiB by default) is also the feed size, and it
matters: each feed hands work to the decoder's worker thread once, which
costs about 0.1 ms on the development VM; 4 MiB was the best of 256 KiB to
16 MiB there (docs/performance.md).

    .venv/bin/python benchmarks/bench_chunked.py [GiB] [--rounds N] [--buffer KiB]
        [--decode-only]
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import json
import os
import queue
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from sigv4kit import ChecksumAlgorithm, ChunkedEncoding, StreamingMode
from sigv4kit.signing import ChunkChain, derive_signing_key, iter_encoded
from sigv4kit.verify import AwsChunkedDecoder

BLOCK = 1024 * 1024
KEY = derive_signing_key("secret", "20261127", "us-east-1", "s3")
SEED = "0" * 64
ENCODING = ChunkedEncoding(mode=StreamingMode.SIGNED_TRAILER, checksum=ChecksumAlgorithm.CRC32)


def chain() -> ChunkChain:
    return ChunkChain(
        signing_key=KEY, amz_date="20261127T000000Z",
        scope="20261127/us-east-1/s3/aws4_request", seed_signature=SEED,
    )


def blocks(total: int) -> Iterator[bytes]:
    block = bytes(range(256)) * (BLOCK // 256)
    for _ in range(total // BLOCK):
        yield block


def decoder(**options: Any) -> AwsChunkedDecoder:
    return AwsChunkedDecoder(
        mode=ENCODING.mode, chain=chain(), declared_trailers=("x-amz-checksum-crc32",),
        **options,
    )


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


# -- decode only: the server's side ----------------------------------------------


def write_encoded(total: int, path: str) -> int:
    """Encode the body once into ``path`` (not timed); return its size."""
    size = 0
    with open(path, "wb") as out:
        for piece in iter_encoded(blocks(total), ENCODING, chain()):
            size += out.write(piece)
    return size


def read_rounds(path: str, buffer: bytearray, sink: Callable[[memoryview], None]) -> None:
    view = memoryview(buffer)
    with open(path, "rb", buffering=0) as body:
        while n := body.readinto(buffer):
            sink(view[:n])


def sha256_round(path: str, buffer: bytearray, total: int) -> None:
    digest = hashlib.sha256()
    read_rounds(path, buffer, digest.update)


def decode_round(path: str, buffer: bytearray, total: int, worker: bool = True) -> None:
    dec = decoder() if worker else decoder(worker_min_bytes=None)
    decoded = 0

    def feed(data: memoryview) -> None:
        nonlocal decoded
        # The pieces may be views of the reused buffer: consumed before the next read.
        for piece in dec.feed(data):
            decoded += len(piece)

    read_rounds(path, buffer, feed)
    dec.finish()
    assert decoded == total


def one_thread_round(path: str, buffer: bytearray, total: int) -> None:
    decode_round(path, buffer, total, worker=False)


def busy_seconds() -> float:
    """CPU time used by everything on the machine so far (Linux), else 0."""
    try:
        with open("/proc/stat") as stat:
            fields = [int(value) for value in stat.readline().split()[1:9]]
    except OSError:
        return 0.0
    idle = fields[3] + fields[4]  # idle and iowait
    return (sum(fields) - idle) / os.sysconf("SC_CLK_TCK")


def timed(run: Callable[[str, bytearray, int], None], *args: Any) -> tuple[float, float]:
    """Wall time of one round, and the share of the CPUs other processes used meanwhile."""
    busy, own = busy_seconds(), time.process_time()
    start = time.perf_counter()
    run(*args)
    wall = time.perf_counter() - start
    others = busy_seconds() - busy - (time.process_time() - own)
    return wall, max(0.0, others) / ((os.cpu_count() or 1) * wall)


ROUNDS = {"sha256": sha256_round, "decode": decode_round, "one-thread": one_thread_round}


def decode_only_child(path: str, total: int, rounds: int, buffer_size: int) -> None:
    """Alternate the rounds over the file; print the results as JSON."""
    buffer = bytearray(buffer_size)
    results: dict[str, Any] = {"rss_before": peak_rss_mib()}
    for _ in range(rounds):
        for name, run in ROUNDS.items():
            results.setdefault(name, []).append(timed(run, path, buffer, total))
            if name == "decode":
                results["rss_decode"] = peak_rss_mib()
    print(json.dumps(results))


def decode_only(total: int, rounds: int, buffer_size: int) -> None:
    mib = total / 1024**2
    with tempfile.TemporaryDirectory(prefix="bench_chunked-") as folder:
        path = os.path.join(folder, "body")
        size = write_encoded(total, path)
        # Read once so every timed round finds it in the page cache.
        with open(path, "rb", buffering=0) as body:
            collections.deque(iter(lambda: body.read(BLOCK * 8), b""), maxlen=0)
        before = load()
        results = json.loads(subprocess.run(
            [sys.executable, __file__, "--child", path, str(total), str(rounds),
             str(buffer_size)],
            check=True, capture_output=True, text=True,
        ).stdout)
    print(f"body: {mib:.0f} MiB decoded ({size / 1024**2:.0f} MiB framed), chunks of "
          f"{ENCODING.chunk_size // 1024} KiB, CRC32 trailer; reads of {buffer_size // 1024} KiB"
          f" into one buffer; {rounds} alternated rounds")
    print(f"load average before/after   {before} / {load()}")
    base = statistics.median(wall for wall, _ in results["sha256"])
    best_base = min(wall for wall, _ in results["sha256"])
    print("                            median        ratio   best round    ratio"
          "   other processes' CPU share, per round")
    for name, label in (("sha256", "raw SHA-256 (same reads)"), ("decode", "decode+verify"),
                        ("one-thread", "  the same, one thread")):
        walls = [wall for wall, _ in results[name]]
        median, best = statistics.median(walls), min(walls)
        shares = " ".join(f"{share:4.0%}" for _, share in results[name])
        print(f"{label:26s} {mib / median:6.0f} MiB/s {base / median:6.2f}x"
              f" {mib / best:6.0f} MiB/s {best_base / best:6.2f}x   {shares}")
    print("target: decode+verify >= 0.8x raw SHA-256")
    print(f"peak RSS of the decode      {results['rss_decode']:8.1f} MiB  (target < 64 MiB; "
          f"{results['rss_before']:.1f} MiB before the first round: the interpreter and imports)")


# -- encode + decode: both ends in one process -----------------------------------


def sha256_baseline(total: int) -> float:
    start = time.perf_counter()
    digest = hashlib.sha256()
    for block in blocks(total):
        digest.update(block)
    return time.perf_counter() - start


def sequential(total: int) -> float:
    start = time.perf_counter()
    dec = decoder()
    decoded = 0
    for piece in iter_encoded(blocks(total), ENCODING, chain()):
        for data in dec.feed(piece):
            decoded += len(data)
    dec.finish()
    assert decoded == total
    return time.perf_counter() - start


def pipelined(total: int) -> float:
    pieces: queue.Queue[bytes | memoryview | None] = queue.Queue(maxsize=64)

    def produce() -> None:
        for piece in iter_encoded(blocks(total), ENCODING, chain()):
            pieces.put(piece)
        pieces.put(None)

    start = time.perf_counter()
    thread = threading.Thread(target=produce)
    thread.start()
    dec = decoder()
    decoded = 0
    while (piece := pieces.get()) is not None:
        for data in dec.feed(piece):
            decoded += len(data)
    dec.finish()
    thread.join()
    assert decoded == total
    return time.perf_counter() - start


def encode_and_decode(total: int) -> None:
    mib = total / 1024**2
    base = sha256_baseline(total)
    seq = sequential(total)
    pipe = pipelined(total)
    print("encode+decode in one process (the client's cost included):")
    print(f"raw SHA-256                 {mib / base:8.0f} MiB/s")
    print(f"encode+decode, sequential   {mib / seq:8.0f} MiB/s  ratio {base / seq:.2f}x")
    print(f"encode+decode, pipelined    {mib / pipe:8.0f} MiB/s  ratio {base / pipe:.2f}x")
    print(f"peak RSS of the process     {peak_rss_mib():8.1f} MiB")


def main() -> None:
    if len(sys.argv) == 6 and sys.argv[1] == "--child":
        path, total, rounds, buffer_size = sys.argv[2], *map(int, sys.argv[3:])
        decode_only_child(path, total, rounds, buffer_size)
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("gib", nargs="?", type=float, default=1.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--buffer", type=int, default=4096, help="read size in KiB")
    parser.add_argument("--decode-only", action="store_true", help="skip encode+decode")
    args = parser.parse_args()
    total = int(args.gib * 1024**3) // BLOCK * BLOCK
    decode_only(total, args.rounds, args.buffer * 1024)
    if not args.decode_only:
        print()
        encode_and_decode(total)


if __name__ == "__main__":
    main()
