"""Integrity, as CloudTrail's log file validation does it: hash, chain, sign.

CloudTrail ("Validating CloudTrail log file integrity", CloudTrail User
Guide) writes, for each period, a *digest file* naming the SHA-256 of each
log file and the SHA-256 and signature of the previous digest file, signed
with a private key; a verifier with the public key then finds every log
file modified, deleted or moved and every gap in the digest chain. We do
the same per *segment* (a closed JSON-lines file), with Ed25519 from
``cryptography``:

* :func:`segment_digest` builds the digest body of one closed segment:
  ``sequence``, ``segment`` (file name), ``segmentSHA256``, ``segmentBytes``,
  ``eventCount``, ``firstEventTime``/``lastEventTime``, ``index`` (the lookup
  attributes present, for time- and attribute-bounded lookups) and
  ``previousDigestSHA256`` (SHA-256 of the previous digest file's bytes:
  the chain) and ``previousSignature``;
* :func:`sign_digest` adds ``signature`` (base64 Ed25519 over the canonical
  JSON of everything else) and ``publicKeyFingerprint``; the digest file is
  that canonical JSON (:func:`digest_bytes`);
* PostgreSQL rows use :func:`row_hash`: SHA-256 over the previous row's hash
  and the row's JSON line. The position (``seq``) is deliberately not in it:
  the chain itself fixes the order, so a row moved elsewhere still matches
  its own hash and is reported as *reordered* (it follows the wrong row),
  not as modified.

Keys: :func:`generate_signing_key` writes a PKCS#8 PEM private key (mode
0600) and the public key beside it (``NAME.pub``, SubjectPublicKeyInfo PEM);
the sink loads the private key with :func:`load_signing_key`, ``sigv4kit
audit verify`` the public one with :func:`load_verify_key`. A key object's
repr never shows the key.

Imports: cryptography, the standard library.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from sigv4kit import SigV4Error

__all__ = [
    "GENESIS_HASH",
    "AuditIntegrityError",
    "SigningKey",
    "generate_signing_key",
    "load_signing_key",
    "load_verify_key",
    "row_hash",
]

#: The "previous hash" of the first row of a chain.
GENESIS_HASH = "0" * 64


class AuditIntegrityError(SigV4Error):
    """An audit key cannot be read, or a digest is not well formed."""


class SigningKey:
    """An Ed25519 private key for digests; its repr never shows the key."""

    __slots__ = ("_key", "fingerprint", "public_key")

    def __init__(self, key: Ed25519PrivateKey) -> None:
        self._key = key
        self.public_key = key.public_key()
        self.fingerprint = key_fingerprint(self.public_key)

    def sign(self, data: bytes) -> bytes:
        return self._key.sign(data)

    def __repr__(self) -> str:
        return f"SigningKey(fingerprint={self.fingerprint!r})"


def key_fingerprint(public_key: Ed25519PublicKey) -> str:
    """SHA-256 (hex) of the raw 32-byte public key."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def generate_signing_key(path: Path) -> SigningKey:
    """Write a new private key to ``path`` (0600, refused if it exists) and ``path.pub``."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise AuditIntegrityError(f"{path} exists: refusing to overwrite a signing key") from None
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    Path(f"{path}.pub").write_bytes(public)
    return SigningKey(key)


def load_signing_key(path: Path) -> SigningKey:
    """The Ed25519 private key in PEM file ``path``."""
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except OSError as exc:
        raise AuditIntegrityError(f"cannot read signing key {path}: {exc.strerror}") from None
    except (ValueError, TypeError):
        raise AuditIntegrityError(f"{path} is not a PEM private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise AuditIntegrityError(f"{path} is not an Ed25519 private key")
    return SigningKey(key)


def load_verify_key(path: Path) -> Ed25519PublicKey:
    """The Ed25519 public key in PEM file ``path`` (a private key file works too)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise AuditIntegrityError(f"cannot read public key {path}: {exc.strerror}") from None
    try:
        if b"PRIVATE KEY" in data:
            private = serialization.load_pem_private_key(data, password=None)
            key: Any = private.public_key()
        else:
            key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError):
        raise AuditIntegrityError(f"{path} is not a PEM key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise AuditIntegrityError(f"{path} is not an Ed25519 key")
    return key


def _canonical(body: Mapping[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def sign_digest(body: Mapping[str, Any], key: SigningKey) -> dict[str, Any]:
    """``body`` with ``publicKeyFingerprint`` and ``signature`` (over all the rest)."""
    unsigned = {**body, "publicKeyFingerprint": key.fingerprint}
    unsigned.pop("signature", None)
    signature = base64.b64encode(key.sign(_canonical(unsigned))).decode("ascii")
    return {**unsigned, "signature": signature}


def digest_bytes(digest: Mapping[str, Any]) -> bytes:
    """A digest file's bytes (what the next digest's ``previousDigestSHA256`` covers)."""
    return _canonical(digest) + b"\n"


def verify_digest_signature(digest: Mapping[str, Any], public_key: Ed25519PublicKey) -> bool:
    """Whether ``digest['signature']`` is the key's signature over the rest of it."""
    unsigned = dict(digest)
    signature = unsigned.pop("signature", None)
    if not isinstance(signature, str):
        return False
    try:
        public_key.verify(base64.b64decode(signature, validate=True), _canonical(unsigned))
    except (InvalidSignature, ValueError):
        return False
    return True


def row_hash(previous: str, line: str) -> str:
    """A chained row's hash: SHA-256 of the previous row's hash (hex), a newline, the JSON line."""
    return hashlib.sha256(f"{previous}\n{line}".encode()).hexdigest()
