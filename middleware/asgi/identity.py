"""Who called: the verified identity the authorizer and the app see.

:class:`CallerIdentity` is what authentication hands to authorization: the
core's :class:`~sigv4kit.Identity` (key id, region, service, signed headers,
...) plus what the key store knows of the key's holder: the account, the
principal's ARN and kind, and the session. :class:`SigV4User` and
:class:`SigV4Credentials` put it where Starlette and FastAPI look
(``request.user``, ``request.auth``).

Imports: the core (``sigv4kit``) and the store's entities.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sigv4kit import Identity, KeyRecord

from ..store.entities import (
    DEFAULT_ACCOUNT_ID,
    PrincipalKind,
    StoredKey,
    principal_arn,
)

__all__ = [
    "AnonymousUser",
    "CallerIdentity",
    "CallerKind",
    "CallerSession",
    "SigV4Credentials",
    "SigV4User",
    "caller_identity",
]


class CallerKind(enum.Enum):
    """What signed the request, as IAM names it."""

    #: An IAM user's key (long-term, or a session of the user's own).
    USER = "user"
    #: Temporary credentials of a role (``assumed-role`` ARN).
    ROLE_SESSION = "role-session"
    #: The account's root user (today: a principal created with ``root=True``).
    ROOT = "root"
    #: A long-term key held by a role: sigv4kit's store allows it, IAM does not.
    ROLE = "role"


@dataclass(frozen=True, slots=True, kw_only=True)
class CallerSession:
    """The credentials' session: long-term or temporary, when issued, with MFA or not."""

    temporary: bool
    #: When the temporary credentials were issued (None for long-term keys,
    #: or when the store does not know).
    issued_at: datetime | None = None
    #: ``aws:MultiFactorAuthPresent``: the session was issued after an MFA check.
    mfa_authenticated: bool = False
    #: A role session's name (the last part of its ``assumed-role`` ARN).
    name: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CallerIdentity:
    """A verified caller: today's :class:`~sigv4kit.Identity` plus account, ARN, kind, session.

    ```python
    caller = request.user.caller
    caller.account_id, caller.arn, caller.kind, caller.session.mfa_authenticated
    ```
    """

    sigv4: Identity
    account_id: str
    arn: str
    kind: CallerKind
    session: CallerSession
    #: The principal's unique id (``AIDA...``, ``AROA...``), when the store has one.
    principal_id: str | None = None

    @property
    def principal(self) -> str:
        """The principal's name (a user or role name)."""
        return self.sigv4.principal

    @property
    def access_key_id(self) -> str:
        return self.sigv4.access_key_id


def caller_identity(identity: Identity, key: KeyRecord) -> CallerIdentity:
    """The caller behind ``identity``, from the key record that verified it.

    A :class:`~..store.entities.StoredKey` says which account, principal and
    session; a plain :class:`~sigv4kit.KeyRecord` (a custom store) is a user
    of the default account. ARN formats: IAM User Guide, "IAM ARNs"
    (``arn:aws:iam::ACCOUNT:user/PATH/NAME``, ``arn:aws:iam::ACCOUNT:root``,
    ``arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION``).
    """
    stored = key if isinstance(key, StoredKey) else None
    account = stored.account_id if stored else DEFAULT_ACCOUNT_ID
    name = identity.principal
    session = CallerSession(
        temporary=identity.temporary,
        issued_at=stored.session_issued_at if stored else None,
        mfa_authenticated=stored.mfa_authenticated if stored else False,
        name=stored.session_name if stored else None,
    )
    path = stored.principal_path if stored else "/"
    if stored and stored.root:
        kind, arn = CallerKind.ROOT, f"arn:aws:iam::{account}:root"
    elif stored and stored.principal_kind is PrincipalKind.ROLE and identity.temporary:
        # Sessions issued before role session names existed are named by their key id.
        session_name = stored.session_name or identity.access_key_id
        kind = CallerKind.ROLE_SESSION
        arn = f"arn:aws:sts::{account}:assumed-role/{name}/{session_name}"
    elif stored and stored.principal_kind is PrincipalKind.ROLE:
        kind, arn = CallerKind.ROLE, principal_arn(account, "role", path, name)
    else:
        kind, arn = CallerKind.USER, principal_arn(account, "user", path, name)
    return CallerIdentity(
        sigv4=identity,
        account_id=account,
        arn=arn,
        kind=kind,
        session=session,
        principal_id=stored.principal_id if stored else None,
    )


class CallerCache:
    """:func:`caller_identity`, remembered for identities seen again.

    The fast verifier hands out one :class:`~sigv4kit.Identity` per client,
    key and second; with the same (frozen) key record, the caller is the
    same too. Bounded by clearing when full.
    """

    __slots__ = ("_entries",)

    def __init__(self) -> None:
        self._entries: dict[int, tuple[Identity, KeyRecord, CallerIdentity]] = {}

    def __call__(self, identity: Identity, key: KeyRecord) -> CallerIdentity:
        entry = self._entries.get(id(identity))
        if entry is not None and entry[0] is identity and entry[1] is key:
            return entry[2]
        caller = caller_identity(identity, key)
        if len(self._entries) >= _CALLER_CACHE_SIZE:
            self._entries.clear()
        # The entry holds identity and key: their ids are not reused while it lives.
        self._entries[id(identity)] = (identity, key, caller)
        return caller


_CALLER_CACHE_SIZE = 4096


class SigV4Credentials:
    """``request.auth``: shaped like Starlette's ``AuthCredentials`` (``.scopes``)."""

    __slots__ = ("scopes",)

    def __init__(self, scopes: Iterable[str] = ()) -> None:
        self.scopes = list(scopes)

    def __repr__(self) -> str:
        return f"SigV4Credentials(scopes={self.scopes!r})"


class SigV4User:
    """``request.user`` for a verified request; Starlette ``BaseUser``-compatible.

    ``identity`` and ``display_name`` are the principal; ``caller`` is the
    :class:`CallerIdentity` (account, ARN, kind, session) and ``sigv4`` the
    core's :class:`~sigv4kit.Identity` (key id, region, service, ...).
    """

    __slots__ = ("caller",)

    def __init__(self, caller: CallerIdentity) -> None:
        self.caller = caller

    @property
    def sigv4(self) -> Identity:
        return self.caller.sigv4

    def __repr__(self) -> str:
        return f"SigV4User(principal={self.principal!r}, access_key_id={self.access_key_id!r})"

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def display_name(self) -> str:
        return self.sigv4.principal

    @property
    def identity(self) -> str:
        return self.sigv4.principal

    @property
    def principal(self) -> str:
        return self.sigv4.principal

    @property
    def access_key_id(self) -> str:
        return self.sigv4.access_key_id


class AnonymousUser:
    """``request.user`` on exempt paths and CORS preflights (not authenticated)."""

    __slots__ = ()

    @property
    def is_authenticated(self) -> bool:
        return False

    @property
    def display_name(self) -> str:
        return ""

    @property
    def identity(self) -> str:
        return ""
