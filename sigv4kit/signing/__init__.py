"""Signing: credentials, scope, string to sign, key derivation, SigV4 and SigV4A signatures,
checksums, the aws-chunked chunk chain and encoder.

Re-exports the settings (``sigv4kit._settings``: every protocol quirk as a named setting).
May import ``sigv4kit.canonical`` and the shared base modules (``_exceptions``, ``_settings``);
never ``verify``, ``client``, ``explain`` or ``cli``.
"""

from __future__ import annotations

from .._settings import (
    DEFAULT_UNSIGNED_HEADERS,
    PathNormalization,
    PayloadChecksumKind,
    PayloadMode,
    PercentEncoding,
    SessionTokenMode,
    SignatureLocation,
    SigningAlgorithm,
    SigningSettings,
)
from ._checksums import (
    Checksum,
    ChecksumAlgorithm,
    new_checksum,
)
from ._chunked import (
    DEFAULT_CHUNK_SIZE,
    MAX_CHUNK_SIZE,
    MIN_CHUNK_SIZE,
    SIGV4A_SIGNATURE_LENGTH,
    ChunkChain,
    ChunkedEncoding,
    StreamingMode,
    aiter_encoded,
    canonical_trailers,
    chunk_string_to_sign,
    encoded_length,
    iter_encoded,
    trailer_string_to_sign,
)
from ._credentials import (
    Credentials,
)
from ._signer import (
    MAX_PRESIGN_EXPIRES,
    CredentialScope,
    SigningResult,
    StringToSign,
    amz_date,
    calculate_signature,
    derive_signing_key,
    derive_sigv4a_private_key,
    sign,
    sign_sigv4a,
    verify_sigv4a,
)

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "DEFAULT_UNSIGNED_HEADERS",
    "MAX_CHUNK_SIZE",
    "MAX_PRESIGN_EXPIRES",
    "MIN_CHUNK_SIZE",
    "SIGV4A_SIGNATURE_LENGTH",
    "Checksum",
    "ChecksumAlgorithm",
    "ChunkChain",
    "ChunkedEncoding",
    "CredentialScope",
    "Credentials",
    "PathNormalization",
    "PayloadChecksumKind",
    "PayloadMode",
    "PercentEncoding",
    "SessionTokenMode",
    "SignatureLocation",
    "SigningAlgorithm",
    "SigningResult",
    "SigningSettings",
    "StreamingMode",
    "StringToSign",
    "aiter_encoded",
    "amz_date",
    "calculate_signature",
    "canonical_trailers",
    "chunk_string_to_sign",
    "derive_signing_key",
    "derive_sigv4a_private_key",
    "encoded_length",
    "iter_encoded",
    "new_checksum",
    "sign",
    "sign_sigv4a",
    "trailer_string_to_sign",
    "verify_sigv4a",
]
