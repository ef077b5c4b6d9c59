"""Verification: check a SigV4 / SigV4A signed request the way AWS does.

The verifier is transport-independent: a request is its method, the raw path
and raw query as they travelled on the wire, and its headers in order with
duplicates (:class:`SignedRequest`). Verification is split so a server can
await its key store in the middle, with the time always passed in:

1. :meth:`Verifier.parse_at` (pure): one auth mechanism, the algorithm, the
   Authorization header or the presigned ``X-Amz-*`` parameters, the
   credential scope against the accepted regions and services, the date, the
   clock skew and the presigned expiry. Returns a :class:`ParsedAuth`.
2. The caller looks up ``parsed.access_key_id`` (a :class:`KeyLookup`).
3. :meth:`Verifier.authenticate` (pure): key status, session token, signed
   headers, then the signature in constant time. Returns an :class:`Identity`.
4. :meth:`Verifier.check_payload` (pure): the body hashes to the signed
   ``x-amz-content-sha256`` value.

:meth:`Verifier.verify_at` runs all of it when the key is already in hand;
:meth:`Verifier.verify` awaits a key lookup and reads the clock. The checks
run in AWS's order and fail with AWS's codes (see :mod:`sigv4kit.verify._errors`).
The canonical request is built by :mod:`sigv4kit.canonical._request`, the very
functions the signer uses, so signer and verifier cannot disagree.
"""

from __future__ import annotations

from datetime import UTC, datetime

from ..canonical._request import (
    CanonicalRequest,
    payload_sha256,
)
from ..signing._signer import (
    StringToSign,
)
from ._checks import (
    authenticate,
    canonical_request,
    check_key,
    check_payload,
    check_signed_headers,
)
from ._keys import KeyRecord
from ._model import (
    DEFAULT_MAX_SKEW,
    DEFAULT_SERVICE_SETTINGS,
    DEFAULT_UNSIGNED_AMZ_HEADERS,
    Identity,
    KeyLookup,
    ParsedAuth,
    SignedRequest,
    VerifierConfig,
)
from ._parse import parse
from ._time import check_time

__all__ = [
    "DEFAULT_MAX_SKEW",
    "DEFAULT_SERVICE_SETTINGS",
    "DEFAULT_UNSIGNED_AMZ_HEADERS",
    "Identity",
    "KeyLookup",
    "ParsedAuth",
    "SignedRequest",
    "Verifier",
    "VerifierConfig",
]


