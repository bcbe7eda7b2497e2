"""No import cycle between the packages of app/ (DESIGN: dependencies point down)."""

from __future__ import annotations

import ast
from pathlib import Path

APP = Path(__file__).resolve().parents[2] / "app"


def _unit(module: str) -> str | None:
    """The package-level unit a module belongs to: `app.pipeline.run` → `app.pipeline`."""
    parts = module.split(".")
    if parts[0] != "app" or len(parts) < 2:
        return None
    return ".".join(parts[:2])


def _module_name(path: Path, root: Path) -> str:
    rel = path.relative_to(root.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path, root: Path) -> set[str]:
    """Every module imported anywhere in the file, TYPE_CHECKING and function-level imports included."""
    tree = ast.parse(path.read_text(), filename=str(path))
    name = _module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names}
    return found


def package_graph(root: Path = APP) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path in root.rglob("*.py"):
        source = _unit(_module_name(path, root))
        if source is None:
            continue
        targets = {_unit(m) for m in _imports(path, root)}
        graph.setdefault(source, set()).update(t for t in targets if t is not None and t != source)
    # A target like `app.pipeline.ports` maps to `app.pipeline`; names that are not units (e.g.
    # `from app import x`) drop out above.
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """Return one cycle as a path (first == last), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)) is not None:
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)) is not None:
            return cycle
    return None


def test_app_packages_have_no_import_cycle() -> None:
    graph = package_graph()
    assert "app.pipeline" in graph and "app.storage" in graph  # the scan found the code
    cycle = find_cycle(graph)
    assert cycle is None, "package import cycle: " + " -> ".join(cycle or [])


def test_storage_imports_only_itself() -> None:
    assert package_graph().get("app.storage", set()) == set()


def test_the_checker_finds_a_cycle(tmp_path: Path) -> None:
    root = tmp_path / "app"
    for package, imports in {
        "a": "from app.b import x",
        "b": "from app.c.y import z",
        "c": "import app.a",
    }.items():
        (root / package).mkdir(parents=True)
        (root / package / "__init__.py").write_text("")
        (root / package / "m.py").write_text(f"if TYPE_CHECKING:\n    {imports}\n")
    cycle = find_cycle(package_graph(root))
    assert cycle == ["app.a", "app.b", "app.c", "app.a"]
