"""aws-chunked decoding with the worker thread: large feeds share the hashing and the checksum.

The bodies are framed here by hand (chunk sizes chosen per chunk, the trailing
checksum computed with zlib, hashlib or awscrt directly), not by the encoder,
and every decoded byte is compared with the data framed. Each large body is
decoded twice: on the calling thread alone (``worker_min_bytes=None``) and
with the worker (a low ``worker_min_bytes``, so every feed hands off), and
the two must agree on the bytes, the trailers and the errors.
"""

from __future__ import annotations

import base64
import gc
import hashlib
import random
import threading
import time
import zlib
from collections.abc import Callable

import pytest
from awscrt import checksums as crt

from sigv4kit import StreamingMode
from sigv4kit.signing import ChunkChain, derive_signing_key
from sigv4kit.signing._checksums import Checksum, new_checksum
from sigv4kit.verify import AwsChunkedDecoder, ChunkedBodyError, _chunked

KEY = derive_signing_key("offload/secret", "20261203", "us-east-1", "s3")
SEED = "5eed" * 16
THREAD = "sigv4kit-aws-chunked"
CRC32 = "x-amz-checksum-crc32"

DIGESTS: dict[str, Callable[[bytes], bytes]] = {
    CRC32: lambda data: zlib.crc32(data).to_bytes(4, "big"),
    "x-amz-checksum-crc32c": lambda data: crt.crc32c(data).to_bytes(4, "big"),
    "x-amz-checksum-crc64nvme": lambda data: crt.crc64nvme(data).to_bytes(8, "big"),
    "x-amz-checksum-sha1": lambda data: hashlib.sha1(data).digest(),
    "x-amz-checksum-sha256": lambda data: hashlib.sha256(data).digest(),
}


def chain() -> ChunkChain:
    return ChunkChain(
        signing_key=KEY,
        amz_date="20261203T000000Z",
        scope="20261203/us-east-1/s3/aws4_request",
        seed_signature=SEED,
    )


def checksum_value(name: str, data: bytes) -> str:
    return base64.b64encode(DIGESTS[name](data)).decode()


def frame(
    chunks: list[bytes], trailer: str = CRC32, value: str | None = None
) -> tuple[bytes, list[int]]:
    """A signed-trailer body of these chunks; also each chunk's data offset in the body."""
    signer = chain()
    body = bytearray()
    offsets = []
    for data in chunks:
        body += f"{len(data):x};chunk-signature={signer.sign_chunk(data)}\r\n".encode()
        offsets.append(len(body))
        body += data + b"\r\n"
    body += f"0;chunk-signature={signer.sign_chunk(b'')}\r\n".encode()
    if value is None:
        value = checksum_value(trailer, b"".join(chunks))
    body += f"{trailer}:{value}\r\n".encode()
    body += f"x-amz-trailer-signature:{signer.sign_trailers([(trailer, value)])}\r\n\r\n".encode()
    return bytes(body), offsets


def random_chunks(rng: random.Random, total: int) -> list[bytes]:
    """Chunks of random sizes (8 KiB to 600 KiB, the last one shorter) summing to ``total``."""
    data = rng.randbytes(total)
    chunks, pos = [], 0
    while pos < total:
        size = rng.randint(8192, 600 * 1024)
        chunks.append(data[pos : pos + size])
        pos += size
    return chunks


def decoder(
    offload: int | None, trailer: str = CRC32, length: int | None = None
) -> AwsChunkedDecoder:
    return AwsChunkedDecoder(
        mode=StreamingMode.SIGNED_TRAILER,
        chain=chain(),
        decoded_length=length,
        declared_trailers=(trailer,),
        worker_min_bytes=offload,
    )


def workers() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == THREAD]


def feed_reused(dec: AwsChunkedDecoder, body: bytes, sizes: list[int], released: bytearray) -> bool:
    """Feed ``body`` through one reused buffer, as a server reading a socket does.

    The pieces are consumed before the buffer is overwritten (feed's contract).
    Returns whether a worker thread was alive after some feed.
    """
    buffer = bytearray(max(sizes))
    view = memoryview(buffer)
    pos, index, seen = 0, 0, False
    while pos < len(body):
        size = min(sizes[index % len(sizes)], len(body) - pos)
        index += 1
        buffer[:size] = body[pos : pos + size]
        pos += size
        for piece in dec.feed(view[:size]):
            released += piece
        buffer[:size] = b"\xee" * size  # a later read overwrites it
        seen = seen or bool(workers())
    return seen


