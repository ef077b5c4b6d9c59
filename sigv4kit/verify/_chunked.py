"""The aws-chunked decoder: parses a framed body incrementally and hands on only verified
bytes (see :mod:`sigv4kit.signing._chunked` for the wire format and the chunk chain)."""

from __future__ import annotations

import hmac
import re
from collections.abc import Sequence

from ..signing._checksums import Checksum, ChecksumAlgorithm, new_checksum
from ..signing._chunked import (
    MAX_CHUNK_SIZE,
    MIN_CHUNK_SIZE,
    TRAILER_SIGNATURE,
    ChunkChain,
    StreamingMode,
    check_chain,
)
from ._errors import VerificationError

__all__ = ["AwsChunkedDecoder", "ChunkedBodyError"]


class ChunkedBodyError(VerificationError):
    """An aws-chunked body failed to decode or verify.

    A :class:`~sigv4kit.VerificationError` whose ``code`` and ``status``
    are the AWS error code and HTTP status of the particular failure
    (``IncompleteBody``, ``InvalidChunkSizeError``, ``SignatureDoesNotMatch``,
    ``BadDigest``, ``MalformedTrailerError``, ``InvalidRequest``).
    """

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


def _incomplete() -> ChunkedBodyError:
    return ChunkedBodyError(
        "IncompleteBody",
        "You did not provide the number of bytes specified by the Content-Length HTTP header",
    )


def _bad_chunk_signature() -> ChunkedBodyError:
    return ChunkedBodyError(
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided. "
        "Check your key and signing method.",
        403,
    )


def _malformed_trailer() -> ChunkedBodyError:
    return ChunkedBodyError(
        "MalformedTrailerError",
        "The request contained trailing data that was not well-formed or did not conform "
        "to our published schema.",
    )


