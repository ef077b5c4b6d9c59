"""The public surface of sigv4kit.middleware's store modules."""

from __future__ import annotations

import importlib
import pkgutil

import sigv4kit.middleware as mw


def test_middleware_all_is_sorted_and_complete() -> None:
    def key(name: str) -> tuple[int, str]:
        return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)

    assert mw.__all__ == sorted(mw.__all__, key=key)
    for name in mw.__all__:
        assert hasattr(mw, name), name
    for info in pkgutil.iter_modules(mw.__path__):
        if not info.name.startswith("_") or info.name.startswith("__"):
            continue
        module = importlib.import_module(f"sigv4kit.middleware.{info.name}")
        for name in getattr(module, "__all__", []):
            assert name in mw.__all__, f"{info.name}.{name} is not exported"


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
