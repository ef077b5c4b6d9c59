"""Signing settings: every SigV4 quirk as a named, documented setting.

No code in sigv4kit branches on a service name. A service that needs other
rules gets a :class:`SigningSettings` that says so; :meth:`SigningSettings.s3`
is the preset for Amazon S3 and S3-compatible stores.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import Enum

__all__ = [
    "DEFAULT_UNSIGNED_HEADERS",
    "PathNormalization",
    "PayloadChecksumKind",
    "PayloadMode",
    "PercentEncoding",
    "SessionTokenMode",
    "SignatureLocation",
    "SigningAlgorithm",
    "SigningSettings",
]


class SigningAlgorithm(Enum):
    """The signature algorithm, with its wire token."""

    SIGV4 = "AWS4-HMAC-SHA256"
    #: SigV4A: ECDSA P-256 over a key derived from the secret, valid in a region set.
    SIGV4A = "AWS4-ECDSA-P256-SHA256"


class PercentEncoding(Enum):
    """How the URI path is encoded into the canonical request."""

    #: AWS services other than S3 percent-encode the (already encoded) wire
    #: path once more, so ``%20`` becomes ``%2520``.
    DOUBLE = "double"
    #: S3 encodes the decoded object key exactly once.
    SINGLE = "single"


class PathNormalization(Enum):
    """Whether ``.``/``..`` segments and empty segments are removed from the path."""

    ENABLED = "enabled"
    #: S3 keys may legitimately contain ``//``, ``.`` and ``..`` segments.
    DISABLED = "disabled"


class SignatureLocation(Enum):
    """Where the signature goes."""

    HEADERS = "headers"
    #: Presigned URLs: ``X-Amz-*`` query parameters.
    QUERY = "query"


class SessionTokenMode(Enum):
    """Whether the session token is part of the signature."""

    INCLUDE = "include"
    #: Some services (IoT's MQTT over WebSocket, for one) want the token added
    #: after signing, outside the canonical request.
    EXCLUDE = "exclude"


class PayloadMode(Enum):
    """What goes in the payload-hash line of the canonical request."""

    #: Lower-case hex SHA-256 of the body bytes.
    SHA256 = "sha256"
    #: The literal ``UNSIGNED-PAYLOAD`` (S3 over TLS, S3 presigned URLs).
    UNSIGNED = "UNSIGNED-PAYLOAD"


class PayloadChecksumKind(Enum):
    """Whether the payload hash is also sent (and signed) as a header."""

    NONE = "none"
    #: S3 requires ``x-amz-content-sha256`` on every header-signed request.
    X_AMZ_CONTENT_SHA256 = "x-amz-content-sha256"


#: botocore's ``SIGNED_HEADERS_BLACKLIST``: headers that proxies and HTTP
#: stacks add, change or drop in transit, so signing them breaks signatures.
DEFAULT_UNSIGNED_HEADERS: frozenset[str] = frozenset(
    {
        "authorization",
        "connection",
        "expect",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "user-agent",
        "x-amzn-trace-id",
    }
)


@dataclass(frozen=True, slots=True, kw_only=True)
class SigningSettings:
    """The rules a service applies when it checks a SigV4 signature.

    ``SigningSettings()`` are the rules of every AWS service except S3;
    ``SigningSettings.s3()`` are S3's. Change one rule with :meth:`replace`::

        settings = SigningSettings.s3().replace(payload=PayloadMode.UNSIGNED)
    """

    percent_encoding: PercentEncoding = PercentEncoding.DOUBLE
    path_normalization: PathNormalization = PathNormalization.ENABLED
    signature_location: SignatureLocation = SignatureLocation.HEADERS
    session_token_mode: SessionTokenMode = SessionTokenMode.INCLUDE
    payload: PayloadMode = PayloadMode.SHA256
    #: The payload line of a presigned URL. AWS services hash the (usually
    #: empty) body; S3 presigned URLs are always ``UNSIGNED-PAYLOAD`` because
    #: the URL is made before any body exists.
    presigned_payload: PayloadMode = PayloadMode.SHA256
    payload_checksum: PayloadChecksumKind = PayloadChecksumKind.NONE
    unsigned_headers: frozenset[str] = DEFAULT_UNSIGNED_HEADERS

    def __post_init__(self) -> None:
        lowered = frozenset(name.lower() for name in self.unsigned_headers)
        if "host" in lowered:
            raise ValueError("the host header is always signed and cannot be unsigned")
        object.__setattr__(self, "unsigned_headers", lowered)

    @classmethod
    def s3(cls) -> SigningSettings:
        """S3's rules: single encoding, no normalization, ``x-amz-content-sha256``."""
        return cls(
            percent_encoding=PercentEncoding.SINGLE,
            path_normalization=PathNormalization.DISABLED,
            presigned_payload=PayloadMode.UNSIGNED,
            payload_checksum=PayloadChecksumKind.X_AMZ_CONTENT_SHA256,
        )

    def replace(self, **changes: object) -> SigningSettings:
        """A copy with some settings changed."""
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]
