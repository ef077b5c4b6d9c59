"""Password hashes: Argon2id (RFC 9106) through argon2-cffi, in PHC string form.

The parameters are OWASP's first recommended Argon2id configuration
(Password Storage Cheat Sheet): ``m=19 MiB`` of memory, ``t=2`` passes,
``p=1`` lane, with a 16-byte random salt and a 32-byte tag. They are written
into each hash (``$argon2id$v=19$m=19456,t=2,p=1$...``), so changing them
later still verifies old hashes, and :func:`needs_rehash` says when to
upgrade one at the next successful sign-in. RFC 9106's low-memory profile
(64 MiB, t=3, p=4) measured 0.4-1.5 s a hash on this project's two shared CI
cores; this one about 0.2 s there. Hashing runs in a worker thread
(:func:`asyncio.to_thread` in the store), so the event loop keeps serving, and
sign-in throttling bounds how many hashes an attacker can make the server compute.

A password is never logged nor kept: only the hash leaves this module.
"""

from __future__ import annotations

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

__all__ = ["HASHER", "hash_password", "needs_rehash", "verify_password"]

#: The hasher: Argon2id, m=19 MiB, t=2, p=1 (OWASP), 16-byte salt, 32-byte tag.
HASHER = PasswordHasher(
    time_cost=2, memory_cost=19 * 1024, parallelism=1, hash_len=32, salt_len=16, type=Type.ID
)


def hash_password(password: str, hasher: PasswordHasher = HASHER) -> str:
    """The PHC string of a new Argon2id hash of ``password`` (random salt)."""
    return hasher.hash(password)


def verify_password(stored: str, password: str, hasher: PasswordHasher = HASHER) -> bool:
    """Whether ``password`` matches the PHC string ``stored`` (constant-time in the tag)."""
    try:
        return hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str, hasher: PasswordHasher = HASHER) -> bool:
    """Whether ``stored`` was made with other parameters than ``hasher``'s."""
    return hasher.check_needs_rehash(stored)
