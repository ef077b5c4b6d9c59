"""The httpx adapter: sign an ``httpx.Request`` in place (headers, query, aws-chunked
body) and re-sign it per attempt (:class:`Resigner`)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from functools import lru_cache

import httpx

from .._exceptions import BodyNotReadableError, InvalidHeaderError
from .._settings import (
    PayloadMode,
    SignatureLocation,
    SigningAlgorithm,
    SigningSettings,
)
from ..signing._chunked import (
    ChunkChain,
    ChunkedEncoding,
    StreamingMode,
    aiter_encoded,
    encoded_length,
    iter_encoded,
)
from ..signing._credentials import Credentials
from ..signing._signer import SigningResult, derive_signing_key, derive_sigv4a_private_key, sign

__all__ = [
    "DEFAULT_MAX_BODY_BUFFER",
    "INVOCATION_ID_HEADER",
    "RESIGN_EXTENSION",
    "SDK_REQUEST_HEADER",
    "BodyTooLargeError",
    "sign_httpx_request",
]


def _request_body(request: httpx.Request) -> bytes:
    try:
        return request.content
    except httpx.RequestNotRead:
        raise BodyNotReadableError(
            "the request body is a stream that has not been read, so its SHA-256 "
            "cannot be computed; pass the body as bytes (content=...), read it first "
            "(request.read()), or sign with settings whose payload mode is "
            "PayloadMode.UNSIGNED"
        ) from None


def _has_content(request: httpx.Request) -> bool:
    try:
        request.content  # noqa: B018 - probes whether the body is in memory
    except httpx.RequestNotRead:
        return False
    return True


def _is_replayable(request: httpx.Request) -> bool:
    """True when the body can be sent again byte for byte (it is in memory)."""
    return isinstance(request.stream, httpx.ByteStream)


def _check_sendable(raw: list[tuple[bytes, bytes]]) -> None:
    values = b"".join([value for _, value in raw])
    if b"\r" not in values and b"\n" not in values and b"\x00" not in values:
        return
    for name, value in raw:
        if b"\r" in value or b"\n" in value or b"\x00" in value:
            raise InvalidHeaderError(
                f"header {name.decode('latin-1')!r} has a value with CR, LF or NUL, "
                "which httpx cannot send"
            )


_STREAMING_VALUES = frozenset(mode.value for mode in StreamingMode)


class _AwsChunkedStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """Frames a request's stream as aws-chunked while httpx sends it.

    Holds one chunk at a time. Checks that the source yields exactly the
    declared decoded length, since the server checks it too.
    """

    def __init__(
        self,
        source: httpx.SyncByteStream | httpx.AsyncByteStream,
        encoding: ChunkedEncoding,
        chain: ChunkChain | None,
        decoded_length: int,
    ) -> None:
        self.source = source
        self.encoding = encoding
        self.chain = chain
        self.decoded_length = decoded_length

    def _count(self, seen: int) -> None:
        if seen > self.decoded_length:
            raise BodyNotReadableError(
                f"the request body yielded more than its declared {self.decoded_length} bytes"
            )

    def _check_end(self, seen: int) -> None:
        if seen != self.decoded_length:
            raise BodyNotReadableError(
                f"the request body yielded {seen} bytes, not its declared {self.decoded_length}"
            )

    def __iter__(self) -> Iterator[bytes]:
        source = self.source
        if not isinstance(source, httpx.SyncByteStream):
            raise BodyNotReadableError("the request body is an async stream; use httpx.AsyncClient")
        seen = 0

        def counted() -> Iterator[bytes]:
            nonlocal seen
            for data in source:
                seen += len(data)
                self._count(seen)
                yield data
            self._check_end(seen)

        for piece in iter_encoded(counted(), self.encoding, self.chain):
            yield bytes(piece)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        source = self.source
        if not isinstance(source, httpx.AsyncByteStream):
            raise BodyNotReadableError("the request body is a sync stream; use httpx.Client")
        seen = 0

        async def counted() -> AsyncIterator[bytes]:
            nonlocal seen
            async for data in source:
                seen += len(data)
                self._count(seen)
                yield data
            self._check_end(seen)

        async for piece in aiter_encoded(counted(), self.encoding, self.chain):
            yield bytes(piece)


def _prepare_chunked(request: httpx.Request, encoding: ChunkedEncoding) -> None:
    """Set the aws-chunked headers (they are signed) on a streamed request."""
    if isinstance(request.stream, _AwsChunkedStream):
        return  # already prepared: this is a re-sign
    declared = request.headers.get("content-length")
    if declared is None or not declared.isdigit():
        raise BodyNotReadableError(
            "aws-chunked uploads must declare the body's length up front "
            "(x-amz-decoded-content-length): set a Content-Length header, or pass a "
            "file object whose size httpx can read"
        )
    decoded = int(declared)
    if "transfer-encoding" in request.headers:
        del request.headers["transfer-encoding"]
    existing = [
        v.strip() for v in request.headers.get("content-encoding", "").split(",") if v.strip()
    ]
    request.headers["Content-Encoding"] = ", ".join(
        ["aws-chunked", *[v for v in existing if v != "aws-chunked"]]
    )
    request.headers["x-amz-decoded-content-length"] = str(decoded)
    if encoding.checksum is not None:
        request.headers["x-amz-trailer"] = encoding.checksum.header_name
    request.headers["Content-Length"] = str(encoded_length(decoded, encoding))


def _install_chunked(
    request: httpx.Request,
    encoding: ChunkedEncoding,
    credentials: Credentials,
    result: SigningResult,
    region: str,
    service: str,
) -> None:
    """Wrap the body in the encoder, its chunk chain seeded by this signature."""
    stream = request.stream
    if isinstance(stream, _AwsChunkedStream):
        stream = stream.source
    assert isinstance(stream, httpx.SyncByteStream | httpx.AsyncByteStream)
    chain = None
    sts = result.string_to_sign
    if encoding.mode.sigv4a:
        chain = ChunkChain(
            ecdsa_private_key=derive_sigv4a_private_key(
                credentials.access_key_id, credentials.secret_access_key
            ),
            amz_date=sts.amz_date,
            scope=str(sts.scope),
            seed_signature=result.signature,
        )
    elif encoding.mode.signed_chunks:
        chain = ChunkChain(
            signing_key=derive_signing_key(
                credentials.secret_access_key, sts.scope.date, region, service
            ),
            amz_date=sts.amz_date,
            scope=str(sts.scope),
            seed_signature=result.signature,
        )
    decoded = int(request.headers["x-amz-decoded-content-length"])
    request.stream = _AwsChunkedStream(stream, encoding, chain, decoded)


def _payload_mode(settings: SigningSettings) -> PayloadMode:
    if settings.signature_location is SignatureLocation.QUERY:
        return settings.presigned_payload
    return settings.payload


def sign_httpx_request(
    request: httpx.Request,
    *,
    credentials: Credentials,
    region: str,
    service: str,
    now: datetime,
    settings: SigningSettings,
    algorithm: SigningAlgorithm = SigningAlgorithm.SIGV4,
    expires_in: int = 3600,
    payload_hash: str | None = None,
) -> SigningResult:
    """Sign an :class:`httpx.Request` in place, exactly as it will be sent.

    Signs the ``Host`` header and the raw path and query httpx will put on
    the wire. When the query (or, under S3 rules, the path) is not in its
    canonical encoding, the request URL is rewritten to it, so what is signed
    and what is sent cannot differ. An earlier signature is replaced.

    Raises :class:`~sigv4kit.BodyNotReadableError` when the payload must be
    hashed but the body is an unread stream (pass ``payload_hash`` then),
    and the :func:`~sigv4kit.sign` errors.
    """
    headers = request.headers
    raw = headers.raw
    _check_sendable(raw)
    body = None
    if payload_hash is None and _payload_mode(settings) is PayloadMode.SHA256:
        body = _request_body(request)
    target = request.url.raw_path.decode("ascii")
    result = sign(
        request.method,
        target,
        headers.multi_items(),
        credentials=credentials,
        region=region,
        service=service,
        now=now,
        body=body,
        payload_hash=payload_hash,
        settings=settings,
        algorithm=algorithm,
        expires_in=expires_in,
    )
    if result.target != target:
        request.url = request.url.copy_with(raw_path=result.target.encode("ascii"))
    present = {name.lower() for name, _ in raw}
    for name in result.removed_headers:
        if name.encode("ascii") in present:
            del headers[name]
    for name, value in result.added_headers:
        headers[name] = value
    return result




#: ``request.extensions`` key of the :class:`Resigner` that signs a request
#: again with a fresh time (what a retrying transport calls before resending).
RESIGN_EXTENSION = "sigv4kit.resign"


#: The per-operation id every attempt signs (botocore ``handlers.add_retry_headers``:
#: ``str(uuid.uuid4())``, the same on each attempt of one operation).
INVOCATION_ID_HEADER = "amz-sdk-invocation-id"


#: ``attempt=N; max=M`` on every attempt (botocore's format, ``"; "``-joined).
SDK_REQUEST_HEADER = "amz-sdk-request"


#: The ``max`` an attempt states until a :class:`~sigv4kit.RetryTransport`
#: says otherwise: botocore's standard mode, and what the auth alone may send
#: (the request, a resend after clock skew, one after a token refresh).
DEFAULT_MAX_ATTEMPTS = 3


#: Streams are buffered (to hash them) up to this many bytes by default.
DEFAULT_MAX_BODY_BUFFER = 8 * 1024 * 1024


class BodyTooLargeError(BodyNotReadableError):
    """A streamed body is larger than the auth may buffer to hash it."""


def _system_clock() -> datetime:
    return datetime.now(UTC)


def _uuid4_text(random_bytes: Callable[[int], bytes] = os.urandom) -> str:
    """A random (version 4) UUID in its text form, from 16 random bytes.

    RFC 9562 §5.4: 122 random bits, the version nibble ``4`` and the variant
    bits ``10`` (so the 17th hex digit is one of ``89ab``). Formats the bytes
    directly: ``str(uuid.uuid4())`` costs five times as much, on every request.
    """
    h = random_bytes(16).hex()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"


@lru_cache(maxsize=64)
def _sdk_request_value(attempt: int, max_attempts: int) -> bytes:
    """The ``amz-sdk-request`` value: ``attempt=1; max=3`` (a few pairs repeat forever)."""
    return f"attempt={attempt}; max={max_attempts}".encode("ascii")
