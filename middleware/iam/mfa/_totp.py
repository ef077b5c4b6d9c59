"""TOTP (RFC 6238) for virtual MFA devices: pure functions, time passed in.

IAM's virtual devices are RFC 6238 with the authenticator apps' defaults:
HMAC-SHA-1, 6 digits, 30-second steps (the ``otpauth://`` URI AWS encodes
names none of them, so apps use those defaults). The one-time codes come from
:class:`cryptography.hazmat.primitives.twofactor.totp.TOTP` (constant-time
comparison included); what RFC 6238 leaves to the verifier is here:

* a window of ``±1`` step around the device's expected step (RFC 6238 §5.2
  recommends at most one step of network delay), shifted by the device's
  learned clock drift;
* finding two *consecutive* codes within a wider bounded window, which is how
  ``EnableMFADevice`` and ``ResyncMFADevice`` learn the drift;
* never the replay check: that needs the store (an atomic compare-and-set of
  the last step used, :mod:`._store`).

Imports: cryptography only.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable

from cryptography.hazmat.primitives.hashes import SHA1
from cryptography.hazmat.primitives.twofactor import InvalidToken
from cryptography.hazmat.primitives.twofactor.totp import TOTP

__all__ = [
    "DIGITS",
    "SEED_BYTES",
    "SYNC_WINDOW_STEPS",
    "TIME_STEP",
    "WINDOW_STEPS",
    "base32_seed",
    "code_at",
    "consecutive_step",
    "matching_step",
    "new_seed",
    "step_at",
]

#: RFC 6238's X, and the apps' default period.
TIME_STEP = 30
#: IAM's virtual devices show six digits ("authentication code ... six-digit").
DIGITS = 6
#: Accepted drift around the expected step: RFC 6238 §5.2 "at most one time step".
WINDOW_STEPS = 1
#: How far Enable/Resync look for two consecutive codes (±5 minutes): wide
#: enough for a phone clock that drifted, narrow enough that guessing two
#: consecutive 6-digit codes stays hopeless (21 chances in 10^12).
SYNC_WINDOW_STEPS = 10
#: 40 random bytes: 64 base32 characters, the seed length IAM hands out.
SEED_BYTES = 40

_CODE_RE = re.compile(r"[0-9]{6}", re.ASCII)


def new_seed(random: Callable[[int], bytes]) -> bytes:
    """A new device seed from ``random`` (e.g. :func:`secrets.token_bytes`)."""
    seed = random(SEED_BYTES)
    if len(seed) != SEED_BYTES:
        raise ValueError(f"random() returned {len(seed)} bytes, expected {SEED_BYTES}")
    return seed


def base32_seed(seed: bytes) -> str:
    """The seed as RFC 4648 base32 without padding (what apps and ``Base32StringSeed`` hold)."""
    return base64.b32encode(seed).decode("ascii").rstrip("=")


def step_at(now: float) -> int:
    """RFC 6238's T: the time step of Unix time ``now`` (floor division, T0 = 0)."""
    return int(now // TIME_STEP)


def _totp(seed: bytes) -> TOTP:
    # RFC 4226 §4 requires at least 128 bits of key; our seeds have 320.
    # HMAC-SHA-1 is what RFC 6238 and every authenticator app default to (no
    # collision resistance is needed for an HMAC).
    return TOTP(seed, DIGITS, SHA1(), TIME_STEP, enforce_key_length=len(seed) >= 16)  # noqa: S303


def code_at(seed: bytes, step: int) -> str:
    """The six-digit code of ``step`` (what the device shows during that step)."""
    return _totp(seed).generate(step * TIME_STEP).decode("ascii")


def _is_code(code: object) -> bool:
    return isinstance(code, str) and _CODE_RE.fullmatch(code) is not None


def _matches(totp: TOTP, code: str, step: int) -> bool:
    try:
        totp.verify(code.encode("ascii"), step * TIME_STEP)
    except InvalidToken:
        return False
    return True


def matching_step(
    seed: bytes, code: object, *, now: float, drift: int = 0, window: int = WINDOW_STEPS
) -> int | None:
    """The step within ``expected ± window`` whose code is ``code``, else None.

    ``expected`` is :func:`step_at` of ``now`` plus the device's ``drift``.
    Every candidate is compared (constant time each), and the *latest*
    matching step wins, so a replay check against the last used step is as
    strict as it can be. Anything but six ASCII digits matches nothing.
    """
    if not _is_code(code):
        return None
    assert isinstance(code, str)
    totp = _totp(seed)
    expected = step_at(now) + drift
    found: int | None = None
    for step in range(expected - window, expected + window + 1):
        if _matches(totp, code, step):
            found = step
    return found


def consecutive_step(
    seed: bytes,
    first: object,
    second: object,
    *,
    now: float,
    drift: int = 0,
    window: int = SYNC_WINDOW_STEPS,
) -> int | None:
    """The step ``n`` near ``expected`` with ``first`` at ``n`` and ``second`` at ``n+1``.

    What ``EnableMFADevice`` and ``ResyncMFADevice`` ask for: two codes the
    device showed one after the other. The latest such ``n`` wins; None when
    there is none (or either code is not six ASCII digits).
    """
    if not (_is_code(first) and _is_code(second)):
        return None
    assert isinstance(first, str)
    assert isinstance(second, str)
    totp = _totp(seed)
    expected = step_at(now) + drift
    found: int | None = None
    for step in range(expected - window, expected + window + 1):
        if _matches(totp, first, step) and _matches(totp, second, step + 1):
            found = step
    return found
