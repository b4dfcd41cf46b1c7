"""The integration's modules import each other without cycles, ``TYPE_CHECKING`` imports too.

``python -m tests.integration.test_import_graph`` prints the graph (one line per module).
"""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "custom_components" / "whatwatt"
ABSOLUTE = "custom_components.whatwatt"


def _module(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts) or "__init__"


def _resolve(path: Path, node: ast.ImportFrom) -> list[str]:
    """Return the package modules a ``from`` import names (relative, every level, or absolute)."""
    if node.level == 0:
        # A sub-package names the modules above it absolutely (ruff's TID252).
        module = node.module or ""
        if not module.startswith(f"{ABSOLUTE}."):
            return []
        base = module.removeprefix(f"{ABSOLUTE}.").split(".")
    else:
        here = path.relative_to(PACKAGE).parent.parts
        base = list(here[: len(here) - (node.level - 1)])
        if node.module:
            base += node.module.split(".")
    names = [".".join(base)] if base else []
    # ``from . import x`` / ``from .api import x``: x may be a module itself.
    for alias in node.names:
        candidate = PACKAGE.joinpath(*base, alias.name)
        if candidate.with_suffix(".py").exists() or candidate.is_dir():
            names.append(".".join([*base, alias.name]))
    return [name or "__init__" for name in names]


def import_graph() -> dict[str, set[str]]:
    """Return module → package modules it imports (``api.x`` collapsed to ``api``)."""
    graph: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        module = _module(path)
        imported: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                imported.update(_resolve(path, node))
        graph[module] = {name for name in imported if name != module}
    return graph


def test_no_import_cycles() -> None:
    """Every import, including those only for type checking, points one way."""
    graph = import_graph()
    try:
        order = list(TopologicalSorter(graph).static_order())
    except CycleError as err:  # pragma: no cover - the failure message
        raise AssertionError(f"import cycle: {err.args[1]}") from err
    assert "coordinator" in order
    # The device client knows nothing of the integration above it.
    for module, imported in graph.items():
        if module.startswith("api"):
            assert all(name.startswith("api") for name in imported), (module, imported)


if __name__ == "__main__":
    for name, imported in sorted(import_graph().items()):
        inside = sorted(i for i in imported if not i.startswith("api."))
        api = sorted(i.removeprefix("api.") for i in imported if i.startswith("api."))
        line = ", ".join(inside + ([f"api({', '.join(api)})"] if api else []))
        print(f"{name}: {line or '-'}")  # noqa: T201
