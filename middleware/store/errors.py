"""The store's errors: one class per failure a caller can act on.

Errors::

    SigV4Error
     └── StoreError                  a store operation failed
          ├── StoreUnavailableError  the database cannot answer (fail closed, 503)
          │    ├── SecretDecryptionError  a secret cannot be decrypted (wrong
          │    │                          master key, tampered or moved ciphertext)
          │    └── SchemaVersionError     the database is not at this code's schema
          │                               revision (written by a newer sigv4kit)
          ├── PrincipalNotFoundError no principal with that name
          ├── KeyNotFoundError       no access key with that id
          ├── KeyLimitExceededError  a principal already has 2 access keys
          ├── StoreNotFoundError     open_store(create=False) found no store there
          └── MasterKeyError         master key missing or malformed

Imports: the core's :class:`~sigv4kit.SigV4Error` only.
"""

from __future__ import annotations

from sigv4kit import SigV4Error

__all__ = [
    "KeyLimitExceededError",
    "KeyNotFoundError",
    "MasterKeyError",
    "PrincipalNotFoundError",
    "SchemaVersionError",
    "SecretDecryptionError",
    "StoreError",
    "StoreNotFoundError",
    "StoreUnavailableError",
]


class StoreError(SigV4Error):
    """A store operation failed (bad URL, unknown principal, key limit, ...)."""


class StoreUnavailableError(StoreError):
    """The backing database cannot be reached; verification must fail closed."""


class PrincipalNotFoundError(StoreError):
    """No principal has that name."""


class KeyNotFoundError(StoreError):
    """No access key has that id."""


class KeyLimitExceededError(StoreError):
    """The principal already has :data:`MAX_KEYS_PER_PRINCIPAL` long-term keys."""


class MasterKeyError(StoreError):
    """The master key is missing, malformed or cannot be read or created."""


class SecretDecryptionError(StoreUnavailableError):
    """A stored secret cannot be decrypted: wrong master key, or tampered data.

    Never answered with a guess: the key is unusable until the right master
    key is configured. A :class:`StoreUnavailableError`, so the middleware
    fails closed (503) exactly as for an unreachable database.
    """


class StoreNotFoundError(StoreError):
    """``open_store(url, create=False)``: no store exists at that URL.

    A mistyped path or ``?schema=`` must not silently start an empty store.
    """


class SchemaVersionError(StoreUnavailableError):
    """The database is not at the schema revision this code serves (a newer sigv4kit wrote it).

    A :class:`StoreUnavailableError`: the middleware answers 503 and fails
    closed, as when the database is down, never a 500.
    """
