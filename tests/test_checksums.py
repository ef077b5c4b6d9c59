"""Flexible checksums: published check values, and the fallbacks against awscrt."""

from __future__ import annotations

import base64
import hashlib
import subprocess
import sys
import zlib

import pytest
from awscrt import checksums as crt
from hypothesis import given, settings
from hypothesis import strategies as st

from sigv4kit import ChecksumAlgorithm
from sigv4kit.signing import new_checksum
from sigv4kit.signing._checksums import py_crc32c, py_crc64nvme

CHECK_INPUT = b"123456789"
# Check values from the CRC catalogue (reveng.sourceforge.io): CRC-32/ISO-HDLC,
# CRC-32/ISCSI and CRC-64/NVME.
CHECK_VALUES = {
    ChecksumAlgorithm.CRC32: 0xCBF43926,
    ChecksumAlgorithm.CRC32C: 0xE3069283,
    ChecksumAlgorithm.CRC64NVME: 0xAE8B14860A799888,
}


@pytest.mark.parametrize("algorithm", list(CHECK_VALUES))
def test_check_values(algorithm: ChecksumAlgorithm) -> None:
    checksum = new_checksum(algorithm)
    checksum.update(CHECK_INPUT[:4])
    checksum.update(CHECK_INPUT[4:])
    assert int.from_bytes(checksum.digest(), "big") == CHECK_VALUES[algorithm]


def test_pure_python_fallbacks_check_values() -> None:
    assert py_crc32c(CHECK_INPUT, 0) == CHECK_VALUES[ChecksumAlgorithm.CRC32C]
    assert py_crc64nvme(CHECK_INPUT, 0) == CHECK_VALUES[ChecksumAlgorithm.CRC64NVME]


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=300), st.binary(max_size=300))
def test_fallbacks_agree_with_awscrt_when_streaming(first: bytes, second: bytes) -> None:
    assert py_crc32c(second, py_crc32c(first, 0)) == crt.crc32c(first + second)
    assert py_crc64nvme(second, py_crc64nvme(first, 0)) == crt.crc64nvme(first + second)


@pytest.mark.parametrize("algorithm", [ChecksumAlgorithm.SHA1, ChecksumAlgorithm.SHA256])
def test_sha_checksums(algorithm: ChecksumAlgorithm) -> None:
    checksum = new_checksum(algorithm)
    checksum.update(b"hello ")
    checksum.update(memoryview(b"world"))
    expected = hashlib.new(algorithm.value.lower(), b"hello world").digest()
    assert checksum.b64digest() == base64.b64encode(expected).decode()


def test_header_names_and_values() -> None:
    assert ChecksumAlgorithm.CRC64NVME.header_name == "x-amz-checksum-crc64nvme"
    assert ChecksumAlgorithm.from_header_name("X-Amz-Checksum-SHA256") is ChecksumAlgorithm.SHA256
    with pytest.raises(ValueError, match="not an x-amz-checksum"):
        ChecksumAlgorithm.from_header_name("x-amz-meta-a")
    crc = zlib.crc32(b"abc").to_bytes(4, "big")
    assert ChecksumAlgorithm.CRC32.decode_value(base64.b64encode(crc).decode()) == crc
    with pytest.raises(ValueError, match="not base64"):
        ChecksumAlgorithm.CRC32.decode_value("***")
    with pytest.raises(ValueError, match="not 4"):
        ChecksumAlgorithm.CRC32.decode_value(base64.b64encode(b"12345678").decode())


def test_importing_the_library_does_not_load_awscrt() -> None:
    """awscrt seeds an entropy pool when loaded (~40 ms): the CLI and every server
    worker would pay it for CRC checksums they may never compute."""
    code = ("import sys, sigv4kit, sigv4kit.middleware\n"
            "from sigv4kit.middleware import SigV4Middleware\n"
            "assert 'awscrt' not in sys.modules, 'loaded at import'\n"
            "from sigv4kit import ChecksumAlgorithm\n"
            "from sigv4kit.signing import new_checksum\n"
            "new_checksum(ChecksumAlgorithm.CRC32C).update(b'x')\n"
            "assert 'awscrt' in sys.modules, 'not used for CRC-32C'\n")
    subprocess.run([sys.executable, "-c", code], check=True)
