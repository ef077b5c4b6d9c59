"""aws-chunked framing: the S3 documentation's worked examples, tampering, round trips.

Vectors: Amazon S3 API Reference, "Signature Calculations for the Authorization
Header: Transferring Payload in Multiple Chunks" (sigv4-streaming.html) and its
trailer variant (sigv4-streaming-trailers.html): a 66560-byte object of 'a',
64 KiB chunks, AKIAIOSFODNN7EXAMPLE, 20130524T000000Z, us-east-1, s3.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sigv4kit
from sigv4kit import ChecksumAlgorithm, ChunkedEncoding, StreamingMode
from sigv4kit.signing import (
    SIGV4A_SIGNATURE_LENGTH,
    ChunkChain,
    aiter_encoded,
    derive_signing_key,
    derive_sigv4a_private_key,
    encoded_length,
    iter_encoded,
)
from sigv4kit.verify import AwsChunkedDecoder, ChunkedBodyError

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
AMZ_DATE = "20130524T000000Z"
SCOPE = "20130524/us-east-1/s3/aws4_request"
KEY = derive_signing_key(SECRET, "20130524", "us-east-1", "s3")
DATA = b"a" * 66560

# Published by AWS (see the module docstring).
SEED_1 = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
CHUNK_SIGS_1 = (
    "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
    "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
    "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
)
SEED_2 = "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e"
CHUNK_SIGS_2 = (
    "b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2",
    "1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7",
    "2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992",
)
TRAILER_2 = b"x-amz-checksum-crc32c:sOO8/Q=="
TRAILER_SIG_2 = "d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435"


def chain(seed: str) -> ChunkChain:
    return ChunkChain(signing_key=KEY, amz_date=AMZ_DATE, scope=SCOPE, seed_signature=seed)


def documented_body(
    sigs: tuple[str, str, str], trailer: bytes = b"", trailer_sig: str = ""
) -> bytes:
    body = (
        b"10000;chunk-signature="
        + sigs[0].encode()
        + b"\r\n"
        + b"a" * 65536
        + b"\r\n"
        + b"400;chunk-signature="
        + sigs[1].encode()
        + b"\r\n"
        + b"a" * 1024
        + b"\r\n"
        + b"0;chunk-signature="
        + sigs[2].encode()
        + b"\r\n"
    )
    if trailer:
        body += trailer + b"\r\nx-amz-trailer-signature:" + trailer_sig.encode() + b"\r\n"
    return body + b"\r\n"


BODY_1 = documented_body(CHUNK_SIGS_1)
BODY_2 = documented_body(CHUNK_SIGS_2, TRAILER_2, TRAILER_SIG_2)


def encode(data: bytes, encoding: ChunkedEncoding, seed: str | None) -> bytes:
    return b"".join(bytes(p) for p in iter_encoded([data], encoding, chain(seed) if seed else None))


def decode(
    body: bytes,
    mode: StreamingMode,
    seed: str | None,
    *,
    trailers: tuple[str, ...] = (),
    length: int | None = 66560,
    step: int = 4096,
) -> tuple[bytes, list[tuple[str, str]]]:
    decoder = AwsChunkedDecoder(
        mode=mode,
        chain=chain(seed) if seed else None,
        decoded_length=length,
        declared_trailers=trailers,
    )
    out = bytearray()
    for i in range(0, len(body), step):
        for piece in decoder.feed(body[i : i + step]):
            out += piece
    return bytes(out), decoder.finish()


def test_seed_signatures_come_from_the_signer() -> None:
    common = [
        ("Host", "s3.amazonaws.com"),
        ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
        ("Content-Encoding", "aws-chunked"),
        ("x-amz-decoded-content-length", "66560"),
    ]
    when = datetime(2013, 5, 24, tzinfo=UTC)
    creds = sigv4kit.Credentials("AKIAIOSFODNN7EXAMPLE", SECRET)
    first = sigv4kit.sign(
        "PUT",
        "/examplebucket/chunkObject.txt",
        [*common, ("Content-Length", "66824")],
        credentials=creds,
        region="us-east-1",
        service="s3",
        now=when,
        payload_hash=StreamingMode.SIGNED.value,
        settings=sigv4kit.SigningSettings.s3(),
    )
    assert first.signature == SEED_1
    second = sigv4kit.sign(
        "PUT",
        "/examplebucket/chunkObject.txt",
        [*common, ("x-amz-trailer", "x-amz-checksum-crc32c")],
        credentials=creds,
        region="us-east-1",
        service="s3",
        now=when,
        payload_hash=StreamingMode.SIGNED_TRAILER.value,
        settings=sigv4kit.SigningSettings.s3(),
    )
    assert second.signature == SEED_2


def test_encoder_reproduces_the_documented_bodies() -> None:
    assert encode(DATA, ChunkedEncoding(mode=StreamingMode.SIGNED), SEED_1) == BODY_1
    trailer = ChunkedEncoding(mode=StreamingMode.SIGNED_TRAILER, checksum=ChecksumAlgorithm.CRC32C)
    assert encode(DATA, trailer, SEED_2) == BODY_2
    # The documented Content-Length of the first example.
    assert encoded_length(66560, ChunkedEncoding(mode=StreamingMode.SIGNED)) == 66824 == len(BODY_1)
    assert encoded_length(66560, trailer) == len(BODY_2)


@pytest.mark.parametrize("step", [1, 7, 100, 65536, 70000, 10**6])
def test_decoder_accepts_the_documented_bodies_in_any_slicing(step: int) -> None:
    assert decode(BODY_1, StreamingMode.SIGNED, SEED_1, step=step) == (DATA, [])
    data, trailers = decode(
        BODY_2,
        StreamingMode.SIGNED_TRAILER,
        SEED_2,
        trailers=("x-amz-checksum-crc32c",),
        step=step,
    )
    assert data == DATA
    assert trailers == [("x-amz-checksum-crc32c", "sOO8/Q==")]


def chunk(data: bytes, sig: str) -> bytes:
    return f"{len(data):x};chunk-signature={sig}\r\n".encode() + data + b"\r\n"


FINAL_1 = b"0;chunk-signature=" + CHUNK_SIGS_1[2].encode() + b"\r\n\r\n"
A1, A2 = b"a" * 65536, b"a" * 1024

TAMPERED_1 = {
    "data byte changed": BODY_1.replace(b"a\r\n400;", b"b\r\n400;", 1),
    "chunk signature changed": BODY_1.replace(CHUNK_SIGS_1[1].encode(), b"0" * 64, 1),
    "chunk signature missing": BODY_1.replace(
        b"400;chunk-signature=" + CHUNK_SIGS_1[1].encode(), b"400", 1
    ),
    "final signature changed": BODY_1.replace(
        CHUNK_SIGS_1[2].encode(), CHUNK_SIGS_1[1].encode(), 1
    ),
    "chunks reordered": chunk(A2, CHUNK_SIGS_1[1]) + chunk(A1, CHUNK_SIGS_1[0]) + FINAL_1,
    "chunk replaced by a longer one": chunk(A1, CHUNK_SIGS_1[0])
    + chunk(b"a" * 8192, CHUNK_SIGS_1[1])
    + FINAL_1,
    "cut at a chunk boundary": chunk(A1, CHUNK_SIGS_1[0])
    + b"0;chunk-signature="
    + CHUNK_SIGS_1[1].encode()
    + b"\r\n\r\n",
}


@pytest.mark.parametrize("name", list(TAMPERED_1))
def test_tampering_breaks_the_chain(name: str) -> None:
    with pytest.raises(ChunkedBodyError) as info:
        decode(TAMPERED_1[name], StreamingMode.SIGNED, SEED_1, length=None)
    assert info.value.code == "SignatureDoesNotMatch"
    assert info.value.status == 403


def test_no_unverified_bytes_are_released() -> None:
    decoder = AwsChunkedDecoder(mode=StreamingMode.SIGNED, chain=chain(SEED_1))
    body = TAMPERED_1["chunk signature changed"]
    first = decoder.feed(body[: len(chunk(A1, CHUNK_SIGS_1[0]))])
    assert first == [A1]  # the first chunk is genuine and verified
    with pytest.raises(ChunkedBodyError):
        decoder.feed(body[len(chunk(A1, CHUNK_SIGS_1[0])) :])
    # A chunk still arriving is held back until its signature can be checked.
    partial = AwsChunkedDecoder(mode=StreamingMode.SIGNED, chain=chain(SEED_1))
    assert partial.feed(BODY_1[:60000]) == []


TAMPERED_2 = {
    "checksum changed": (BODY_2.replace(b"sOO8/Q==", b"AAAAAA==", 1), "SignatureDoesNotMatch"),
    "trailer added": (
        BODY_2.replace(TRAILER_2 + b"\r\n", TRAILER_2 + b"\r\nx-amz-meta-extra:1\r\n", 1),
        "MalformedTrailerError",
    ),
    "trailer dropped": (BODY_2.replace(TRAILER_2 + b"\r\n", b"", 1), "MalformedTrailerError"),
    "trailer signature changed": (
        BODY_2.replace(TRAILER_SIG_2.encode(), SEED_2.encode(), 1),
        "SignatureDoesNotMatch",
    ),
    "trailer signature missing": (
        BODY_2.replace(b"x-amz-trailer-signature:" + TRAILER_SIG_2.encode() + b"\r\n", b"", 1),
        "SignatureDoesNotMatch",
    ),
}


@pytest.mark.parametrize("name", list(TAMPERED_2))
def test_trailer_tampering(name: str) -> None:
    body, code = TAMPERED_2[name]
    with pytest.raises(ChunkedBodyError) as info:
        decode(body, StreamingMode.SIGNED_TRAILER, SEED_2, trailers=("x-amz-checksum-crc32c",))
    assert info.value.code == code


def unsigned_body(data: bytes, checksum_line: bytes) -> bytes:
    # botocore's AwsChunkedWrapper framing: unsigned chunks, then the checksum.
    return f"{len(data):x}\r\n".encode() + data + b"\r\n0\r\n" + checksum_line + b"\r\n\r\n"


def test_unsigned_trailer_checksum_is_checked() -> None:
    # CRC32 of 66560 'a' is 0xb0ae18ec (zlib.crc32), base64 'sK4Y7A=='.
    good = unsigned_body(DATA, b"x-amz-checksum-crc32:sK4Y7A==")
    data, trailers = decode(
        good, StreamingMode.UNSIGNED_TRAILER, None, trailers=("x-amz-checksum-crc32",), length=None
    )
    assert data == DATA
    assert trailers == [("x-amz-checksum-crc32", "sK4Y7A==")]
    with pytest.raises(ChunkedBodyError) as wrong:
        decode(
            unsigned_body(DATA, b"x-amz-checksum-crc32:AAAAAA=="),
            StreamingMode.UNSIGNED_TRAILER,
            None,
            trailers=("x-amz-checksum-crc32",),
        )
    assert (wrong.value.code, wrong.value.message) == (
        "BadDigest",
        "The crc32 you specified did not match the calculated checksum.",
    )
    with pytest.raises(ChunkedBodyError) as invalid:
        decode(
            unsigned_body(DATA, b"x-amz-checksum-crc32:not base64!"),
            StreamingMode.UNSIGNED_TRAILER,
            None,
            trailers=("x-amz-checksum-crc32",),
        )
    assert invalid.value.code == "InvalidRequest"
    assert "x-amz-checksum-crc32" in invalid.value.message


@pytest.mark.parametrize(
    ("body", "code"),
    [
        # Two 100-byte chunks, the first correctly signed: the size rule fails.
        (
            chunk(b"a" * 100, chain(SEED_1).sign_chunk(b"a" * 100)) + chunk(b"a" * 100, "0" * 64),
            "InvalidChunkSizeError",
        ),
        (b"zz;chunk-signature=" + b"0" * 64 + b"\r\n", "InvalidChunkSizeError"),
        (b"2000000;chunk-signature=" + b"0" * 64 + b"\r\n", "InvalidChunkSizeError"),
        (b"1" * 5000, "IncompleteBody"),
        (BODY_1[:-1], "IncompleteBody"),
        (BODY_1 + b"extra", "IncompleteBody"),
    ],
    ids=["small-chunk", "bad-hex", "huge-chunk", "no-crlf", "truncated", "after-end"],
)
def test_framing_errors(body: bytes, code: str) -> None:
    with pytest.raises(ChunkedBodyError) as info:
        decode(body, StreamingMode.SIGNED, SEED_1, length=None)
    assert info.value.code == code


def test_a_short_chunk_may_only_be_last() -> None:
    # A1 and A2 are genuine and in order; anything after the short A2 is refused
    # on its size, before its signature is even looked at.
    body = chunk(A1, CHUNK_SIGS_1[0]) + chunk(A2, CHUNK_SIGS_1[1]) + chunk(A1, "0" * 64) + FINAL_1
    with pytest.raises(ChunkedBodyError) as info:
        decode(body, StreamingMode.SIGNED, SEED_1, length=None)
    assert info.value.code == "InvalidChunkSizeError"
    assert info.value.message == (
        "Only the last chunk is allowed to have a size less than 8192 bytes"
    )


def test_decoded_length_must_match() -> None:
    with pytest.raises(ChunkedBodyError) as short:
        decode(BODY_1, StreamingMode.SIGNED, SEED_1, length=66561)
    assert short.value.code == "IncompleteBody"
    with pytest.raises(ChunkedBodyError) as long:
        decode(BODY_1, StreamingMode.SIGNED, SEED_1, length=1000)
    assert long.value.code == "IncompleteBody"
    assert "x-amz-decoded-content-length" in long.value.message


MODES = [
    (StreamingMode.SIGNED, None),
    (StreamingMode.SIGV4A_SIGNED, None),
    *[(StreamingMode.SIGV4A_SIGNED_TRAILER, a) for a in ChecksumAlgorithm],
    *[(StreamingMode.SIGNED_TRAILER, a) for a in ChecksumAlgorithm],
    *[(StreamingMode.UNSIGNED_TRAILER, a) for a in ChecksumAlgorithm],
]


@settings(max_examples=60, deadline=None)
@given(
    data=st.binary(max_size=40000),
    mode_index=st.integers(0, len(MODES) - 1),
    chunk_size=st.integers(8192, 20000),
    pieces=st.integers(1, 9),
    step=st.integers(1, 50000),
)
def test_round_trip(data: bytes, mode_index: int, chunk_size: int, pieces: int, step: int) -> None:
    mode, algorithm = MODES[mode_index]
    encoding = ChunkedEncoding(mode=mode, chunk_size=chunk_size, checksum=algorithm)
    size = max(1, len(data) // pieces)
    parts = [data[i : i + size] for i in range(0, len(data), size)]
    names = (algorithm.header_name,) if algorithm else ()
    if mode.sigv4a:
        body = b"".join(bytes(p) for p in iter_encoded(parts, encoding, v4a_chain(private=True)))
        decoder = AwsChunkedDecoder(
            mode=mode,
            chain=v4a_chain(private=False),
            decoded_length=len(data),
            declared_trailers=names,
        )
        out = b"".join(
            bytes(p) for i in range(0, len(body), step) for p in decoder.feed(body[i : i + step])
        )
        assert (out, [n for n, _ in decoder.finish()]) == (data, list(names))
        assert len(body) == encoded_length(len(data), encoding)
        return
    seed = SEED_1 if mode.signed_chunks else None
    body = b"".join(bytes(p) for p in iter_encoded(parts, encoding, chain(seed) if seed else None))
    assert len(body) == encoded_length(len(data), encoding)
    decoded, trailers = decode(body, mode, seed, trailers=names, length=len(data), step=step)
    assert decoded == data
    assert [name for name, _ in trailers] == list(names)


V4A_KEY = derive_sigv4a_private_key("AKIAIOSFODNN7EXAMPLE", SECRET)
V4A_SCOPE = "20130524/s3/aws4_request"


def v4a_chain(*, private: bool) -> ChunkChain:
    if private:
        return ChunkChain(
            ecdsa_private_key=V4A_KEY,
            amz_date=AMZ_DATE,
            scope=V4A_SCOPE,
            seed_signature="30440220" + "ab" * 34,
        )
    return ChunkChain(
        ecdsa_public_key=V4A_KEY.public_key(),
        amz_date=AMZ_DATE,
        scope=V4A_SCOPE,
        seed_signature="30440220" + "ab" * 34,
    )


def test_sigv4a_chunks_are_padded_and_chained() -> None:
    encoding = ChunkedEncoding(
        mode=StreamingMode.SIGV4A_SIGNED_TRAILER, checksum=ChecksumAlgorithm.CRC32
    )
    body = b"".join(bytes(p) for p in iter_encoded([DATA], encoding, v4a_chain(private=True)))
    headers = [line for line in body.split(b"\r\n") if b"chunk-signature=" in line]
    assert len(headers) == 3
    for line in headers:
        signature = line.partition(b"=")[2]
        assert len(signature) == SIGV4A_SIGNATURE_LENGTH
        assert signature.rstrip(b"*").isalnum()
    decoder = AwsChunkedDecoder(
        mode=encoding.mode,
        chain=v4a_chain(private=False),
        decoded_length=len(DATA),
        declared_trailers=("x-amz-checksum-crc32",),
    )
    assert b"".join(bytes(p) for p in decoder.feed(body)) == DATA
    decoder.finish()
    # A chunk signed for another position in the chain is refused.
    first, second = headers[0].partition(b"=")[2], headers[1].partition(b"=")[2]
    swapped = body.replace(first, b"X" * 144, 1).replace(second, first, 1)
    swapped = swapped.replace(b"X" * 144, second, 1)
    decoder = AwsChunkedDecoder(
        mode=encoding.mode,
        chain=v4a_chain(private=False),
        declared_trailers=("x-amz-checksum-crc32",),
    )
    with pytest.raises(ChunkedBodyError) as info:
        decoder.feed(swapped)
    assert info.value.code == "SignatureDoesNotMatch"


def test_chain_kind_must_match_the_mode() -> None:
    with pytest.raises(sigv4kit.SigningError, match="SigV4A ChunkChain"):
        AwsChunkedDecoder(mode=StreamingMode.SIGV4A_SIGNED, chain=chain(SEED_1))
    with pytest.raises(sigv4kit.SigningError, match="exactly one"):
        ChunkChain(amz_date=AMZ_DATE, scope=SCOPE, seed_signature=SEED_1)


def test_async_encoder_matches_sync() -> None:
    async def source() -> AsyncIterator[bytes]:
        for _ in range(65):
            yield b"a" * 1024

    async def collect() -> bytes:
        parts = []
        encoding = ChunkedEncoding(mode=StreamingMode.SIGNED)
        async for piece in aiter_encoded(source(), encoding, chain(SEED_1)):
            parts.append(bytes(piece))
        return b"".join(parts)

    assert asyncio.run(collect()) == BODY_1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"mode": StreamingMode.SIGNED, "chunk_size": 100}, "between 8192"),
        ({"mode": StreamingMode.SIGNED_TRAILER}, "needs a trailing checksum"),
        ({"mode": StreamingMode.SIGNED, "checksum": ChecksumAlgorithm.CRC32}, "no trailer"),
    ],
)
def test_bad_encodings(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(sigv4kit.SigningError, match=message):
        ChunkedEncoding(**kwargs)  # type: ignore[arg-type]


def test_signed_modes_need_a_chain() -> None:
    with pytest.raises(sigv4kit.SigningError, match="ChunkChain"):
        list(iter_encoded([b"x"], ChunkedEncoding(mode=StreamingMode.SIGNED)))
    with pytest.raises(sigv4kit.SigningError, match="ChunkChain"):
        AwsChunkedDecoder(mode=StreamingMode.SIGNED)
