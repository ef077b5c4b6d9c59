"""``SigV4Middleware``: pure ASGI middleware that verifies SigV4 / SigV4A requests.

Per HTTP request: parse and time-check the authentication, await the key
store, check key, signed headers and signature, read (and hash) the body
when the signature covers it, then call the app with the verified body
replayed by a per-call ``receive``. The app never sees a byte that was not
verified. WebSocket handshakes are verified the same way before the app sees
them. Lifespan and unknown scope types pass straight through.
"""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import logging
import tempfile
import traceback
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from datetime import UTC, datetime
from typing import IO, Any
from urllib.parse import quote

from sigv4kit import (
    AwsChunkedDecoder,
    ChunkChain,
    EntityTooLarge,
    Identity,
    InternalError,
    InvalidRequest,
    KeyRecord,
    ParsedAuth,
    ServiceUnavailable,
    SignedRequest,
    SigningAlgorithm,
    VerificationError,
    Verifier,
    VerifierConfig,
    derive_signing_key,
    derive_sigv4a_private_key,
)
from sigv4kit._fastverify import FastVerifier

from ._fastpath import verify_fast
from ._replay import ReplayDetected, ReplayGuard, ReplayGuardUnavailableError, replay_ttl
from ._replay import request_signature as _request_signature
from ._responses import ErrorFormat, new_request_id, render_error
from ._store import AccessKeyStore, StoreUnavailableError, open_store

