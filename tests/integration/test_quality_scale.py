"""The Integration Quality Scale claims that code can check (``quality_scale.yaml``).

hassfest skips ``quality_scale.yaml`` for custom integrations, so nothing else holds these:

- the file itself: core's format, exactly the 54 rules, valid statuses, a comment where not done,
  and a few statuses tied to what the code and the README show (they must change together);
- entity-translations / icon-translations: every entity description has a translation key (the
  Restart button, named by its device class, is the one documented exception) with a name in
  strings.json, and an icon in icons.json wherever its device class brings none;
- exception-translations: every Home Assistant error built in the package carries a
  translation key that strings.json has (an AST scan of every module);
- diagnostics: every key listed as secret is redacted wherever it appears;
- action-setup / docs-actions: every action is registered without an entry, and is in
  services.yaml, strings.json, icons.json and the README's action table;
- parallel-updates: ``PARALLEL_UPDATES`` set on every platform module.
"""

from __future__ import annotations

import ast
from dataclasses import replace
from fnmatch import fnmatch
from functools import cache
import importlib
import json
from pathlib import Path
import re
import tomllib
from typing import TYPE_CHECKING, Any

from homeassistant import exceptions as ha_exceptions
import homeassistant.components
from homeassistant.components.diagnostics import REDACTED
from homeassistant.const import CONF_HOST, CONF_PASSWORD, Platform
from homeassistant.helpers import update_coordinator
from homeassistant.helpers.entity_platform import async_get_platforms
from homeassistant.helpers.typing import UNDEFINED
from homeassistant.setup import async_setup_component
import pytest
import yaml

from custom_components.whatwatt import PLATFORMS, diagnostics
from custom_components.whatwatt.api.redact import METER_SERIALS, SECRET_KEYS
from custom_components.whatwatt.const import DOMAIN

if TYPE_CHECKING:
    from collections.abc import Iterator

    from homeassistant.core import HomeAssistant
    from homeassistant.helpers.entity import EntityDescription
    from pytest_homeassistant_custom_component.common import MockConfigEntry

PROJECT = Path(__file__).parents[2]
PACKAGE = PROJECT / "custom_components" / "whatwatt"
README = PROJECT / "README.md"

RULES: dict[str, tuple[str, ...]] = {
    "bronze": (
        "action-setup",
        "appropriate-polling",
        "brands",
        "common-modules",
        "config-flow",
        "config-flow-test-coverage",
        "dependency-transparency",
        "docs-actions",
        "docs-conditions",
        "docs-high-level-description",
        "docs-installation-instructions",
        "docs-removal-instructions",
        "docs-triggers",
        "entity-event-setup",
        "entity-unique-id",
        "has-entity-name",
        "runtime-data",
        "test-before-configure",
        "test-before-setup",
        "unique-config-entry",
    ),
    "silver": (
        "action-exceptions",
        "config-entry-unloading",
        "docs-configuration-parameters",
        "docs-installation-parameters",
        "entity-unavailable",
        "integration-owner",
        "log-when-unavailable",
        "parallel-updates",
        "reauthentication-flow",
        "test-coverage",
    ),
    "gold": (
        "devices",
        "diagnostics",
        "discovery",
        "discovery-update-info",
        "docs-data-update",
        "docs-examples",
        "docs-known-limitations",
        "docs-supported-devices",
        "docs-supported-functions",
        "docs-troubleshooting",
        "docs-use-cases",
        "dynamic-devices",
        "entity-category",
        "entity-device-class",
        "entity-disabled-by-default",
        "entity-translations",
        "exception-translations",
        "icon-translations",
        "reconfiguration-flow",
        "repair-issues",
        "stale-devices",
    ),
    "platinum": ("async-dependency", "inject-websession", "strict-typing"),
}
ALL_RULES = {rule for tier in RULES.values() for rule in tier}
STATUSES = {"done", "todo", "exempt"}

# Entities named by their device class instead of a translation key: (platform, key).
DEVICE_CLASS_NAMED = {("button", "reboot")}
# Home Assistant errors whose message is Home Assistant's own (no translation of ours).
UNTRANSLATED_ERRORS = {"Unauthorized", "UnknownUser"}


def load_json(name: str) -> dict[str, Any]:
    return json.loads((PACKAGE / name).read_text(encoding="utf-8"))


def quality_scale() -> dict[str, Any]:
    return yaml.safe_load((PACKAGE / "quality_scale.yaml").read_text(encoding="utf-8"))


