"""Translations: strings.json and en.json agree and cover every key the code uses."""

from __future__ import annotations

import json
from pathlib import Path
import re

from custom_components.whatwatt.api.states import METER_STATUS_OPTIONS, TARIFF_OPTIONS
from custom_components.whatwatt.demand import DEMAND_SENSORS
from custom_components.whatwatt.event import DEVICE_EVENT
from custom_components.whatwatt.sensor import DEVICE_SENSORS, METER_STATUS, SENSORS
from custom_components.whatwatt.submeter import KINDS, TRANSLATION_KEYS as SUBMETER_KEYS

ROOT = Path(__file__).parents[2] / "custom_components" / "whatwatt"


def load(name: str) -> dict:
    return json.loads((ROOT / name).read_text(encoding="utf-8"))


def test_strings_equal_english() -> None:
    assert load("strings.json") == load("translations/en.json")


def test_entities_translated() -> None:
    sensors = load("translations/en.json")["entity"]["sensor"]
    descriptions = (*SENSORS, *DEVICE_SENSORS, METER_STATUS, *DEMAND_SENSORS)
    assert set(sensors) == {
        *(description.translation_key for description in descriptions),
        *SUBMETER_KEYS,
    }
    english = load("translations/en.json")
    assert {f"{kind}_meter" for kind in KINDS} == set(english["device"])
    assert set(KINDS) == set(english["selector"]["volume_kind"]["options"])
    assert set(sensors["meter_status"]["state"]) == set(METER_STATUS_OPTIONS)
    assert set(sensors["tariff"]["state"]) == set(TARIFF_OPTIONS)
    icons = load("icons.json")["entity"]["sensor"]
    assert set(icons) <= set(sensors)
    event = load("translations/en.json")["entity"]["event"][DEVICE_EVENT.translation_key]
    assert set(event["state_attributes"]["event_type"]["state"]) == set(DEVICE_EVENT.event_types)


def test_code_keys_translated() -> None:
    """Every error, abort reason and exception key used in the code has a text."""
    english = load("translations/en.json")
    code = "\n".join(path.read_text(encoding="utf-8") for path in ROOT.glob("*.py"))
    for key in re.findall(r'translation_key="([a-z_]+)"', code):
        if key in english["exceptions"] or key in english["issues"]:
            continue
        if key in english.get("selector", {}):
            continue
        assert any(key in names for names in english["entity"].values()), key
    for key in ("invalid_auth", "license_required", "timeout", "communication_error"):
        assert key in english["exceptions"]
    aborts = {**english["config"]["abort"], **english["options"].get("abort", {})}
    for issue in english["issues"].values():  # fix flows (repairs.py)
        aborts.update(issue.get("fix_flow", {}).get("abort", {}))
    for key in re.findall(r'reason="([a-z_]+)"', code):
        assert key in aborts, key
    for key in re.findall(r'return None, "([a-z_]+)"', code):
        assert key in english["config"]["error"], key
    assert "invalid_host" in english["config"]["error"]
