"""sigv4kit.middleware.audit's public names: sorted, complete, and nothing else."""

from __future__ import annotations

import importlib
import pkgutil

from sigv4kit.middleware import audit


def test_all_is_sorted_and_complete() -> None:
    def key(name: str) -> tuple[int, str]:
        return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)

    assert audit.__all__ == sorted(audit.__all__, key=key)
    for name in audit.__all__:
        assert hasattr(audit, name), name
    for info in pkgutil.iter_modules(audit.__path__):
        if info.name.startswith("_cli"):
            continue
        module = importlib.import_module(f"sigv4kit.middleware.audit.{info.name}")
        for name in getattr(module, "__all__", []):
            assert name in audit.__all__, f"{info.name}.{name} is not exported"


def test_signing_key_repr_hides_the_key() -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    private = Ed25519PrivateKey.generate()
    raw = private.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    key = audit.SigningKey(private)
    assert raw.hex() not in repr(key)
    assert repr(key) == f"SigningKey(fingerprint={key.fingerprint!r})"
