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
from ._replay import (
    REPLAY_DETECTED_MESSAGE,
    MemoryReplayGuard,
    RedisReplayGuard,
    ReplayDetected,
    ReplayGuard,
    ReplayGuardUnavailableError,
    replay_ttl,
    request_signature,
)
from ._responses import ErrorFormat, ErrorResponse, new_request_id, render_error
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
    store_time,
)
from .store.engine import postgres_conninfo_from_url
from .store.postgres import POSTGRES_SCHEMA_VERSION, PostgresKeyStore
from .store.sqlite import SCHEMA_VERSION, SQLiteKeyStore
from .store.url import open_store, sqlite_path_from_url

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
    "POSTGRES_SCHEMA_VERSION",
    "REPLAY_DETECTED_MESSAGE",
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
    "postgres_conninfo_from_url",
    "render_error",
    "replay_ttl",
    "request_signature",
    "resolve_master_key",
    "sqlite_path_from_url",
    "store_time",
    "validate_access_key_id",
    "validate_principal_name",
    "validate_session_duration",
]
