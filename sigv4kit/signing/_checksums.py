"""Flexible checksums (CRC32, CRC32C, CRC64NVME, SHA1, SHA256), computed while streaming.

These are the algorithms of S3's ``x-amz-checksum-*`` headers and trailers;
values travel base64-encoded, big-endian. CRC32 and the SHAs use the standard
library (C speed). CRC32C and CRC64NVME use ``awscrt`` when it is installed
(``pip install sigv4kit[crt]``) and a table-driven pure-Python fallback
otherwise (correct, but about 100x slower).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import zlib
from collections.abc import Callable
from enum import Enum
from functools import cache
from typing import Protocol

__all__ = ["Checksum", "ChecksumAlgorithm", "new_checksum"]


class ChecksumAlgorithm(Enum):
    """A flexible checksum algorithm; the value is S3's name for it."""

    CRC32 = "CRC32"
    CRC32C = "CRC32C"
    CRC64NVME = "CRC64NVME"
    SHA1 = "SHA1"
    SHA256 = "SHA256"

    @property
    def header_name(self) -> str:
        """``x-amz-checksum-crc32`` and so on."""
        return f"x-amz-checksum-{self.value.lower()}"

    @property
    def digest_size(self) -> int:
        """Size of the raw digest in bytes."""
        return _DIGEST_SIZES[self]

    @classmethod
    def from_header_name(cls, name: str) -> ChecksumAlgorithm:
        """The algorithm of an ``x-amz-checksum-*`` header name.

        Raises :class:`ValueError` for any other name.
        """
        lname = name.lower()
        for algorithm in cls:
            if algorithm.header_name == lname:
                return algorithm
        raise ValueError(f"{name!r} is not an x-amz-checksum-* header")

    def decode_value(self, text: str) -> bytes:
        """The raw digest of a base64 header value.

        Raises :class:`ValueError` when the value is not base64 of the right size.
        """
        try:
            raw = base64.b64decode(text.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise ValueError(f"{self.header_name} value {text!r} is not base64") from None
        if len(raw) != self.digest_size:
            raise ValueError(
                f"{self.header_name} value {text!r} is {len(raw)} bytes, not {self.digest_size}"
            )
        return raw


_DIGEST_SIZES = {
    ChecksumAlgorithm.CRC32: 4,
    ChecksumAlgorithm.CRC32C: 4,
    ChecksumAlgorithm.CRC64NVME: 8,
    ChecksumAlgorithm.SHA1: 20,
    ChecksumAlgorithm.SHA256: 32,
}


class Checksum(Protocol):
    """A running checksum."""

    algorithm: ChecksumAlgorithm

    def update(self, data: bytes | memoryview) -> None: ...

    def digest(self) -> bytes: ...

    def b64digest(self) -> str: ...


def _reflected_table(poly: int, width: int) -> list[int]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ poly if crc & 1 else crc >> 1
        table.append(crc & ((1 << width) - 1))
    return table


# Reflected polynomials: CRC-32C (Castagnoli) and CRC-64/NVME.
_CRC32C_TABLE = _reflected_table(0x82F63B78, 32)
_CRC64NVME_TABLE = _reflected_table(0x9A6C9329AC4BC9B5, 64)


def _py_crc(table: list[int], mask: int) -> Callable[[bytes | memoryview, int], int]:
    def crc(data: bytes | memoryview, previous: int = 0) -> int:
        value = previous ^ mask
        for byte in bytes(data):
            value = table[(value ^ byte) & 0xFF] ^ (value >> 8)
        return value ^ mask

    return crc


py_crc32c = _py_crc(_CRC32C_TABLE, 0xFFFFFFFF)
py_crc64nvme = _py_crc(_CRC64NVME_TABLE, 0xFFFFFFFFFFFFFFFF)


@cache
def _crc_functions() -> tuple[
    Callable[[bytes | memoryview, int], int], Callable[[bytes | memoryview, int], int]
]:
    """CRC-32C and CRC-64/NVME: awscrt's when installed, else the pure-Python ones.

    Looked up on first use, not at import: loading awscrt seeds its entropy
    pool (about 40 ms here), which every ``import sigv4kit`` (the CLI, each
    server worker) paid for checksums most of them never compute.
    """
    try:
        from awscrt import checksums
    except ImportError:  # pragma: no cover - awscrt is in the dev extra
        return py_crc32c, py_crc64nvme
    return checksums.crc32c, checksums.crc64nvme


class _CRC:
    __slots__ = ("_fn", "_size", "_value", "algorithm")

    def __init__(
        self,
        algorithm: ChecksumAlgorithm,
        fn: Callable[[bytes | memoryview, int], int],
        size: int,
    ) -> None:
        self.algorithm = algorithm
        self._fn = fn
        self._size = size
        self._value = 0

    def update(self, data: bytes | memoryview) -> None:
        self._value = self._fn(data, self._value)

    def digest(self) -> bytes:
        return self._value.to_bytes(self._size, "big")

    def b64digest(self) -> str:
        return base64.b64encode(self.digest()).decode("ascii")


class _Hash:
    __slots__ = ("_hash", "algorithm")

    def __init__(self, algorithm: ChecksumAlgorithm) -> None:
        self.algorithm = algorithm
        self._hash = hashlib.new(algorithm.value.lower())

    def update(self, data: bytes | memoryview) -> None:
        self._hash.update(data)

    def digest(self) -> bytes:
        return self._hash.digest()

    def b64digest(self) -> str:
        return base64.b64encode(self.digest()).decode("ascii")


def new_checksum(algorithm: ChecksumAlgorithm) -> Checksum:
    """A fresh running checksum of ``algorithm``."""
    if algorithm is ChecksumAlgorithm.CRC32:
        return _CRC(algorithm, zlib.crc32, 4)
    if algorithm is ChecksumAlgorithm.CRC32C:
        return _CRC(algorithm, _crc_functions()[0], 4)
    if algorithm is ChecksumAlgorithm.CRC64NVME:
        return _CRC(algorithm, _crc_functions()[1], 8)
    return _Hash(algorithm)
