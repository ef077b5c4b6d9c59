"""The public surface of sigv4kit.middleware's store modules."""

from __future__ import annotations

import importlib
import types

import pytest
import sigv4kit.middleware as mw

#: What a service needs, written out by hand: the middleware and its options, the
#: authorizer seam, the replay guards, the log redactor, the stores, their entities
#: and errors. Adding a name to the API means adding it here.
PUBLIC = {
    # the middleware, its options and what it puts in the scope
    "SigV4Middleware", "DEFAULT_MAX_BODY_SIZE", "DEFAULT_MEMORY_BODY_LIMIT",
    "DEFAULT_VERIFIED_REQUEST_CACHE_SIZE", "ErrorFormat", "render_error",
    "SigV4User", "SigV4Credentials", "AnonymousUser",
    # authorization
    "Authorizer", "AllowAuthenticated", "CallerIdentity", "CallerKind", "CallerSession",
    # authorization by IAM policies (issue 16)
    "IAMAuthorizer", "IAMUser", "Resolution", "authorize", "iam_middleware",
    "requires_permission",
    # replay protection
    "ReplayGuard", "MemoryReplayGuard", "RedisReplayGuard", "ReplayDetected",
    "ReplayGuardUnavailableError",
    # access logs
    "AccessLogRedactor", "install_access_log_redactor", "redact_query_credentials",
    # stores
    "open_store", "AccessKeyStore", "KeyManager", "MemoryKeyStore", "SQLiteKeyStore",
    "PostgresKeyStore", "MasterKey",
    "Principal", "PrincipalKind", "AccessKeyInfo", "KeyStatus", "NewAccessKey",
    "SessionCredentials", "RotationResult",
    # store errors
    "StoreError", "StoreUnavailableError", "StoreNotFoundError", "PrincipalNotFoundError",
    "KeyNotFoundError", "KeyLimitExceededError", "MasterKeyError", "SecretDecryptionError",
    "SchemaVersionError",
}  # fmt: skip


def test_middleware_all_is_sorted_and_complete() -> None:
    def key(name: str) -> tuple[int, str]:
        return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)

    assert mw.__all__ == sorted(mw.__all__, key=key)
    assert set(mw.__all__) == PUBLIC
    for name in mw.__all__:
        assert hasattr(mw, name), name
    # Nothing public in the namespace that __all__ does not list (subpackages aside).
    stray = {
        name
        for name, value in vars(mw).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
        and name not in ("annotations", "TYPE_CHECKING")
    }  # fmt: skip
    assert stray == PUBLIC


def test_old_import_paths_keep_working() -> None:
    from sigv4kit.middleware import (  # noqa: F401
        MemoryKeyStore,
        PostgresKeyStore,
        SigV4Middleware,
        SQLiteKeyStore,
        open_store,
    )


def test_internals_stay_importable_from_their_modules() -> None:
    for module, names in {
        "store.keygen": ["new_secret_access_key", "new_access_key_id", "hash_session_token"],
        "store.secrets": ["envelope_key_id", "create_key_file", "resolve_master_key"],
        "asgi.replay": ["request_signature", "replay_ttl"],
        "asgi.responses": ["new_request_id"],
        "store.cache": ["KeyCache"],
        "asgi.middleware": ["DEFAULT_REPLAY_CACHE_SIZE"],
    }.items():
        loaded = importlib.import_module(f"sigv4kit.middleware.{module}")
        for name in names:
            assert hasattr(loaded, name), f"{module}.{name}"
            assert name not in mw.__all__, name


def test_replay_cache_size_is_a_deprecated_alias() -> None:
    async def app(scope: object, receive: object, send: object) -> None:
        return None

    store = mw.MemoryKeyStore([])
    with pytest.warns(DeprecationWarning, match="verified_request_cache_size"):
        old = mw.SigV4Middleware(app, store=store, replay_cache_size=7)
    assert old._verified.size == 7
    assert mw.SigV4Middleware(app, store=store)._verified.size == 1024
    with pytest.raises(ValueError, match="verified_request_cache_size must be non-negative"):
        mw.SigV4Middleware(app, store=store, verified_request_cache_size=-1)


def test_error_tree() -> None:
    import sigv4kit

    assert issubclass(mw.StoreError, sigv4kit.SigV4Error)
    for error in (
        mw.StoreUnavailableError,
        mw.PrincipalNotFoundError,
        mw.KeyNotFoundError,
        mw.KeyLimitExceededError,
        mw.MasterKeyError,
        mw.SchemaVersionError,
    ):
        assert issubclass(error, mw.StoreError)
    # The middleware answers 503 for StoreUnavailableError: an undecryptable
    # secret must fail closed the same way.
    assert issubclass(mw.SecretDecryptionError, mw.StoreUnavailableError)


def test_sql_stores_load_on_first_use() -> None:
    import subprocess
    import sys

    code = (
        "import sys, sigv4kit.middleware as mw\n"
        "print(sorted(m for m in ('sqlalchemy', 'alembic') if m in sys.modules))\n"
        "mw.SQLiteKeyStore\n"
        "print(sorted(m for m in ('sqlalchemy', 'alembic') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.splitlines() == ["[]", "['alembic', 'sqlalchemy']"]