@pytest.mark.parametrize("seed", range(4))
def test_large_streams_decode_alike_with_and_without_the_worker(seed: int) -> None:
    rng = random.Random(seed)
    chunks = random_chunks(rng, rng.randint(3, 6) * 1024 * 1024 + rng.randint(0, 9999))
    data = b"".join(chunks)
    body, _ = frame(chunks)
    sizes = [rng.randint(1, 3 * 1024 * 1024) for _ in range(9)]
    results = []
    for offload in (None, 1):
        dec = decoder(offload, length=len(data))
        released = bytearray()
        ran_worker = feed_reused(dec, body, sizes, released)
        trailers = dec.finish()
        results.append((bytes(released), trailers))
        assert ran_worker is (offload is not None)
        assert workers() == []
    assert results[0] == results[1] == (data, [(CRC32, checksum_value(CRC32, data))])


@pytest.mark.parametrize("trailer", sorted(DIGESTS))
def test_every_trailing_checksum_is_right_with_the_worker(trailer: str) -> None:
    chunks = random_chunks(random.Random(trailer), 2 * 1024 * 1024)
    data = b"".join(chunks)
    body, _ = frame(chunks, trailer)
    dec = decoder(1, trailer)
    assert b"".join(dec.feed(body)) == data
    assert dec.finish() == [(trailer, checksum_value(trailer, data))]
    # The same body with a wrong (but signed) checksum value: refused.
    wrong = checksum_value(trailer, data + b"!")
    bad_body, _ = frame(chunks, trailer, wrong)
    dec = decoder(1, trailer)
    with pytest.raises(ChunkedBodyError) as info:
        dec.feed(bad_body)
    assert info.value.code == "BadDigest"
    assert workers() == []


@pytest.mark.parametrize("offload", [None, 1])
def test_a_wrong_crc32_trailer_is_bad_digest(offload: int | None) -> None:
    chunks = [bytes([n]) * 65536 for n in range(40)]
    body, _ = frame(chunks, CRC32, checksum_value(CRC32, b"not the data"))
    dec = decoder(offload)
    released = bytearray()
    with pytest.raises(ChunkedBodyError) as info:
        feed_reused(dec, body, [1024 * 1024], released)
    assert (info.value.code, info.value.message) == (
        "BadDigest",
        "The crc32 you specified did not match the calculated checksum.",
    )
    assert workers() == []


@pytest.mark.parametrize("bad", range(12))
def test_a_flipped_data_byte_is_refused_before_its_chunk_is_released(bad: int) -> None:
    # Twelve 64 KiB chunks in one feed: wherever the worker and this thread
    # meet, some test flips a byte in a chunk the worker hashed.
    chunks = [random.Random(n).randbytes(65536) for n in range(12)]
    body, offsets = frame(chunks)
    tampered = bytearray(body)
    tampered[offsets[bad] + 777] ^= 0x01
    dec = decoder(1)
    first = offsets[2] + 100  # ends within chunk 2
    # A feed before the one holding the bad chunk releases the chunks before it.
    if bad >= 2:
        released = b"".join(bytes(piece) for piece in dec.feed(tampered[:first]))
        assert released == b"".join(chunks[:2])
    rest = tampered[first:] if bad >= 2 else tampered
    with pytest.raises(ChunkedBodyError) as info:
        dec.feed(bytes(rest))
    assert info.value.code == "SignatureDoesNotMatch"
    assert info.value.status == 403
    assert workers() == []
    with pytest.raises(ChunkedBodyError):
        dec.feed(b"0")


def test_the_first_error_in_body_order_wins_within_one_feed() -> None:
    # A bad chunk signature, then garbage framing, in one large feed: the
    # signature error comes first in the body, so it is the one raised.
    chunks = [bytes([n]) * 65536 for n in range(8)]
    body, offsets = frame(chunks)
    tampered = bytearray(body)
    tampered[offsets[5]] ^= 0x01
    cut = offsets[6] + 65536  # the CRLF after chunk 6's data becomes garbage
    tampered[cut : cut + 2] = b"zz"
    for offload in (None, 1):
        with pytest.raises(ChunkedBodyError) as info:
            decoder(offload).feed(tampered)
        assert info.value.code == "SignatureDoesNotMatch"
    # Without the bad signature the framing error is raised, after the
    # chunks before it verified.
    framing = bytearray(body)
    framing[cut : cut + 2] = b"zz"
    for offload in (None, 1):
        with pytest.raises(ChunkedBodyError) as info:
            decoder(offload).feed(framing)
        assert info.value.code == "IncompleteBody"
    assert workers() == []


