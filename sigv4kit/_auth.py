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
  :data:`~sigv4kit.SIGNING_RESULT_EXTENSION` for error diagnostics.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Generator, Iterator, Sequence
from datetime import UTC, datetime, timedelta

import httpx

from ._canonical import UNSIGNED_PAYLOAD
from ._chunked import (
    ChunkChain,
    ChunkedEncoding,
    StreamingMode,
    aiter_encoded,
    encoded_length,
    iter_encoded,
)
from ._credentials import Credentials
from ._errors import SIGNING_RESULT_EXTENSION, parse_aws_error
from ._exceptions import BodyNotReadableError, InvalidHeaderError, SigningError
from ._fastsign import FastSigner
from ._providers import CredentialsProvider, StaticCredentialsProvider
from ._settings import (
    PayloadChecksumKind,
    PayloadMode,
    SignatureLocation,
    SigningAlgorithm,
    SigningSettings,
)
from ._signing import SigningResult, derive_signing_key, derive_sigv4a_private_key, sign
from ._skew import ClockOffset, skew_offset

__all__ = [
    "DEFAULT_MAX_BODY_BUFFER",
    "RESIGN_EXTENSION",
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
    """Signs a request again, at a fresh time, with current credentials.

    :class:`SigV4Auth` stores one in ``request.extensions[RESIGN_EXTENSION]``;
    a transport that resends the request (a retry) calls it first, so no
    attempt reuses an old ``X-Amz-Date`` or signature. Call it in sync code,
    ``await resigner.async_resign(request)`` in async code (a credential
    refresh then runs off the event loop).
    """

    __slots__ = ("_auth", "_payload_hash")

    def __init__(self, auth: SigV4Auth, payload_hash: str | None) -> None:
        self._auth = auth
        self._payload_hash = payload_hash

    def __call__(self, request: httpx.Request) -> SigningResult:
        return self._auth._sign_with(request, self._auth.provider.resolve(), self._payload_hash)

    async def async_resign(self, request: httpx.Request) -> SigningResult:
        credentials = await self._auth.provider.resolve_async()
        return self._auth._sign_with(request, credentials, self._payload_hash)


def _redacted_canonical(text: str) -> str:
    # botocore logs the canonical request with the session token in it; we
    # do not (smithy-rs redacts the same way).
    lines = text.split("\n")
    for index, line in enumerate(lines):
        if line.startswith("x-amz-security-token:"):
            lines[index] = "x-amz-security-token:** REDACTED **"
    return "\n".join(lines)


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
        self._offset = ClockOffset()
        # The common request shape is signed from httpx's bytes (issue 15).
        self._fast = FastSigner()

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
        now = self.now()
        result = None
        if self.algorithm is SigningAlgorithm.SIGV4 and self.chunked is None:
            result = self._fast.sign(
                request, credentials=credentials, region=self.region, service=self.service,
                settings=self.settings, now=now, payload_hash=payload_hash,
            )
        if result is None:
            result = sign_httpx_request(
                request,
                credentials=credentials,
                region=self.region,
                service=self.service,
                now=now,
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
                _redacted_canonical(str(result.canonical_request)),
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
        return self._sign_with(request, self.provider.resolve(), payload_hash)

    def _flow(
        self, request: httpx.Request, credentials: Credentials, payload_hash: str | None
    ) -> Generator[httpx.Request, httpx.Response, None]:
        request.extensions[RESIGN_EXTENSION] = Resigner(self, payload_hash)
        self._sign_with(request, credentials, payload_hash)
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
            self._sign_with(request, credentials, payload_hash)
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
        flow = self._flow(request, credentials, payload_hash)
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
            self._sign_with(request, self.provider.resolve(), payload_hash)
            yield request

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        payload_hash, must_buffer = self._payload_plan(request)
        if must_buffer:
            await self._abuffer_body(request)
        credentials = await self.provider.resolve_async()
        flow = self._flow(request, credentials, payload_hash)
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
            self._sign_with(request, await self.provider.resolve_async(), payload_hash)
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
) -> str:
    """A presigned URL: the signature in ``X-Amz-*`` query parameters.

    ```python
    url = presign("GET", "https://bucket.s3.us-east-1.amazonaws.com/key.txt",
                  credentials=creds, region="us-east-1", service="s3",
                  settings=SigningSettings.s3(), expires_in=600)
    ```

    ``headers`` are signed too (the caller must then send them). Raises
    :class:`~sigv4kit.InvalidExpiryError` when ``expires_in`` is outside
    1..604800 seconds, :class:`~sigv4kit.InvalidTimeError` for a naive ``now``.
    """
    settings = (settings or SigningSettings()).replace(signature_location=SignatureLocation.QUERY)
    request = httpx.Request(method, url, headers=headers)
    sign_httpx_request(
        request,
        credentials=credentials,
        region=region,
        service=service,
        now=now if now is not None else _system_clock(),
        settings=settings,
        algorithm=algorithm,
        expires_in=expires_in,
        payload_hash=None,
    )
    return str(request.url)
