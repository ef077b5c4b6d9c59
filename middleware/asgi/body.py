"""Request bodies: size limits, hashing, spooling to disk, aws-chunked decoding, replay to the app.

A body the signature covers is read in full (hashed, kept in memory up to
``memory_body_limit``, spooled to a temporary file beyond it, refused with
413 beyond ``max_body_size``) before the app sees a byte; the app then reads
it back through :meth:`Body.replay`. aws-chunked bodies are decoded and
verified chunk by chunk (:func:`chunk_decoder`).

Imports: the core (``sigv4kit``), :mod:`.refusals`, :mod:`.responses`, :mod:`.types`.
"""

from __future__ import annotations

import asyncio
import hashlib
import tempfile
from dataclasses import dataclass
from typing import IO

from sigv4kit import KeyRecord, SigningAlgorithm, VerificationError
from sigv4kit.signing import ChunkChain, derive_signing_key, derive_sigv4a_private_key
from sigv4kit.verify import AwsChunkedDecoder, EntityTooLarge, InvalidRequest, ParsedAuth

from .refusals import log_refusal, send_error
from .responses import ErrorFormat, new_request_id
from .types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "EMPTY_SHA256",
    "Body",
    "BodyLimits",
    "Disconnected",
    "chunk_decoder",
    "deliver_chunks",
    "framed_body",
    "present_decoded",
    "present_decoded_length",
    "stream_body",
]

REPLAY_CHUNK = 256 * 1024
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
SPOOL_BATCH = 1024 * 1024


@dataclass(frozen=True, slots=True, kw_only=True)
class BodyLimits:
    """How much body is kept in memory, where the rest spools, and how much is accepted."""

    memory_body_limit: int
    max_body_size: int
    spool_directory: str | None = None


class Disconnected(Exception):
    """The client went away while its body was being read."""


class Body:
    """A verified request body: in memory up to a limit, then in a temporary file."""

    __slots__ = ("chunks", "decoder", "file", "framed_empty", "sha256", "size")

    def __init__(self) -> None:
        self.decoder: AwsChunkedDecoder | None = None
        self.chunks: list[bytes] = []
        self.file: IO[bytes] | None = None
        self.sha256 = ""
        self.size = 0
        # HTTP/1 framing says there is no body: nothing was read, and the
        # server's own receive hands the app exactly that (nothing).
        self.framed_empty = False

    @classmethod
    def streaming(cls, decoder: AwsChunkedDecoder) -> Body:
        """An aws-chunked body handed to the app chunk by chunk as it verifies."""
        body = cls()
        body.decoder = decoder
        return body

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None

    def replay(self, receive: Receive) -> Receive:
        """A ``receive`` that hands out the verified body, then defers to the server's."""
        chunks = self.chunks
        file = self.file
        state = {"index": 0, "done": False, "rewound": False}

        async def replay_receive() -> Message:
            if state["done"]:
                return await receive()
            if file is None:
                state["done"] = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            if not state["rewound"]:
                await asyncio.to_thread(file.seek, 0)
                state["rewound"] = True
            data = await asyncio.to_thread(file.read, REPLAY_CHUNK)
            more = len(data) == REPLAY_CHUNK
            if not more:
                state["done"] = True
            return {"type": "http.request", "body": data, "more_body": more}

        return replay_receive


def present_decoded(scope: Scope, decoder: AwsChunkedDecoder) -> None:
    """Show the app a plain body: the decoded length, no aws-chunked encoding."""
    present_decoded_length(scope, decoder.decoded_bytes)


def present_decoded_length(scope: Scope, length: int) -> None:
    headers: list[tuple[bytes, bytes]] = []
    for name, value in scope.get("headers", ()):
        lname = name.lower()
        if lname == b"content-length":
            continue
        if lname == b"content-encoding":
            rest = [v.strip() for v in value.split(b",") if v.strip().lower() != b"aws-chunked"]
            if not rest:
                continue
            value = b", ".join(rest)
        headers.append((name, value))
    headers.append((b"content-length", str(length).encode()))
    scope["headers"] = headers


def open_spool(directory: str | None) -> IO[bytes]:
    return tempfile.TemporaryFile(dir=directory)


def framed_body(scope: Scope, limits: BodyLimits) -> Body | None:
    """Check the declared size; the (empty) body when HTTP/1 framing says there is none.

    Synchronous, so the common body-less request costs no extra await.
    """
    limit = limits.max_body_size
    declared: bytes | None = None
    chunked = False
    for name, value in scope.get("headers", ()):
        lname = name.lower()
        if lname == b"content-length":
            declared = value
        elif lname == b"transfer-encoding":
            chunked = True
    if declared is not None and declared.strip().isdigit() and int(declared) > limit:
        raise EntityTooLarge()
    if (
        not chunked
        and (declared is None or declared.strip() == b"0")
        and scope.get("http_version") in ("1.0", "1.1")
    ):
        # RFC 9112 section 6.3: an HTTP/1 request without Content-Length
        # or Transfer-Encoding has no body. (HTTP/2 has no such rule.)
        body = Body()
        body.sha256 = EMPTY_SHA256
        body.framed_empty = True
        return body
    return None


