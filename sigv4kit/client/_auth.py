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
from collections.abc import AsyncGenerator, Callable, Generator, Sequence
from datetime import datetime, timedelta

import httpx

from .._exceptions import BodyNotReadableError, SigningError
from .._settings import (
    PayloadChecksumKind,
    PayloadMode,
    SigningAlgorithm,
    SigningSettings,
)
from ..canonical._diagnostics import redact_text
from ..canonical._request import UNSIGNED_PAYLOAD
from ..signing._chunked import (
    ChunkedEncoding,
)
from ..signing._credentials import Credentials
from ..signing._signer import SigningResult
from ._errors import SIGNING_RESULT_EXTENSION
from ._fastsign import FastSigner
from ._httpx import (
    _STREAMING_VALUES,
    DEFAULT_MAX_BODY_BUFFER,
    RESIGN_EXTENSION,
    BodyTooLargeError,
    _has_content,
    _install_chunked,
    _is_replayable,
    _payload_mode,
    _prepare_chunked,
    _system_clock,
    _uuid4_text,
    sign_httpx_request,
)
from ._parse import parse_aws_error
from ._providers import CredentialsProvider, StaticCredentialsProvider
from ._resigner import Resigner
from ._skew import ClockOffset, skew_offset

__all__ = [
    "Clock",
    "Resigner",
    "SigV4AAuth",
    "SigV4Auth",
]

_log = logging.getLogger("sigv4kit.auth")

#: A clock returns the current time as an aware UTC datetime.
Clock = Callable[[], datetime]


# Statuses a service uses for "your clock is wrong" or "your token expired"
# (S3 and most services answer 403, query services and EC2 400, EC2 401).
# Only these responses' bodies are read by the auth.
_AUTH_FAILURE_STATUSES = frozenset({400, 401, 403})


# A service saying the session token expired (STS/query, S3, JSON services).
_EXPIRED_TOKEN_CODES = frozenset({"ExpiredToken", "ExpiredTokenException", "TokenRefreshRequired"})


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
        self._fast = FastSigner()  # the common shape, signed from httpx's bytes

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
        self,
        request: httpx.Request,
        credentials: Credentials,
        payload_hash: str | None,
        sdk_headers: tuple[tuple[bytes, bytes], ...],
    ) -> SigningResult:
        """Sign with the ``amz-sdk-*`` headers: added by the fast path, else set here."""
        now = self.now()
        fast = self.algorithm is SigningAlgorithm.SIGV4 and self.chunked is None
        result = self._fast.sign(
            request, credentials=credentials, region=self.region, service=self.service,
            settings=self.settings, now=now, payload_hash=payload_hash, added=sdk_headers,
        ) if fast else None
        if result is None:
            headers = request.headers
            for name, value in sdk_headers:  # replacing the request's own, if any
                headers[name.decode("ascii")] = value.decode("utf-8")
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
