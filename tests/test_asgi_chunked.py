"""aws-chunked bodies through SigV4Middleware on a real uvicorn (issue 7, server side)."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import ipaddress
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from _servers import run_uvicorn
from botocore.config import Config
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from defusedxml import ElementTree
from sigv4kit.middleware import MemoryKeyStore, SigV4Middleware

import sigv4kit
from sigv4kit import ChecksumAlgorithm, ChunkedEncoding, KeyRecord, SigningSettings, StreamingMode
from sigv4kit.signing import ChunkChain, derive_signing_key, encoded_length, iter_encoded

AKID, SECRET = "AKIACHUNKEDEXAMPLE01", "chunked+secret/for/the/middleware/tests0"
CREDS = sigv4kit.Credentials(AKID, SECRET)
DATA = bytes(range(256)) * 1000  # 256000 bytes: 3 full 64 KiB chunks and a tail


class Recorder:
    """An ASGI app that records what it was given and answers with a summary."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = bytearray()
        disconnected = False
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                disconnected = True
                break
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        self.calls.append({"body": bytes(body), "headers": headers, "disconnected": disconnected})
        if disconnected:
            return
        # Answer as S3's PutObject does: an empty 200 (botocore treats a
        # non-XML 200 body from PutObject as an error in disguise).
        digest = hashlib.sha256(bytes(body)).hexdigest().encode()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"x-body-sha256", digest), (b"content-length", b"0")],
            }
        )
        await send({"type": "http.response.body", "body": b""})


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


def make_app(recorder: Recorder, **options: Any) -> SigV4Middleware:
    store = MemoryKeyStore(
        [KeyRecord(access_key_id=AKID, secret_access_key=SECRET, principal="uploader")]
    )
    return SigV4Middleware(recorder, store=store, memory_body_limit=64 * 1024, **options)


def check_plain_body(call: dict[str, Any]) -> None:
    assert call["body"] == DATA
    assert call["headers"]["content-length"] == str(len(DATA))
    assert "aws-chunked" not in call["headers"].get("content-encoding", "")


ENCODINGS = [
    ChunkedEncoding(mode=StreamingMode.SIGNED),
    *[ChunkedEncoding(mode=StreamingMode.SIGNED_TRAILER, checksum=a) for a in ChecksumAlgorithm],
    *[ChunkedEncoding(mode=StreamingMode.UNSIGNED_TRAILER, checksum=a) for a in ChecksumAlgorithm],
]


@pytest.mark.parametrize(
    "encoding",
    ENCODINGS,
    ids=lambda e: f"{e.mode.name}-{e.checksum.name if e.checksum else 'none'}",
)
def test_sigv4kit_client_uploads_every_mode(recorder: Recorder, encoding: ChunkedEncoding) -> None:
    auth = sigv4kit.SigV4Auth(
        CREDS, region="us-east-1", service="s3", settings=SigningSettings.s3(), chunked=encoding
    )

    def pieces() -> Iterator[bytes]:
        for i in range(0, len(DATA), 5000):
            yield DATA[i : i + 5000]

    with run_uvicorn(make_app(recorder)) as url, httpx.Client(auth=auth) as client:
        response = client.put(
            f"{url}/bucket/object.bin", content=pieces(), headers={"Content-Length": str(len(DATA))}
        )
    assert response.status_code == 200, response.text
    assert response.headers["x-body-sha256"] == hashlib.sha256(DATA).hexdigest()
    check_plain_body(recorder.calls[0])
    assert recorder.calls[0]["headers"]["x-amz-content-sha256"] == encoding.mode.value


@pytest.mark.parametrize(
    "encoding",
    [
        ChunkedEncoding(mode=StreamingMode.SIGV4A_SIGNED),
        ChunkedEncoding(
            mode=StreamingMode.SIGV4A_SIGNED_TRAILER, checksum=ChecksumAlgorithm.CRC32C
        ),
    ],
    ids=lambda e: e.mode.name,
)
def test_sigv4a_client_uploads(recorder: Recorder, encoding: ChunkedEncoding) -> None:
    auth = sigv4kit.SigV4AAuth(
        CREDS,
        region_set=["us-east-1", "eu-west-1"],
        service="s3",
        settings=SigningSettings.s3(),
        chunked=encoding,
    )
    with run_uvicorn(make_app(recorder)) as url, httpx.Client(auth=auth) as client:
        response = client.put(
            f"{url}/bucket/v4a.bin",
            content=iter([DATA[:100000], DATA[100000:]]),
            headers={"Content-Length": str(len(DATA))},
        )
    assert response.status_code == 200, response.text
    check_plain_body(recorder.calls[0])