def chunk_decoder(
    parsed: ParsedAuth, key: KeyRecord | None, limits: BodyLimits
) -> AwsChunkedDecoder:
    """The decoder of an aws-chunked body, its chain seeded by the request signature."""
    mode = parsed.streaming
    assert mode is not None
    assert key is not None
    decoded = int(",".join(parsed.headers["x-amz-decoded-content-length"]))
    if decoded > limits.max_body_size:
        raise EntityTooLarge()
    chain = None
    if mode.signed_chunks and mode.sigv4a != (parsed.algorithm is SigningAlgorithm.SIGV4A):
        raise InvalidRequest(
            f"x-amz-content-sha256 {mode.value} does not match the request's "
            f"{parsed.algorithm.value} signature"
        )
    if mode.sigv4a:
        chain = ChunkChain(
            ecdsa_public_key=derive_sigv4a_private_key(
                key.access_key_id, key.secret_access_key
            ).public_key(),
            amz_date=parsed.amz_date,
            scope=str(parsed.scope),
            seed_signature=parsed.signature,
        )
    elif mode.signed_chunks:
        assert parsed.scope.region is not None
        chain = ChunkChain(
            signing_key=derive_signing_key(
                key.secret_access_key, parsed.scope.date, parsed.scope.region, parsed.service
            ),
            amz_date=parsed.amz_date,
            scope=str(parsed.scope),
            seed_signature=parsed.signature,
        )
    declared = ",".join(parsed.headers.get("x-amz-trailer", ()))
    return AwsChunkedDecoder(
        mode=mode,
        chain=chain,
        decoded_length=decoded,
        declared_trailers=[name.strip() for name in declared.split(",") if name.strip()],
    )


async def stream_body(
    receive: Receive, limits: BodyLimits, decoder: AwsChunkedDecoder | None = None
) -> Body:
    """Read, hash and keep (memory, then a temporary file) the whole body.

    With ``decoder`` (aws-chunked) the decoded, verified bytes are kept
    instead, and the trailers are checked when the body ends.
    """
    limit = limits.max_body_size
    body = Body()
    hasher = hashlib.sha256()
    spool: IO[bytes] | None = None
    pending: list[bytes] = []
    pending_size = 0
    try:
        while True:
            message = await receive()
            kind = message.get("type")
            if kind == "http.disconnect":
                raise Disconnected()
            if kind != "http.request":
                continue
            data = bytes(message.get("body", b""))
            if decoder is not None:
                data = b"".join(decoder.feed(data))
                if not message.get("more_body", False):
                    decoder.finish()
            if data:
                body.size += len(data)
                if body.size > limit:
                    raise EntityTooLarge()
                hasher.update(data)
                if spool is None and body.size <= limits.memory_body_limit:
                    body.chunks.append(data)
                else:
                    if spool is None:
                        spool = await asyncio.to_thread(open_spool, limits.spool_directory)
                        body.file = spool
                        pending, body.chunks = body.chunks, []
                        pending_size = body.size - len(data)
                    pending.append(data)
                    pending_size += len(data)
                    if pending_size >= SPOOL_BATCH:
                        await asyncio.to_thread(spool.write, b"".join(pending))
                        pending, pending_size = [], 0
            if not message.get("more_body", False):
                break
        if spool is not None and pending:
            await asyncio.to_thread(spool.write, b"".join(pending))
    except BaseException:
        body.close()
        raise
    body.sha256 = hasher.hexdigest()
    return body


async def deliver_chunks(
    app: ASGIApp,
    app_scope: Scope,
    receive: Receive,
    send: Send,
    decoder: AwsChunkedDecoder,
    *,
    error_format: ErrorFormat,
    log_level: int,
) -> None:
    """Run the app on an aws-chunked body, handing it each chunk once verified.

    A failure while the body streams ends the app's body with
    ``http.disconnect``; the client gets the error if the app has not
    started its response, else the request is aborted (the exception
    reaches the server, which closes the connection).
    """
    started = False
    failed = False

    async def app_send(message: Message) -> None:
        nonlocal started
        if failed:
            return  # the client already has its answer
        if message.get("type") == "http.response.start":
            started = True
        await send(message)

    async def app_receive() -> Message:
        nonlocal failed
        if failed:
            return {"type": "http.disconnect"}
        while True:
            message = await receive()
            kind = message.get("type")
            if kind == "http.disconnect":
                return message
            if kind != "http.request":
                continue
            more = bool(message.get("more_body", False))
            try:
                pieces = decoder.feed(bytes(message.get("body", b"")))
                if not more:
                    decoder.finish()
            except VerificationError as exc:
                failed = True
                request_id = new_request_id()
                log_refusal(exc, request_id, app_scope, log_level)
                if started:
                    raise
                await send_error(send, exc, app_scope, request_id, error_format)
                return {"type": "http.disconnect"}
            data = b"".join(pieces)
            if data or not more:
                return {"type": "http.request", "body": data, "more_body": more}

    declared = dict(app_scope.get("headers", ())).get(b"x-amz-decoded-content-length", b"0")
    present_decoded_length(app_scope, int(declared))
    await app(app_scope, app_receive, app_send)
