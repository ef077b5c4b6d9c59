from __future__ import annotations

import importlib
import pkgutil

import sigv4kit


def test_all_is_sorted_and_complete() -> None:
    # isort style (ruff RUF022): CONSTANTS, then Classes, then functions.
    def key(name: str) -> tuple[int, str]:
        return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)

    assert sigv4kit.__all__ == sorted(sigv4kit.__all__, key=key)
    for name in sigv4kit.__all__:
        assert hasattr(sigv4kit, name), name
    # Every public name of every private module is re-exported.
    for info in pkgutil.walk_packages(sigv4kit.__path__, "sigv4kit."):
        leaf = info.name.rsplit(".", 1)[1]
        if not leaf.startswith("_") or leaf.startswith("__") or ".cli" in info.name:
            continue
        if ".middleware" in info.name or leaf in ("_parse", "_time", "_checks", "_diagnostics"):
            # The verifier's stage functions: reached through Verifier's methods.
            continue
        module = importlib.import_module(info.name)
        for name in getattr(module, "__all__", []):
            assert name in sigv4kit.__all__, f"{info.name}.{name} is not exported"


def test_core_does_not_import_the_server() -> None:
    import subprocess
    import sys

    code = "import sys, sigv4kit; print('sigv4kit.middleware' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