__all__ = [
    "DEFAULT_MAX_BODY_SIZE",
    "DEFAULT_MEMORY_BODY_LIMIT",
    "DEFAULT_REPLAY_CACHE_SIZE",
    "AnonymousUser",
    "SigV4Credentials",
    "SigV4Middleware",
    "SigV4User",
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: Bodies up to this size are hashed and kept in memory; larger ones are
#: spooled to a temporary file, so memory stays bounded for any upload.
DEFAULT_MEMORY_BODY_LIMIT = 1024 * 1024
#: S3's largest single PUT (5 GiB). Larger bodies are refused with 413.
DEFAULT_MAX_BODY_SIZE = 5 * 1024**3

#: Successful verifications remembered for exact replays (see ``replay_cache_size``).
DEFAULT_REPLAY_CACHE_SIZE = 1024

_REPLAY_CHUNK = 256 * 1024
_EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
_SPOOL_BATCH = 1024 * 1024
_DEFAULT_PORTS = {"http": "80", "https": "443", "ws": "80", "wss": "443"}

logger = logging.getLogger("sigv4kit.middleware")


class SigV4Credentials:
    """``request.auth``: shaped like Starlette's ``AuthCredentials`` (``.scopes``)."""

    __slots__ = ("scopes",)

    def __init__(self, scopes: Iterable[str] = ()) -> None:
        self.scopes = list(scopes)

    def __repr__(self) -> str:
        return f"SigV4Credentials(scopes={self.scopes!r})"


class SigV4User:
    """``request.user`` for a verified request; Starlette ``BaseUser``-compatible.

    ``identity`` and ``display_name`` are the principal; ``sigv4`` is the full
    :class:`~sigv4kit.Identity`.
    """

    __slots__ = ("sigv4",)

    def __init__(self, sigv4: Identity) -> None:
        self.sigv4 = sigv4

    def __repr__(self) -> str:
        return f"SigV4User(principal={self.principal!r}, access_key_id={self.access_key_id!r})"

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def display_name(self) -> str:
        return self.sigv4.principal

    @property
    def identity(self) -> str:
        return self.sigv4.principal

    @property
    def principal(self) -> str:
        return self.sigv4.principal

    @property
    def access_key_id(self) -> str:
        return self.sigv4.access_key_id


class AnonymousUser:
    """``request.user`` on exempt paths and CORS preflights (not authenticated)."""

    __slots__ = ()

    @property
    def is_authenticated(self) -> bool:
        return False

    @property
    def display_name(self) -> str:
        return ""

    @property
    def identity(self) -> str:
        return ""


class _Disconnected(Exception):
    """The client went away while its body was being read."""


class _Body:
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
    def streaming(cls, decoder: AwsChunkedDecoder) -> _Body:
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
            data = await asyncio.to_thread(file.read, _REPLAY_CHUNK)
            more = len(data) == _REPLAY_CHUNK
            if not more:
                state["done"] = True
            return {"type": "http.request", "body": data, "more_body": more}

        return replay_receive


def _present_decoded(scope: Scope, decoder: AwsChunkedDecoder) -> None:
    """Show the app a plain body: the decoded length, no aws-chunked encoding."""
    _present_decoded_length(scope, decoder.decoded_bytes)


def _present_decoded_length(scope: Scope, length: int) -> None:
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


def _open_spool(directory: str | None) -> IO[bytes]:
    return tempfile.TemporaryFile(dir=directory)


class _Verified:
    """A verification that succeeded, for an exact replay of the same request bytes."""

    __slots__ = ("body_sha256", "identity", "parsed", "secret")

    def __init__(
        self, parsed: ParsedAuth, identity: Identity, secret: str, body_sha256: str | None
    ) -> None:
        self.parsed = parsed
        self.identity = identity
        self.secret = secret
        self.body_sha256 = body_sha256


def _system_clock() -> datetime:
    return datetime.now(UTC)


def _header_value(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> bytes | None:
    for key, value in headers:
        if key.lower() == name:
            return value
    return None


class SigV4Middleware:
    """Verify SigV4 / SigV4A signatures in front of any ASGI app.

    ```python
    from sigv4kit.middleware import MemoryKeyStore, SigV4Middleware

    app = SigV4Middleware(app, store="sqlite:///keys.db")
    ```

    ``store`` is an :class:`~sigv4kit.middleware.AccessKeyStore` or a store
    URL for :func:`~sigv4kit.middleware.open_store` (a store opened here is
    closed at lifespan shutdown). ``config`` says which regions, services and
    rules are accepted (default: any region and service, S3 rules for
    ``s3``). The verified request reaches the app with ``scope["sigv4"]``
    (the :class:`~sigv4kit.Identity`), ``scope["user"]`` and ``scope["auth"]``
    (Starlette's ``request.user`` / ``request.auth``).

    Options: ``error_format`` (S3 XML by default), ``exempt_paths`` (exact
    paths, or prefixes written ``/prefix/*``, let through unauthenticated, e.g.
    health checks), ``allow_cors_preflight`` (pass ``OPTIONS`` preflights
    through, since browsers never sign them), ``trusted_proxies`` (addresses
    or networks whose ``X-Forwarded-Host/Proto/Port`` give the host the client
    signed), ``memory_body_limit`` and ``max_body_size`` (bodies are hashed
    in memory up to the first, spooled to a temporary file beyond it and
    refused with 413 beyond the second), ``replay_cache_size`` (how many
    successful verifications to remember for byte-identical replays; 0
    disables it; a speed-up that *accepts* exact replays), ``clock`` (returns
    an aware UTC datetime), ``replay_guard`` (replay *protection*, off by
    default: a :class:`~sigv4kit.middleware.ReplayGuard` that refuses a
    signature already accepted, AccessDenied "Request replay detected"; 503
    when it cannot answer).

    aws-chunked bodies (``x-amz-content-sha256: STREAMING-...``, S3 rules):
    decoded while they stream in, each chunk's signature and the trailer's
    checksum verified; the app sees a plain body with the decoded
    ``Content-Length``. By default the whole decoded body is held back (in
    memory, then spooled) until everything verified, so the app never acts on
    a body that later fails. ``stream_verified_chunks=True`` instead hands the
    app each chunk once its signature checked out; a failure later (a bad
    chunk, a wrong checksum) then ends the app's ``receive`` with
    ``http.disconnect`` and the client gets the error, or, if the app already
    started its response, the request is aborted.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        store: AccessKeyStore | str,
        config: VerifierConfig | None = None,
        error_format: ErrorFormat = ErrorFormat.S3_XML,
        exempt_paths: Iterable[str] = (),
        allow_cors_preflight: bool = True,
        trusted_proxies: Iterable[str] = (),
        memory_body_limit: int = DEFAULT_MEMORY_BODY_LIMIT,
        max_body_size: int = DEFAULT_MAX_BODY_SIZE,
        spool_directory: str | None = None,
        replay_cache_size: int = DEFAULT_REPLAY_CACHE_SIZE,
        clock: Callable[[], datetime] | None = None,
        stream_verified_chunks: bool = False,
        replay_guard: ReplayGuard | None = None,
    ) -> None:
        # Replay *protection* (security, off by default; see _replay.py), not
        # to be confused with replay_cache_size (a verification speed-up).
        self.replay_guard = replay_guard
        if isinstance(store, str):
            self.store: AccessKeyStore = open_store(store)
            self._owns_store = True
        else:
            self.store = store
            self._owns_store = False
        if memory_body_limit < 0 or max_body_size < 0:
            raise ValueError("body limits must be non-negative")
        self.app = app
        self.verifier = Verifier(config)
        self._fast = FastVerifier(self.verifier)
        self.error_format = ErrorFormat(error_format)
        paths = list(exempt_paths)
        self.exempt_paths = frozenset(p for p in paths if not p.endswith("*"))
        self.exempt_prefixes = tuple(p[:-1] for p in paths if p.endswith("*"))
        self.allow_cors_preflight = allow_cors_preflight
        self.trusted_proxies = tuple(
            ipaddress.ip_network(address, strict=False) for address in trusted_proxies
        )
        self.memory_body_limit = memory_body_limit
        self.max_body_size = max_body_size
        self.spool_directory = spool_directory
        self.clock = clock or _system_clock
        if replay_cache_size < 0:
            raise ValueError("replay_cache_size must be non-negative")
        self.replay_cache_size = replay_cache_size
        self.stream_verified_chunks = stream_verified_chunks
        # Exact request bytes -> a successful verification. Only successes go
        # in, so a forged request can never hit; see _verify_http.
        self._replays: dict[tuple[Any, ...], _Verified] = {}

    def __repr__(self) -> str:
        return f"SigV4Middleware(app={self.app!r}, store={self.store!r})"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "websocket":
            await self._websocket(scope, receive, send)
        elif kind == "lifespan" and self._owns_store:
            await self.app(scope, receive, self._lifespan_send(send))
        else:
            await self.app(scope, receive, send)

    async def aclose(self) -> None:
        """Close the store if this middleware opened it."""
        if self._owns_store:
            await self.store.aclose()

    def _lifespan_send(self, send: Send) -> Send:
        async def lifespan_send(message: Message) -> None:
            if message["type"] == "lifespan.shutdown.complete":
                await self.aclose()
            await send(message)

        return lifespan_send

    # -- pass-through ------------------------------------------------------------------------

    def _passes(self, scope: Scope) -> bool:
        path = scope.get("path", "")
        if path in self.exempt_paths or (
            self.exempt_prefixes and path.startswith(self.exempt_prefixes)
        ):
            return True
        if self.allow_cors_preflight and scope.get("method") == "OPTIONS":
            headers = scope.get("headers", ())
            return (
                _header_value(headers, b"origin") is not None
                and _header_value(headers, b"access-control-request-method") is not None
            )
        return False

    @staticmethod
    def _anonymous(scope: Scope) -> Scope:
        scope.setdefault("auth", SigV4Credentials())
        scope.setdefault("user", AnonymousUser())
        scope.setdefault("sigv4", None)
        return scope

    @staticmethod
    def _authenticated(scope: Scope, identity: Identity) -> Scope:
        scope["sigv4"] = identity
        scope["auth"] = SigV4Credentials(["authenticated"])
        scope["user"] = SigV4User(identity)
        return scope

    # -- building the request to verify -------------------------------------------------------

    def _trusted(self, scope: Scope) -> bool:
        client = scope.get("client")
        if not self.trusted_proxies or not client:
            return False
        try:
            address = ipaddress.ip_address(client[0])
        except ValueError:
            return False
        return any(address in network for network in self.trusted_proxies)

    def _signed_request(self, scope: Scope) -> SignedRequest:
        raw_path = scope.get("raw_path")
        if not raw_path:
            # raw_path is optional in ASGI: re-encode the decoded path the way
            # the SDKs encode it (botocore quotes everything but "/" and "~").
            raw_path = quote(scope.get("path") or "/", safe="/~").encode("ascii")
        headers: list[tuple[bytes, bytes]] = list(scope.get("headers", ()))
        if _header_value(headers, b"host") is None:
            # HTTP/2 and HTTP/3 carry the host as :authority; SigV4 signs it as host.
            authority = _header_value(headers, b":authority")
            if authority is not None:
                headers.append((b"host", authority))
        if self._trusted(scope):
            headers = self._forwarded_host(headers, scope)
        return SignedRequest.from_wire(
            scope.get("method", "GET"), raw_path, scope.get("query_string", b""), headers
        )

    @staticmethod
    def _forwarded_host(
        headers: list[tuple[bytes, bytes]], scope: Scope
    ) -> list[tuple[bytes, bytes]]:
        # The host the client signed is the one it sent to the first proxy; a
        # proxy that rewrites Host passes it on in X-Forwarded-Host (the last
        # value is the one our trusted proxy added).
        forwarded = _header_value(headers, b"x-forwarded-host")
        if not forwarded:
            return headers
        host = forwarded.split(b",")[-1].strip()
        port = _header_value(headers, b"x-forwarded-port")
        proto = _header_value(headers, b"x-forwarded-proto")
        scheme = (proto or scope.get("scheme", "http").encode()).split(b",")[-1].strip().lower()
        has_port = host.rsplit(b"]", 1)[-1].count(b":") == 1
        if port and not has_port:
            port = port.split(b",")[-1].strip()
            if _DEFAULT_PORTS.get(scheme.decode("latin-1")) != port.decode("latin-1"):
                host = host + b":" + port
        return [(name, value) for name, value in headers if name.lower() != b"host"] + [
            (b"host", host)
        ]

    # -- HTTP ----------------------------------------------------------------------------

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._passes(scope):
            await self.app(self._anonymous(scope), receive, send)
            return
        body: _Body | None = None
        try:
            try:
                identity, body = await self._verify_http(scope, receive)
                if self.replay_guard is not None:
                    await self._refuse_replay(scope, identity)
            except VerificationError as exc:
                # A request id only for answers that carry one (errors).
                request_id = new_request_id()
                self._log_refusal(exc, request_id)
                await self._send_error(send, exc, scope, request_id)
                return
            except _Disconnected:
                return
            except Exception as exc:
                request_id = new_request_id()
                self._log_internal(exc, request_id)
                await self._send_error(send, InternalError(), scope, request_id)
                return
            if body is not None and body.decoder is not None:
                await self._deliver_chunks(scope, receive, send, identity, body.decoder)
                return
            app_receive = receive if body is None or body.framed_empty else body.replay(receive)
            await self.app(self._authenticated(scope, identity), app_receive, send)
        finally:
            if body is not None:
                body.close()

    async def _deliver_chunks(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        identity: Identity,
        decoder: AwsChunkedDecoder,
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
                    self._log_refusal(exc, request_id)
                    if started:
                        raise
                    await self._send_error(send, exc, scope, request_id)
                    return {"type": "http.disconnect"}
                data = b"".join(pieces)
                if data or not more:
                    return {"type": "http.request", "body": data, "more_body": more}

        declared = dict(scope.get("headers", ())).get(b"x-amz-decoded-content-length", b"0")
        app_scope = self._authenticated(scope, identity)
        _present_decoded_length(app_scope, int(declared))
        await self.app(app_scope, app_receive, app_send)

    async def _refuse_replay(self, scope: Scope, identity: Identity) -> None:
        """Replay protection hook: AccessDenied for a signature already accepted."""
        assert self.replay_guard is not None
        signature = _request_signature(scope)
        if signature is None:  # pragma: no cover - a verified request carries one
            raise ReplayDetected()
        ttl = replay_ttl(identity, scope, max_skew=self.verifier.config.max_skew, now=self.clock())
        try:
            first = await self.replay_guard.first_use(signature, ttl)
        except ReplayGuardUnavailableError:
            raise ServiceUnavailable() from None
        if not first:
            raise ReplayDetected()

    def _replay_key(self, scope: Scope) -> tuple[Any, ...]:
        return (
            scope.get("method"),
            scope.get("raw_path"),
            scope.get("path"),
            scope.get("query_string"),
            tuple(scope.get("headers", ())),
            bool(self.trusted_proxies) and self._trusted(scope),
        )

    async def _verify_http(self, scope: Scope, receive: Receive) -> tuple[Identity, _Body | None]:
        now = self.clock()
        if not self.trusted_proxies or not self._trusted(scope):
            # Fast path for the common shape; None means the general path decides.
            fast = await verify_fast(self._fast, self.verifier, self.store, scope, now)
            if fast is not None:
                self._record_use(fast, now)
                return fast, None
        verifier = self.verifier
        replay_key: tuple[Any, ...] | None = None
        if self.replay_cache_size:
            replay_key = self._replay_key(scope)
            remembered = self._replays.get(replay_key)
            if remembered is not None:
                replayed = await self._verify_replay(remembered, scope, receive, now)
                if replayed is not None:
                    return replayed
        request = self._signed_request(scope)
        parsed = verifier.parse_at(request, now)
        key = await self._lookup(parsed.access_key_id)
        verifier.check_key_at(parsed, key, now)
        verifier.check_signed_headers(parsed)
        body: _Body | None = None
        try:
            if parsed.needs_body_hash:
                body = self._framed_body(scope) or await self._stream_body(scope, receive)
                identity = verifier.authenticate(
                    parsed, key, request, now=now, body_sha256=body.sha256
                )
            else:
                identity = verifier.authenticate(parsed, key, request, now=now)
                if parsed.streaming is not None:
                    decoder = self._chunk_decoder(parsed, key)
                    if self.stream_verified_chunks:
                        self._record_use(identity, now)
                        return identity, _Body.streaming(decoder)
                    body = await self._stream_body(scope, receive, decoder)
                    _present_decoded(scope, decoder)
                elif parsed.body_must_match:
                    body = self._framed_body(scope) or await self._stream_body(scope, receive)
                    verifier.check_payload(parsed, body.sha256)
        except BaseException:
            if body is not None:
                body.close()
            raise
        if replay_key is not None and key is not None and parsed.streaming is None:
            signed_body = body.sha256 if (body is not None and parsed.needs_body_hash) else None
            self._remember(replay_key, _Verified(parsed, identity, key.secret_access_key,
                                                 signed_body))
        self._record_use(identity, now)
        return identity, body

    def _remember(self, replay_key: tuple[Any, ...], verified: _Verified) -> None:
        replays = self._replays
        if len(replays) >= self.replay_cache_size:
            # Oldest first (dicts keep insertion order): bounded memory.
            del replays[next(iter(replays))]
        replays[replay_key] = verified

    async def _verify_replay(
        self, remembered: _Verified, scope: Scope, receive: Receive, now: datetime
    ) -> tuple[Identity, _Body | None] | None:
        """Verify a byte-identical replay of a request verified before.

        The signature is a pure function of these exact bytes and the secret,
        so it is not recomputed; everything that depends on time, on the key
        record or on the body is checked again. Returns None (full
        verification) when the key's secret or principal changed or the body
        differs from the signed one.
        """
        verifier = self.verifier
        parsed = remembered.parsed
        if parsed.streaming is not None:
            return None  # aws-chunked bodies are always decoded and verified in full
        verifier.check_time_at(parsed, now)
        try:
            key: KeyRecord | None = await self.store.get_key(parsed.access_key_id)
        except StoreUnavailableError:
            raise ServiceUnavailable() from None
        verifier.check_key_at(parsed, key, now)
        assert key is not None
        identity = remembered.identity
        if key.principal != identity.principal or key.secret_access_key != remembered.secret:
            return None
        body: _Body | None = None
        try:
            if parsed.needs_body_hash:
                body = self._framed_body(scope) or await self._stream_body(scope, receive)
                if body.sha256 != remembered.body_sha256:
                    # Another body under the same headers: check it in full,
                    # with the body already read.
                    request = self._signed_request(scope)
                    identity = verifier.authenticate(
                        parsed, key, request, now=now, body_sha256=body.sha256
                    )
            elif parsed.body_must_match:
                body = self._framed_body(scope) or await self._stream_body(scope, receive)
                verifier.check_payload(parsed, body.sha256)
        except BaseException:
            if body is not None:
                body.close()
            raise
        self._record_use(identity, now)
        return identity, body

    async def _lookup(self, access_key_id: str) -> Any:
        try:
            return await self.store.get_key(access_key_id)
        except StoreUnavailableError:
            raise ServiceUnavailable() from None

    def _record_use(self, identity: Identity, now: datetime) -> None:
        try:
            self.store.record_use(
                identity.access_key_id, at=now, region=identity.region, service=identity.service
            )
        except Exception as exc:
            # Bookkeeping only: a failure here must not refuse a verified request.
            logger.warning("record_use failed: %s", type(exc).__name__)

    def _framed_body(self, scope: Scope) -> _Body | None:
        """Check the declared size; the (empty) body when HTTP/1 framing says there is none.

        Synchronous, so the common body-less request costs no extra await.
        """
        limit = self.max_body_size
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
            body = _Body()
            body.sha256 = _EMPTY_SHA256
            body.framed_empty = True
            return body
        return None

    def _chunk_decoder(self, parsed: ParsedAuth, key: KeyRecord | None) -> AwsChunkedDecoder:
        """The decoder of an aws-chunked body, its chain seeded by the request signature."""
        mode = parsed.streaming
        assert mode is not None
        assert key is not None
        decoded = int(",".join(parsed.headers["x-amz-decoded-content-length"]))
        if decoded > self.max_body_size:
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

    async def _stream_body(
        self, scope: Scope, receive: Receive, decoder: AwsChunkedDecoder | None = None
    ) -> _Body:
        """Read, hash and keep (memory, then a temporary file) the whole body.

        With ``decoder`` (aws-chunked) the decoded, verified bytes are kept
        instead, and the trailers are checked when the body ends.
        """
        limit = self.max_body_size
        body = _Body()
        hasher = hashlib.sha256()
        spool: IO[bytes] | None = None
        pending: list[bytes] = []
        pending_size = 0
        try:
            while True:
                message = await receive()
                kind = message.get("type")
                if kind == "http.disconnect":
                    raise _Disconnected()
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
                    if spool is None and body.size <= self.memory_body_limit:
                        body.chunks.append(data)
                    else:
                        if spool is None:
                            spool = await asyncio.to_thread(_open_spool, self.spool_directory)
                            body.file = spool
                            pending, body.chunks = body.chunks, []
                            pending_size = body.size - len(data)
                        pending.append(data)
                        pending_size += len(data)
                        if pending_size >= _SPOOL_BATCH:
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

    async def _send_error(
        self, send: Send, error: VerificationError, scope: Scope, request_id: str
    ) -> None:
        status, headers, payload = render_error(error, self.error_format, request_id=request_id)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        if scope.get("method") == "HEAD":
            payload = b""
        await send({"type": "http.response.body", "body": payload, "more_body": False})

    # -- WebSocket -----------------------------------------------------------------------

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._passes(scope):
            await self.app(self._anonymous(scope), receive, send)
            return
        request_id = new_request_id()
        try:
            now = self.clock()
            request = self._signed_request(scope)
            parsed = self.verifier.parse_at(request, now)
            key = await self._lookup(parsed.access_key_id)
            identity = self.verifier.authenticate(
                parsed, key, request, now=now, body_sha256=hashlib.sha256(b"").hexdigest()
            )
            self.verifier.check_payload(parsed, hashlib.sha256(b"").hexdigest())
        except VerificationError as exc:
            self._log_refusal(exc, request_id)
            await self._deny_websocket(scope, receive, send, exc, request_id)
            return
        except Exception as exc:
            self._log_internal(exc, request_id)
            await self._deny_websocket(scope, receive, send, InternalError(), request_id)
            return
        self._record_use(identity, now)
        await self.app(self._authenticated(scope, identity), receive, send)

    async def _deny_websocket(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        error: VerificationError,
        request_id: str,
    ) -> None:
        message = await receive()
        if message.get("type") != "websocket.connect":
            return
        if "websocket.http.response" in (scope.get("extensions") or {}):
            status, headers, payload = render_error(
                error, self.error_format, request_id=request_id
            )
            await send(
                {"type": "websocket.http.response.start", "status": status, "headers": headers}
            )
            await send({"type": "websocket.http.response.body", "body": payload})
        else:
            # Closing before accepting makes the server answer the handshake with 403.
            await send({"type": "websocket.close", "code": 1008})

    # -- logging (never a secret: codes, key ids and request ids only) --------------------------

    @staticmethod
    def _log_refusal(error: VerificationError, request_id: str) -> None:
        logger.info("refused request %s: %s (%d)", request_id, error.code, error.status)

    @staticmethod
    def _log_internal(error: BaseException, request_id: str) -> None:
        # The frames, not the message: a store error can quote a DSN or a value.
        frames = "".join(traceback.format_tb(error.__traceback__))
        logger.error(
            "internal error verifying request %s: %s\n%s",
            request_id,
            type(error).__name__,
            frames,
        )
