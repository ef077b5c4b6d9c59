"""What a verifier needs to know about an access key.

Stores (in :mod:`sigv4kit.middleware`) return :class:`KeyRecord` objects;
the verifier checks signatures against them. The record lives in the core so
the verifier never imports the server side.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

__all__ = ["KeyRecord"]


@dataclass(frozen=True, slots=True, kw_only=True)
class KeyRecord:
    """An access key as a verifier sees it (the secret decrypted, never printed).

    ``session_token_sha256`` and ``expires_at`` are set for temporary
    (``ASIA``) credentials: the token itself is never stored, only its hash.
    """

    access_key_id: str
    secret_access_key: str = field(repr=False)
    principal: str
    active: bool = True
    session_token_sha256: str | None = field(default=None, repr=False)
    expires_at: datetime | None = None

    @property
    def is_temporary(self) -> bool:
        """True for temporary credentials (they require a session token)."""
        return self.session_token_sha256 is not None
