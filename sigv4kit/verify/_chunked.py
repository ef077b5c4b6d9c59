"""The aws-chunked decoder: parses a framed body incrementally and hands on only verified
bytes (see :mod:`sigv4kit.signing._chunked` for the wire format and the chunk chain)."""

from __future__ import annotations

import hmac
import re
import weakref
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
from ._chunked_errors import (
    ChunkedBodyError,
    _bad_chunk_signature,
    _incomplete,
    _malformed_trailer,
)
from ._chunked_work import Offload, SharedFeed, sha256_hex, update_checksums

__all__ = ["WORKER_MIN_BYTES", "AwsChunkedDecoder", "ChunkedBodyError"]


#: A feed carrying this many bytes of chunk data or more shares its hashing with
#: a worker thread. Each hand-off costs about 0.1 ms (waking the worker's CPU),
#: so on the 2-core development machine 256 KiB feeds gained nothing and the
#: gain grows with the feed: 1 MiB, 4 MiB (docs/performance.md).
WORKER_MIN_BYTES = 512 * 1024


class AwsChunkedDecoder:
    """Incremental aws-chunked decoder that releases only verified bytes.

    ``feed(data)`` takes the body as it arrives, in any slicing, and returns
    the decoded bytes that are safe to hand on: in signed modes a chunk's
    bytes are released only after its signature checked out. ``finish()``
    checks that the body was complete, its length, the trailer signature and
    the trailing checksum, and returns the trailers. Any failure raises
    :class:`ChunkedBodyError` with AWS's error code; the decoder is then dead.

    ```python
    decoder = AwsChunkedDecoder(mode=mode, chain=chain, decoded_length=n,
                                declared_trailers=["x-amz-checksum-crc32"])
    while block := read():
        for piece in decoder.feed(block):
            out.write(piece)  # verified; consume it before block is reused
    trailers = decoder.finish()
    ```

    Chunk data is not copied: the pieces ``feed`` returns may be memoryviews
    of the buffer it was given. Feeding ``bytes`` they stay valid for ever;
    feeding a buffer you reuse (``readinto`` into a ``bytearray``), consume or
    copy them before you write into the buffer again. The decoder itself
    keeps no view of a mutable buffer once ``feed`` returns: the part of a
    chunk still arriving is copied. Memory: at most one chunk
    (``max_chunk_size``) plus one framing line.

    In the signed modes, a feed that carries at least ``worker_min_bytes``
    bytes of chunk data shares its work with a worker thread: the worker
    updates the trailing checksum, then hashes chunks from the end of the
    feed, while the calling thread hashes chunks from the start (``hashlib``
    and ``zlib`` release the GIL on large buffers, so the two use two cores).
    The calling thread checks every chunk signature, in order, and releases
    a chunk only once it checked out; the trailers are checked once the
    checksum has every byte. ``None`` keeps every feed on the calling
    thread. ``feed`` waits for the worker before it returns, so no thread
    reads your buffer afterwards. The thread is started by the first such
    feed, one per decoder, and is stopped and joined by ``finish()``, by any
    error, by :meth:`close`, or when the decoder is garbage-collected.
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
        worker_min_bytes: int | None = WORKER_MIN_BYTES,
    ) -> None:
        check_chain(mode, chain, "verify")
        self.mode = mode
        self._chain = chain
        self._decoded_length = decoded_length
        self._declared = [name.lower() for name in declared_trailers]
        self._min = min_chunk_size
        self._max = max_chunk_size
        self._offload_from = worker_min_bytes
        self._offload: Offload | None = None
        self._stop_offload: weakref.finalize[[], AwsChunkedDecoder] | None = None
        # Framing, as parsed (ahead of verification within one feed).
        self._line = bytearray()  # a framing line being received
        self._head = bytearray()  # the chunk being received, from earlier feeds
        self._state = "header"
        self._need = 0
        self._signature = ""
        self._last_size: int | None = None
        self._parsed = 0  # decoded bytes framed so far
        self._trailer_lines: list[bytes] = []
        # Verification.
        self._total = 0  # decoded bytes verified and released
        self._checksums: list[Checksum] = []
        self._checksum_of: dict[str, Checksum] = {}
        for name in self._declared:
            try:
                algorithm = ChecksumAlgorithm.from_header_name(name)
            except ValueError:
                continue
            self._checksum_of[name] = new_checksum(algorithm)
        self._checksums = list(self._checksum_of.values())
        self.trailers: list[tuple[str, str]] = []

    @property
    def decoded_bytes(self) -> int:
        """How many decoded bytes have been released so far."""
        return self._total

    def feed(self, data: bytes | bytearray | memoryview) -> list[bytes | memoryview]:
        """Add received bytes; return the verified decoded bytes now available.

        The pieces may be views of ``data`` (see the class docstring).
        """
        if self._state == "dead":
            raise ChunkedBodyError("IncompleteBody", "the body already failed to decode")
        out: list[bytes | memoryview] = []
        try:
            self._consume(data, out)
        except BaseException:
            self._die()
            raise
        return out

    def finish(self) -> list[tuple[str, str]]:
        """The body has ended: check completeness and trailers; return the trailers."""
        self.close()
        if self._state != "done":
            self._state = "dead"
            raise _incomplete()
        return self.trailers

    def close(self) -> None:
        """Stop and join the worker thread, if one runs. Idempotent.

        ``finish()`` and every error close the decoder; call this when you
        abandon a body half-way (or let the decoder be garbage-collected).
        A closed decoder still finishes; a later large feed starts a new thread.
        """
        stop, self._stop_offload, self._offload = self._stop_offload, None, None
        if stop is not None:
            stop()

    def _die(self) -> None:
        self._state = "dead"
        self.close()

    # -- one feed: frame, then checksum (maybe on the worker) and verify ------

    def _consume(self, data: bytes | bytearray | memoryview, out: list[bytes | memoryview]) -> None:
        events: list[_Event] = []
        spans: list[memoryview] = []
        deferred: ChunkedBodyError | None = None
        try:
            self._frame(data, events, spans)
        except ChunkedBodyError as exc:
            # Raised after the chunks framed before it are verified: the
            # errors come in the order of the body, whatever its slicing.
            deferred = exc
        offload = self._offload_for(len(data), spans, events)
        if offload is None:
            if spans and self._checksums:
                update_checksums(self._checksums, spans)
            hashes = self._chain is not None
            for event in events:
                digest = sha256_hex(event[1]) if hashes and event[0] is _CHUNK else ""
                self._verify(event, digest, out)
        else:
            self._verify_shared(offload, events, spans, out)
        if deferred is not None:
            raise deferred

    def _verify_shared(
        self,
        offload: Offload,
        events: list[_Event],
        spans: list[memoryview],
        out: list[bytes | memoryview],
    ) -> None:
        """Verify with the worker: it takes the checksum, then hashes chunks from the back.

        This thread hashes chunks from the front and verifies each in order as
        soon as its digest is known, so the two meet wherever their speeds
        put them; the chunk chain itself is checked here, in body order
        (see :class:`~sigv4kit.verify._chunked_work.SharedFeed`).
        """
        chunks = [event[1] for event in events if event[0] is _CHUNK]
        split = SharedFeed(self._checksums, spans, chunks)
        offload.submit(split.work)
        index, mine = 0, True
        try:
            for event in events:
                digest = ""
                if event[0] is _CHUNK:
                    mine = mine and split.take_front()
                    if mine:
                        digest = sha256_hex(event[1])
                    else:
                        offload.wait()
                        digest = split.digests[index]
                    index += 1
                elif event[0] is _TRAILERS:
                    split.checksum()
                    offload.wait()  # the checksum is complete
                self._verify(event, digest, out)
            split.checksum()
        finally:
            split.stop()  # on an error, the worker takes nothing further
            offload.wait()

    def _offload_for(
        self, size: int, spans: list[memoryview], events: list[_Event]
    ) -> Offload | None:
        """The worker, if this feed (``size`` bytes) has work worth sharing."""
        # Only signed chunks leave work to share: a checksum alone is one
        # sequential pass, and one chunk without a checksum is one hash.
        threshold = self._offload_from
        if threshold is None or size < threshold or self._chain is None:
            return None
        if sum(len(span) for span in spans) < threshold:
            return None
        if not self._checksums and sum(event[0] is _CHUNK for event in events) < 2:
            return None
        if self._offload is None:
            self._offload = Offload("sigv4kit-aws-chunked")
            self._stop_offload = weakref.finalize(self, self._offload.stop)
        return self._offload

    def _verify(self, event: _Event, digest: str, out: list[bytes | memoryview]) -> None:
        """Check one framed event; ``digest`` is a signed chunk's data SHA-256 (hex)."""
        kind = event[0]
        if kind is _CHUNK:
            _, parts, signature = event
            if self._chain is not None and not self._chain.check_chunk_sha256(digest, signature):
                raise _bad_chunk_signature()
            self._total += sum(len(part) for part in parts)
            out += parts
        elif kind is _FINAL:
            if self._chain is not None and not self._chain.check_chunk(b"", event[2]):
                raise _bad_chunk_signature()
            if self._decoded_length is not None and self._total != self._decoded_length:
                raise _incomplete()
        else:
            self._check_trailers(self._trailer_lines)

    # -- framing: the state machine (no hashing, no signatures) ---------------

    def _frame(
        self,
        data: bytes | bytearray | memoryview,
        events: list[_Event],
        spans: list[memoryview],
    ) -> None:
        view = memoryview(data)
        if not view.c_contiguous:
            view = memoryview(view.tobytes())  # rare: a strided view, read as bytes
        elif view.format != "B" or view.ndim != 1:
            view = view.cast("B")
        searchable = data if isinstance(data, (bytes, bytearray)) else None
        pos, end = 0, len(view)
        while pos < end:
            if self._state == "done":
                raise ChunkedBodyError(
                    "IncompleteBody", "The request body continues after the final chunk"
                )
            if self._state == "data":
                take = min(self._need, end - pos)
                span = view[pos : pos + take]
                spans.append(span)
                self._need -= take
                pos += take
                if self._need:
                    # The chunk ends in a later feed: copy what came, as the
                    # caller may write into its buffer once we return.
                    self._head += span
                    continue
                parts: list[bytes | memoryview] = [span]
                if self._head:
                    # Handed on, never written again: a fresh head follows.
                    parts.insert(0, memoryview(self._head))
                    self._head = bytearray()
                events.append((_CHUNK, parts, self._signature))
                if end - pos >= 2 and view[pos] == 0x0D and view[pos + 1] == 0x0A:
                    pos += 2  # the data's CRLF, at hand: the next header follows
                    self._state = "header"
                else:
                    self._state = "data-end"
                continue
            newline = _find_newline(searchable, view, pos, end)
            if newline == -1:
                self._line += view[pos:]
                if len(self._line) > _MAX_LINE:
                    raise ChunkedBodyError(
                        "IncompleteBody",
                        "aws-chunked framing line too long or missing its CRLF",
                    )
                return
            if not self._line and newline > pos and view[newline - 1] == 0x0D:
                line = view[pos : newline - 1].tobytes()  # the whole line in this feed
            else:
                self._line += view[pos : newline + 1]
                if len(self._line) < 2 or self._line[-2] != 0x0D:
                    raise ChunkedBodyError(
                        "IncompleteBody", "aws-chunked framing line without CRLF"
                    )
                line = bytes(self._line[:-2])
                self._line.clear()
            pos = newline + 1
            self._on_line(line, events)

    def _on_line(self, line: bytes, events: list[_Event]) -> None:
        state = self._state
        if state == "header":
            self._read_header(line, events)
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
            events.append((_TRAILERS, [], ""))
            self._state = "done"
        elif state == "end":
            if line:
                raise _malformed_trailer()
            self._state = "done"

    def _read_header(self, line: bytes, events: list[_Event]) -> None:
        size_text, sep, ext = line.partition(b";")
        if not _HEX_SIZE.fullmatch(size_text):
            raise ChunkedBodyError(
                "InvalidChunkSizeError", f"Invalid chunk size {size_text[:32]!r}"
            )
        size = int(size_text, 16)
        signature = ""
        if self.mode.signed_chunks:
            name, _, raw_signature = ext.partition(b"=")
            pattern = _SIGV4A_SIGNATURE if self.mode.sigv4a else _SIGNATURE
            if not sep or name != b"chunk-signature" or not pattern.fullmatch(raw_signature):
                raise _bad_chunk_signature()
            signature = raw_signature.decode()
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
        if self._decoded_length is not None and self._parsed + size > self._decoded_length:
            raise ChunkedBodyError(
                "IncompleteBody",
                "The body holds more bytes than x-amz-decoded-content-length declares",
            )
        if size == 0:
            # The final, empty chunk: no data line follows, only the trailers
            # (or, without trailers, the closing CRLF). Its signature and the
            # decoded length are checked when the chunks before it verified.
            events.append((_FINAL, [], signature))
            self._state = "trailer" if self.mode.has_trailer else "end"
            return
        self._last_size = size
        self._parsed += size
        self._signature = signature
        self._need = size
        self._state = "data"

    def _check_trailers(self, lines: list[bytes]) -> None:
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
            checksum = self._checksum_of.get(name)
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

# What framing hands to verification, in body order: (kind, a chunk's data, its
# signature); the final chunk has no data, the trailers are kept on the decoder.
_CHUNK, _FINAL, _TRAILERS = "chunk", "final", "trailers"
_Event = tuple[str, list[bytes | memoryview], str]


def _find_newline(
    searchable: bytes | bytearray | None, view: memoryview, pos: int, end: int
) -> int:
    """Index of the next b"\\n" at or after ``pos``, or -1.

    A memoryview cannot ``find``: look in copies of growing windows (framing
    lines are short, so the first window nearly always holds it).
    """
    if searchable is not None:
        return searchable.find(b"\n", pos)
    window = 256
    while True:
        stop = min(end, pos + window)
        found = view[pos:stop].tobytes().find(b"\n")
        if found != -1:
            return pos + found
        if stop == end:
            return -1
        window *= 16


_HEX_SIZE = re.compile(rb"[0-9A-Fa-f]{1,16}")


_SIGNATURE = re.compile(rb"[0-9a-f]{64}")


_SIGV4A_SIGNATURE = re.compile(rb"[0-9a-f]{16,144}\**")
