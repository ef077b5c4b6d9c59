"""httpx adapters: :class:`SigV4Auth`, :class:`SigV4AAuth` and :func:`presign`.

The auth signs each request as httpx will send it, and does the I/O signing
needs around one signing path:

* the body: bytes are hashed; a stream under S3 rules (settings with the
  ``x-amz-content-sha256`` header) goes out as ``UNSIGNED-PAYLOAD``
  untouched; any other stream is buffered up to ``max_body_buffer`` bytes,
  beyond which :class:`BodyTooLargeError` names the options;
* the credentials: resolved per request from a
  :class:`~sigv4kit.CredentialsProvider` (async callers never block the loop);
* clock skew: when the service rejects the request for its time, the offset
  to the service's ``Date`` is learned, applied to every later signature, and
  the request re-signed and sent once more;
* retries: the auth leaves a re-sign hook in ``request.extensions``
  (:data:`RESIGN_EXTENSION`) so :class:`~sigv4kit.RetryTransport`, which sits
  below the auth, sends every attempt freshly signed; the last
  :class:`~sigv4kit.SigningResult` is kept under
  :data:`~sigv4kit.SIGNING_RESULT_EXTENSION` for error diagnostics;
* attempts: as the AWS SDKs do, every attempt signs a per-operation
  ``amz-sdk-invocation-id`` (a UUID4) and ``amz-sdk-request: attempt=N; max=M``,
  so no two attempts (nor two identical requests within the one-second
  resolution of ``X-Amz-Date``) share a signature, and a server's replay
  guard accepts each of them.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Generator, Iterator, Sequence
from datetime import UTC, datetime, timedelta

import httpx

from .._exceptions import BodyNotReadableError, InvalidHeaderError, SigningError
from .._settings import (
    PayloadChecksumKind,
    PayloadMode,
    SignatureLocation,
    SigningAlgorithm,
    SigningSettings,
)
from ..canonical._diagnostics import redact_text
from ..canonical._request import UNSIGNED_PAYLOAD
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
from ._errors import SIGNING_RESULT_EXTENSION, parse_aws_error
from ._providers import CredentialsProvider, StaticCredentialsProvider
from ._skew import ClockOffset, skew_offset

__all__ = [
    "DEFAULT_MAX_BODY_BUFFER",
    "INVOCATION_ID_HEADER",
    "RESIGN_EXTENSION",
    "SDK_REQUEST_HEADER",
    "BodyTooLargeError",
    "Clock",
    "Resigner",
    "SigV4AAuth",
    "SigV4Auth",
    "presign",
    "sign_httpx_request",
]

_log = logging.getLogger("sigv4kit.auth")

#: A clock returns the current time as an aware UTC datetime.
Clock = Callable[[], datetime]

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

# Statuses a service uses for "your clock is wrong" or "your token expired"
# (S3 and most services answer 403, query services and EC2 400, EC2 401).
# Only these responses' bodies are read by the auth.
_AUTH_FAILURE_STATUSES = frozenset({400, 401, 403})


# A service saying the session token expired (STS/query, S3, JSON services).
_EXPIRED_TOKEN_CODES = frozenset({"ExpiredToken", "ExpiredTokenException", "TokenRefreshRequired"})


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


def _sdk_request_value(attempt: int, max_attempts: int) -> str:
    """The ``amz-sdk-request`` value: ``attempt=1; max=3``."""
    return f"attempt={attempt}; max={max_attempts}"


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


class Resigner:
    """One operation's attempts: signs each at a fresh time with current credentials.

    :class:`SigV4Auth` stores one in ``request.extensions[RESIGN_EXTENSION]``;
    a transport that resends the request (a retry) calls it first, so no
    attempt reuses an old ``X-Amz-Date`` or signature. Call it in sync code,
    ``await resigner.async_resign(request)`` in async code (a credential
    refresh then runs off the event loop).

    Every attempt signs :data:`INVOCATION_ID_HEADER` (``invocation_id``, the
    same for the whole operation) and :data:`SDK_REQUEST_HEADER`
    (``attempt=N; max=M``), so each attempt has its own signature even within
    one second. ``max_attempts`` is what a retrying transport allows;
    :meth:`set_max_attempts` re-signs the current attempt with another one.
    """

    __slots__ = ("_auth", "_payload_hash", "attempt", "invocation_id", "max_attempts")

    def __init__(
        self,
        auth: SigV4Auth,
        payload_hash: str | None,
        *,
        invocation_id: str,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    ) -> None:
        self._auth = auth
        self._payload_hash = payload_hash
        self.invocation_id = invocation_id
        self.max_attempts = max_attempts
        #: Attempts signed so far (the one on the wire is number ``attempt``).
        self.attempt = 0

    def _sign(self, request: httpx.Request, credentials: Credentials) -> SigningResult:
        headers = request.headers
        headers[INVOCATION_ID_HEADER] = self.invocation_id
        headers[SDK_REQUEST_HEADER] = _sdk_request_value(self.attempt, self.max_attempts)
        return self._auth._sign_with(request, credentials, self._payload_hash)

    def sign_next(self, request: httpx.Request, credentials: Credentials) -> SigningResult:
        """Sign the next attempt with ``credentials``."""
        self.attempt += 1
        return self._sign(request, credentials)

    def __call__(self, request: httpx.Request) -> SigningResult:
        return self.sign_next(request, self._auth.provider.resolve())

    async def async_resign(self, request: httpx.Request) -> SigningResult:
        return self.sign_next(request, await self._auth.provider.resolve_async())

    def set_max_attempts(self, request: httpx.Request, max_attempts: int) -> None:
        """State another ``max`` (a transport's); re-signs the current attempt."""
        if max_attempts != self.max_attempts:
            self.max_attempts = max_attempts
            self._sign(request, self._auth.provider.resolve())

    async def async_set_max_attempts(self, request: httpx.Request, max_attempts: int) -> None:
        """:meth:`set_max_attempts` for async code."""
        if max_attempts != self.max_attempts:
            self.max_attempts = max_attempts
            self._sign(request, await self._auth.provider.resolve_async())


def _may_be_auth_failure(response: httpx.Response) -> bool:
    return response.status_code in _AUTH_FAILURE_STATUSES


class SigV4Auth(httpx.Auth):
    """Sign every request of an httpx client with SigV4.

    Works with ``httpx.Client`` and ``httpx.AsyncClient``::

        auth = SigV4Auth(Credentials(akid, secret), region="us-east-1", service="execute-api")
        httpx.get("https://abc.execute-api.us-east-1.amazonaws.com/prod/items", auth=auth)

    ``credentials`` is a :class:`~sigv4kit.Credentials` or a
    :class:`~sigv4kit.CredentialsProvider` (resolved for every request).
    ``settings`` defaults to the AWS service rules (``SigningSettings()``);
    pass ``SigningSettings.s3()`` for S3. ``clock`` returns the current time
    as an aware UTC datetime. Signing the same request again (a retry)
    replaces the earlier signature.

    Streamed bodies: under settings with the ``x-amz-content-sha256`` header
    (S3) they are sent as ``UNSIGNED-PAYLOAD`` without reading them; else
    they are read into memory to hash them, up to ``max_body_buffer`` bytes.
    With ``chunked=ChunkedEncoding(mode=..., checksum=...)`` a streamed body
    is sent ``aws-chunked`` instead, in constant memory: each chunk signed
    (chained from the request's signature) as it is sent, with an optional
    trailing checksum. The stream must declare its length (a
    ``Content-Length`` header, or a file object whose size httpx reads).

    With ``correct_clock_skew`` (the default), a response saying the request
    time is wrong (``RequestTimeTooSkewed``, ``RequestExpired``, "Signature
    expired", or a signature error while the service's ``Date`` is more than
    4 minutes from ours) sets :attr:`clock_offset` from its ``Date`` header,
    and the request is signed again and resent once. When the service says
    the session token expired (``ExpiredToken``) and the provider can refresh,
    the credentials are refreshed and the request resent once.

    Every attempt signs ``amz-sdk-invocation-id`` (one UUID4 per request,
    from ``invocation_id``, a function returning a fresh id) and
    ``amz-sdk-request: attempt=N; max=M``, as the AWS SDKs do; servers with a
    replay guard (:class:`~sigv4kit.middleware.MemoryReplayGuard`) need this
    to accept identical requests within one second and retries.

    Raises :class:`~sigv4kit.SigningError` subclasses for requests that
    cannot be signed (:class:`BodyTooLargeError`, an unsendable header
    value) and :class:`~sigv4kit.CredentialsError` from the provider.
    """

    algorithm = SigningAlgorithm.SIGV4

    def __init__(
        self,
        credentials: Credentials | CredentialsProvider,
        *,
        region: str,
        service: str,
        settings: SigningSettings | None = None,
        clock: Clock | None = None,
        max_body_buffer: int = DEFAULT_MAX_BODY_BUFFER,
        correct_clock_skew: bool = True,
        chunked: ChunkedEncoding | None = None,
        invocation_id: Callable[[], str] | None = None,
    ) -> None:
        is_v4a = self.algorithm is SigningAlgorithm.SIGV4A
        if chunked is not None and chunked.mode.signed_chunks and chunked.mode.sigv4a != is_v4a:
            raise SigningError(
                f"{chunked.mode.value} chunk signatures need "
                f"{'SigV4AAuth' if chunked.mode.sigv4a else 'SigV4Auth'}"
            )
        if isinstance(credentials, CredentialsProvider):
            self.provider: CredentialsProvider = credentials
        else:
            self.provider = StaticCredentialsProvider(credentials)
        if (
            isinstance(max_body_buffer, bool)
            or not isinstance(max_body_buffer, int)
            or (max_body_buffer < 0)
        ):
            raise ValueError("max_body_buffer must be a non-negative int (bytes)")
        self.credentials = credentials
        self.region = region
        self.service = service
        self.settings = settings or SigningSettings()
        self.clock: Clock = clock or _system_clock
        self.max_body_buffer = max_body_buffer
        self.correct_clock_skew = correct_clock_skew
        self.chunked = chunked
        self._new_invocation_id = invocation_id or _uuid4_text
        self._offset = ClockOffset()

    def __repr__(self) -> str:
        if isinstance(self.credentials, Credentials):
            source = f"access_key_id={self.credentials.access_key_id!r}"
        else:
            source = f"provider={type(self.provider).__name__}"
        return f"{type(self).__name__}({source}, region={self.region!r}, service={self.service!r})"

    @property
    def clock_offset(self) -> timedelta:
        """The correction learned from the service's clock (zero until a skew error)."""
        return self._offset.value

    def now(self) -> datetime:
        """The signing time: the clock plus the learned offset."""
        return self.clock() + self._offset.value

    # -- the one signing path ------------------------------------------------

    def _sign_with(
        self, request: httpx.Request, credentials: Credentials, payload_hash: str | None
    ) -> SigningResult:
        result = sign_httpx_request(
            request,
            credentials=credentials,
            region=self.region,
            service=self.service,
            now=self.now(),
            settings=self.settings,
            algorithm=self.algorithm,
            payload_hash=payload_hash,
        )
        request.extensions[SIGNING_RESULT_EXTENSION] = result
        if self.chunked is not None and payload_hash in _STREAMING_VALUES:
            _install_chunked(
                request, self.chunked, credentials, result, self.region, self.service
            )
        if _log.isEnabledFor(logging.DEBUG):
            _log.debug(
                "signed %s %s\nCanonicalRequest:\n%s\nStringToSign:\n%s",
                request.method,
                request.url.path,
                redact_text(str(result.canonical_request)),
                result.string_to_sign,
            )
        return result

    def _payload_plan(self, request: httpx.Request) -> tuple[str | None, bool]:
        """(payload hash to sign with, must the stream be buffered first)."""
        if self.chunked is not None and not _has_content(request):
            # A stream goes out aws-chunked: each chunk signed as it is sent.
            _prepare_chunked(request, self.chunked)
            return self.chunked.mode.value, False
        if _payload_mode(self.settings) is not PayloadMode.SHA256 or _has_content(request):
            return None, False
        if self.settings.payload_checksum is PayloadChecksumKind.X_AMZ_CONTENT_SHA256:
            # S3 rules: S3 accepts UNSIGNED-PAYLOAD (over TLS the body is
            # protected anyway), so a stream is sent as it comes, unbuffered.
            return UNSIGNED_PAYLOAD, False
        return None, True

    def _too_large(self, size: str) -> BodyTooLargeError:
        return BodyTooLargeError(
            f"the request body is a stream of {size}, more than max_body_buffer="
            f"{self.max_body_buffer} bytes that {type(self).__name__} may buffer to hash it. "
            "Options: pass the body as bytes (content=...); raise max_body_buffer; or, if "
            "the service accepts unsigned payloads (S3 does), sign with "
            "SigningSettings.s3() or settings.replace(payload=PayloadMode.UNSIGNED)"
        )

    def _check_declared_length(self, request: httpx.Request) -> None:
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body_buffer:
            raise self._too_large(f"{int(declared)} bytes")

    def _install_body(self, request: httpx.Request, chunks: list[bytes]) -> None:
        request.stream = httpx.ByteStream(b"".join(chunks))
        request.read()

    def _buffer_body(self, request: httpx.Request) -> None:
        self._check_declared_length(request)
        stream = request.stream
        if not isinstance(stream, httpx.SyncByteStream):
            raise BodyNotReadableError(
                "the request body is an async stream; send it with httpx.AsyncClient"
            )
        chunks: list[bytes] = []
        total = 0
        for chunk in stream:
            total += len(chunk)
            if total > self.max_body_buffer:
                raise self._too_large("unknown length")
            chunks.append(chunk)
        self._install_body(request, chunks)

    async def _abuffer_body(self, request: httpx.Request) -> None:
        self._check_declared_length(request)
        stream = request.stream
        chunks: list[bytes] = []
        total = 0
        if isinstance(stream, httpx.AsyncByteStream):
            async for chunk in stream:
                total += len(chunk)
                if total > self.max_body_buffer:
                    raise self._too_large("unknown length")
                chunks.append(chunk)
        else:
            raise BodyNotReadableError(
                "the request body is a sync stream; send it with httpx.Client"
            )
        self._install_body(request, chunks)

    def sign(self, request: httpx.Request) -> SigningResult:
        """Sign ``request`` in place at the current (corrected) time.

        Does no body I/O: an unread stream must be read first unless the
        settings leave the payload unsigned.
        """
        payload_hash, _ = self._payload_plan(request)
        return self._resigner(payload_hash).sign_next(request, self.provider.resolve())

    def _resigner(self, payload_hash: str | None) -> Resigner:
        return Resigner(self, payload_hash, invocation_id=self._new_invocation_id())

    def _flow(
        self, request: httpx.Request, credentials: Credentials, resigner: Resigner
    ) -> Generator[httpx.Request, httpx.Response, None]:
        request.extensions[RESIGN_EXTENSION] = resigner
        resigner.sign_next(request, credentials)
        response = yield request
        if not (self.correct_clock_skew and _may_be_auth_failure(response)):
            return
        details = parse_aws_error(response.status_code, response.headers, response.content)
        offset = skew_offset(
            details,
            response.headers.get("date"),
            clock_now=self.clock(),
            current_offset=self._offset.value,
        )
        if offset is None:
            return
        # Learned even when this request cannot be resent (a one-shot
        # stream): the next request is signed at the service's time.
        self._offset.set(offset)
        if _is_replayable(request):
            resigner.sign_next(request, credentials)
            yield request

    def _expired(self, response: httpx.Response, request: httpx.Request) -> bool:
        """True when the service said the session token expired."""
        if not (_may_be_auth_failure(response) and _is_replayable(request)):
            return False
        details = parse_aws_error(response.status_code, response.headers, response.content)
        return details.code in _EXPIRED_TOKEN_CODES

    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        payload_hash, must_buffer = self._payload_plan(request)
        if must_buffer:
            self._buffer_body(request)
        credentials = self.provider.resolve()
        resigner = self._resigner(payload_hash)
        flow = self._flow(request, credentials, resigner)
        request = next(flow)
        while True:
            response = yield request
            if _may_be_auth_failure(response):
                response.read()
            try:
                request = flow.send(response)
            except StopIteration:
                break
        # Expired temporary credentials: refresh them (when the provider can)
        # and send once more, instead of failing until the next refresh.
        if self._expired(response, request) and self.provider.invalidate(credentials):
            resigner.sign_next(request, self.provider.resolve())
            yield request

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        payload_hash, must_buffer = self._payload_plan(request)
        if must_buffer:
            await self._abuffer_body(request)
        credentials = await self.provider.resolve_async()
        resigner = self._resigner(payload_hash)
        flow = self._flow(request, credentials, resigner)
        request = next(flow)
        while True:
            response = yield request
            if _may_be_auth_failure(response):
                await response.aread()
            try:
                request = flow.send(response)
            except StopIteration:
                break
        if self._expired(response, request) and self.provider.invalidate(credentials):
            resigner.sign_next(request, await self.provider.resolve_async())
            yield request

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        # Drivers that call auth_flow directly get the sync flow.
        return self.sync_auth_flow(request)


class SigV4AAuth(SigV4Auth):
    """Sign every request with SigV4A (ECDSA P-256), valid in a set of regions.

    ``region_set`` is a region, a list of regions or ``"*"``; it is sent as
    ``X-Amz-Region-Set``. Everything else is as :class:`SigV4Auth`.
    """

    algorithm = SigningAlgorithm.SIGV4A

    def __init__(
        self,
        credentials: Credentials | CredentialsProvider,
        *,
        region_set: str | Sequence[str],
        service: str,
        settings: SigningSettings | None = None,
        clock: Clock | None = None,
        max_body_buffer: int = DEFAULT_MAX_BODY_BUFFER,
        correct_clock_skew: bool = True,
        chunked: ChunkedEncoding | None = None,
        invocation_id: Callable[[], str] | None = None,
    ) -> None:
        if not isinstance(region_set, str):
            region_set = ",".join(region_set)
        super().__init__(
            credentials,
            region=region_set,
            service=service,
            settings=settings,
            clock=clock,
            max_body_buffer=max_body_buffer,
            correct_clock_skew=correct_clock_skew,
            chunked=chunked,
            invocation_id=invocation_id,
        )

    @property
    def region_set(self) -> str:
        """The comma-separated region set."""
        return self.region


def presign(
    method: str,
    url: str | httpx.URL,
    *,
    credentials: Credentials,
    region: str,
    service: str,
    expires_in: int = 3600,
    settings: SigningSettings | None = None,
    now: datetime | None = None,
    headers: Sequence[tuple[str, str]] | dict[str, str] | None = None,
    algorithm: SigningAlgorithm = SigningAlgorithm.SIGV4,
    payload_hash: str | None = None,
) -> str:
    """A presigned URL: the signature in ``X-Amz-*`` query parameters.

    ```python
    url = presign("PUT", "https://bucket.s3.us-east-1.amazonaws.com/key.txt",
                  credentials=creds, region="us-east-1", service="s3",
                  settings=SigningSettings.s3(), expires_in=600)
    httpx.put(url, content=b"any body")
    ```

    Signs ``Host`` and the ``headers`` passed here (the caller must then send
    them), nothing else: no ``Content-Length``, so a presigned PUT or POST
    accepts a body of any length, as botocore's ``generate_presigned_url``.
    The payload line is ``payload_hash`` when given (the body's hex SHA-256,
    or ``UNSIGNED-PAYLOAD``), else what ``settings.presigned_payload`` says:
    ``UNSIGNED-PAYLOAD`` under S3 rules (S3 requires it), the hash of an
    empty body under the other services' rules (so a presigned upload to
    them needs ``payload_hash=`` the body's SHA-256).

    Raises :class:`~sigv4kit.InvalidExpiryError` when ``expires_in`` is outside
    1..604800 seconds, :class:`~sigv4kit.InvalidTimeError` for a naive ``now``,
    and the :func:`~sigv4kit.sign` errors.
    """
    settings = (settings or SigningSettings()).replace(signature_location=SignatureLocation.QUERY)
    # httpx computes the Host header (port only when not the default) and
    # the wire path; the request's own headers are not signed: httpx adds
    # Content-Length: 0 to a bodiless PUT/POST, and signing it would make the
    # URL refuse every non-empty upload.
    request = httpx.Request(method, url)
    explicit = httpx.Headers(headers)
    signed_headers = explicit.multi_items()
    if "host" not in explicit:
        signed_headers.insert(0, ("Host", request.headers["host"]))
    target = request.url.raw_path.decode("ascii")
    result = sign(
        method,
        target,
        signed_headers,
        credentials=credentials,
        region=region,
        service=service,
        now=now if now is not None else _system_clock(),
        payload_hash=payload_hash,
        settings=settings,
        algorithm=algorithm,
        expires_in=expires_in,
    )
    return str(request.url.copy_with(raw_path=result.target.encode("ascii")))
