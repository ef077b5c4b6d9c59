"""Virtual MFA devices: RFC 6238 codes, IAM's device lifecycle, STS's one-time check.

* :class:`MFAStore` (over a key store): ``create_virtual_mfa_device``,
  ``enable_mfa_device``, ``resync_mfa_device``, ``deactivate_mfa_device``,
  ``delete_virtual_mfa_device``, ``list_mfa_devices``,
  ``list_virtual_mfa_devices`` and, for STS, ``verify_code`` (a code is
  accepted once, across workers; wrong codes lock the device for a while).
* Pure TOTP (:func:`code_at`, :func:`matching_step`, :func:`consecutive_step`)
  and the provisioning URI / QR code (:func:`provisioning_uri`, :func:`qr_png`).

Errors are IAM's one hierarchy (``IAMError`` of :mod:`..entities`, also
exported here as :data:`MFAError`): the entities' classes for device
management (``NoSuchEntity``, ``EntityAlreadyExists``, ...) and MFA's own
:class:`InvalidAuthenticationCode` and :class:`MFAAuthenticationFailed`. Each
carries IAM's or STS's code, status and message; none of them, and no repr,
ever holds a seed or a code.
"""

from __future__ import annotations

from ..entities import (
    DeleteConflict,
    EntityAlreadyExists,
    InvalidInput,
    LimitExceeded,
    NoSuchEntity,
    ValidationError,
)
from ._errors import InvalidAuthenticationCode, MFAAuthenticationFailed, MFAError, MFAFailure
from ._model import MFADevice, MFASettings, MFAVerification, NewVirtualMFADevice
from ._qr import provisioning_uri, qr_png
from ._store import MFAStore, serial_number
from ._totp import (
    DIGITS,
    SEED_BYTES,
    SYNC_WINDOW_STEPS,
    TIME_STEP,
    WINDOW_STEPS,
    base32_seed,
    code_at,
    consecutive_step,
    matching_step,
    new_seed,
    step_at,
)

__all__ = [
    "DIGITS",
    "SEED_BYTES",
    "SYNC_WINDOW_STEPS",
    "TIME_STEP",
    "WINDOW_STEPS",
    "DeleteConflict",
    "EntityAlreadyExists",
    "InvalidAuthenticationCode",
    "InvalidInput",
    "LimitExceeded",
    "MFAAuthenticationFailed",
    "MFADevice",
    "MFAError",
    "MFAFailure",
    "MFASettings",
    "MFAStore",
    "MFAVerification",
    "NewVirtualMFADevice",
    "NoSuchEntity",
    "ValidationError",
    "base32_seed",
    "code_at",
    "consecutive_step",
    "matching_step",
    "new_seed",
    "provisioning_uri",
    "qr_png",
    "serial_number",
    "step_at",
]