async def test_async_client_upload(recorder: Recorder) -> None:
    encoding = ChunkedEncoding(mode=StreamingMode.SIGNED_TRAILER, checksum=ChecksumAlgorithm.CRC32)
    auth = sigv4kit.SigV4Auth(
        CREDS, region="us-east-1", service="s3", settings=SigningSettings.s3(), chunked=encoding
    )

    async def pieces() -> Any:
        for i in range(0, len(DATA), 30000):
            yield DATA[i : i + 30000]

    with run_uvicorn(make_app(recorder)) as url:
        async with httpx.AsyncClient(auth=auth) as client:
            response = await client.put(
                f"{url}/bucket/async.bin",
                content=pieces(),
                headers={"Content-Length": str(len(DATA))},
            )
    assert response.status_code == 200, response.text
    check_plain_body(recorder.calls[0])


def self_signed(directory: Path) -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(cert_path), str(key_path)


def test_boto3_put_object_over_https_sends_aws_chunked(recorder: Recorder, tmp_path: Path) -> None:
    # Over HTTPS, botocore (like the AWS CLI) uploads S3 objects aws-chunked
    # with STREAMING-UNSIGNED-PAYLOAD-TRAILER and a CRC32 trailer.
    cert, key = self_signed(tmp_path)
    app = make_app(recorder)
    with run_uvicorn(app, ssl_certfile=cert, ssl_keyfile=key) as url:
        s3 = boto3.client(
            "s3",
            endpoint_url=url,
            region_name="us-east-1",
            aws_access_key_id=AKID,
            aws_secret_access_key=SECRET,
            verify=cert,
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
        )
        try:
            s3.put_object(Bucket="bucket", Key="from-boto3.bin", Body=io.BytesIO(DATA))
            s3.put_object(Bucket="bucket", Key="small.txt", Body=b"hello")
        finally:
            s3.close()
    first = recorder.calls[0]
    assert first["headers"]["x-amz-content-sha256"] == StreamingMode.UNSIGNED_TRAILER.value
    assert first["headers"]["x-amz-trailer"].startswith("x-amz-checksum-")
    check_plain_body(first)
    assert recorder.calls[1]["body"] == b"hello"


def signed_upload(
    url: str, encoding: ChunkedEncoding, data: bytes = DATA
) -> tuple[dict[str, str], bytes]:
    """A correctly signed aws-chunked request, built by hand from the core parts."""
    host = url.split("://", 1)[1]
    headers = [
        ("Host", host),
        ("Content-Encoding", "aws-chunked"),
        ("x-amz-decoded-content-length", str(len(data))),
    ]
    if encoding.checksum is not None:
        headers.append(("x-amz-trailer", encoding.checksum.header_name))
    now = datetime.now(UTC)
    result = sigv4kit.sign(
        "PUT",
        "/bucket/hand.bin",
        headers,
        credentials=CREDS,
        region="us-east-1",
        service="s3",
        now=now,
        settings=SigningSettings.s3(),
        payload_hash=encoding.mode.value,
    )
    chain = None
    if encoding.mode.signed_chunks:
        sts = result.string_to_sign
        chain = ChunkChain(
            signing_key=derive_signing_key(SECRET, sts.scope.date, "us-east-1", "s3"),
            amz_date=sts.amz_date, scope=str(sts.scope), seed_signature=result.signature,
        )
    body = b"".join(bytes(p) for p in iter_encoded([data], encoding, chain))
    assert len(body) == encoded_length(len(data), encoding)
    # Content-Length is left to httpx (unsigned), so a truncated body can be sent.
    return dict(result.headers), body


def error_code(response: httpx.Response) -> str:
    root = ElementTree.fromstring(response.content)
    return str(root.findtext("Code"))


SIGNED_CRC = ChunkedEncoding(mode=StreamingMode.SIGNED_TRAILER, checksum=ChecksumAlgorithm.CRC32)


