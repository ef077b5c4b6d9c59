"""SigV4Auth sending stream bodies aws-chunked (issue 7, client side)."""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from unittest import mock

import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotoCredentials

import sigv4kit
from sigv4kit import ChecksumAlgorithm, ChunkedEncoding, StreamingMode
from sigv4kit.canonical import payload_sha256
from sigv4kit.signing import ChunkChain, derive_signing_key
from sigv4kit.verify import AwsChunkedDecoder

NOW = datetime(2026, 11, 27, 8, 30, tzinfo=UTC)
CREDS = sigv4kit.Credentials("AKIAEXAMPLECHUNKED00", "chunked/secret+key")
DATA = bytes(range(256)) * 700  # 179200 bytes: two full 64 KiB chunks and a tail


def auth(encoding: ChunkedEncoding) -> sigv4kit.SigV4Auth:
    return sigv4kit.SigV4Auth(
        CREDS,
        region="eu-west-1",
        service="s3",
        settings=sigv4kit.SigningSettings.s3(),
        clock=lambda: NOW,
        chunked=encoding,
    )


def pieces(size: int = 10000) -> Iterator[bytes]:
    for i in range(0, len(DATA), size):
        yield DATA[i : i + size]


def botocore_seed(request: httpx.Request, body_hash: str) -> str:
    """botocore's signer over the same headers: an independent check of the
    seed. (Its SigV4Auth signs a preset x-amz-content-sha256 verbatim; its
    S3 signer would overwrite it with the hash of the still-empty body.)"""
    aws = AWSRequest(method=request.method, url=str(request.url))
    for name, value in request.headers.items():
        if name.lower() not in {"authorization", "x-amz-date", "x-amz-content-sha256"}:
            aws.headers[name] = value
    aws.headers["X-Amz-Content-SHA256"] = body_hash
    with mock.patch("botocore.auth.get_current_datetime", return_value=NOW.replace(tzinfo=None)):
        SigV4Auth(
            BotoCredentials(CREDS.access_key_id, CREDS.secret_access_key), "s3", "eu-west-1"
        ).add_auth(aws)
    return str(aws.headers["Authorization"]).rpartition("Signature=")[2]


def check_upload(request: httpx.Request, body: bytes, encoding: ChunkedEncoding) -> None:
    headers = request.headers
    assert headers["content-encoding"] == "aws-chunked"
    assert headers["x-amz-content-sha256"] == encoding.mode.value
    assert headers["x-amz-decoded-content-length"] == str(len(DATA))
    assert headers["content-length"] == str(len(body))
    assert "transfer-encoding" not in headers
    seed = headers["authorization"].rpartition("Signature=")[2]
    assert seed == botocore_seed(request, encoding.mode.value)
    signed = re.search(r"SignedHeaders=([^,]+)", headers["authorization"])
    assert signed is not None
    assert "x-amz-decoded-content-length" in signed.group(1).split(";")
    chain = None
    if encoding.mode.signed_chunks:
        key = derive_signing_key(CREDS.secret_access_key, "20261127", "eu-west-1", "s3")
        chain = ChunkChain(signing_key=key, amz_date="20261127T083000Z",
                           scope="20261127/eu-west-1/s3/aws4_request", seed_signature=seed)
    trailers = (encoding.checksum.header_name,) if encoding.checksum else ()
    decoder = AwsChunkedDecoder(
        mode=encoding.mode, chain=chain, decoded_length=len(DATA), declared_trailers=trailers
    )
    decoded = b"".join(bytes(p) for p in decoder.feed(body))
    assert decoder.finish() is not None
    assert decoded == DATA