def status(rule: str) -> str:
    value = quality_scale()["rules"][rule]
    return value if isinstance(value, str) else value["status"]


@cache
def readme_text() -> str:
    return README.read_text(encoding="utf-8")


def readme_headings() -> list[str]:
    text = readme_text()
    return [line.lstrip("#").strip() for line in text.splitlines() if line.startswith("#")]


# -- quality_scale.yaml --------------------------------------------------------------------


def test_quality_scale_format() -> None:
    """Core's format: ``rules`` holding the 54 rules, each a status or a status and comment."""
    assert sum(len(tier) for tier in RULES.values()) == len(ALL_RULES) == 54
    assert [len(RULES[tier]) for tier in ("bronze", "silver", "gold", "platinum")] == [
        20,
        10,
        21,
        3,
    ]
    data = quality_scale()
    assert set(data) == {"rules"}
    assert set(data["rules"]) == ALL_RULES
    for rule, value in data["rules"].items():
        if isinstance(value, str):
            assert value == "done", f"{rule}: a bare status is done; todo/exempt need a comment"
            continue
        assert set(value) <= {"status", "comment"}, rule
        assert value["status"] in STATUSES, rule
        comment = value.get("comment")
        if value["status"] != "done":
            assert isinstance(comment, str), f"{rule}: {value['status']} without a comment"
        if comment is not None:
            assert comment.strip(), rule
            assert "\n" not in comment.strip(), f"{rule}: the comment is one line"


def test_rules_known_to_home_assistant() -> None:
    """The rule names are core's: every rule of a core integration's file is one of ours."""
    core = Path(homeassistant.components.__file__).parent / "homewizard" / "quality_scale.yaml"
    core_rules = set(yaml.safe_load(core.read_text(encoding="utf-8"))["rules"])
    # 2025.4 has 52 rules (no docs-conditions, docs-triggers); later lines have all 54.
    assert core_rules <= ALL_RULES
    assert ALL_RULES - core_rules <= {"docs-conditions", "docs-triggers"}


# What mypy's --strict turns on (mypy 1.18), and the inverse spellings a config file may use:
# set to False, resp. True, each turns part of it off again.
_STRICT_FLAGS = (
    "strict",
    "warn_unused_configs",
    "disallow_any_generics",
    "disallow_subclassing_any",
    "disallow_untyped_calls",
    "disallow_untyped_defs",
    "disallow_incomplete_defs",
    "check_untyped_defs",
    "disallow_untyped_decorators",
    "warn_redundant_casts",
    "warn_unused_ignores",
    "warn_return_any",
    "no_implicit_reexport",
    "strict_equality",
    "extra_checks",
)
_STRICT_INVERSES = (
    "allow_any_generics",
    "allow_subclassing_any",
    "allow_untyped_calls",
    "allow_untyped_defs",
    "allow_incomplete_defs",
    "allow_untyped_decorators",
    "implicit_reexport",
    "no_warn_unused_ignores",
    "no_warn_return_any",
    "no_strict_equality",
    "no_extra_checks",
    # Not strict flags, but each leaves part of the package unchecked (an unresolved import
    # is Any).
    "ignore_errors",
    "ignore_missing_imports",
)
_STRICT_OFF = {**dict.fromkeys(_STRICT_FLAGS, False), **dict.fromkeys(_STRICT_INVERSES, True)}
PACKAGE_MODULE = "custom_components.whatwatt"


def _touches_package(pattern: str) -> bool:
    """Return True when a mypy module pattern matches the package or one of its modules."""
    if pattern.endswith(".*") and PACKAGE_MODULE.startswith(pattern.removesuffix(".*")):
        return True
    return any(fnmatch(name, pattern) for name in (PACKAGE_MODULE, f"{PACKAGE_MODULE}.module"))


