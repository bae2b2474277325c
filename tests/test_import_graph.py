"""No import circles in the product code.

The graph is read from the source with ``ast``: every ``import`` of a project module is an
edge, at module level and inside functions alike (an import inside a function closes a circle
as surely, only later), except those under ``if TYPE_CHECKING:`` (never run). Its strongly
connected components (Tarjan) with more than one module, or a module importing itself, are
the circles. The layers between packages are import-linter's (``pyproject.toml``); this reads
inside the packages too.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("smarter", "console", "identity", "api", "lifecycle", "routerdomains", "operations",
            "audit", "domains", "workspaces", "accounts", "middleware", "tenancy")


def project_modules(root: Path = ROOT, packages: Iterable[str] = PACKAGES) -> dict[str, Path]:
    """Dotted module name -> file, for every ``.py`` file of the packages (a package is its
    ``__init__.py``)."""
    modules = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imported_names(tree: ast.AST, module: str, is_package: bool) -> Iterator[str]:
    """The absolute names ``tree`` imports: ``from a import b`` gives ``a.b`` (``b`` may be a
    submodule) and ``a``; the ``if TYPE_CHECKING:`` branches are skipped."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _is_type_checking(node):
            stack.extend(node.orelse)
            continue
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = module.split(".") if is_package else module.split(".")[:-1]
                parts = parts[:len(parts) - node.level + 1]
                base = ".".join(parts + ([node.module] if node.module else []))
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)
        stack.extend(ast.iter_child_nodes(node))


def import_graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    """Module -> the project modules it imports (the nearest module a name lies in)."""
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        targets = set()
        for name in _imported_names(tree, module, path.name == "__init__.py"):
            while name and name not in modules:
                name = name.rpartition(".")[0]
            if name:
                targets.add(name)
        # ``from pkg import sub`` also yields ``pkg``: an edge to the package only when nothing
        # inside it was named (a module's own name is no edge)
        graph[module] = {t for t in targets if t != module
                         and not any(other.startswith(t + ".") for other in targets)}
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The import circles: strongly connected components (Tarjan's algorithm, iterative) of
    more than one module, and modules that import themselves; each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, successors = work[-1]
            for successor in successors:
                if successor not in index:
                    index[successor] = low[successor] = counter
                    counter += 1
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, iter(sorted(graph.get(successor, ())))))
                    break
                if successor in on_stack:
                    low[node] = min(low[node], index[successor])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1 or node in graph.get(node, ()):
                        found.append(sorted(component))
    return sorted(found)


def test_the_product_code_has_no_import_circle():
    graph = import_graph(project_modules())
    assert len(graph) > 300  # every package was read
    found = circles(graph)
    for component in found:
        members = set(component)
        edges = [f"{a} -> {b}" for a in component for b in sorted(graph[a] & members)]
        print("import circle:", ", ".join(component), "\n    " + "\n    ".join(edges), file=sys.stderr)
    assert found == []


def test_the_finder_finds_circles_and_only_circles():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set(), "e": {"e"}, "f": {"d"}}
    assert circles(graph) == [["a", "b", "c"], ["e"]]
    assert circles({"x": {"y"}, "y": {"z"}, "z": set()}) == []


def test_imports_inside_functions_count_and_type_checking_ones_do_not(tmp_path):
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "models.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from .lookup import key\n"
        "def hook():\n    from .lookup import key\n    return key()\n")
    (package / "lookup.py").write_text("from pkg.models import hook\n\ndef key():\n    return 1\n")
    (package / "typed.py").write_text("from typing import TYPE_CHECKING\n"
                                      "if TYPE_CHECKING:\n    from pkg import lookup\n")
    graph = import_graph(project_modules(tmp_path, ["pkg"]))
    assert graph["pkg.models"] == {"pkg.lookup"} and graph["pkg.typed"] == set()
    assert circles(graph) == [["pkg.lookup", "pkg.models"]]
