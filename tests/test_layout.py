"""The package reads as layers: no module imports one that imports it back, none is huge.

Pure checks (no aiohttp) at the bottom, then signatures and specs, Service, the decorators,
the application; the mypy plugin beside, on the pure checks only.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "typedsvc"
MAX_LINES = 500


def imports() -> dict[str, set[str]]:
    """Each typedsvc module and the typedsvc modules it imports, TYPE_CHECKING ones too."""
    graph: dict[str, set[str]] = {}
    for path in PACKAGE.glob("*.py"):
        name = f"typedsvc.{path.stem}" if path.stem != "__init__" else "typedsvc"
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                if node.module == "typedsvc":
                    found.update(f"typedsvc.{alias.name}" for alias in node.names)
                elif node.module.startswith("typedsvc."):
                    found.add(node.module)
            elif isinstance(node, ast.Import):
                found.update(a.name for a in node.names if a.name.startswith("typedsvc."))
        graph[name] = found - {name}
    return graph


def test_layout_no_import_cycle() -> None:
    graph = imports()
    # The package's __init__ names every module lazily; the cycle check is below it.
    graph.pop("typedsvc")
    state: dict[str, str] = {}
    cycle: list[str] = []

    def visit(module: str, path: list[str]) -> None:
        state[module] = "open"
        for imported in sorted(graph.get(module, ())):
            if state.get(imported) == "open" and not cycle:
                cycle.extend([*path[path.index(imported) :], imported])
            elif imported not in state:
                visit(imported, [*path, imported])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert cycle == []


def test_layout_service_knows_no_decorator() -> None:
    assert (
        imports()["typedsvc._service"]
        & {
            "typedsvc._decorators",
            "typedsvc._static",
            "typedsvc._websocket",
        }
        == set()
    )


def test_layout_modules_stay_small() -> None:
    sizes = {path.name: len(path.read_text().splitlines()) for path in PACKAGE.glob("*.py")}
    assert {name: size for name, size in sizes.items() if size > MAX_LINES} == {}
