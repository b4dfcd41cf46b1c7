"""The device client and the simulator must not import Home Assistant."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
API = ROOT / "custom_components" / "whatwatt" / "api"
SIMULATOR = ROOT / "simulator"


def _imported_modules(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
        elif isinstance(node, ast.ImportFrom) and node.level > 0:
            # relative imports may not climb out of the package into the integration
            if path.is_relative_to(API) and node.level > 1:
                names.append("." * node.level + (node.module or ""))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, (ast.Name, ast.Attribute))
            and getattr(node.func, "id", getattr(node.func, "attr", "")) == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            names.append(node.args[0].value)
    return names


def _forbidden(name: str) -> bool:
    return (
        name == "homeassistant"
        or name.startswith(("homeassistant.", ".."))
        or (
            name.startswith("custom_components.whatwatt")
            and not name.startswith("custom_components.whatwatt.api")
        )
    )


def _python_files(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.py"))


@pytest.mark.parametrize("folder", [API, SIMULATOR], ids=["api", "simulator"])
def test_no_homeassistant_imports(folder: Path) -> None:
    files = _python_files(folder)
    assert files, f"no Python files found under {folder}"
    offenders = {
        str(path.relative_to(ROOT)): bad
        for path in files
        if (bad := [name for name in _imported_modules(path) if _forbidden(name)])
    }
    assert offenders == {}


def test_the_checker_catches_offenders(tmp_path: Path) -> None:
    sample = tmp_path / "bad.py"
    sample.write_text(
        "import homeassistant\n"
        "from homeassistant.core import HomeAssistant\n"
        "import importlib\n"
        "importlib.import_module('homeassistant.helpers')\n"
        "from custom_components.whatwatt.const import DOMAIN\n"
        "from custom_components.whatwatt.api import errors\n"
        "import json\n",
        encoding="utf-8",
    )
    found = sorted(name for name in _imported_modules(sample) if _forbidden(name))
    assert found == [
        "custom_components.whatwatt.const",
        "homeassistant",
        "homeassistant.core",
        "homeassistant.helpers",
    ]
