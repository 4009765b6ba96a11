"""The package's import graph between its parts is acyclic, and domain steps do no I/O.

Every ``import``, including the ones inside functions (a lazy import hides a cycle from
Python, not from the design), is an edge from the importing part of ``huizong`` (a
subpackage such as ``validate`` or a top-level module such as ``pipeline``) to the part
it names. A cycle means two parts cannot be understood, tested or split apart alone.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "huizong"
#: Domain steps: frames in, frames out. The warehouse is read and written by the pipeline.
PURE = ("validate", "quality", "rollup")


def _part(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "huizong" and len(parts) > 1 else None


def _module_name(path: Path, src: Path) -> str:
    rel = path.relative_to(src.parent).with_suffix("")
    names = list(rel.parts)
    return ".".join(names[:-1] if names[-1] == "__init__" else names)


def imports_of(path: Path, src: Path = SRC) -> set[str]:
    """Absolute names of every module ``path`` imports (relative imports resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = _module_name(path, src)
    if path.name != "__init__.py":
        package = package.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names)
    return found


def part_graph(src: Path = SRC) -> dict[str, set[str]]:
    """Part → the other parts it imports (a part: a subpackage or a top-level module)."""
    graph: dict[str, set[str]] = {}
    for path in sorted(src.rglob("*.py")):
        source = _part(_module_name(path, src))
        if source is None:
            continue
        edges = graph.setdefault(source, set())
        for name in imports_of(path, src):
            target = _part(name)
            if target in (None, source):
                continue
            if (src / target).is_dir() or (src / f"{target}.py").is_file():
                edges.add(target)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle as a path ``[a, b, …, a]``, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_import_graph_between_parts_is_acyclic() -> None:
    graph = part_graph()
    assert {"pipeline", "validate", "review", "warehouse", "registry"} <= graph.keys()
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " → ".join(cycle or [])


@pytest.mark.parametrize("part", PURE)
def test_domain_steps_do_not_open_the_warehouse(part: str) -> None:
    for path in sorted((SRC / part).rglob("*.py")):
        names = imports_of(path)
        opened = {n for n in names if n.split(".")[0] == "sqlalchemy" or n == "huizong.warehouse"}
        assert not opened, f"{path.relative_to(SRC)} imports {sorted(opened)}"


def test_cycle_finder_finds_a_cycle(tmp_path: Path) -> None:
    """The check itself can fail: a two-part cycle through a lazy import is reported."""
    pkg = tmp_path / "huizong"
    (pkg / "alpha").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "alpha" / "__init__.py").write_text("from huizong.beta import thing\n")
    (pkg / "beta.py").write_text("def thing():\n    from .alpha import other\n")
    graph = part_graph(pkg)
    assert graph == {"alpha": {"beta"}, "beta": {"alpha"}}
    assert find_cycle(graph) == ["alpha", "beta", "alpha"]
