"""aws-chunked framing with chained chunk signatures and trailing checksums.

The wire format (S3, "Signature Calculations for the Authorization Header:
Transferring Payload in Multiple Chunks", and its trailer variant)::

    <hex size>;chunk-signature=<sig>\\r\\n<data>\\r\\n     (signed modes)
    <hex size>\\r\\n<data>\\r\\n                            (unsigned trailer mode)
    ...
    0;chunk-signature=<sig>\\r\\n                         (the final, empty chunk)
    x-amz-checksum-crc32:<base64>\\r\\n                  (trailer modes)
    x-amz-trailer-signature:<sig>\\r\\n                  (signed trailer mode)
    \\r\\n

Each chunk signature signs the previous signature (the seed is the request's
own signature) and the chunk's SHA-256, so chunks cannot be dropped, reordered
or changed. :class:`ChunkChain` holds that chain; :func:`iter_encoded` /
:func:`aiter_encoded` frame a stream for sending; the decoder that parses one
incrementally lives with the verifier (:mod:`sigv4kit.verify._chunked`).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import Enum

from cryptography.hazmat.primitives.asymmetric import ec

from .._exceptions import SigningError
from ..canonical._request import EMPTY_SHA256
from ._checksums import Checksum, ChecksumAlgorithm, new_checksum
from ._signer import sign_sigv4a, verify_sigv4a

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "MAX_CHUNK_SIZE",
    "MIN_CHUNK_SIZE",
    "SIGV4A_SIGNATURE_LENGTH",
    "ChunkChain",
    "ChunkedEncoding",
    "StreamingMode",
    "aiter_encoded",
    "canonical_trailers",
    "chunk_string_to_sign",
    "encoded_length",
    "iter_encoded",
    "trailer_string_to_sign",
]

#: Chunk size of sigv4kit's encoder unless told otherwise (as smithy-rs).
DEFAULT_CHUNK_SIZE = 64 * 1024
#: S3 refuses a chunk smaller than this unless it is the last one with data.
MIN_CHUNK_SIZE = 8 * 1024
#: The largest chunk the decoder buffers (MinIO's cap); bounds its memory.
MAX_CHUNK_SIZE = 16 * 1024 * 1024

_CRLF = b"\r\n"
TRAILER_SIGNATURE = "x-amz-trailer-signature"
#: A DER ECDSA-P256 signature is at most 72 bytes; on the wire its hex is
#: right-padded with '*' to this fixed length, so Content-Length can be known
#: in advance (aws-c-auth, AWS_SIGV4A_SIGNATURE_PADDING_BYTE).
SIGV4A_SIGNATURE_LENGTH = 144


class StreamingMode(Enum):
    """The ``x-amz-content-sha256`` value of an aws-chunked request."""

    SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
    SIGNED_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
    #: What the AWS CLI and boto3 send to S3 over HTTPS: chunks unsigned,
    #: integrity from the trailing checksum alone.
    UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
    #: SigV4A: every chunk signed with ECDSA P-256.
    SIGV4A_SIGNED = "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD"
    SIGV4A_SIGNED_TRAILER = "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER"

    @property
    def signed_chunks(self) -> bool:
        """Whether every chunk carries a chained signature."""
        return self is not StreamingMode.UNSIGNED_TRAILER

    @property
    def has_trailer(self) -> bool:
        """Whether the body ends with trailing headers."""
        return self not in (StreamingMode.SIGNED, StreamingMode.SIGV4A_SIGNED)

    @property
    def sigv4a(self) -> bool:
        """Whether chunk signatures are SigV4A (ECDSA) ones."""
        return self in (StreamingMode.SIGV4A_SIGNED, StreamingMode.SIGV4A_SIGNED_TRAILER)

    @property
    def signature_length(self) -> int:
        """Length of a chunk signature on the wire (SigV4A's are padded with '*')."""
        return SIGV4A_SIGNATURE_LENGTH if self.sigv4a else 64


def chunk_string_to_sign(
    amz_date: str,
    scope: str,
    previous_signature: str,
    chunk_sha256: str,
    *,
    sigv4a: bool = False,
) -> str:
    """The string to sign of one chunk (``AWS4-HMAC-SHA256-PAYLOAD``).

    SigV4A uses ``AWS4-ECDSA-P256-SHA256-PAYLOAD``; the previous signature
    is always unpadded hex.
    """
    algorithm = "AWS4-ECDSA-P256-SHA256-PAYLOAD" if sigv4a else "AWS4-HMAC-SHA256-PAYLOAD"
    return (
        f"{algorithm}\n{amz_date}\n{scope}\n{previous_signature}\n"
        f"{EMPTY_SHA256}\n{chunk_sha256}"
    )


def trailer_string_to_sign(
    amz_date: str,
    scope: str,
    previous_signature: str,
    trailer_sha256: str,
    *,
    sigv4a: bool = False,
) -> str:
    """The string to sign of the trailing headers (``AWS4-HMAC-SHA256-TRAILER``)."""
    algorithm = "AWS4-ECDSA-P256-SHA256-TRAILER" if sigv4a else "AWS4-HMAC-SHA256-TRAILER"
    return f"{algorithm}\n{amz_date}\n{scope}\n{previous_signature}\n{trailer_sha256}"


def canonical_trailers(trailers: Sequence[tuple[str, str]]) -> bytes:
    """``name:value\\n`` for each trailer, names lower-cased, in the order sent."""
    return "".join(f"{name.lower()}:{value.strip()}\n" for name, value in trailers).encode()


class ChunkChain:
    """The chain of chunk signatures of one request, seeded by its signature.

    SigV4: ``ChunkChain(signing_key=..., ...)`` (the derived HMAC key).
    SigV4A: ``ChunkChain(ecdsa_private_key=...)`` to sign, or
    ``ChunkChain(ecdsa_public_key=...)`` to verify; the chain then continues
    from each signature as sent, since ECDSA signatures are randomized.
    Not thread-safe: one chain belongs to one body being sent or received.
    """

    __slots__ = ("_key", "_private", "_public", "amz_date", "previous", "scope")

    def __init__(
        self,
        *,
        amz_date: str,
        scope: str,
        seed_signature: str,
        signing_key: bytes | None = None,
        ecdsa_private_key: ec.EllipticCurvePrivateKey | None = None,
        ecdsa_public_key: ec.EllipticCurvePublicKey | None = None,
    ) -> None:
        if sum(k is not None for k in (signing_key, ecdsa_private_key, ecdsa_public_key)) != 1:
            raise SigningError(
                "a ChunkChain needs exactly one of signing_key, ecdsa_private_key, "
                "ecdsa_public_key"
            )
        self._key = signing_key
        self._private = ecdsa_private_key
        self._public = ecdsa_public_key
        self.amz_date = amz_date
        self.scope = scope
        self.previous = seed_signature.rstrip("*")

    def __repr__(self) -> str:
        return f"ChunkChain(scope={self.scope!r}, previous={self.previous[:12]}...)"

    @property
    def sigv4a(self) -> bool:
        """True for a SigV4A (ECDSA) chain."""
        return self._key is None

    def _sign(self, text: str) -> str:
        if self._key is not None:
            return hmac.digest(self._key, text.encode(), "sha256").hex()
        if self._private is None:
            raise SigningError("this ChunkChain only verifies (it holds a public key)")
        return sign_sigv4a(self._private, text)

    def _check(self, text: str, provided: str) -> bool:
        """Whether ``provided`` signs ``text``; the chain advances only when it does."""
        if self._key is not None:
            expected = hmac.digest(self._key, text.encode(), "sha256").hex()
            valid = hmac.compare_digest(expected, provided)
        else:
            provided = provided.rstrip("*")
            key = self._public if self._public is not None else None
            if key is None:
                assert self._private is not None
                key = self._private.public_key()
            valid = verify_sigv4a(key, text, provided)
        if valid:
            self.previous = provided
        return valid

    def _chunk_text(self, data: bytes | memoryview) -> str:
        return chunk_string_to_sign(
            self.amz_date, self.scope, self.previous, hashlib.sha256(data).hexdigest(),
            sigv4a=self.sigv4a,
        )

    def _trailer_text(self, raw: bytes) -> str:
        return trailer_string_to_sign(
            self.amz_date, self.scope, self.previous, hashlib.sha256(raw).hexdigest(),
            sigv4a=self.sigv4a,
        )

    def sign_chunk(self, data: bytes | memoryview) -> str:
        """Sign the next chunk and advance the chain (unpadded hex)."""
        self.previous = self._sign(self._chunk_text(data))
        return self.previous

    def sign_trailers(self, trailers: Sequence[tuple[str, str]]) -> str:
        """Sign the trailing headers (after the final chunk) and advance the chain."""
        self.previous = self._sign(self._trailer_text(canonical_trailers(trailers)))
        return self.previous

    def check_chunk(self, data: bytes | memoryview, provided: str) -> bool:
        """Whether a received chunk's signature matches (constant time).

        The chain advances only on a match; the verifier turns a mismatch into
        ``SignatureDoesNotMatch`` (:mod:`sigv4kit.verify._chunked`).
        """
        return self._check(self._chunk_text(data), provided)

    def check_chunk_sha256(self, chunk_sha256: str, provided: str) -> bool:
        """:meth:`check_chunk` for a chunk already hashed (the hex SHA-256 of its data).

        For a decoder that receives a chunk in pieces and hashes them as they
        come, rather than joining them first.
        """
        return self._check(
            chunk_string_to_sign(
                self.amz_date, self.scope, self.previous, chunk_sha256, sigv4a=self.sigv4a
            ),
            provided,
        )

    def check_trailers(self, raw: bytes, provided: str) -> bool:
        """Whether the trailer signature over the trailer bytes as received matches."""
        return self._check(self._trailer_text(raw), provided)


@dataclass(frozen=True, slots=True, kw_only=True)
class ChunkedEncoding:
    """How a body is framed: the mode, the chunk size and the trailing checksum."""

    mode: StreamingMode
    chunk_size: int = DEFAULT_CHUNK_SIZE
    checksum: ChecksumAlgorithm | None = None

    def __post_init__(self) -> None:
        if isinstance(self.chunk_size, bool) or not isinstance(self.chunk_size, int):
            raise SigningError("chunk_size must be an int")
        if not MIN_CHUNK_SIZE <= self.chunk_size <= MAX_CHUNK_SIZE:
            raise SigningError(
                f"chunk_size must be between {MIN_CHUNK_SIZE} and {MAX_CHUNK_SIZE} bytes "
                f"(S3 refuses smaller chunks except the last), got {self.chunk_size}"
            )
        if self.mode.has_trailer and self.checksum is None:
            raise SigningError(f"{self.mode.value} needs a trailing checksum algorithm")
        if not self.mode.has_trailer and self.checksum is not None:
            raise SigningError(f"{self.mode.value} has no trailer to carry a checksum")


def _chunk_header(size: int, mode: StreamingMode) -> int:
    # "<hex>;chunk-signature=<sig>\r\n" or "<hex>\r\n"
    signature = 17 + mode.signature_length if mode.signed_chunks else 0
    return len(f"{size:x}") + signature + 2


def _pad(signature: str, mode: StreamingMode) -> str:
    return signature.ljust(SIGV4A_SIGNATURE_LENGTH, "*") if mode.sigv4a else signature


def encoded_length(decoded_length: int, encoding: ChunkedEncoding) -> int:
    """The ``Content-Length`` of a body of ``decoded_length`` bytes once framed."""
    size, mode = encoding.chunk_size, encoding.mode
    full, rest = divmod(decoded_length, size)
    total = full * (_chunk_header(size, mode) + size + 2)
    if rest:
        total += _chunk_header(rest, mode) + rest + 2
    total += _chunk_header(0, mode)
    if encoding.checksum is not None:
        value_len = 4 * ((encoding.checksum.digest_size + 2) // 3)
        total += len(encoding.checksum.header_name) + 1 + value_len + 2
        if mode.signed_chunks:
            total += len(TRAILER_SIGNATURE) + 1 + mode.signature_length + 2
    return total + 2


def check_chain(mode: StreamingMode, chain: ChunkChain | None, purpose: str) -> None:
    if mode.signed_chunks and chain is None:
        raise SigningError(f"{mode.value} needs a ChunkChain to {purpose} chunks")
    if chain is not None and chain.sigv4a != mode.sigv4a:
        kind = "SigV4A" if mode.sigv4a else "SigV4"
        raise SigningError(f"{mode.value} needs a {kind} ChunkChain")


class _Framer:
    """Shared state of the sync and async encoders: re-chunks and frames."""

    def __init__(self, encoding: ChunkedEncoding, chain: ChunkChain | None) -> None:
        check_chain(encoding.mode, chain, "sign")
        self.encoding = encoding
        self.chain = chain
        self.checksum: Checksum | None = (
            new_checksum(encoding.checksum) if encoding.checksum else None
        )
        self.buffer = bytearray()

    def _frame(self, data: bytes | memoryview) -> list[bytes | memoryview]:
        if self.checksum is not None:
            self.checksum.update(data)
        if self.chain is not None:
            signature = _pad(self.chain.sign_chunk(data), self.encoding.mode)
            head = f"{len(data):x};chunk-signature={signature}\r\n".encode()
        else:
            head = f"{len(data):x}\r\n".encode()
        return [head, data, _CRLF]

    def push(self, data: bytes | memoryview) -> list[bytes | memoryview]:
        size = self.encoding.chunk_size
        out: list[bytes | memoryview] = []
        # Slices of immutable bytes are sent as views (no copy); anything a
        # caller could mutate later is copied first.
        view = memoryview(data if isinstance(data, bytes) else bytes(data)).cast("B")
        if self.buffer:
            take = min(size - len(self.buffer), len(view))
            self.buffer += view[:take]
            view = view[take:]
            if len(self.buffer) < size:
                return out
            out += self._frame(bytes(self.buffer))
            self.buffer.clear()
        while len(view) >= size:
            out += self._frame(view[:size])
            view = view[size:]
        if len(view):
            self.buffer += view
        return out

    def finish(self) -> list[bytes | memoryview]:
        out: list[bytes | memoryview] = []
        if self.buffer:
            out += self._frame(bytes(self.buffer))
            self.buffer.clear()
        mode = self.encoding.mode
        if self.chain is not None:
            signature = _pad(self.chain.sign_chunk(b""), mode)
            out.append(f"0;chunk-signature={signature}\r\n".encode())
        else:
            out.append(b"0\r\n")
        if self.checksum is not None:
            trailer = (self.checksum.algorithm.header_name, self.checksum.b64digest())
            out.append(f"{trailer[0]}:{trailer[1]}\r\n".encode())
            if mode.signed_chunks:
                assert self.chain is not None
                signature = _pad(self.chain.sign_trailers([trailer]), mode)
                out.append(f"{TRAILER_SIGNATURE}:{signature}\r\n".encode())
        out.append(_CRLF)
        return out


def iter_encoded(
    chunks: Iterable[bytes], encoding: ChunkedEncoding, chain: ChunkChain | None = None
) -> Iterator[bytes | memoryview]:
    """Frame a byte stream as aws-chunked; memory stays within one chunk.

    ``chain`` (seeded with the request signature) is required for the signed
    modes. Raises :class:`~sigv4kit.SigningError` for a bad encoding.
    """
    framer = _Framer(encoding, chain)
    for data in chunks:
        if data:
            yield from framer.push(data)
    yield from framer.finish()


async def aiter_encoded(
    chunks: AsyncIterable[bytes], encoding: ChunkedEncoding, chain: ChunkChain | None = None
) -> AsyncIterator[bytes | memoryview]:
    """The async twin of :func:`iter_encoded`."""
    framer = _Framer(encoding, chain)
    async for data in chunks:
        if data:
            for piece in framer.push(data):
                yield piece
    for piece in framer.finish():
        yield piece


