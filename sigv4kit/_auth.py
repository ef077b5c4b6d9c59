"""httpx adapters: :class:`SigV4Auth`, :class:`SigV4AAuth` and :func:`presign`."""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from datetime import UTC, datetime

import httpx

from ._credentials import Credentials
from ._exceptions import BodyNotReadableError, InvalidHeaderError
from ._settings import SignatureLocation, SigningAlgorithm, SigningSettings
from ._signing import SigningResult, sign

__all__ = ["Clock", "SigV4AAuth", "SigV4Auth", "presign", "sign_httpx_request"]

#: A clock returns the current time as an aware UTC datetime.
Clock = Callable[[], datetime]


def _system_clock() -> datetime:
    return datetime.now(UTC)


def _request_body(request: httpx.Request) -> bytes:
    try:
        return request.content
    except httpx.RequestNotRead:
        raise BodyNotReadableError(
            "the request body is a stream that has not been read, so its SHA-256 "
            "cannot be computed; pass the body as bytes (content=...), or sign with "
            "settings whose payload mode is PayloadMode.UNSIGNED"
        ) from None


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
    """
    headers = request.headers
    raw = headers.raw
    _check_sendable(raw)
    body = None if payload_hash is not None else _request_body(request)
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


class SigV4Auth(httpx.Auth):
    """Sign every request of an httpx client with SigV4.

    Works with ``httpx.Client`` and ``httpx.AsyncClient``::

        auth = SigV4Auth(Credentials(akid, secret), region="us-east-1", service="execute-api")
        httpx.get("https://abc.execute-api.us-east-1.amazonaws.com/prod/items", auth=auth)

    ``settings`` defaults to the AWS service rules (``SigningSettings()``);
    pass ``SigningSettings.s3()`` for S3. ``clock`` returns the current time
    as an aware UTC datetime. Signing the same request again (a retry)
    replaces the earlier signature.

    Raises :class:`~sigv4kit.SigningError` subclasses for requests that
    cannot be signed (a stream body, an unsendable header value).
    """

    algorithm = SigningAlgorithm.SIGV4

    def __init__(
        self,
        credentials: Credentials,
        *,
        region: str,
        service: str,
        settings: SigningSettings | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.credentials = credentials
        self.region = region
        self.service = service
        self.settings = settings or SigningSettings()
        self.clock: Clock = clock or _system_clock

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(access_key_id={self.credentials.access_key_id!r}, "
            f"region={self.region!r}, service={self.service!r})"
        )

    def sign(self, request: httpx.Request) -> SigningResult:
        """Sign ``request`` in place at the clock's current time."""
        return sign_httpx_request(
            request,
            credentials=self.credentials,
            region=self.region,
            service=self.service,
            now=self.clock(),
            settings=self.settings,
            algorithm=self.algorithm,
        )

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        self.sign(request)
        yield request


class SigV4AAuth(SigV4Auth):
    """Sign every request with SigV4A (ECDSA P-256), valid in a set of regions.

    ``region_set`` is a region, a list of regions or ``"*"``; it is sent as
    ``X-Amz-Region-Set``.
    """

    algorithm = SigningAlgorithm.SIGV4A

    def __init__(
        self,
        credentials: Credentials,
        *,
        region_set: str | Sequence[str],
        service: str,
        settings: SigningSettings | None = None,
        clock: Clock | None = None,
    ) -> None:
        if not isinstance(region_set, str):
            region_set = ",".join(region_set)
        super().__init__(
            credentials, region=region_set, service=service, settings=settings, clock=clock
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
    settings = (settings or SigningSettings()).replace(
        signature_location=SignatureLocation.QUERY
    )
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
