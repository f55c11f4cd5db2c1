"""The package reads as layers: each module imports only from its own layer or those below,
none imports one that imports it back, none is huge.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Final

PACKAGE = Path(__file__).resolve().parent.parent / "typedsvc"
MAX_LINES = 500

# From the bottom up. A module imports from its own layer and those below it only.
LAYERS: Final = {
    # The definition checks and their messages, shared with the mypy plugin: no aiohttp.
    "pure checks": {"_errors", "_groups", "_inputs", "_options", "_template", "_urls"},
    "types and specs": {
        "_access_log",
        "_client_ip",
        "_convert",
        "_json_schema",
        "_middleware",
        "_params",
        "_problems",
        "_response",
        "_signature",
        "_specs",
        "_types",
    },
    "service and definitions": {"_decorators", "_service", "_static", "_url_for", "_websocket"},
    "application and routing": {
        "_app",
        "_body",
        "_error_handlers",
        "_extract",
        "_finish",
        "_normalize",
        "_openapi",
        "_readiness",
        "_routing",
        "_server_log",
    },
    "commands, testing and deployment": {
        "__main__",
        "_check",
        "_cli",
        "_gunicorn",
        "_listing",
        "_load",
        "_pytest_plugin",
        "_reload",
        "_serve",
        "_workers",
        "testing",
    },
}
# Beside the layers: the mypy plugin, on the pure checks alone.
PLUGIN: Final = {"mypy", "_mypy_shape", "_mypy_url_for"}


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


def test_layout_every_module_has_a_layer() -> None:
    placed: set[str] = {"__init__", *PLUGIN}.union(*LAYERS.values())
    assert {path.stem for path in PACKAGE.glob("*.py")} == placed


def test_layout_modules_import_only_downwards() -> None:
    graph = imports()
    below: set[str] = set()
    wrong: list[str] = []
    for layer, modules in LAYERS.items():
        below |= modules
        for module in sorted(modules):
            for imported in sorted(graph[f"typedsvc.{module}"]):
                if imported.removeprefix("typedsvc.") not in below:
                    wrong.append(f"{module} ({layer}) imports {imported}")
    pure = LAYERS["pure checks"]
    for module in sorted(PLUGIN):
        name = "typedsvc.mypy" if module == "mypy" else f"typedsvc.{module}"
        for imported in sorted(graph[name]):
            if imported.removeprefix("typedsvc.") not in pure | PLUGIN:
                wrong.append(f"{module} (mypy plugin) imports {imported}")
    assert wrong == []
