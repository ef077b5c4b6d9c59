"""The layout rules of issue 13: no import circle, the core never imports the server,
and the server's commands join the CLI through the typed hook."""

from __future__ import annotations

import ast
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from sigv4kit.cli import COMMANDS_GROUP, VERIFY_SUPPORT_GROUP, Command, VerifySupport
from sigv4kit.cli._hook import command_entry_points

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {"sigv4kit": ROOT / "sigv4kit", "sigv4kit.middleware": ROOT / "middleware"}


def _modules() -> dict[str, tuple[Path, bool]]:
    found: dict[str, tuple[Path, bool]] = {}
    for package, folder in PACKAGES.items():
        for path in folder.rglob("*.py"):
            parts = list(path.relative_to(folder).with_suffix("").parts)
            is_package = parts[-1] == "__init__"
            if is_package:
                parts = parts[:-1]
            name = ".".join([package, *parts])
            if package == "sigv4kit" and name.startswith("sigv4kit.middleware"):
                continue
            found[name] = (path, is_package)
    return found


def _imports(name: str, path: Path, is_package: bool, known: set[str]) -> set[str]:
    """Every module ``name`` imports: module level, in functions, under TYPE_CHECKING."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = name.split(".") if is_package else name.split(".")[:-1]
                parts = parts[: len(parts) - (node.level - 1)]
                base = ".".join(parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        for target in targets:
            # A package importing its own submodules is how it re-exports them.
            if target in known and target != name and not target.startswith(name + "."):
                out.add(target)
    return out


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, path, pkg, set(modules)) for name, (path, pkg) in modules.items()}


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (iterative Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_circle_finder_finds_a_circle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _circles(graph) == [["a", "b", "c"]]
    assert _circles({"a": {"b"}, "b": set()}) == []


@pytest.mark.parametrize(
    "package",
    ["sigv4kit", "sigv4kit.middleware"],
)
def test_no_import_circle(package: str) -> None:
    in_package = [
        circle
        for circle in _circles(_graph())
        if any(m == package or m.startswith(package + ".") for m in circle)
        and (package != "sigv4kit" or not all(m.startswith("sigv4kit.middleware") for m in circle))
    ]
    assert in_package == []


def test_the_core_never_imports_the_server() -> None:
    graph = _graph()
    core = [name for name in graph if not name.startswith("sigv4kit.middleware")]
    assert len(core) > 30
    offenders = {
        name: sorted(t for t in graph[name] if t.startswith("sigv4kit.middleware")) for name in core
    }
    assert {name: found for name, found in offenders.items() if found} == {}
    for name in core:
        text = _modules()[name][0].read_text(encoding="utf-8")
        assert "import_module" not in text, name


def test_no_core_module_is_long() -> None:
    long = {
        name: lines
        for name, (path, _) in _modules().items()
        if not name.startswith("sigv4kit.middleware")
        and (lines := path.read_text(encoding="utf-8").count("\n")) > 500
    }
    assert long == {}


def test_every_subpackage_says_what_it_holds() -> None:
    for name in ("canonical", "signing", "verify", "client", "explain", "cli"):
        doc = (ROOT / "sigv4kit" / name / "__init__.py").read_text(encoding="utf-8")
        assert "import" in (ast.get_docstring(ast.parse(doc)) or ""), name


# -- the registration hook ----------------------------------------------------------------


def test_the_server_commands_are_registered() -> None:
    assert [ep.name for ep in command_entry_points()] == ["audit", "iam", "keys", "policy", "serve"]


@pytest.mark.parametrize("ep", command_entry_points(), ids=lambda ep: ep.name)
def test_each_registered_command_is_a_command(ep: object) -> None:
    from importlib.metadata import EntryPoint

    from sigv4kit.cli._hook import _summary

    assert isinstance(ep, EntryPoint)
    command = ep.load()
    assert isinstance(command, Command)
    assert command.name == ep.name
    # The listing read from the source without importing equals the loaded help.
    assert _summary(ep) == command.help
    assert ep.group == COMMANDS_GROUP


def test_verify_support_is_registered() -> None:
    (ep,) = entry_points(group=VERIFY_SUPPORT_GROUP)
    assert isinstance(ep.load(), VerifySupport)


def _python(code: str) -> list[str]:
    """The words a fresh interpreter prints running ``code``."""
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    return result.stdout.split()


def test_help_lists_the_server_commands_without_importing_them() -> None:
    code = (
        "import sys, contextlib, io, sigv4kit.cli._main as c\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        "    c.main(['--help'])\n"
        "print('manage access keys in a key store' in out.getvalue(), "
        "'work with IAM policy documents' in out.getvalue(), "
        "any(m.startswith('sigv4kit.middleware') for m in sys.modules))"
    )
    assert _python(code) == ["True", "True", "False"]


def test_core_commands_do_not_import_the_server() -> None:
    code = (
        "import sys, io, sigv4kit.cli._main as c\n"
        "out = io.StringIO()\n"
        "c.main(['sign', '-', '--region', 'us-east-1', '--service', 'service', "
        "'--access-key-id', 'AKIDEXAMPLE', '--secret-access-key', 'x', "
        "'--time', '2015-08-30T12:36:00Z'], stdin=io.BytesIO("
        "b'GET / HTTP/1.1\\r\\nHost: example.amazonaws.com\\r\\n\\r\\n'), stdout=out)\n"
        "print('Authorization' in out.getvalue() or 'authorization' in out.getvalue(), "
        "any(m.startswith('sigv4kit.middleware') for m in sys.modules))"
    )
    assert _python(code) == ["True", "False"]
