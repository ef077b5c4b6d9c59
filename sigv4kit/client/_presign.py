"""Presigned URLs for httpx-free use (``presign``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import httpx

from .._settings import (
    SignatureLocation,
    SigningAlgorithm,
    SigningSettings,
)
from ..signing._credentials import Credentials
from ..signing._signer import sign
from ._httpx import _system_clock

__all__ = [
    "presign",
]


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
