"""Every benchmark imports: the names it uses from sigv4kit still exist.

The benchmarks are run by hand, not by the tests; a layout change once moved a
name one of them imported and nothing noticed. Importing runs each module's
top level (imports, constants, definitions), not its ``main()``.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
FILES = sorted(BENCHMARKS.glob("*.py"))


def test_there_are_benchmarks_to_import() -> None:
    assert {"bench_sign.py", "bench_middleware.py", "bench_verify.py"} <= {
        path.name for path in FILES
    }


@pytest.mark.parametrize("path", FILES, ids=[path.name for path in FILES])
def test_benchmark_imports(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # As `python benchmarks/x.py` runs it: its folder first on sys.path, so it
    # finds its sibling modules (bench_policy imports bench_verify).
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    # What bench_chunked_upload passes its server module (_chunked_sink) at startup.
    monkeypatch.setenv("BENCH_AKID", "AKIDEXAMPLE")
    monkeypatch.setenv("BENCH_SECRET", "secret")
    name = path.stem
    monkeypatch.delitem(sys.modules, name, raising=False)
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, name, module)
    spec.loader.exec_module(module)
    if name.startswith("bench_"):
        assert callable(getattr(module, "main", None)), f"{path.name} has no main()"
