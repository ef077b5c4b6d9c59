"""Credentials: an access key id, its secret and an optional session token."""

from __future__ import annotations

from dataclasses import dataclass, field

from .._exceptions import CredentialsError
from ..canonical._diagnostics import REDACTED

__all__ = ["Credentials"]



@dataclass(frozen=True, slots=True)
class Credentials:
    """An AWS-style key pair, optionally temporary (with a session token).

    The secret and the token never appear in ``repr()``::

        >>> Credentials("AKIDEXAMPLE", "wJalr...")
        Credentials(access_key_id='AKIDEXAMPLE', secret_access_key='** REDACTED **', \
session_token=None)

    Raises :class:`~sigv4kit.CredentialsError` when a part is empty or holds
    characters that cannot appear in a credential scope.
    """

    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.access_key_id, str) or not self.access_key_id:
            raise CredentialsError("access_key_id must be a non-empty string")
        if "/" in self.access_key_id or any(c.isspace() for c in self.access_key_id):
            raise CredentialsError("access_key_id must not contain '/' or whitespace")
        if not isinstance(self.secret_access_key, str) or not self.secret_access_key:
            raise CredentialsError("secret_access_key must be a non-empty string")
        if self.session_token is not None and (
            not isinstance(self.session_token, str) or not self.session_token
        ):
            raise CredentialsError("session_token must be a non-empty string or None")

    def __repr__(self) -> str:
        token = None if self.session_token is None else REDACTED
        return (
            f"Credentials(access_key_id={self.access_key_id!r}, "
            f"secret_access_key={REDACTED!r}, session_token={token!r})"
        )

    @property
    def is_temporary(self) -> bool:
        """True when the credentials carry a session token."""
        return self.session_token is not None
