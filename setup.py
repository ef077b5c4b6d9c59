"""Build: the signing and verification fast paths compiled with mypyc, when possible.

Everything is configured in pyproject.toml; this file only adds the compiled
modules. The modules in ``COMPILED`` are ordinary, ``mypy --strict`` clean
Python: mypyc turns them into C extensions from the same source, and the
``.py`` files stay beside them as the fallback. The build falls back to pure
Python, with a warning, when:

* ``SIGV4KIT_PURE_PYTHON=1`` is set at build time (the pure build, for CI);
* mypyc cannot be imported, or type-checking the modules fails;
* no C compiler is available, or compiling fails.

``sigv4kit._build.compiled()`` tells at run time which build is loaded.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from setuptools import setup
from setuptools.command.build_ext import build_ext

# The hot paths of signing and verifying, and nothing they do not need:
# everything else they call is plain Python, imported as usual.
COMPILED = [
    "sigv4kit/canonical/_fastwire.py",
    "sigv4kit/verify/_fast.py",
    "sigv4kit/client/_fastsign.py",
]
PURE_ENV = "SIGV4KIT_PURE_PYTHON"


def _warn(message: str) -> None:
    print(f"sigv4kit: {message}; installing the pure-Python build", file=sys.stderr)


def _ext_modules() -> list[Any]:
    if os.environ.get(PURE_ENV, "") not in ("", "0"):
        _warn(f"{PURE_ENV} is set")
        return []
    try:
        from mypyc.build import mypycify
    except ImportError:
        _warn("mypyc is not available")
        return []
    try:
        # pyproject.toml's mypy configuration (strict) applies to the compiled
        # modules; the modules they import are read for their types only, and
        # packages missing from the build environment count as untyped.
        options = ["--follow-imports=silent", "--ignore-missing-imports"]
        return list(mypycify(
            [*options, *COMPILED], opt_level="3", debug_level="0", group_name="sigv4kit._fastpaths"
        ))
    except SystemExit as error:  # mypyc exits when type-checking fails
        _warn(f"mypyc could not compile the fast paths ({error})")
        return []


class OptionalBuildExt(build_ext):
    """build_ext that installs the pure-Python build when compiling fails.

    All or nothing: the compiled modules share one library, so when any
    extension fails, every one already built is removed again.
    """

    def run(self) -> None:
        try:
            super().run()
        except Exception as error:  # no compiler, no Python headers, ...
            _warn(f"building the extensions failed ({error})")
            for ext in self.extensions:
                for path in (self.get_ext_fullpath(ext.name), self._inplace_path(ext.name)):
                    if os.path.exists(path):
                        os.remove(path)
            self.extensions = []

    def _inplace_path(self, name: str) -> str:
        *package, _ = name.split(".")
        directory = self.get_finalized_command("build_py").get_package_dir(".".join(package))
        return os.path.join(directory, os.path.basename(self.get_ext_filename(name)))


setup(ext_modules=_ext_modules(), cmdclass={"build_ext": OptionalBuildExt})