@pytest.mark.parametrize(
    "encoding",
    [
        ChunkedEncoding(mode=StreamingMode.SIGNED),
        ChunkedEncoding(mode=StreamingMode.SIGNED_TRAILER, checksum=ChecksumAlgorithm.CRC32C),
        ChunkedEncoding(mode=StreamingMode.UNSIGNED_TRAILER, checksum=ChecksumAlgorithm.SHA256),
        ChunkedEncoding(
            mode=StreamingMode.SIGNED_TRAILER, checksum=ChecksumAlgorithm.CRC64NVME, chunk_size=8192
        ),
    ],
    ids=lambda e: f"{e.mode.name}-{e.checksum.name if e.checksum else 'none'}-{e.chunk_size}",
)
def test_sync_iterator_upload(encoding: ChunkedEncoding) -> None:
    seen: list[tuple[httpx.Request, bytes]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((request, request.read()))
        return httpx.Response(200)

    with httpx.Client(transport=httpx.MockTransport(handler), auth=auth(encoding)) as client:
        client.put(
            "http://bucket.example.com/big.bin",
            content=pieces(),
            headers={"Content-Length": str(len(DATA))},
        )
    check_upload(seen[0][0], seen[0][1], encoding)


async def test_async_iterator_upload() -> None:
    encoding = ChunkedEncoding(mode=StreamingMode.SIGNED_TRAILER, checksum=ChecksumAlgorithm.CRC32)

    async def source() -> AsyncIterator[bytes]:
        for piece in pieces(7000):
            yield piece

    seen: list[tuple[httpx.Request, bytes]] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        seen.append((request, await request.aread()))
        return httpx.Response(200)

    async with httpx.AsyncClient(
        transport=httpx.MockTransport(handler), auth=auth(encoding)
    ) as client:
        await client.put(
            "http://bucket.example.com/k",
            content=source(),
            headers={"Content-Length": str(len(DATA))},
        )
    check_upload(seen[0][0], seen[0][1], encoding)


def test_file_object_upload_takes_its_length_from_the_file() -> None:
    encoding = ChunkedEncoding(mode=StreamingMode.SIGNED)
    seen: list[tuple[httpx.Request, bytes]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((request, request.read()))
        return httpx.Response(200)

    with (
        httpx.Client(transport=httpx.MockTransport(handler), auth=auth(encoding)) as client,
        io.BytesIO(DATA) as handle,
    ):
        client.put("http://bucket.example.com/file.bin", content=handle)
    check_upload(seen[0][0], seen[0][1], encoding)


def test_bytes_bodies_are_hashed_not_chunked() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)

    encoding = ChunkedEncoding(mode=StreamingMode.SIGNED)
    with httpx.Client(transport=httpx.MockTransport(handler), auth=auth(encoding)) as client:
        client.put("http://bucket.example.com/small", content=b"small")
    assert seen[0].headers["x-amz-content-sha256"] == payload_sha256(b"small")
    assert "content-encoding" not in seen[0].headers


def test_unknown_length_is_refused_with_the_fix() -> None:
    with (
        httpx.Client(
            transport=httpx.MockTransport(lambda r: httpx.Response(200)),
            auth=auth(ChunkedEncoding(mode=StreamingMode.SIGNED)),
        ) as client,
        pytest.raises(sigv4kit.BodyNotReadableError, match="Content-Length"),
    ):
        client.put("http://bucket.example.com/k", content=pieces())


def test_a_body_shorter_than_declared_fails_while_sending() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        request.read()
        return httpx.Response(200)

    with (
        httpx.Client(
            transport=httpx.MockTransport(handler),
            auth=auth(ChunkedEncoding(mode=StreamingMode.SIGNED)),
        ) as client,
        pytest.raises(sigv4kit.BodyNotReadableError, match="not its declared"),
    ):
        client.put(
            "http://bucket.example.com/k",
            content=pieces(),
            headers={"Content-Length": str(len(DATA) + 1)},
        )


def test_chunk_signature_kind_must_match_the_auth() -> None:
    with pytest.raises(sigv4kit.SigningError, match="SigV4AAuth"):
        sigv4kit.SigV4Auth(
            CREDS,
            region="eu-west-1",
            service="s3",
            chunked=ChunkedEncoding(mode=StreamingMode.SIGV4A_SIGNED),
        )
    with pytest.raises(sigv4kit.SigningError, match="SigV4Auth"):
        sigv4kit.SigV4AAuth(
            CREDS, region_set="*", service="s3", chunked=ChunkedEncoding(mode=StreamingMode.SIGNED)
        )
