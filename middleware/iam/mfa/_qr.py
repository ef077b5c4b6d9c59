"""The provisioning URI and QR code of a virtual MFA device.

AWS's ``QRCodePNG`` "encodes
``otpauth://totp/$virtualMFADeviceName@$AccountName?secret=$Base32String``
where ... AccountName is the user name if set (otherwise, the account ID
...)" (IAM API reference, ``VirtualMFADevice``). A device is created before
it is assigned, so the label carries the account id. An ``issuer`` may be
added (Google Authenticator's key-uri format: apps show it as the account's
heading); without one the URI is exactly AWS's documented form.

The PNG is drawn by :mod:`segno` (pure Python, no imaging library).

Imports: segno, the standard library.
"""

from __future__ import annotations

import io
from urllib.parse import quote, urlencode

import segno

__all__ = ["provisioning_uri", "qr_png"]

#: Pixels per QR module and quiet-zone modules: scannable from a screen.
QR_SCALE = 4
QR_BORDER = 4


def provisioning_uri(
    device_name: str, account_name: str, base32_secret: str, *, issuer: str | None = None
) -> str:
    """``otpauth://totp/<device>@<account>?secret=<base32>[&issuer=<issuer>]``.

    The label is percent-encoded (``@`` kept, as AWS writes it); so is the issuer.
    """
    label = quote(f"{device_name}@{account_name}", safe="@")
    query = [("secret", base32_secret)]
    if issuer is not None:
        query.append(("issuer", issuer))
    return f"otpauth://totp/{label}?{urlencode(query, quote_via=quote)}"


def qr_png(uri: str) -> bytes:
    """A PNG of the QR code of ``uri`` (error correction M, byte mode as needed)."""
    out = io.BytesIO()
    segno.make_qr(uri, error="m").save(out, kind="png", scale=QR_SCALE, border=QR_BORDER)
    return out.getvalue()
