"""Which top-level packages may import which: the server never imports the client, the
archive format (``pod_archive``) imports neither, and apps never import the server. Read from the source (every import
statement, including those inside functions, and ``import_module``/``__import__`` with a
literal name), not from what happens to be loaded."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = {
    "pod_server": ("client",),
    "pod_archive": ("client", "pod_server"),
    "apps": ("pod_server",),  # apps and connectors speak to pods over HTTP, via client/
}


def _package_of(path: Path) -> list[str]:
    """The package a module file's relative imports start from, as a list of names
    (``pod_server/pods/x.py`` and ``pod_server/pods/__init__.py``: pod_server.pods)."""
    return list(path.relative_to(ROOT).parent.parts)


def imported_modules(source: str, package: list[str]) -> Iterator[tuple[int, str]]:
    """(line, absolute module name) of every import in ``source``, relative imports
    resolved against ``package`` (the module's own package)."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # one dot: this package; each further dot: one up
                base = package[: len(package) - node.level + 1]
                name = ".".join([*base, *([node.module] if node.module else [])])
            else:
                name = node.module or ""
            yield node.lineno, name
            for alias in node.names:  # `from . import client` names a module too
                yield node.lineno, f"{name}.{alias.name}" if name else alias.name
        elif (
            isinstance(node, ast.Call)
            and (
                (isinstance(node.func, ast.Name) and node.func.id == "__import__")
                or (isinstance(node.func, ast.Attribute) and node.func.attr == "import_module")
            )
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            yield node.lineno, node.args[0].value


def violations(package: str) -> list[str]:
    """Every import under ``package`` of a top-level package it must not depend on."""
    banned = FORBIDDEN[package]
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        own = _package_of(path)
        for line, name in imported_modules(path.read_text(encoding="utf-8"), own):
            top = name.split(".")[0]
            if top in banned:
                found.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_does_not_import_what_it_must_not(package: str) -> None:
    assert list((ROOT / package).rglob("*.py")), f"{package}/ has no modules: moved?"
    assert violations(package) == []


@pytest.mark.parametrize(
    "source",
    [
        "import client",
        "import client.archive as a",
        "from client.archive import verify_archive",
        "from client import archive",
        "def f():\n    from client.errors import NotFound\n",
        "class C:\n    def m(self):\n        import client.pod\n",
        "import importlib\nimportlib.import_module('client.archive')",
        "__import__('client')",
        "from ... import client",  # relative, from pod_server/pods/x.py to the top level
    ],
)
def test_the_check_sees_every_form_of_import(source: str) -> None:
    names = [name for _, name in imported_modules(source, ["pod_server", "pods"])]
    assert any(name.split(".")[0] == "client" for name in names), names


def test_the_check_lets_the_leaf_through() -> None:
    source = "import pod_archive\nfrom pod_archive import rebase\nfrom . import clientele\n"
    names = [name for _, name in imported_modules(source, ["pod_server", "pods"])]
    assert names and all(name.split(".")[0] not in ("client",) for name in names), names
