from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import pytest

import sigv4kit
from sigv4kit import verify

SUBPACKAGES = ("canonical", "signing", "verify", "client", "explain", "cli")
README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def key(name: str) -> tuple[int, str]:
    # isort style (ruff RUF022): CONSTANTS, then Classes, then functions.
    return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)


def _defined_public_names(module_name: str) -> list[str]:
    module = importlib.import_module(module_name)
    return [
        name
        for name in getattr(module, "__all__", [])
        if getattr(getattr(module, name), "__module__", module_name) == module_name
    ]


def test_all_is_sorted_and_complete() -> None:
    assert sigv4kit.__all__ == sorted(sigv4kit.__all__, key=key)
    for name in sigv4kit.__all__:
        assert hasattr(sigv4kit, name), name
    # What a user needs, each documented in the README's "Public API" section.
    section = README.split("## Public API", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"`(\w+)`", section))
    assert sorted(set(sigv4kit.__all__) - documented) == []


@pytest.mark.parametrize("name", SUBPACKAGES)
def test_each_subpackage_exports_its_modules(name: str) -> None:
    package = importlib.import_module(f"sigv4kit.{name}")
    assert package.__all__ == sorted(package.__all__, key=key)
    for exported in package.__all__:
        assert hasattr(package, exported), exported
    if name == "cli":  # commands are not an API; cli/__init__ exports the hook's types
        return
    # Every public name of every private module is re-exported by its subpackage.
    for info in pkgutil.iter_modules(package.__path__):
        if not info.name.startswith("_") or info.name.startswith("__"):
            continue
        for public in _defined_public_names(f"sigv4kit.{name}.{info.name}"):
            assert public in package.__all__, f"{name}.{info.name}.{public} is not exported"


def test_top_level_names_are_the_subpackages_objects() -> None:
    homes = [importlib.import_module(f"sigv4kit.{name}") for name in SUBPACKAGES]
    for name in sigv4kit.__all__:
        owners = [home for home in homes if name in home.__all__]
        if owners:
            assert getattr(owners[0], name) is getattr(sigv4kit, name), name


def test_internals_are_not_public() -> None:
    for internal in (
        "ChunkChain",
        "ParsedAuth",
        "canonicalize_query",
        "derive_signing_key",
        "first_difference",
        "first_line_diff",
        "verify_sigv4a",
    ):
        assert internal not in sigv4kit.__all__, internal


def test_the_two_error_families_are_told_apart() -> None:
    public = set(sigv4kit.__all__)
    # No name X beside X + "Error" (issue 13: AccessDenied/AccessDeniedError, ...).
    assert sorted(n for n in public if f"{n}Error" in public and n != "Credentials") == []
    server = [
        getattr(verify, n)
        for n in verify.__all__
        if isinstance(getattr(verify, n), type)
        and issubclass(getattr(verify, n), sigv4kit.VerificationError)
        and n != "VerificationError"
    ]
    assert len(server) >= 17
    for cls in server:
        assert cls.__name__ not in public, cls.__name__
        # The old top-level name still imports: the same class, so except clauses work.
        assert getattr(sigv4kit, cls.__name__) is cls
    for name in ("AccessDeniedError", "ExpiredTokenError", "ServiceUnavailableError"):
        assert issubclass(getattr(sigv4kit, name), sigv4kit.AWSServiceError)
        assert not issubclass(getattr(sigv4kit, name), sigv4kit.VerificationError)


def test_core_does_not_import_the_server() -> None:
    import subprocess
    import sys

    code = "import sys, sigv4kit; print('sigv4kit.middleware' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
