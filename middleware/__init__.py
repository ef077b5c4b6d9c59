"""sigv4kit.middleware: the server half (ASGI verification middleware, key stores).

Installed and imported as ``sigv4kit.middleware``. Modules here import each
other relatively and the protocol core as ``sigv4kit``; the core never
imports this package.
"""

from __future__ import annotations

from ._asgi import (
    DEFAULT_MAX_BODY_SIZE,
    DEFAULT_MEMORY_BODY_LIMIT,
    DEFAULT_REPLAY_CACHE_SIZE,
    AnonymousUser,
    SigV4Credentials,
    SigV4Middleware,
    SigV4User,
)
from ._cache import KeyCache, KeyUse, UseBatch
from ._crypto import (
    ENVELOPE_VERSION,
    MASTER_KEY_ENV,
    MASTER_KEY_FILE_ENV,
    MasterKey,
    create_key_file,
    envelope_key_id,
    resolve_master_key,
)
from ._keygen import (
    LONG_TERM_PREFIX,
    TEMPORARY_PREFIX,
    hash_session_token,
    new_access_key_id,
    new_secret_access_key,
    new_session_token,
    validate_access_key_id,
    validate_principal_name,
    validate_session_duration,
)
from ._memory import MemoryKeyStore
from ._responses import ErrorFormat, ErrorResponse, new_request_id, render_error
from ._sqlite import SCHEMA_VERSION, SQLiteKeyStore
from ._store import (
    MAX_KEYS_PER_PRINCIPAL,
    MAX_SESSION_SECONDS,
    MIN_SESSION_SECONDS,
    AccessKeyInfo,
    AccessKeyStore,
    KeyLimitExceededError,
    KeyManager,
    KeyNotFoundError,
    KeyStatus,
    MasterKeyError,
    NewAccessKey,
    Principal,
    PrincipalKind,
    PrincipalNotFoundError,
    RotationResult,
    SchemaVersionError,
    SecretDecryptionError,
    SessionCredentials,
    StoreError,
    StoreUnavailableError,
    open_store,
    sqlite_path_from_url,
)

__all__ = [
    "DEFAULT_MAX_BODY_SIZE",
    "DEFAULT_MEMORY_BODY_LIMIT",
    "DEFAULT_REPLAY_CACHE_SIZE",
    "ENVELOPE_VERSION",
    "LONG_TERM_PREFIX",
    "MASTER_KEY_ENV",
    "MASTER_KEY_FILE_ENV",
    "MAX_KEYS_PER_PRINCIPAL",
    "MAX_SESSION_SECONDS",
    "MIN_SESSION_SECONDS",
    "SCHEMA_VERSION",
    "TEMPORARY_PREFIX",
    "AccessKeyInfo",
    "AccessKeyStore",
    "AnonymousUser",
    "ErrorFormat",
    "ErrorResponse",
    "KeyCache",
    "KeyLimitExceededError",
    "KeyManager",
    "KeyNotFoundError",
    "KeyStatus",
    "KeyUse",
    "MasterKey",
    "MasterKeyError",
    "MemoryKeyStore",
    "NewAccessKey",
    "Principal",
    "PrincipalKind",
    "PrincipalNotFoundError",
    "RotationResult",
    "SQLiteKeyStore",
    "SchemaVersionError",
    "SecretDecryptionError",
    "SessionCredentials",
    "SigV4Credentials",
    "SigV4Middleware",
    "SigV4User",
    "StoreError",
    "StoreUnavailableError",
    "UseBatch",
    "create_key_file",
    "envelope_key_id",
    "hash_session_token",
    "new_access_key_id",
    "new_request_id",
    "new_secret_access_key",
    "new_session_token",
    "open_store",
    "render_error",
    "resolve_master_key",
    "sqlite_path_from_url",
    "validate_access_key_id",
    "validate_principal_name",
    "validate_session_duration",
]