def strict_typing_gaps(mypy: dict[str, Any], lint: str) -> list[str]:
    """Return why mypy strict does not cover the whole package (nothing when it does).

    ``mypy`` is pyproject's ``[tool.mypy]``, ``lint`` the text of scripts/lint. ``strict`` counts
    in the global section only: set in a per-module section mypy applies it to every module
    anyway (mypy 1.18), so there it claims a scope it does not have. The global section and any
    section matching a module of the package turn nothing of strict off, and scripts/lint runs
    mypy over the package.
    """
    gaps = [] if mypy.get("strict") is True else ["no strict = true in the global [tool.mypy]"]
    sections = [("[tool.mypy]", {key: value for key, value in mypy.items() if key != "overrides"})]
    for override in mypy.get("overrides", []):
        names = override["module"]
        patterns = [names] if isinstance(names, str) else names
        if any(_touches_package(pattern) for pattern in patterns):
            sections.append((f"override {patterns}", override))
    for where, options in sections:
        gaps.extend(
            f"{where}: {key} = {options[key]}"
            for key, off in _STRICT_OFF.items()
            if options.get(key) is off
        )
        if options.get("disable_error_code"):
            gaps.append(f"{where}: disable_error_code = {options['disable_error_code']}")
        if options.get("follow_imports") in {"skip", "silent"}:
            gaps.append(f"{where}: follow_imports = {options['follow_imports']}")
    run = re.compile(r"\bmypy\S*[ \t](.*[ \t])?custom_components/whatwatt/?([ \t]|$)")
    if not any(run.search(line) for line in lint.splitlines() if not line.lstrip().startswith("#")):
        gaps.append("scripts/lint does not run mypy over custom_components/whatwatt")
    return gaps