class AwsChunkedDecoder:
    """Incremental aws-chunked decoder that releases only verified bytes.

    ``feed(data)`` takes the body as it arrives, in any slicing, and returns
    the decoded bytes that are safe to hand on: in signed modes a chunk's
    bytes are released only after its signature checked out. ``finish()``
    checks that the body was complete, its length, the trailer signature and
    the trailing checksum, and returns the trailers. Any failure raises
    :class:`ChunkedBodyError` with AWS's error code; the decoder is then dead.

    Chunk data is not copied when a chunk arrives in one piece: the returned
    pieces may be memoryviews of the fed ``bytes`` (so do not feed buffers you
    mutate afterwards). Memory: at most one chunk (``max_chunk_size``) plus
    one framing line.
    """

    def __init__(
        self,
        *,
        mode: StreamingMode,
        chain: ChunkChain | None = None,
        decoded_length: int | None = None,
        declared_trailers: Sequence[str] = (),
        min_chunk_size: int = MIN_CHUNK_SIZE,
        max_chunk_size: int = MAX_CHUNK_SIZE,
    ) -> None:
        check_chain(mode, chain, "verify")
        self.mode = mode
        self._chain = chain
        self._decoded_length = decoded_length
        self._declared = [name.lower() for name in declared_trailers]
        self._min = min_chunk_size
        self._max = max_chunk_size
        self._line = bytearray()  # a framing line being received
        self._parts: list[memoryview] = []  # the chunk being received
        self._state = "header"
        self._need = 0
        self._signature = ""
        self._last_size: int | None = None
        self._total = 0
        self._trailer_lines: list[bytes] = []
        self._checksums: dict[str, Checksum] = {}
        for name in self._declared:
            try:
                algorithm = ChecksumAlgorithm.from_header_name(name)
            except ValueError:
                continue
            self._checksums[name] = new_checksum(algorithm)
        self.trailers: list[tuple[str, str]] = []

    @property
    def decoded_bytes(self) -> int:
        """How many decoded bytes have been released so far."""
        return self._total

    def feed(self, data: bytes | bytearray | memoryview) -> list[bytes | memoryview]:
        """Add received bytes; return the verified decoded bytes now available."""
        if self._state == "dead":
            raise ChunkedBodyError("IncompleteBody", "the body already failed to decode")
        if not isinstance(data, bytes):
            data = bytes(data)
        out: list[bytes | memoryview] = []
        try:
            self._consume(data, out)
        except ChunkedBodyError:
            self._state = "dead"
            raise
        return out

    def finish(self) -> list[tuple[str, str]]:
        """The body has ended: check completeness and trailers; return the trailers."""
        if self._state != "done":
            self._state = "dead"
            raise _incomplete()
        return self.trailers

    # -- the state machine ----------------------------------------------------

    def _consume(self, data: bytes, out: list[bytes | memoryview]) -> None:
        pos, end = 0, len(data)
        view = memoryview(data)
        while pos < end:
            if self._state == "done":
                raise ChunkedBodyError(
                    "IncompleteBody", "The request body continues after the final chunk"
                )
            if self._state == "data":
                take = min(self._need, end - pos)
                self._parts.append(view[pos : pos + take])
                self._need -= take
                pos += take
                if not self._need:
                    self._chunk_complete(out)
                continue
            newline = data.find(b"\n", pos)
            if newline == -1:
                self._line += view[pos:]
                if len(self._line) > _MAX_LINE:
                    raise ChunkedBodyError(
                        "IncompleteBody", "aws-chunked framing line too long or missing its CRLF"
                    )
                return
            self._line += view[pos : newline + 1]
            pos = newline + 1
            if len(self._line) < 2 or self._line[-2] != 0x0D:
                raise ChunkedBodyError("IncompleteBody", "aws-chunked framing line without CRLF")
            line = bytes(self._line[:-2])
            self._line.clear()
            self._on_line(line)

    def _on_line(self, line: bytes) -> None:
        state = self._state
        if state == "header":
            self._read_header(line)
        elif state == "data-end":
            if line:
                raise ChunkedBodyError(
                    "IncompleteBody", "aws-chunked chunk data is not followed by CRLF"
                )
            self._state = "header"
        elif state == "trailer":
            if line:
                self._trailer_lines.append(line)
                if len(self._trailer_lines) > 16:
                    raise _malformed_trailer()
                return
            self._check_trailers()
            self._state = "done"
        elif state == "end":
            if line:
                raise _malformed_trailer()
            self._state = "done"

    def _read_header(self, line: bytes) -> None:
        size_text, sep, ext = line.partition(b";")
        if not _HEX_SIZE.fullmatch(size_text):
            raise ChunkedBodyError(
                "InvalidChunkSizeError", f"Invalid chunk size {size_text[:32]!r}"
            )
        size = int(size_text, 16)
        if self.mode.signed_chunks:
            name, _, signature = ext.partition(b"=")
            pattern = _SIGV4A_SIGNATURE if self.mode.sigv4a else _SIGNATURE
            if not sep or name != b"chunk-signature" or not pattern.fullmatch(signature):
                raise _bad_chunk_signature()
            self._signature = signature.decode()
        elif sep:
            raise ChunkedBodyError(
                "InvalidChunkSizeError", "Unsigned aws-chunked chunks carry no extensions"
            )
        if size > self._max:
            raise ChunkedBodyError(
                "InvalidChunkSizeError",
                f"Chunk of {size} bytes is larger than the {self._max} bytes allowed",
            )
        if size and self._last_size is not None and self._last_size < self._min:
            raise ChunkedBodyError(
                "InvalidChunkSizeError",
                f"Only the last chunk is allowed to have a size less than {self._min} bytes",
            )
        if self._decoded_length is not None and self._total + size > self._decoded_length:
            raise ChunkedBodyError(
                "IncompleteBody",
                "The body holds more bytes than x-amz-decoded-content-length declares",
            )
        if size == 0:
            # The final, empty chunk: no data line follows, only the trailers
            # (or, without trailers, the closing CRLF).
            if self._chain is not None and not self._chain.check_chunk(b"", self._signature):
                raise _bad_chunk_signature()
            if self._decoded_length is not None and self._total != self._decoded_length:
                raise _incomplete()
            self._state = "trailer" if self.mode.has_trailer else "end"
            return
        self._need = size
        self._state = "data"

    def _chunk_complete(self, out: list[bytes | memoryview]) -> None:
        parts = self._parts
        data: bytes | memoryview = parts[0] if len(parts) == 1 else b"".join(parts)
        self._parts = []
        if self._chain is not None and not self._chain.check_chunk(data, self._signature):
            raise _bad_chunk_signature()
        for checksum in self._checksums.values():
            checksum.update(data)
        size = len(data)
        self._last_size = size
        self._total += size
        out.append(data)
        self._state = "data-end"

    def _check_trailers(self) -> None:
        lines = self._trailer_lines
        signature: str | None = None
        if self.mode.signed_chunks:
            if not lines:
                raise _malformed_trailer()
            sig_name, _, sig_value = lines[-1].partition(b":")
            if sig_name.strip().lower() != TRAILER_SIGNATURE.encode():
                raise _bad_chunk_signature()
            signature = sig_value.strip().decode("ascii", "replace")
            lines = lines[:-1]
        parsed: list[tuple[str, str]] = []
        for line in lines:
            raw_name, colon, raw_value = line.partition(b":")
            try:
                text_name, text_value = raw_name.decode("ascii"), raw_value.decode("ascii")
            except UnicodeDecodeError:
                raise _malformed_trailer() from None
            if not colon or text_name.strip().lower() not in self._declared:
                raise _malformed_trailer()
            parsed.append((text_name.strip().lower(), text_value.strip()))
        if sorted(n for n, _ in parsed) != sorted(self._declared):
            raise _malformed_trailer()
        if signature is not None:
            assert self._chain is not None
            # Signed over the trailers as received, each ending in '\n'.
            raw = b"".join(line + b"\n" for line in lines)
            if not self._chain.check_trailers(raw, signature):
                raise _bad_chunk_signature()
        for name, value in parsed:
            checksum = self._checksums.get(name)
            if checksum is None:
                continue
            algorithm = checksum.algorithm
            try:
                expected = algorithm.decode_value(value)
            except ValueError:
                raise ChunkedBodyError(
                    "InvalidRequest", f"Value for {name} trailing header is invalid."
                ) from None
            if not hmac.compare_digest(expected, checksum.digest()):
                raise ChunkedBodyError(
                    "BadDigest",
                    f"The {algorithm.value.lower()} you specified did not match the "
                    "calculated checksum.",
                )
        self.trailers = parsed


_MAX_LINE = 4096


_HEX_SIZE = re.compile(rb"[0-9A-Fa-f]{1,16}")


_SIGNATURE = re.compile(rb"[0-9a-f]{64}")


_SIGV4A_SIGNATURE = re.compile(rb"[0-9a-f]{16,144}\**")
