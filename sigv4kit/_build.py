"""Which build of the fast paths is loaded: compiled with mypyc, or pure Python.

``pip install`` compiles the modules in :data:`COMPILED_MODULES` with mypyc
when it can (setup.py); the ``.py`` sources stay beside the extensions. With
``SIGV4KIT_PURE_PYTHON=1`` in the environment when sigv4kit is first
imported, the sources are imported instead of the extensions, so one
installation can run its tests against both builds. (Set at build time, the
same variable skips compiling altogether.)
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
from collections.abc import Sequence
from types import ModuleType

# Internal: read by tests, the benchmarks and setup.py's counterpart list.
__all__: list[str] = []

#: The modules setup.py compiles (its ``COMPILED`` list, as module names).
COMPILED_MODULES = (
    "sigv4kit.canonical._fastwire",
    "sigv4kit.verify._fast",
    "sigv4kit.client._fastsign",
)
PURE_ENV = "SIGV4KIT_PURE_PYTHON"


def pure_requested() -> bool:
    """True when the environment asks for the pure-Python modules."""
    return os.environ.get(PURE_ENV, "") not in ("", "0")


class _SourceFinder(importlib.abc.MetaPathFinder):
    """Find the ``.py`` source of a compiled module, ahead of its extension."""

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in COMPILED_MODULES:
            return None
        filename = fullname.rpartition(".")[2] + ".py"
        for folder in path or ():
            source = os.path.join(folder, filename)
            if os.path.isfile(source):
                return importlib.util.spec_from_file_location(fullname, source)
        return None


def _install() -> None:
    if pure_requested() and not any(isinstance(f, _SourceFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _SourceFinder())


def module_kinds() -> dict[str, str]:
    """Each fast-path module's name -> "compiled" or "pure", as loaded now."""
    # Imported here: this module is imported before them, to choose their build.
    from .canonical import _fastwire
    from .client import _fastsign
    from .verify import _fast

    kinds = {}
    for module in (_fastwire, _fast, _fastsign):
        filename = module.__file__ or ""
        kinds[module.__name__] = "pure" if filename.endswith(".py") else "compiled"
    return kinds


def compiled() -> bool:
    """True when every fast-path module loaded is the mypyc-compiled one."""
    return set(module_kinds().values()) == {"compiled"}


_install()
