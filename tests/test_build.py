"""Which build of the fast paths is loaded (mypyc-compiled or pure Python), and that
wrong-type inputs get the library's own errors from either build.

CI runs this file twice: in the full suite with ``SIGV4KIT_REQUIRE_COMPILED=1``
(the compiled build must be the one loaded) and in ``make pytest-pure`` with
``SIGV4KIT_PURE_PYTHON=1`` (the .py sources must be the ones loaded).
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import types
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

import sigv4kit
from sigv4kit import _build
from sigv4kit.client import _fastsign
from sigv4kit.verify import _fast
from sigv4kit.verify._fast import FastVerifier

ROOT = Path(__file__).resolve().parents[1]
PURE = os.environ.get("SIGV4KIT_PURE_PYTHON", "") not in ("", "0")
REQUIRE_COMPILED = os.environ.get("SIGV4KIT_REQUIRE_COMPILED") == "1"
CREDENTIALS = sigv4kit.Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def _kinds_in_fresh_interpreter(pure: bool) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "SIGV4KIT_PURE_PYTHON"}
    if pure:
        env["SIGV4KIT_PURE_PYTHON"] = "1"
    code = "import json, sigv4kit._build as b; print(json.dumps(b.module_kinds()))"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, check=True, timeout=60).stdout
    kinds: dict[str, str] = json.loads(out)
    return kinds


def test_setup_compiles_exactly_the_modules_the_build_reports_on() -> None:
    tree = ast.parse((ROOT / "setup.py").read_text(encoding="utf-8"))
    assigned = {
        target.id: node.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    paths = ast.literal_eval(assigned["COMPILED"])
    assert tuple(path.removesuffix(".py").replace("/", ".") for path in paths) == (
        _build.COMPILED_MODULES
    )
    assert ast.literal_eval(assigned["PURE_ENV"]) == _build.PURE_ENV == "SIGV4KIT_PURE_PYTHON"


def test_the_loaded_build_is_the_one_asked_for() -> None:
    kinds = _build.module_kinds()
    assert set(kinds) == set(_build.COMPILED_MODULES)
    if PURE:
        assert set(kinds.values()) == {"pure"}
    elif REQUIRE_COMPILED:
        assert set(kinds.values()) == {"compiled"}, "the build fell back to pure Python"
    else:  # a machine without a compiler gets the pure build, but never half of each
        assert len(set(kinds.values())) == 1, kinds
    assert _build.compiled() is (set(kinds.values()) == {"compiled"})


def test_compiled_means_native_code_and_pure_means_python_functions() -> None:
    """What the build reports is what runs: mypyc's functions are not Python functions."""
    compiled = _build.compiled()
    for function in (FastVerifier.prepare, _fast.FastVerifier.finish,
                     _fastsign.FastSigner.sign, _build_fastwire().header_index):
        assert isinstance(function, types.FunctionType) is not compiled, function
    if compiled:
        # An editable install keeps the compiled library beside the sources: `make`
        # rebuilds it when they change, and a stale one would test old code.
        (library,) = (ROOT / "sigv4kit").glob("_fastpaths__mypyc.*")
        for name in _build.COMPILED_MODULES:
            source = ROOT / (name.replace(".", "/") + ".py")
            assert library.stat().st_mtime >= source.stat().st_mtime, (
                f"{library.name} is older than {source.name}: run `make pytest` "
                "(or `.venv/bin/python setup.py build_ext --inplace --force`)"
            )


def _build_fastwire() -> types.ModuleType:
    from sigv4kit.canonical import _fastwire

    return _fastwire


def test_the_environment_variable_selects_the_pure_sources_at_import() -> None:
    pure = _kinds_in_fresh_interpreter(pure=True)
    assert set(pure.values()) == {"pure"}
    default = _kinds_in_fresh_interpreter(pure=False)
    if not PURE:
        assert default == _build.module_kinds()
    if REQUIRE_COMPILED:
        assert set(default.values()) == {"compiled"}


# -- wrong types: the library's own errors from both builds ----------------------------


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"region": 123}, sigv4kit.SigningError, "region 123 must be non-empty"),
        ({"region": b"us-east-1"}, sigv4kit.SigningError, "region b'us-east-1' must be"),
        ({"service": None}, sigv4kit.SigningError, "service None must be non-empty"),
        ({"clock": lambda: datetime(2026, 1, 1)}, sigv4kit.InvalidTimeError,
         "signing time must be timezone-aware"),
    ],
)
def test_wrong_types_for_the_auth_get_the_librarys_errors(
    options: dict[str, Any], error: type[Exception], message: str
) -> None:
    arguments: dict[str, Any] = {"region": "us-east-1", "service": "svc", "clock": lambda: NOW}
    auth = sigv4kit.SigV4Auth(CREDENTIALS, **{**arguments, **options})
    with pytest.raises(error, match=message):
        auth.sign(httpx.Request("GET", "https://example.amazonaws.com/x?a=1"))


def test_a_str_subclass_region_signs_as_its_value() -> None:
    class Region(str):
        pass

    plain = sigv4kit.SigV4Auth(CREDENTIALS, region="us-east-1", service="svc",
                               clock=lambda: NOW, invocation_id=lambda: "id")
    subclass = sigv4kit.SigV4Auth(CREDENTIALS, region=Region("us-east-1"), service="svc",
                                  clock=lambda: NOW, invocation_id=lambda: "id")
    signed = [auth.sign(httpx.Request("GET", "https://example.amazonaws.com/x")).signature
              for auth in (plain, subclass)]
    assert signed[0] == signed[1]
    assert len(signed[0]) == 64


def test_verifier_config_given_sets_and_lists_builds_the_fast_verifier() -> None:
    config = sigv4kit.VerifierConfig(
        regions={"us-east-1"},  # type: ignore[arg-type]
        services=["s3"],  # type: ignore[arg-type]
        algorithms={sigv4kit.SigningAlgorithm.SIGV4},  # type: ignore[arg-type]
    )
    fast = FastVerifier(sigv4kit.Verifier(config))
    # A request of another service is the verifier's (None), not an error.
    assert fast.prepare("GET", b"/", b"", [(b"host", b"h")], NOW, None) is None


@pytest.mark.parametrize(
    "change",
    [
        {"raw_path": "/x"},
        {"query_string": "a=1"},
        {"method": b"GET"},
        {"headers": [("host", "h")]},
        {"headers": [(b"host", "h")]},
        {"headers": [(b"host",)]},
    ],
    ids=["str-path", "str-query", "bytes-method", "str-headers", "str-value", "one-tuple"],
)
async def test_scopes_off_the_asgi_spec_are_left_to_the_verifier(change: dict[str, Any]) -> None:
    from sigv4kit.middleware import MemoryKeyStore
    from sigv4kit.middleware.asgi.fastpath import verify_fast

    verifier = sigv4kit.Verifier()
    scope: dict[str, Any] = {
        "type": "http", "http_version": "1.1", "method": "GET", "raw_path": b"/x",
        "query_string": b"", "headers": [(b"host", b"h")], **change,
    }
    assert await verify_fast(FastVerifier(verifier), verifier, MemoryKeyStore(), scope,
                             NOW) is None
