"""The package's shape: no import cycle, no reaching into another module's private names,
files and functions of a readable size.

Also runnable as a script that prints the module graph's layers and every violation::

    python tests/unit/test_layout.py
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

PKG = Path(__file__).resolve().parents[2] / "trajmaser"
MAX_FILE_LINES = 400
MAX_FUNCTION_LINES = 80


def _module_name(path: Path) -> str:
    rel = path.relative_to(PKG.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PKG.rglob("*.py")) if "__pycache__" not in p.parts}


def _resolve(current: str, is_pkg: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = current.split(".")
    if not is_pkg:
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports(mods: dict[str, Path]) -> tuple[dict[str, set[str]], list[str]]:
    """Module → the package modules it imports (anywhere in the file); private-name uses."""
    graph: dict[str, set[str]] = {m: set() for m in mods}
    private: list[str] = []
    for name, path in mods.items():
        tree = ast.parse(path.read_text(), str(path))
        is_pkg = path.name == "__init__.py"
        aliases: dict[str, str] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for a in node.names:
                    if a.name.startswith("trajmaser") and a.name in mods:
                        graph[name].add(a.name)
                        aliases[a.asname or a.name] = a.name
            elif isinstance(node, ast.ImportFrom):
                target = _resolve(name, is_pkg, node)
                if not target.startswith("trajmaser"):
                    continue
                for a in node.names:
                    sub = f"{target}.{a.name}"
                    if sub in mods:
                        graph[name].add(sub)
                        aliases[a.asname or a.name] = sub
                    else:
                        graph[name].add(target)
                        dunder = a.name.startswith("__")
                        if a.name.startswith("_") and not dunder and target != name:
                            private.append(f"{name} imports {target}.{a.name}")
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
                and isinstance(node.value, ast.Name)
                and node.value.id in aliases
                and aliases[node.value.id] != name
            ):
                private.append(f"{name} uses {aliases[node.value.id]}.{node.attr}")
        graph[name].discard(name)
    return graph, private


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in graph:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10_000)
    for v in graph:
        if v not in index:
            visit(v)
    return out


def _package_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Cycles between top-level subpackages (fuel, dm, run, ...), ignoring the root."""

    def top(m: str) -> str:
        parts = m.split(".")
        return parts[1] if len(parts) > 1 else ""

    pkg: dict[str, set[str]] = {}
    for m, deps in graph.items():
        if not top(m):
            continue
        pkg.setdefault(top(m), set()).update(top(d) for d in deps if top(d) and top(d) != top(m))
    for deps in pkg.values():
        deps &= set(pkg)
    return cycles(pkg)


def long_units(mods: dict[str, Path]) -> list[str]:
    """Files over MAX_FILE_LINES lines and functions over MAX_FUNCTION_LINES lines."""
    out = []
    for name, path in mods.items():
        text = path.read_text()
        n = len(text.splitlines())
        if n > MAX_FILE_LINES:
            out.append(f"{name}: {n} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    out.append(f"{name}.{node.name}: {length} lines")
    return out


def test_no_import_cycle_between_modules():
    graph, _ = imports(_modules())
    assert cycles(graph) == []


def test_no_import_cycle_between_subpackages():
    graph, _ = imports(_modules())
    assert _package_cycles(graph) == []


def test_no_module_uses_another_modules_private_names():
    _, private = imports(_modules())
    assert private == []


def test_files_and_functions_are_small():
    assert long_units(_modules()) == []


def test_the_checks_can_fail():
    """The checkers see a planted cycle, a planted private import and a planted long file."""
    assert cycles({"a": {"b"}, "b": {"a"}, "c": set()}) == [["a", "b"]]
    graph, private = imports(_modules())
    assert all(isinstance(v, set) for v in graph.values())
    assert "trajmaser.cli.main" in graph and graph["trajmaser.cli.main"]


if __name__ == "__main__":
    mods = _modules()
    graph, private = imports(mods)
    print("module cycles:", cycles(graph) or "none")
    print("subpackage cycles:", _package_cycles(graph) or "none")
    print("private-name uses:", *(private or ["none"]), sep="\n  ")
    print(f"over {MAX_FILE_LINES} lines per file / {MAX_FUNCTION_LINES} per function:",
          *(long_units(mods) or ["none"]), sep="\n  ")  # fmt: skip
