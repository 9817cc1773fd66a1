"""The shape of the house: layers that only import downward, no cycles, modules of a readable size.

Read from the source with ``ast`` (nothing is imported), so a cycle hidden behind a function-level
import or ``TYPE_CHECKING`` counts too: it still couples the two modules.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("config", "models", "storage", "integrations", "services", "gql", "server", "tools")
MAX_MODULE_LINES = 800

# Each layer may import itself and the layers listed after it, never one before it.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("tools",),
    ("server",),
    ("gql",),
    ("services",),
    ("storage", "integrations"),
    ("models",),
    ("config",),
)


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


MODULES = _modules()


def _imports(module: str, path: Path) -> set[str]:
    """The project modules ``module`` imports (a package import counts as its ``__init__``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return {name for name in names if name in MODULES and name != module}


GRAPH = {module: _imports(module, path) for module, path in MODULES.items()}


def _layer(module: str) -> int:
    top = module.split(".")[0]
    return next(i for i, layer in enumerate(LAYERS) if top in layer)


def test_every_package_has_a_layer() -> None:
    layered = {name for layer in LAYERS for name in layer}
    assert set(PACKAGES) == layered


def test_imports_only_run_down_the_layers() -> None:
    upward = sorted(
        f"{module} -> {target}"
        for module, targets in GRAPH.items()
        for target in targets
        if _layer(target) < _layer(module)
    )
    assert upward == []


def _find_cycle() -> list[str] | None:
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for target in sorted(GRAPH[node]):
            if state.get(target) == 1:
                return [*stack[stack.index(target) :], target]
            if target not in state and (cycle := visit(target)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(GRAPH):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_no_import_cycles() -> None:
    assert _find_cycle() is None


def test_cycle_finder_finds_a_cycle() -> None:
    """The check above can fail: a made-up cycle is found."""
    saved = dict(GRAPH)
    try:
        GRAPH["models.clock"] = {*GRAPH["models.clock"], "models.db"}
        cycle = _find_cycle()
    finally:
        GRAPH.clear()
        GRAPH.update(saved)
    assert cycle is not None and cycle[0] == cycle[-1]


@pytest.mark.parametrize("module", sorted(MODULES))
def test_module_is_of_readable_size(module: str) -> None:
    lines = MODULES[module].read_text(encoding="utf-8").count("\n")
    assert lines <= MAX_MODULE_LINES, f"{module} has {lines} lines"


def test_top_level_has_no_loose_modules() -> None:
    loose = sorted(p.name for p in ROOT.glob("*.py"))
    assert loose == []