@pytest.mark.parametrize(
    ("tamper", "status", "code"),
    [
        (lambda b: b[:1000] + bytes([b[1000] ^ 1]) + b[1001:], 403, "SignatureDoesNotMatch"),
        (lambda b: b[: len(b) // 2], 400, "IncompleteBody"),
        (
            lambda b: b.replace(b"x-amz-checksum-crc32:", b"x-amz-checksum-crc33:"),
            400,
            "MalformedTrailerError",
        ),
    ],
    ids=["data-byte", "truncated", "trailer-name"],
)
def test_tampered_bodies_never_reach_the_app(
    recorder: Recorder, tamper: Any, status: int, code: str
) -> None:
    with run_uvicorn(make_app(recorder)) as url:
        headers, body = signed_upload(url, SIGNED_CRC)
        response = httpx.put(f"{url}/bucket/hand.bin", headers=headers, content=tamper(body))
    assert response.status_code == status, response.text
    assert error_code(response) == code
    assert recorder.calls == []


def test_wrong_unsigned_checksum_is_bad_digest(recorder: Recorder) -> None:
    encoding = ChunkedEncoding(
        mode=StreamingMode.UNSIGNED_TRAILER, checksum=ChecksumAlgorithm.CRC32
    )
    with run_uvicorn(make_app(recorder)) as url:
        headers, body = signed_upload(url, encoding)
        trailer_at = body.rindex(b"x-amz-checksum-crc32:") + len(b"x-amz-checksum-crc32:")
        forged = body[:trailer_at] + b"AAAAAA==" + body[trailer_at + 8 :]
        response = httpx.put(f"{url}/bucket/hand.bin", headers=headers, content=forged)
        good = httpx.put(f"{url}/bucket/hand.bin", headers=headers, content=body)
    assert response.status_code == 400
    assert error_code(response) == "BadDigest"
    assert good.status_code == 200
    assert len(recorder.calls) == 1


def test_chunk_by_chunk_delivery(recorder: Recorder) -> None:
    with run_uvicorn(make_app(recorder, stream_verified_chunks=True)) as url:
        headers, body = signed_upload(url, SIGNED_CRC)
        ok = httpx.put(f"{url}/bucket/hand.bin", headers=headers, content=body)
        headers, body = signed_upload(url, SIGNED_CRC)
        bad_tail = body[:-60] + bytes([body[-60] ^ 1]) + body[-59:]  # inside the trailer signature
        refused = httpx.put(f"{url}/bucket/hand.bin", headers=headers, content=bad_tail)
    assert ok.status_code == 200
    check_plain_body(recorder.calls[0])
    # The app got the verified chunks, then a disconnect; the client the error.
    assert refused.status_code == 403
    assert error_code(refused) == "SignatureDoesNotMatch"
    assert recorder.calls[1]["disconnected"]
    # Only verified bytes reached it: a prefix of the real data, never a forgery.
    assert DATA.startswith(recorder.calls[1]["body"])


def test_aws_cli_s3_cp_uploads_aws_chunked(recorder: Recorder, tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    cert, key = self_signed(tmp_path)
    source = tmp_path / "upload.bin"
    source.write_bytes(DATA)
    aws = Path(sys.executable).parent / "aws"
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": AKID,
        "AWS_SECRET_ACCESS_KEY": SECRET,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
    }
    env.pop("AWS_SESSION_TOKEN", None)
    env.pop("AWS_PROFILE", None)
    with run_uvicorn(make_app(recorder), ssl_certfile=cert, ssl_keyfile=key) as url:
        proc = subprocess.run(
            [
                str(aws),
                "s3",
                "cp",
                str(source),
                "s3://bucket/cli.bin",
                "--endpoint-url",
                url,
                "--ca-bundle",
                cert,
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert proc.returncode == 0, proc.stderr
    call = recorder.calls[0]
    assert call["headers"]["x-amz-content-sha256"] == StreamingMode.UNSIGNED_TRAILER.value
    check_plain_body(call)


def test_presigned_url_with_signed_chunks(recorder: Recorder) -> None:
    # The seed of a presigned request's chunk chain is its X-Amz-Signature.
    encoding = ChunkedEncoding(mode=StreamingMode.SIGNED)
    with run_uvicorn(make_app(recorder)) as url:
        host = url.split("://", 1)[1]
        headers = [
            ("Host", host),
            ("Content-Encoding", "aws-chunked"),
            ("x-amz-decoded-content-length", str(len(DATA))),
            ("x-amz-content-sha256", encoding.mode.value),
        ]
        result = sigv4kit.sign(
            "PUT",
            "/bucket/presigned.bin",
            headers,
            credentials=CREDS,
            region="us-east-1",
            service="s3",
            now=datetime.now(UTC),
            payload_hash=encoding.mode.value,
            settings=SigningSettings.s3().replace(
                signature_location=sigv4kit.SignatureLocation.QUERY
            ),
            expires_in=300,
        )
        sts = result.string_to_sign
        chain = ChunkChain(
            signing_key=derive_signing_key(SECRET, sts.scope.date, "us-east-1", "s3"),
            amz_date=sts.amz_date, scope=str(sts.scope), seed_signature=result.signature,
        )
        body = b"".join(bytes(p) for p in iter_encoded([DATA], encoding, chain))
        response = httpx.put(f"{url}{result.target}", headers=dict(headers[1:]), content=body)
    assert response.status_code == 200, response.text
    check_plain_body(recorder.calls[0])