@pytest.mark.parametrize("offload", [None, 1])
@pytest.mark.parametrize("cut", [-1, -40, -200, -65540, -500000])
def test_a_truncated_stream_is_incomplete(offload: int | None, cut: int) -> None:
    chunks = [bytes([n]) * 65536 for n in range(16)]
    data = b"".join(chunks)
    body, _ = frame(chunks)
    dec = decoder(offload, length=len(data))
    released = b"".join(bytes(piece) for piece in dec.feed(body[:cut]))
    assert data.startswith(released)
    with pytest.raises(ChunkedBodyError) as info:
        dec.finish()
    assert info.value.code == "IncompleteBody"
    assert workers() == []


def test_no_worker_outlives_its_decoder() -> None:
    chunks = [bytes([n]) * 65536 for n in range(16)]
    body, _ = frame(chunks)
    # Abandoned half-way and dropped: garbage collection stops the thread.
    dec = decoder(1)
    dec.feed(body[: len(body) // 2])
    assert len(workers()) == 1
    del dec
    gc.collect()
    assert workers() == []
    # Closed explicitly: stopped, and the decoder still works on its own.
    dec = decoder(1)
    released = b"".join(bytes(piece) for piece in dec.feed(body[: len(body) // 2]))
    dec.close()
    assert workers() == []
    released += b"".join(bytes(piece) for piece in dec.feed(body[len(body) // 2 :]))
    assert released == b"".join(chunks)
    dec.finish()
    assert workers() == []


def test_small_feeds_stay_on_the_calling_thread() -> None:
    chunks = [bytes([n]) * 65536 for n in range(8)]
    body, _ = frame(chunks)
    dec = decoder(256 * 1024)
    released = bytearray()
    assert feed_reused(dec, body, [65536], released) is False
    dec.finish()
    assert released == b"".join(chunks)


class SlowChecksum:
    """A real checksum whose updates take a while (sleeping releases the GIL)."""

    def __init__(self, inner: Checksum) -> None:
        self.inner = inner
        self.algorithm = inner.algorithm

    def update(self, data: bytes | memoryview) -> None:
        time.sleep(0.003)
        self.inner.update(data)

    def digest(self) -> bytes:
        return self.inner.digest()

    def b64digest(self) -> str:
        return self.inner.b64digest()


def test_the_trailers_wait_for_the_workers_checksum(monkeypatch: pytest.MonkeyPatch) -> None:
    # The worker's checksum lags far behind this thread's hashing: the
    # trailers, in the same feed, must still see every byte checksummed.
    monkeypatch.setattr(
        _chunked, "new_checksum", lambda algorithm: SlowChecksum(new_checksum(algorithm))
    )
    chunks = [bytes([n]) * 65536 for n in range(16)]
    data = b"".join(chunks)
    body, _ = frame(chunks)
    dec = decoder(1)
    assert b"".join(bytes(piece) for piece in dec.feed(body)) == data
    assert dec.finish() == [(CRC32, checksum_value(CRC32, data))]
    assert workers() == []


def test_any_buffer_can_be_fed() -> None:
    chunks = [bytes([n]) * 65536 for n in range(12)]
    data = b"".join(chunks)
    body, _ = frame(chunks)
    doubled = bytes(byte for pair in zip(body, bytes(len(body)), strict=True) for byte in pair)
    strided = memoryview(doubled)[::2]  # not contiguous
    flat = memoryview(body).cast("B", shape=[1, len(body)])  # two dimensions
    for offload in (None, 1):
        for view in (strided, flat):
            dec = decoder(offload, length=len(data))
            assert b"".join(bytes(piece) for piece in dec.feed(view)) == data
            assert dec.finish() == [(CRC32, checksum_value(CRC32, data))]
    assert workers() == []
