"""The server's import graph has no cycles, between modules or between packages.

Read from the source: every ``import``, also those inside functions (a cycle hidden from
the interpreter until the function runs is still one in the design), so a lower layer
that starts importing a higher one fails here, naming the cycle. Imports for the type
checker alone (under ``if TYPE_CHECKING:``) are left out: they never run, and naming a
component's class where it is only a type (an ``AppKey``'s) is no dependency on it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "pod_server"


def modules(package: str = PACKAGE) -> dict[str, Path]:
    """Every module of ``package`` by dotted name (a package by its ``__init__``)."""
    found: dict[str, Path] = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _targets(node: ast.AST, importer: str, is_package: bool) -> Iterable[tuple[str, ...]]:
    """Per imported name, what it may be, most specific first: ``from pkg import x``
    imports the module ``pkg.x`` if there is one, else the name ``x`` of ``pkg``."""
    if isinstance(node, ast.Import):
        yield from ((alias.name,) for alias in node.names)
    elif isinstance(node, ast.ImportFrom):
        base = node.module or ""
        if node.level:  # relative: resolve against the importer's package
            anchor = importer.split(".")[: None if is_package else -1]
            anchor = anchor[: len(anchor) - node.level + 1]
            base = ".".join([*anchor, base] if base else anchor)
        for alias in node.names:
            yield (f"{base}.{alias.name}", base)


def _runtime_nodes(tree: ast.AST) -> Iterable[ast.AST]:
    """Every node of ``tree`` but those under ``if TYPE_CHECKING:``."""
    todo = [tree]
    while todo:
        node = todo.pop()
        yield node
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            todo.extend(node.orelse)
            continue
        todo.extend(ast.iter_child_nodes(node))


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def import_graph(known: Mapping[str, Path]) -> dict[str, set[str]]:
    """Module -> the modules of ``known`` it imports (the nearest enclosing one named)."""
    graph: dict[str, set[str]] = {name: set() for name in known}
    for name, path in known.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in _runtime_nodes(tree):
            for candidates in _targets(node, name, path.name == "__init__.py"):
                target = next((c for c in candidates if c in known), candidates[-1])
                while target and target not in known:
                    target = target.rpartition(".")[0]
                if target and target != name:
                    graph[name].add(target)
    return graph


def package_graph(graph: Mapping[str, set[str]], depth: int = 2) -> dict[str, set[str]]:
    """The same graph between ``pod_server.X`` packages (and top-level modules)."""

    def top(name: str) -> str:
        return ".".join(name.split(".")[:depth])

    packages: dict[str, set[str]] = {top(name): set() for name in graph}
    for name, targets in graph.items():
        packages[top(name)].update(top(t) for t in targets if top(t) != top(name))
    return packages


def cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one node (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, successors = work[-1]
            for succ in successors:
                if succ not in index:
                    index[succ] = low[succ] = len(index)
                    stack.append(succ)
                    on_stack.add(succ)
                    work.append((succ, iter(sorted(graph[succ]))))
                    break
                if succ in on_stack:
                    low[node] = min(low[node], index[succ])
            else:
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


def test_no_cycle_between_modules() -> None:
    assert cycles(import_graph(modules())) == []


def test_no_cycle_between_packages() -> None:
    assert cycles(package_graph(import_graph(modules()))) == []


def test_the_cycle_finder_finds_cycles() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"e"}}
    assert cycles(graph) == [["a", "b", "c"]]
    packages = package_graph({"p.x.m": {"p.y.n"}, "p.y.n": {"p.x.k"}, "p.x.k": set()})
    assert cycles(packages) == [["p.x", "p.y"]]


def test_relative_and_nested_imports_are_read(tmp_path: Path) -> None:
    (tmp_path / "inner.py").write_text(
        "from . import sibling\nfrom .sub import deep\n"
        "def f():\n    from pod_server.app import create_app\n"
        "if TYPE_CHECKING:\n    from pod_server.other import Thing\n",
        encoding="utf-8",
    )
    known = {
        "pod_server.x.inner": tmp_path / "inner.py",
        "pod_server.x.sibling": tmp_path / "inner.py",
        "pod_server.x.sub": tmp_path / "inner.py",
        "pod_server.app": tmp_path / "inner.py",
        "pod_server.other": tmp_path / "inner.py",
    }
    graph = import_graph(known)
    assert graph["pod_server.x.inner"] == {
        "pod_server.x.sibling",
        "pod_server.x.sub",
        "pod_server.app",
    }