def project_strict_typing_gaps() -> list[str]:
    """Return the gaps of the project's own mypy configuration and lint script."""
    mypy = tomllib.loads((PROJECT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mypy"]
    return strict_typing_gaps(mypy, (PROJECT / "scripts" / "lint").read_text(encoding="utf-8"))


def test_strict_typing_gaps_found() -> None:
    """The check sees each way of leaving part of the package out (it is not true by design)."""
    lint = '"$VENV/bin/mypy" custom_components/whatwatt simulator || status=1\n'
    assert strict_typing_gaps({"strict": True}, lint) == []
    # What the project had: strict per module (api and simulator), which mypy applies globally.
    api_only = {"overrides": [{"module": ["custom_components.whatwatt.api.*"], "strict": True}]}
    assert strict_typing_gaps(api_only, lint) == ["no strict = true in the global [tool.mypy]"]
    for pattern in ("custom_components.whatwatt.*", "custom_components.*", PACKAGE_MODULE):
        relaxed = {"strict": True, "overrides": [{"module": pattern, "ignore_errors": True}]}
        assert strict_typing_gaps(relaxed, lint), pattern
    for options in (
        {"disallow_untyped_defs": False},
        {"allow_untyped_defs": True},
        {"implicit_reexport": True},
        {"ignore_missing_imports": True},
        {"disable_error_code": ["no-untyped-def"]},
        {"follow_imports": "skip"},
    ):
        assert strict_typing_gaps({"strict": True, **options}, lint), options
    # A third-party module may be eased (Home Assistant's button re-export).
    button = {"module": ["homeassistant.components.button"], "implicit_reexport": True}
    assert strict_typing_gaps({"strict": True, "overrides": [button]}, lint) == []
    assert strict_typing_gaps({"strict": True}, '"$VENV/bin/mypy" simulator\n')
    assert strict_typing_gaps({"strict": True}, "# mypy custom_components/whatwatt\n")


def test_claims_follow_the_code() -> None:
    """Statuses that a file of the project decides: change them together."""
    manifest = load_json("manifest.json")
    strings = load_json("strings.json")
    gaps = project_strict_typing_gaps()
    assert (status("strict-typing") == "done") == (not gaps), gaps
    assert (status("dependency-transparency") == "done") == bool(manifest["requirements"])
    options = strings["options"]["step"]["init"]["data"]
    assert (status("appropriate-polling") == "done") == ("scan_interval" not in options)
    assert status("brands") == "done"
    assert (PACKAGE / "brand" / "icon.png").is_file()
    assert status("config-flow") == "done"
    assert manifest["config_flow"] is True
    assert manifest["codeowners"]
    assert status("integration-owner") == "done"
    has_discovery = any(manifest.get(key) for key in ("zeroconf", "dhcp", "ssdp", "mqtt", "usb"))
    assert (status("discovery") == "done") == has_discovery
    assert (status("diagnostics") == "done") == (PACKAGE / "diagnostics.py").is_file()
    assert (status("repair-issues") == "done") == bool(strings.get("issues"))
    flow = (PACKAGE / "config_flow.py").read_text(encoding="utf-8")
    assert (status("reauthentication-flow") == "done") == ("async_step_reauth" in flow)
    assert (status("reconfiguration-flow") == "done") == ("async_step_reconfigure" in flow)
    for rule, files in (
        ("docs-triggers", ("triggers.yaml", "device_trigger.py")),
        ("docs-conditions", ("conditions.yaml", "device_condition.py")),
    ):
        provided = any((PACKAGE / name).exists() for name in files)
        assert status(rule) == ("todo" if provided else "exempt"), rule


# README sections the docs rules look for (a heading matching the pattern).
DOCS_SECTIONS = {
    "docs-high-level-description": r"^whatwatt Go for Home Assistant$",
    "docs-installation-instructions": r"^Installation$",
    "docs-installation-parameters": r"^Setting up$",
    "docs-supported-functions": r"^Entities$",
    "docs-actions": r"^Actions",
    "docs-removal-instructions": r"(?i)remov",
    "docs-data-update": r"(?i)data updates?",
    "docs-examples": r"(?i)examples?\b",
    "docs-known-limitations": r"(?i)limitations",
    "docs-supported-devices": r"(?i)supported devices",
    "docs-troubleshooting": r"(?i)troubleshooting",
    "docs-use-cases": r"(?i)use cases?",
}


@pytest.mark.parametrize("rule", sorted(DOCS_SECTIONS))
def test_docs_claims_follow_the_readme(rule: str) -> None:
    """A docs rule is done exactly when the README has its section."""
    found = any(re.search(DOCS_SECTIONS[rule], heading) for heading in readme_headings())
    if status(rule) == "done":
        assert found, f"{rule} is claimed done but the README has no such section"
    else:
        assert not found, f"the README has a section for {rule}: update quality_scale.yaml"


# -- entity translations and icons ---------------------------------------------------------


# Home Assistant's description class of each entity platform, by name (SensorEntityDescription):
# on 2025.4 a description built directly is of a generated class, so the name is what is stable.
_DESCRIPTION_CLASSES = {
    f"{platform.title()}EntityDescription": str(platform) for platform in Platform
}


def _platform_of(description: EntityDescription) -> str:
    """Return the entity platform a description belongs to (sensor, button, ...)."""
    for cls in type(description).__mro__:
        if (platform := _DESCRIPTION_CLASSES.get(cls.__name__)) is not None:
            return platform
    raise AssertionError(f"no platform for {description!r}")


def _is_description(value: Any) -> bool:
    """Return True for an entity description (by class name: see _DESCRIPTION_CLASSES)."""
    return any(cls.__name__ == "EntityDescription" for cls in type(value).__mro__)


def _module_descriptions() -> Iterator[EntityDescription]:
    """Yield every entity description the package defines at module level."""
    for path in sorted(PACKAGE.glob("*.py")):
        module = importlib.import_module(f"custom_components.whatwatt.{path.stem}")
        for value in vars(module).values():
            if _is_description(value):
                yield value
            elif isinstance(value, (tuple, list)):
                yield from (item for item in value if _is_description(item))


def _built_descriptions() -> Iterator[EntityDescription]:
    """Yield the descriptions built at run time (one per sub-meter bus and kind)."""
    from custom_components.whatwatt import submeter

    for kind in submeter.KINDS:
        yield submeter.volume_description(1, kind)
    yield submeter.capture_time_description(1)


def all_descriptions() -> list[EntityDescription]:
    found: dict[tuple[str, str, str | None], EntityDescription] = {}
    for description in (*_module_descriptions(), *_built_descriptions()):
        platform = _platform_of(description)
        found[(platform, description.key, description.translation_key)] = description
    return list(found.values())


def _core_icon_classes(platform: str) -> set[str]:
    """Return the device classes Home Assistant gives an icon of their own on a platform."""
    icons = Path(homeassistant.components.__file__).parent / platform / "icons.json"
    component = json.loads(icons.read_text(encoding="utf-8")).get("entity_component", {})
    return {key for key in component if key != "_"}


def test_descriptions_found() -> None:
    """The scan sees every platform the integration sets up."""
    platforms = {_platform_of(description) for description in all_descriptions()}
    assert platforms == {str(platform) for platform in PLATFORMS}
    assert len(all_descriptions()) > 40


def test_every_entity_translated() -> None:
    """A translation key with a name, or the documented device-class-named exception."""
    strings = load_json("strings.json")["entity"]
    for description in all_descriptions():
        platform = _platform_of(description)
        if description.translation_key is None:
            assert (platform, description.key) in DEVICE_CLASS_NAMED, description
            assert description.device_class is not None, description
            assert description.name in (None, UNDEFINED), description
            continue
        entry = strings.get(platform, {}).get(description.translation_key)
        assert entry is not None, f"{platform}.{description.translation_key} not in strings"
        assert entry.get("name"), f"{platform}.{description.translation_key} has no name"


def test_every_entity_has_an_icon() -> None:
    """icons.json gives an icon wherever the device class brings none; it has no stray keys."""
    icons = load_json("icons.json")["entity"]
    keys: dict[str, set[str]] = {}
    for description in all_descriptions():
        platform = _platform_of(description)
        device_class = str(description.device_class) if description.device_class else None
        if description.translation_key is not None:
            keys.setdefault(platform, set()).add(description.translation_key)
        if device_class in _core_icon_classes(platform):
            continue
        assert description.translation_key is not None, description
        icon = icons.get(platform, {}).get(description.translation_key, {})
        assert icon.get("default", "").startswith("mdi:"), (
            f"{platform}.{description.translation_key}: no icon (device class {device_class})"
        )
    for platform, entries in icons.items():
        assert set(entries) <= keys.get(platform, set()), platform


async def test_created_entities_are_named(
    hass: HomeAssistant, enable_all_entities: None, init_integration: MockConfigEntry
) -> None:
    """Every entity created against the simulator has its name from a translation."""
    platforms = async_get_platforms(hass, DOMAIN)
    entities = [entity for platform in platforms for entity in platform.entities.values()]
    assert len(entities) > 20
    for entity in entities:
        description = entity.entity_description
        assert entity.has_entity_name, entity.entity_id
        if description.translation_key is None:
            assert (entity.platform.domain, description.key) in DEVICE_CLASS_NAMED
            continue
        assert entity.translation_key == description.translation_key
        state = hass.states.get(entity.entity_id)
        assert state is not None
        assert state.attributes.get("friendly_name"), entity.entity_id


# -- exception translations ---------------------------------------------------------------


def _error_classes() -> dict[str, type[Exception]]:
    """Return the Home Assistant error classes a module of the package may build."""
    return {
        name: value
        for module in (ha_exceptions, update_coordinator)
        for name, value in vars(module).items()
        if isinstance(value, type)
        and issubclass(value, ha_exceptions.HomeAssistantError)
        and name not in UNTRANSLATED_ERRORS
    }


def _error_name(node: ast.expr, imported: set[str]) -> str | None:
    if isinstance(node, ast.Name) and node.id in imported:
        return node.id
    if isinstance(node, ast.Attribute) and node.attr in _error_classes():
        return node.attr
    return None


def _constructed_errors() -> Iterator[tuple[str, int, str, ast.Call | None]]:
    """Yield (file, line, class, call) for each Home Assistant error the package builds."""
    classes = _error_classes()
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        imported = {
            alias.asname or alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom)
            for alias in node.names
            if alias.name in classes
        }
        where = str(path.relative_to(PROJECT))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and (name := _error_name(node.func, imported)):
                yield where, node.lineno, name, node
            elif (
                isinstance(node, ast.Raise)
                and node.exc is not None
                and (name := _error_name(node.exc, imported))
            ):
                yield where, node.lineno, name, None  # raised as a bare class


def test_every_error_translated() -> None:
    """Every HomeAssistantError (and subclass) built in the package has a translation key."""
    exceptions = load_json("strings.json")["exceptions"]
    seen = 0
    for where, line, name, call in _constructed_errors():
        seen += 1
        assert call is not None, f"{where}:{line}: {name} raised without a translation"
        keywords = {keyword.arg: keyword.value for keyword in call.keywords}
        assert "translation_key" in keywords, f"{where}:{line}: {name} without translation_key"
        assert "translation_domain" in keywords, f"{where}:{line}: {name} without its domain"
        key = keywords["translation_key"]
        if isinstance(key, ast.Constant):
            assert key.value in exceptions, f"{where}:{line}: {key.value} not in strings.json"
    for where, line, key in _factory_keys():  # errors built by the helpers of errors.py
        seen += 1
        assert key in exceptions, f"{where}:{line}: {key} not in strings.json"
    assert seen >= 10  # the scan finds the errors (helpers, services, switch, __init__, ...)


def _factory_keys() -> Iterator[tuple[str, int, str]]:
    """Yield (file, line, key) for each translation key given to an error helper literally."""
    factories = {"translated", "validation_error", "_update_failed"}
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in factories
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                yield str(path.relative_to(PROJECT)), node.lineno, str(node.args[0].value)


# -- diagnostics ---------------------------------------------------------------------------


def secret_keys() -> set[str]:
    """Return every key the package lists as secret or identifying."""
    return {*diagnostics.TO_REDACT, *SECRET_KEYS}


def _planted(prefix: str) -> dict[str, Any]:
    """Return a block with every secret key at its top and one level down."""
    values = {key: f"SECRET-{prefix}-{key}" for key in secret_keys()}
    return {**values, "nested": {**values, "list": [dict(values)]}}


def _leaks(data: Any, path: str = "") -> Iterator[str]:
    """Yield where a planted secret (or a listed key's value) was not redacted."""
    if isinstance(data, dict):
        for key, value in data.items():
            where = f"{path}.{key}"
            if key in secret_keys() and value not in (REDACTED, None, ""):
                yield where
            yield from _leaks(value, where)
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from _leaks(value, f"{path}[{index}]")
    elif isinstance(data, str) and "SECRET-" in data:
        yield path


async def test_diagnostics_redact_every_secret(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Each key listed as secret is redacted in every block, at any depth."""
    assert {CONF_HOST, CONF_PASSWORD, "ssid", "bssid", "mac", "ip"} <= secret_keys()  # the contract
    runtime = init_integration.runtime_data
    hass.config_entries.async_update_entry(
        init_integration,
        data={**init_integration.data, CONF_PASSWORD: "SECRET-entry-password"},
    )
    state = runtime.device.data
    assert state.settings is not None
    runtime.device.data = replace(
        state,
        system=replace(state.system, raw={**state.system.raw, **_planted("system")}),
        settings=replace(state.settings, raw={**state.settings.raw, **_planted("settings")}),
    )
    report = runtime.measurements.data
    runtime.measurements.data = replace(report, raw={**report.raw, **_planted("report")})
    result = await diagnostics.async_get_config_entry_diagnostics(hass, init_integration)
    assert result["entry"]["data"][CONF_HOST] == REDACTED
    assert list(_leaks(result)) == []
    # Meter serials: redacted inside the meter block of the system and the report.
    for block in (result["device"]["system"]["meter"], result["measurements"]["report"]["meter"]):
        for key in METER_SERIALS & block.keys():
            assert block[key] in (REDACTED, None, ""), key


# -- actions -------------------------------------------------------------------------------


def _readme_actions() -> set[str]:
    """Return the actions listed in the README's action table (rows starting `whatwatt.x`)."""
    rows = re.findall(r"^\|\s*`whatwatt\.([a-z_]+)`\s*\|", readme_text(), re.MULTILINE)
    return set(rows)


async def test_actions_documented(hass: HomeAssistant) -> None:
    """Registered in async_setup (no entry needed) and documented in every place."""
    assert await async_setup_component(hass, DOMAIN, {})
    registered = set(hass.services.async_services_for_domain(DOMAIN))
    assert registered
    services = yaml.safe_load((PACKAGE / "services.yaml").read_text(encoding="utf-8"))
    strings = load_json("strings.json")["services"]
    icons = load_json("icons.json")["services"]
    assert set(services) == registered
    assert set(strings) == registered
    assert set(icons) == registered
    missing = registered - _readme_actions()
    assert not missing, f"not in the README's action table: {sorted(missing)}"
    for action, description in services.items():
        assert strings[action].get("name"), action
        assert strings[action].get("description"), action
        for field in (description or {}).get("fields", {}):
            text = strings[action].get("fields", {}).get(field, {})
            assert text.get("name"), f"{action}.{field}"
            assert text.get("description"), f"{action}.{field}"


# -- parallel updates ----------------------------------------------------------------------


def test_parallel_updates_on_every_platform() -> None:
    """Every platform module sets PARALLEL_UPDATES (0 for read-only, 1 for writes)."""
    platform_names = {str(platform) for platform in Platform}
    modules = {path.stem for path in PACKAGE.glob("*.py") if path.stem in platform_names}
    assert modules == {str(platform) for platform in PLATFORMS}
    for name in modules:
        module = importlib.import_module(f"custom_components.whatwatt.{name}")
        value = getattr(module, "PARALLEL_UPDATES", None)
        assert isinstance(value, int), f"{name}.py has no PARALLEL_UPDATES"
        assert value >= 0
