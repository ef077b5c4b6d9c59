"""What the MFA operations return: frozen, slotted, keyword-only records.

Secrets (the seed, its base32 text, the QR code that encodes it) are
``repr=False``: a device prints without them.

Imports: the standard library.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import datetime, timedelta

__all__ = ["MFADevice", "MFASettings", "MFAVerification", "NewVirtualMFADevice"]


@dataclass(frozen=True, slots=True, kw_only=True)
class MFASettings:
    """How MFA codes are checked; the defaults are IAM's and RFC 6238's."""

    #: Wrong codes in a row that lock a device (counted in the database, so
    #: every worker agrees; any accepted code resets the count).
    max_failures: int = 5
    #: How long a locked device refuses every code, right or wrong.
    lockout: timedelta = timedelta(minutes=5)
    #: IAM's quota "MFA devices in use per user" (IAM and STS quotas page).
    max_devices_per_user: int = 8
    #: ``issuer=`` of the provisioning URI; None for AWS's exact form.
    issuer: str | None = "sigv4kit"


@dataclass(frozen=True, slots=True, kw_only=True)
class MFADevice:
    """A virtual MFA device (``VirtualMFADevice`` / ``MFADevice`` in IAM's API)."""

    serial_number: str
    account_id: str
    #: The user it is assigned to (None until ``EnableMFADevice``).
    user_name: str | None
    user_id: str | None
    enable_date: datetime | None
    create_date: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class NewVirtualMFADevice:
    """``CreateVirtualMFADevice``'s answer: the only time the seed leaves the store."""

    device: MFADevice
    #: The seed in base32 (``Base32StringSeed`` is these ASCII bytes, base64 on the wire).
    base32_string_seed: str = field(repr=False)
    #: The ``otpauth://`` URI the QR code holds.
    provisioning_uri: str = field(repr=False)
    #: A PNG (``QRCodePNG``; base64 on the wire).
    qr_code_png: bytes = field(repr=False)

    @property
    def serial_number(self) -> str:
        return self.device.serial_number

    def wire_seed(self) -> str:
        """``Base32StringSeed`` as the Query protocol sends a blob: base64 of the base32 text."""
        return base64.b64encode(self.base32_string_seed.encode("ascii")).decode("ascii")


@dataclass(frozen=True, slots=True, kw_only=True)
class MFAVerification:
    """A sign-in code accepted: what a session records (``aws:MultiFactorAuthAge``)."""

    serial_number: str
    #: The time step of the accepted code (it and every earlier one are spent).
    step: int
    #: When the code was checked: the MFA authentication time of the session.
    authenticated_at: datetime