class Verifier:
    """Verify SigV4 and SigV4A signed requests against access keys.

    ```python
    verifier = Verifier(VerifierConfig(services={"s3"}))
    request = SignedRequest.from_wire("GET", b"/bucket/key", b"", headers)
    identity = verifier.verify_at(request, key=record, now=datetime.now(UTC), body=b"")
    identity.principal
    ```

    Every failure raises a :class:`~sigv4kit.VerificationError` subclass
    named after the AWS error code; nothing returns a bool.
    """

    __slots__ = ("config",)

    def __init__(self, config: VerifierConfig | None = None) -> None:
        self.config = config or VerifierConfig()

    def __repr__(self) -> str:
        return f"Verifier({self.config!r})"

    # -- step 1: parse and time checks -------------------------------------------------

    def parse_at(self, request: SignedRequest, now: datetime) -> ParsedAuth:
        """Parse the request's authentication and check its time against ``now``.

        Raises (in this order): :class:`InvalidArgument` (two mechanisms or an
        unknown scheme), :class:`InvalidRequest` (SigV2 or a disabled
        algorithm), :class:`AccessDenied` (no authentication at all),
        :class:`IncompleteSignature` / :class:`AuthorizationHeaderMalformed` /
        :class:`AuthorizationQueryParametersError` (malformed parameters, a
        region, service or terminal not accepted, a credential date that is
        not the request date), :class:`AccessDenied` (no valid date),
        :class:`RequestTimeTooSkewed`, :class:`AccessDenied` ("Request has
        expired"), then the payload-hash checks (:class:`InvalidRequest`,
        :class:`InvalidArgument`, :class:`NotImplementedFeature`).
        """
        return parse(self.config, request, now)

    def check_time_at(self, parsed: ParsedAuth, now: datetime) -> None:
        """Re-run the time checks of :meth:`parse_at` for ``now``.

        For servers that reuse a :class:`ParsedAuth` (a replayed request):
        raises :class:`RequestTimeTooSkewed` or :class:`AccessDenied`
        ("Request has expired").
        """
        check_time(self.config, parsed, now)

    # -- step 3: key, signed headers, signature -------------------------------------------

    def check_key_at(self, parsed: ParsedAuth, key: KeyRecord | None, now: datetime) -> KeyRecord:
        """Check the key's status and the session token; returns the key.

        Raises :class:`InvalidAccessKeyId` (unknown or inactive key),
        :class:`InvalidToken` (temporary key with a missing or wrong token, or
        a token sent with a long-term key), :class:`ExpiredToken`.
        """
        return check_key(self.config, parsed, key, now)

    def check_signed_headers(self, parsed: ParsedAuth) -> None:
        """``host`` and every ``x-amz-*`` header present must be signed.

        Raises :class:`AccessDenied` naming the unsigned headers in ``HeadersNotSigned``.
        """
        check_signed_headers(self.config, parsed)

    def authenticate(
        self,
        parsed: ParsedAuth,
        key: KeyRecord | None,
        request: SignedRequest,
        *,
        now: datetime,
        body_sha256: str | None = None,
    ) -> Identity:
        """Check the key, the signed headers and the signature.

        ``body_sha256`` (hex SHA-256 of the body) is required when
        ``parsed.needs_body_hash``. Afterwards call :meth:`check_payload` when
        ``parsed.body_must_match``.

        Raises the errors of :meth:`check_key_at` and
        :meth:`check_signed_headers`, then :class:`SignatureDoesNotMatch`.
        """
        return authenticate(self.config, parsed, key, request, now=now, body_sha256=body_sha256)

    @staticmethod
    def canonical_request(
        parsed: ParsedAuth, request: SignedRequest, payload_line: str
    ) -> tuple[CanonicalRequest, StringToSign]:
        """The canonical request and string to sign the signature must cover.

        ``payload_line`` is the payload hash line (the stated hash, or the
        body's SHA-256). Raises :class:`InvalidRequest` for a header value
        with a line break or NUL byte.
        """
        return canonical_request(parsed, request, payload_line)

    def check_payload(self, parsed: ParsedAuth, body_sha256: str) -> None:
        """The body must hash to the signed ``x-amz-content-sha256`` value.

        Raises :class:`XAmzContentSHA256Mismatch`.
        """
        check_payload(self.config, parsed, body_sha256)

    # -- all at once ----------------------------------------------------------------------

    def verify_at(
        self,
        request: SignedRequest,
        *,
        key: KeyRecord | None,
        now: datetime,
        body: bytes | None = None,
        body_sha256: str | None = None,
    ) -> Identity:
        """Verify a request with its key in hand at time ``now``.

        ``body`` (or its hex SHA-256 as ``body_sha256``) defaults to empty.
        Raises the :class:`~sigv4kit.VerificationError` subclass of the first
        failed check, in AWS's order.
        """
        if body_sha256 is None:
            body_sha256 = payload_sha256(body or b"")
        parsed = self.parse_at(request, now)
        identity = self.authenticate(parsed, key, request, now=now, body_sha256=body_sha256)
        self.check_payload(parsed, body_sha256)
        return identity

    async def verify(
        self,
        request: SignedRequest,
        *,
        keys: KeyLookup,
        body: bytes | None = None,
        now: datetime | None = None,
    ) -> Identity:
        """Verify a request, looking its key up in ``keys``; ``now`` defaults to the clock.

        Raises like :meth:`verify_at`, and whatever ``keys.get_key`` raises.
        """
        when = now if now is not None else datetime.now(UTC)
        parsed = self.parse_at(request, when)
        key = await keys.get_key(parsed.access_key_id)
        body_sha256 = payload_sha256(body or b"")
        identity = self.authenticate(parsed, key, request, now=when, body_sha256=body_sha256)
        self.check_payload(parsed, body_sha256)
        return identity


