"""TOTP codes, windows and the provisioning QR code of virtual MFA devices (pure parts)."""

from __future__ import annotations

import base64
import importlib
import io
import pkgutil
import struct
from datetime import UTC, datetime

import pytest
import segno
import zxingcpp
from PIL import Image
from sigv4kit.middleware.iam import mfa
from sigv4kit.middleware.iam.mfa import (
    base32_seed,
    code_at,
    consecutive_step,
    matching_step,
    provisioning_uri,
    qr_png,
    step_at,
)

# RFC 6238 Appendix B, SHA-1 rows: the seed is the ASCII "12345678901234567890"
# and the published codes have 8 digits; a 6-digit code is the same truncated
# value modulo 10^6 (RFC 4226 §5.3), i.e. the last six digits.
RFC_SEED = b"12345678901234567890"
RFC6238_SHA1 = [
    (59, "94287082"),
    (1111111109, "07081804"),
    (1111111111, "14050471"),
    (1234567890, "89005924"),
    (2000000000, "69279037"),
    (20000000000, "65353130"),
]


@pytest.mark.parametrize(("unix_time", "eight_digits"), RFC6238_SHA1)
def test_rfc6238_appendix_b_sha1_vectors(unix_time: int, eight_digits: str) -> None:
    assert code_at(RFC_SEED, step_at(unix_time)) == eight_digits[-6:]
    assert matching_step(RFC_SEED, eight_digits[-6:], now=unix_time) == unix_time // 30


def test_steps_are_30_seconds_from_the_epoch() -> None:
    # RFC 6238 §4.2 with T0 = 0 and X = 30: T = floor(time / 30).
    assert [step_at(t) for t in (0, 29.999, 30, 59, 60)] == [0, 0, 1, 1, 2]


def test_window_is_one_step_each_way() -> None:
    now = 1234567890  # step 41152263
    step = now // 30
    for offset, accepted in [(-2, False), (-1, True), (0, True), (1, True), (2, False)]:
        found = matching_step(RFC_SEED, code_at(RFC_SEED, step + offset), now=now)
        assert (found == step + offset) is accepted, offset


def test_drift_shifts_the_window() -> None:
    now = 1234567890
    step = now // 30
    far = code_at(RFC_SEED, step + 5)
    assert matching_step(RFC_SEED, far, now=now) is None
    assert matching_step(RFC_SEED, far, now=now, drift=5) == step + 5
    assert matching_step(RFC_SEED, far, now=now, drift=4) == step + 5


@pytest.mark.parametrize(
    "code",
    [
        "",
        "12345",
        "1234567",
        "12345a",
        " 287082",
        "\uff12\uff18\uff17\uff10\uff18\uff12",
        None,
        287082,
        b"287082",
    ],
)
def test_anything_but_six_ascii_digits_matches_nothing(code: object) -> None:
    assert matching_step(RFC_SEED, code, now=59) is None
    assert consecutive_step(RFC_SEED, code, code_at(RFC_SEED, 2), now=59) is None


def test_consecutive_codes_find_the_first_step() -> None:
    now = 1111111111
    step = now // 30
    for offset in (-10, -3, 0, 4, 9):
        n = step + offset
        got = consecutive_step(RFC_SEED, code_at(RFC_SEED, n), code_at(RFC_SEED, n + 1), now=now)
        assert got == n
    n = step + 11  # outside the ±10 step search
    late = (code_at(RFC_SEED, n), code_at(RFC_SEED, n + 1))
    assert consecutive_step(RFC_SEED, *late, now=now) is None
    # The same code twice, or two codes in the wrong order, are not consecutive.
    c = code_at(RFC_SEED, step)
    assert consecutive_step(RFC_SEED, c, c, now=now) is None
    assert consecutive_step(RFC_SEED, code_at(RFC_SEED, step + 1), c, now=now) is None


def test_base32_seed_has_no_padding() -> None:
    # RFC 4648 §10: BASE32("foobar") = "MZXW6YTBOI======"
    assert base32_seed(b"foobar") == "MZXW6YTBOI"
    assert len(base32_seed(bytes(40))) == 64


def test_provisioning_uri_is_aws_documented_form() -> None:
    # IAM API reference, VirtualMFADevice.QRCodePNG:
    # otpauth://totp/$virtualMFADeviceName@$AccountName?secret=$Base32String
    uri = provisioning_uri("bob-phone", "123456789012", "MZXW6YTBOI")
    assert uri == "otpauth://totp/bob-phone@123456789012?secret=MZXW6YTBOI"
    with_issuer = provisioning_uri("a b", "123456789012", "MZXW6YTBOI", issuer="My Co")
    assert with_issuer == "otpauth://totp/a%20b@123456789012?secret=MZXW6YTBOI&issuer=My%20Co"


def _png_size(png: bytes) -> tuple[int, int]:
    # PNG signature, then the IHDR chunk: width and height, big-endian (RFC 2083 §4.1.1).
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def test_qr_png_decodes_back_to_the_uri() -> None:
    uri = provisioning_uri("bob-phone", "123456789012", base32_seed(bytes(range(40))))
    png = qr_png(uri)
    # An independent reader (zxing-cpp) decodes the image to the same text.
    results = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert [r.text for r in results] == [uri]
    # Dimensions: (modules + 2 * 4 quiet zone) * 4 pixels, square.
    modules = segno.make_qr(uri, error="m").symbol_size(scale=1, border=0)[0]
    assert _png_size(png) == ((modules + 8) * 4, (modules + 8) * 4)


def test_all_is_sorted_and_complete() -> None:
    # isort style (ruff RUF022), as tests/test_public_api.py checks the core.
    def key(name: str) -> tuple[int, str]:
        return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)

    assert mfa.__all__ == sorted(mfa.__all__, key=key)
    for info in pkgutil.iter_modules(mfa.__path__):
        module = importlib.import_module(f"{mfa.__name__}.{info.name}")
        for name in module.__all__:
            assert getattr(mfa, name) is getattr(module, name), name


def test_wire_seed_is_base64_of_the_base32_text() -> None:
    device = mfa.MFADevice(
        serial_number="arn:aws:iam::123456789012:mfa/x",
        account_id="123456789012",
        user_name=None,
        user_id=None,
        enable_date=None,
        create_date=datetime(2026, 1, 1, tzinfo=UTC),
    )
    new = mfa.NewVirtualMFADevice(
        device=device, base32_string_seed="MZXW6YTBOI", provisioning_uri="u", qr_code_png=b"p"
    )
    assert base64.b64decode(new.wire_seed()) == b"MZXW6YTBOI"
    assert "MZXW6YTBOI" not in repr(new)
