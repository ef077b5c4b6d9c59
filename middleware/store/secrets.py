"""Secrets encrypted at rest: AES-256-GCM under a master key.

Every stored secret access key is sealed in a versioned *envelope*::

    byte  0       envelope version (1)
    bytes 1..8    master key id: the first 8 bytes of
                  HMAC-SHA256(master key, "sigv4kit master key id v1")
    bytes 9..20   a random 96-bit nonce, new for every encryption
    bytes 21..    AES-256-GCM ciphertext followed by the 16-byte tag

The associated data is the 9-byte header followed by the access key id, so a
ciphertext copied onto another key's row, or re-labelled with another master
key id, fails authentication instead of decrypting. The master key id is also
stored in its own column beside each row, so a store opened with the wrong
master key says so precisely (``encrypted under master key 1a2b..., the
configured master key is 9f8e...``) and ``rewrap`` knows which rows to touch.

Where the master key comes from (:func:`resolve_master_key`), in order:

1. ``SIGV4KIT_MASTER_KEY``: base64 of exactly 32 bytes;
2. ``SIGV4KIT_MASTER_KEY_FILE``: a file holding that base64 text;
3. for SQLite only, ``<database>.key`` beside the database, created with mode
   0600 on first use (with a logged warning: the key then sits on the same
   disk as the data it protects). Server databases (PostgreSQL) pass no
   default file, which makes a configured master key mandatory.

Nothing here knows about a database: backends store the bytes of
:meth:`MasterKey.seal` and call :meth:`MasterKey.open`.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import hmac
import logging
import os
import secrets
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .errors import MasterKeyError, SecretDecryptionError

__all__ = [
    "ENVELOPE_VERSION",
    "MASTER_KEY_ENV",
    "MASTER_KEY_FILE_ENV",
    "MasterKey",
    "create_key_file",
    "envelope_key_id",
    "resolve_master_key",
]

logger = logging.getLogger("sigv4kit.middleware.store")

ENVELOPE_VERSION = 1
MASTER_KEY_ENV = "SIGV4KIT_MASTER_KEY"
MASTER_KEY_FILE_ENV = "SIGV4KIT_MASTER_KEY_FILE"

_KEY_BYTES = 32
_KEY_ID_BYTES = 8
_NONCE_BYTES = 12
_TAG_BYTES = 16
_HEADER_BYTES = 1 + _KEY_ID_BYTES
_KEY_ID_LABEL = b"sigv4kit master key id v1"


@dataclass(frozen=True, slots=True)
class MasterKey:
    """A 256-bit key-encryption key; prints without its bytes.

    ```python
    key = MasterKey.from_base64(os.environ["SIGV4KIT_MASTER_KEY"], source="env")
    envelope = key.seal("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", access_key_id="AKIA...")
    assert key.open(envelope, access_key_id="AKIA...") == "wJalr..."
    ```

    Raises :class:`MasterKeyError` when the material is not 32 bytes.
    """

    material: bytes = field(repr=False)
    #: Where the key came from, for messages (never the key itself).
    source: str = "given"

    def __post_init__(self) -> None:
        if not isinstance(self.material, bytes) or len(self.material) != _KEY_BYTES:
            size = len(self.material) if isinstance(self.material, bytes) else "non-bytes"
            raise MasterKeyError(
                f"a master key must be exactly {_KEY_BYTES} bytes, got {size} ({self.source})"
            )

    @classmethod
    def generate(cls, *, source: str = "generated") -> MasterKey:
        """A new random key from :mod:`secrets`."""
        return cls(secrets.token_bytes(_KEY_BYTES), source=source)

    @classmethod
    def from_base64(cls, text: str, *, source: str) -> MasterKey:
        """Decode base64 text of exactly 32 bytes (surrounding whitespace ignored).

        Raises :class:`MasterKeyError` naming ``source`` and what is wrong.
        """
        cleaned = text.strip()
        if not cleaned:
            raise MasterKeyError(f"{source} is empty; expected base64 of {_KEY_BYTES} bytes")
        try:
            raw = base64.b64decode(cleaned.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError, ValueError):
            raise MasterKeyError(
                f"{source} is not valid base64; expected base64 of {_KEY_BYTES} bytes "
                '(e.g. the output of: python -c "import base64,os;'
                'print(base64.b64encode(os.urandom(32)).decode())")'
            ) from None
        if len(raw) != _KEY_BYTES:
            raise MasterKeyError(
                f"{source} decodes to {len(raw)} bytes; a master key must be exactly "
                f"{_KEY_BYTES} bytes (44 base64 characters)"
            )
        return cls(raw, source=source)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> MasterKey:
        """Read a key file (base64 text). Warns in the log when others may read it.

        Raises :class:`MasterKeyError` when the file is missing, unreadable or malformed.
        """
        p = Path(path)
        try:
            text = p.read_bytes().decode("ascii")
            mode = p.stat().st_mode
        except FileNotFoundError:
            raise MasterKeyError(f"master key file {str(p)!r} does not exist") from None
        except UnicodeDecodeError:
            raise MasterKeyError(
                f"master key file {str(p)!r} is not base64 text of {_KEY_BYTES} bytes"
            ) from None
        except OSError as exc:
            raise MasterKeyError(
                f"master key file {str(p)!r} cannot be read: {exc.strerror or exc}"
            ) from None
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            logger.warning(
                "master key file %s is accessible to group or others (mode %o); chmod 600 it",
                p,
                stat.S_IMODE(mode),
            )
        return cls.from_base64(text, source=f"master key file {str(p)!r}")

    def to_base64(self) -> str:
        """The key as base64 text (what the env variable and key files hold)."""
        return base64.b64encode(self.material).decode("ascii")

    @property
    def key_id(self) -> str:
        """A public fingerprint (16 hex digits); reveals nothing about the key."""
        return self._key_id_bytes().hex()

    def _key_id_bytes(self) -> bytes:
        return hmac.new(self.material, _KEY_ID_LABEL, hashlib.sha256).digest()[:_KEY_ID_BYTES]

    def seal(self, secret: str, *, access_key_id: str, nonce: bytes | None = None) -> bytes:
        """Encrypt ``secret`` for the row of ``access_key_id``; returns the envelope.

        ``nonce`` is for tests only; by default 12 fresh random bytes.
        """
        if nonce is None:
            nonce = secrets.token_bytes(_NONCE_BYTES)
        if len(nonce) != _NONCE_BYTES:
            raise ValueError(f"a nonce is {_NONCE_BYTES} bytes")
        header = bytes([ENVELOPE_VERSION]) + self._key_id_bytes()
        aad = header + access_key_id.encode("utf-8")
        ciphertext = AESGCM(self.material).encrypt(nonce, secret.encode("utf-8"), aad)
        return header + nonce + ciphertext

    def open(self, envelope: bytes, *, access_key_id: str) -> str:
        """Decrypt an envelope made by :meth:`seal` for the same access key id.

        Raises :class:`SecretDecryptionError` for a malformed envelope, an
        unknown version, an envelope of another master key, or a ciphertext
        that fails authentication (altered, or moved from another key's row).
        Never returns anything but the original secret.
        """
        envelope = bytes(envelope)
        if len(envelope) < _HEADER_BYTES + _NONCE_BYTES + _TAG_BYTES:
            raise SecretDecryptionError(
                f"the stored secret of {access_key_id} is truncated ({len(envelope)} bytes)"
            )
        if envelope[0] != ENVELOPE_VERSION:
            raise SecretDecryptionError(
                f"the stored secret of {access_key_id} uses envelope version {envelope[0]}; "
                f"this sigv4kit reads version {ENVELOPE_VERSION}"
            )
        header = envelope[:_HEADER_BYTES]
        stored_id = header[1:]
        if not hmac.compare_digest(stored_id, self._key_id_bytes()):
            raise SecretDecryptionError(
                f"the secret of {access_key_id} was encrypted under master key "
                f"{stored_id.hex()}, but the configured master key ({self.source}) is "
                f"{self.key_id}; configure the right SIGV4KIT_MASTER_KEY or "
                "SIGV4KIT_MASTER_KEY_FILE"
            )
        nonce = envelope[_HEADER_BYTES : _HEADER_BYTES + _NONCE_BYTES]
        aad = header + access_key_id.encode("utf-8")
        try:
            plaintext = AESGCM(self.material).decrypt(
                nonce, envelope[_HEADER_BYTES + _NONCE_BYTES :], aad
            )
        except InvalidTag:
            raise SecretDecryptionError(
                f"the stored secret of {access_key_id} failed authentication: it was altered "
                "or belongs to another access key"
            ) from None
        try:
            return plaintext.decode("utf-8")
        except UnicodeDecodeError:  # pragma: no cover - authenticated data we wrote
            raise SecretDecryptionError(
                f"the stored secret of {access_key_id} is not text"
            ) from None


def envelope_key_id(envelope: bytes) -> str:
    """The master key id (hex) recorded in an envelope's header.

    Raises :class:`SecretDecryptionError` for an envelope too short to have one.
    """
    if len(envelope) < _HEADER_BYTES:
        raise SecretDecryptionError("a stored secret envelope is truncated")
    return bytes(envelope[1:_HEADER_BYTES]).hex()


def create_key_file(path: str | os.PathLike[str], key: MasterKey | None = None) -> MasterKey:
    """Atomically create a mode-0600 key file holding ``key`` (default: a new key).

    The file appears complete or not at all: the key is written to a private
    temporary file (``O_CREAT | O_EXCL``, mode 0600) that is then hard-linked
    to ``path``, which fails if ``path`` exists. When another process won the
    race, its key is read and returned instead, so concurrent first starts of
    several workers agree on one key.

    Raises :class:`MasterKeyError` when the file cannot be written.
    """
    target = Path(path)
    if key is None:
        key = MasterKey.generate(source=f"master key file {str(target)!r}")
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(8)}.tmp")
    try:
        fd = os.open(
            tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600
        )
        try:
            os.fchmod(fd, 0o600)
            os.write(fd, (key.to_base64() + "\n").encode("ascii"))
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp, target)
        except FileExistsError:
            return MasterKey.from_file(target)
        _fsync_dir(target.parent)
    except OSError as exc:
        raise MasterKeyError(
            f"cannot create master key file {str(target)!r}: {exc.strerror or exc}"
        ) from None
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
    return MasterKey(key.material, source=f"master key file {str(target)!r}")


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def resolve_master_key(
    environ: Mapping[str, str],
    *,
    default_key_file: str | os.PathLike[str] | None,
    create: bool = True,
) -> MasterKey:
    """The master key configured in ``environ``, else the default key file.

    ``default_key_file`` is ``<db>.key`` for SQLite and None for server
    databases, where a configured key is required. With ``create`` (the
    store is empty) a missing default key file is created (mode 0600) and a
    warning logged; without it, a missing file is an error, because a new key
    could not decrypt the secrets already stored.

    Raises :class:`MasterKeyError` naming the variable or file at fault.
    """
    env_key = environ.get(MASTER_KEY_ENV)
    env_file = environ.get(MASTER_KEY_FILE_ENV)
    if env_key is not None and env_file is not None:
        raise MasterKeyError(
            f"both {MASTER_KEY_ENV} and {MASTER_KEY_FILE_ENV} are set; set only one"
        )
    if env_key is not None:
        return MasterKey.from_base64(env_key, source=MASTER_KEY_ENV)
    if env_file is not None:
        if not env_file.strip():
            raise MasterKeyError(f"{MASTER_KEY_FILE_ENV} is empty; expected a file path")
        return MasterKey.from_file(env_file)
    if default_key_file is None:
        raise MasterKeyError(
            f"a master key is required: set {MASTER_KEY_ENV} (base64 of {_KEY_BYTES} bytes) "
            f"or {MASTER_KEY_FILE_ENV} (a file holding it)"
        )
    path = Path(default_key_file)
    if path.exists():
        return MasterKey.from_file(path)
    if not create:
        raise MasterKeyError(
            f"the store holds encrypted secrets but its key file {str(path)!r} is missing; "
            f"restore it, or set {MASTER_KEY_ENV} or {MASTER_KEY_FILE_ENV} to the master key"
        )
    key = create_key_file(path)
    logger.warning(
        "no %s or %s set: using the master key file %s (created, mode 0600). "
        "Keep it apart from database backups; in production configure the key explicitly.",
        MASTER_KEY_ENV,
        MASTER_KEY_FILE_ENV,
        path,
    )
    return key
