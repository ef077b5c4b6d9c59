"""aws-chunked throughput: encode + decode-and-verify vs raw SHA-256, same run.

A 1 GiB body (configurable) is framed as STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER
with a CRC32 trailer by the encoder, and decoded and verified by
AwsChunkedDecoder, in one process. Two layouts are measured:

- sequential: one thread encodes and decodes (the CPU cost of both ends);
- pipelined: the encoder runs in a thread feeding the decoder through a
  bounded queue, as a client and a server run side by side (hashlib and zlib
  release the GIL on large buffers, so the two ends overlap on two cores).

The baseline is hashlib.sha256 over the same bytes in the same run. Prints
throughputs, ratios and the peak RSS; asserts nothing.

    .venv/bin/python benchmarks/bench_chunked.py [GiB]
"""

from __future__ import annotations

import hashlib
import queue
import resource
import sys
import threading
import time
from collections.abc import Iterator

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


def decoder() -> AwsChunkedDecoder:
    return AwsChunkedDecoder(
        mode=ENCODING.mode, chain=chain(), declared_trailers=("x-amz-checksum-crc32",),
    )


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


def main() -> None:
    gib = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
    total = int(gib * 1024**3) // BLOCK * BLOCK
    mib = total / 1024**2
    base = sha256_baseline(total)
    seq = sequential(total)
    pipe = pipelined(total)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"body: {mib:.0f} MiB, chunks of {ENCODING.chunk_size // 1024} KiB, CRC32 trailer")
    print(f"raw SHA-256                 {mib / base:8.0f} MiB/s")
    print(f"encode+decode, sequential   {mib / seq:8.0f} MiB/s  ratio {base / seq:.2f}x")
    print(f"encode+decode, pipelined    {mib / pipe:8.0f} MiB/s  ratio {base / pipe:.2f}x"
          "  (target >= 0.8x)")
    print(f"peak RSS of the process     {peak_mib:8.1f} MiB  (target < 64 MiB)")


if __name__ == "__main__":
    main()
