"""sigv4kit.middleware: the server half (ASGI verification middleware, key stores).

Installed and imported as ``sigv4kit.middleware``. Modules here import each
other relatively and the protocol core as ``sigv4kit``; the core never
imports this package.
"""

from __future__ import annotations

from .asgi.logfilter import (
    AccessLogRedactor,
    install_access_log_redactor,
    redact_query_credentials,
)
from .asgi.middleware import (
    DEFAULT_MAX_BODY_SIZE,
    DEFAULT_MEMORY_BODY_LIMIT,
    DEFAULT_REPLAY_CACHE_SIZE,
    AnonymousUser,
    SigV4Credentials,
    SigV4Middleware,
    SigV4User,
)
from .asgi.replay import (
    REPLAY_DETECTED_MESSAGE,
    MemoryReplayGuard,
    RedisReplayGuard,
    ReplayDetected,
    ReplayGuard,
    ReplayGuardUnavailableError,
    replay_ttl,
    request_signature,
)
from .asgi.responses import (
    MAX_ECHOED_VALUE,
    MAX_ERROR_BODY,
    ErrorFormat,
    ErrorResponse,
    new_request_id,
    render_error,
)
from .store.cache import KeyCache, KeyUse, UseBatch
from .store.engine import postgres_conninfo_from_url
from .store.entities import (
    MAX_KEYS_PER_PRINCIPAL,
    MAX_SESSION_SECONDS,
    MIN_SESSION_SECONDS,
    AccessKeyInfo,
    KeyStatus,
    NewAccessKey,
    Principal,
    PrincipalKind,
    RotationResult,
    SessionCredentials,
    store_time,
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
from .store.keygen import (
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
from .store.memory import MemoryKeyStore
from .store.postgres import POSTGRES_SCHEMA_VERSION, PostgresKeyStore
from .store.protocols import AccessKeyStore, KeyManager
from .store.secrets import (
    ENVELOPE_VERSION,
    MASTER_KEY_ENV,
    MASTER_KEY_FILE_ENV,
    MasterKey,
    create_key_file,
    envelope_key_id,
    resolve_master_key,
)
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
    "MAX_ECHOED_VALUE",
    "MAX_ERROR_BODY",
    "MAX_KEYS_PER_PRINCIPAL",
    "MAX_SESSION_SECONDS",
    "MIN_SESSION_SECONDS",
    "POSTGRES_SCHEMA_VERSION",
    "REPLAY_DETECTED_MESSAGE",
    "SCHEMA_VERSION",
    "TEMPORARY_PREFIX",
    "AccessKeyInfo",
    "AccessKeyStore",
    "AccessLogRedactor",
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
    "StoreNotFoundError",
    "StoreUnavailableError",
    "UseBatch",
    "create_key_file",
    "envelope_key_id",
    "hash_session_token",
    "install_access_log_redactor",
    "new_access_key_id",
    "new_request_id",
    "new_secret_access_key",
    "new_session_token",
    "open_store",
    "postgres_conninfo_from_url",
    "redact_query_credentials",
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
