"""The package layout: imports inside ``mockserver`` form no circle and flow down the layers.

The import graph is computed from the source with ``ast`` (nothing is imported). Every import
counts, also one inside a function (a lazy import still ties the two modules together), and one
under ``if TYPE_CHECKING:`` counts for the layers and for circles: a type-only circle is still
two modules that cannot be read one without the other (a narrow ``Protocol`` in the lower module
breaks it). ``test_no_import_cycles`` checks the imports that run.
``from package import name`` counts as an import of ``package.name`` when that is a module.
"""

from __future__ import annotations

import ast
from pathlib import Path

import mockserver

PACKAGE_DIR = Path(mockserver.__file__).resolve().parent

# Top-level folders from the bottom up: a module may import its own layer and the layers below.
LAYERS = {"basics": 0, "spec": 1, "services": 2, "runtime": 3, "surface": 3, "web": 4, "proxy": 4, "testkit": 5}


def _module_name(path: Path) -> str:
    parts = ("mockserver",) + path.relative_to(PACKAGE_DIR).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST, module: str, is_package: bool, type_checking: bool = False) -> set[str]:
    package = module if is_package else module.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test) and not type_checking:
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def import_graph(type_checking: bool = False) -> dict[str, set[str]]:
    """Module -> the ``mockserver`` modules it imports (TYPE_CHECKING-only imports left out
    unless ``type_checking``)."""
    files = {_module_name(path): path for path in PACKAGE_DIR.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = _imports(tree, name, path.name == "__init__.py", type_checking)
        graph[name] = {target for target in imported if target in files and target != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                connect(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
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

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return found


def _layer(module: str) -> int | None:
    parts = module.split(".")
    return LAYERS.get(parts[1]) if len(parts) > 1 else None


def test_the_graph_sees_the_packages_imports() -> None:
    graph = import_graph()
    assert "mockserver.services.platform" in graph["mockserver.web.app"]
    assert "mockserver.basics.errors" in graph["mockserver.spec.document"]


def test_the_cycle_finder_finds_a_circle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles() -> None:
    assert cycles(import_graph()) == []


def test_no_cycles_of_type_checking_imports_either() -> None:
    # A circle held only by annotations still ties the modules together: give the lower one a Protocol.
    assert cycles(import_graph(type_checking=True)) == []


def test_type_checking_imports_are_seen() -> None:
    tree = ast.parse("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import mockserver.web.app\n")
    assert "mockserver.web.app" not in _imports(tree, "mockserver.x", False)
    assert "mockserver.web.app" in _imports(tree, "mockserver.x", False, type_checking=True)


def test_imports_flow_down_the_layers() -> None:
    """Type-checking imports included: nothing below web/ names ``web.app.MockServer``."""
    upward = sorted(
        f"{module} -> {target}"
        for module, targets in import_graph(type_checking=True).items()
        for target in targets
        if _layer(module) is not None and _layer(target) is not None and _layer(target) > _layer(module)
    )
    assert upward == []
