"""The integration keeps core's module lines and uses Home Assistant only through its public API.

Size: at most 24 modules at the top level (a package other than the device client ``api/``
counts as one), at most ``MAX_LINES_ABOVE_API`` lines
outside ``api/``, no file over 500 lines, no function over 50 lines. Reach: no per-entry state
in ``hass.data``, no private attribute of a Home Assistant object that this code reads by name
(the restore cache, an entity's context, the recorder's test hooks, SQL on its tables), and every
reference in the code points into the repository.
"""

from __future__ import annotations

import ast
from pathlib import Path
import re

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "custom_components" / "whatwatt"
SOURCES = sorted(PACKAGE.rglob("*.py"))
MAX_TOP_MODULES = 24
MAX_LINES_ABOVE_API = 5000
MAX_FILE_LINES = 500
MAX_FUNCTION_LINES = 50

# What reaches into Home Assistant's internals (or out of the repository), by its name.
FORBIDDEN = {
    "hass.data": re.compile(r"\bhass\.data\b"),
    "the restore cache": re.compile(r"\blast_states\b"),
    "an entity's context": re.compile(r"\._context\b"),
    "a recorder test hook": re.compile(r"async_block_till_done|async_recorder_ready"),
    "a recorder task": re.compile(r"\bRecorderTask\b|session_scope|\bUPDATE\s+statistics"),
    "a file outside the repository": re.compile(r"DESIGN\.md|device README"),
}


def _lines(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


def test_module_count_and_size() -> None:
    """Few top-level modules; the part above the device client stays small."""
    top = [
        path
        for path in PACKAGE.iterdir()
        if path.suffix == ".py"
        or (path.is_dir() and path.name != "api" and (path / "__init__.py").exists())
    ]
    above_api = [path for path in SOURCES if "api" not in path.relative_to(PACKAGE).parts]
    assert len(top) <= MAX_TOP_MODULES, sorted(path.name for path in top)
    assert sum(_lines(path) for path in above_api) <= MAX_LINES_ABOVE_API
    big = {path.name: _lines(path) for path in SOURCES if _lines(path) > MAX_FILE_LINES}
    assert not big


def test_functions_are_short() -> None:
    """No function (docstring and decorators included) is longer than 50 lines."""
    long: dict[str, int] = {}
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                assert node.end_lineno is not None
                if (size := node.end_lineno - first + 1) > MAX_FUNCTION_LINES:
                    long[f"{path.relative_to(PACKAGE)}:{node.name}"] = size
    assert not long


@pytest.mark.parametrize("what", sorted(FORBIDDEN))
def test_no_reach_into_internals(what: str) -> None:
    """Home Assistant is used only through its public API."""
    pattern = FORBIDDEN[what]
    found = [
        f"{path.relative_to(PACKAGE)}:{number}"
        for path in SOURCES
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if pattern.search(line)
    ]
    assert not found, what
