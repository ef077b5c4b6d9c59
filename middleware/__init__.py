"""sigv4kit.middleware: the server half (ASGI verification middleware, key stores).

Installed and imported as ``sigv4kit.middleware``. Subpackages follow the
request path: :mod:`.asgi` (verify, authorize, hand to the app),
:mod:`.store` (access keys, secrets, the SQL store and its migrations),
:mod:`.iam` (policies and the IAM API). They import the protocol core as
``sigv4kit``; the core never imports this package.

This module's ``__all__`` is what a service needs: the middleware and its
options, the authorizer seam and the caller identity, the replay guards,
the access-log redactor, the stores with :func:`open_store` and the
entities and errors their methods return or raise. Everything else stays
importable from its module (``sigv4kit.middleware.store.keygen``, ...).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._lazy import load as _load
from .asgi.authorize import AllowAuthenticated, Authorizer
from .asgi.identity import (
    AnonymousUser,
    CallerIdentity,
    CallerKind,
    CallerSession,
    SigV4Credentials,
    SigV4User,
)
from .asgi.logfilter import (
    AccessLogRedactor,
    install_access_log_redactor,
    redact_query_credentials,
)
from .asgi.middleware import (
    DEFAULT_MAX_BODY_SIZE,
    DEFAULT_MEMORY_BODY_LIMIT,
    DEFAULT_VERIFIED_REQUEST_CACHE_SIZE,
    SigV4Middleware,
)
from .asgi.replay import (
    MemoryReplayGuard,
    RedisReplayGuard,
    ReplayDetected,
    ReplayGuard,
    ReplayGuardUnavailableError,
)
from .asgi.responses import ErrorFormat, render_error
from .store.entities import (
    AccessKeyInfo,
    KeyStatus,
    NewAccessKey,
    Principal,
    PrincipalKind,
    RotationResult,
    SessionCredentials,
)
from .store.errors import (
    KeyLimitExceededError,
    KeyNotFoundError,
    MasterKeyError,
    PrincipalNotFoundError,
    SchemaVersionError,
    SecretDecryptionError,
    StoreError,
    StoreNotFoundError,
    StoreUnavailableError,
)
from .store.memory import MemoryKeyStore
from .store.protocols import AccessKeyStore, KeyManager
from .store.secrets import MasterKey
from .store.url import open_store

if TYPE_CHECKING:
    from .iam.authz import (
        IAMAuthorizer,
        IAMUser,
        Resolution,
        authorize,
        iam_middleware,
        requires_permission,
    )
    from .store.postgres import PostgresKeyStore
    from .store.sqlite import SQLiteKeyStore

__all__ = [
    "DEFAULT_MAX_BODY_SIZE",
    "DEFAULT_MEMORY_BODY_LIMIT",
    "DEFAULT_VERIFIED_REQUEST_CACHE_SIZE",
    "AccessKeyInfo",
    "AccessKeyStore",
    "AccessLogRedactor",
    "AllowAuthenticated",
    "AnonymousUser",
    "Authorizer",
    "CallerIdentity",
    "CallerKind",
    "CallerSession",
    "ErrorFormat",
    "IAMAuthorizer",
    "IAMUser",
    "KeyLimitExceededError",
    "KeyManager",
    "KeyNotFoundError",
    "KeyStatus",
    "MasterKey",
    "MasterKeyError",
    "MemoryKeyStore",
    "MemoryReplayGuard",
    "NewAccessKey",
    "PostgresKeyStore",
    "Principal",
    "PrincipalKind",
    "PrincipalNotFoundError",
    "RedisReplayGuard",
    "ReplayDetected",
    "ReplayGuard",
    "ReplayGuardUnavailableError",
    "Resolution",
    "RotationResult",
    "SQLiteKeyStore",
    "SchemaVersionError",
    "SecretDecryptionError",
    "SessionCredentials",
    "SigV4Credentials",
    "SigV4Middleware",
    "SigV4User",
    "StoreError",
    "StoreNotFoundError",
    "StoreUnavailableError",
    "authorize",
    "iam_middleware",
    "install_access_log_redactor",
    "open_store",
    "redact_query_credentials",
    "render_error",
    "requires_permission",
]

#: Loaded on first use: they bring SQLAlchemy, Alembic and the drivers, which
#: an app that only uses MemoryKeyStore or a custom store never needs (and
#: which make up most of this package's import time).
_LAZY = {
    "PostgresKeyStore": ".store.postgres",
    "SQLiteKeyStore": ".store.sqlite",
    # IAM authorization brings the policy engine and the IAM entities.
    "IAMAuthorizer": ".iam.authz",
    "IAMUser": ".iam.authz",
    "Resolution": ".iam.authz",
    "authorize": ".iam.authz",
    "iam_middleware": ".iam.authz",
    "requires_permission": ".iam.authz",
}


def __getattr__(name: str) -> object:
    return _load(__name__, _LAZY, name, globals())


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
