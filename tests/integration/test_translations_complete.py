"""Translations: de, fr, it, nl and pl cover exactly the English keys with the same placeholders."""

from __future__ import annotations

import json
from pathlib import Path
import re
from typing import TYPE_CHECKING

from homeassistant.helpers import entity_registry as er
import pytest

from custom_components.whatwatt.const import DOMAIN

from .conftest import DEVICE_ID

if TYPE_CHECKING:
    from collections.abc import Iterator

    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import MockConfigEntry

TRANSLATIONS = Path(__file__).parents[2] / "custom_components" / "whatwatt" / "translations"
LANGUAGES = ("de", "fr", "it", "nl", "pl")
PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


def load(language: str) -> dict:
    return json.loads((TRANSLATIONS / f"{language}.json").read_text(encoding="utf-8"))


def flatten(tree: dict, prefix: str = "") -> Iterator[tuple[str, object]]:
    for key, value in tree.items():
        if isinstance(value, dict):
            yield from flatten(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def strings(language: str) -> dict[str, object]:
    return dict(flatten(load(language)))


def test_only_expected_languages() -> None:
    assert {path.stem for path in TRANSLATIONS.glob("*.json")} == {"en", *LANGUAGES}


@pytest.mark.parametrize("language", LANGUAGES)
def test_same_keys_as_english(language: str) -> None:
    english = strings("en")
    translated = strings(language)
    assert sorted(set(english) - set(translated)) == [], "missing"
    assert sorted(set(translated) - set(english)) == [], "not in en.json"


@pytest.mark.parametrize("language", LANGUAGES)
def test_same_placeholders_as_english(language: str) -> None:
    english = strings("en")
    for key, text in strings(language).items():
        assert isinstance(text, str), key
        assert text.strip(), key
        assert "[%key:" not in text, key
        assert sorted(PLACEHOLDER.findall(text)) == sorted(
            PLACEHOLDER.findall(str(english.get(key, "")))
        ), key


def test_swiss_german_spelling() -> None:
    """Swiss standard German writes ss, never the sharp s."""
    for key, text in strings("de").items():
        assert "\u00df" not in str(text), key


@pytest.mark.parametrize(
    ("language", "power", "status"),
    [
        ("de", "Bezugsleistung", "Zählerstatus"),
        ("fr", "Puissance soutirée", "État du compteur"),
        ("it", "Potenza prelevata", "Stato del contatore"),
        ("nl", "Vermogen afname", "Meterstatus"),
        ("pl", "Moc pobierana", "Stan licznika"),
    ],
)
async def test_entity_names_in_language(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    language: str,
    power: str,
    status: str,
) -> None:
    """Home Assistant names the entities in its configured language."""
    await hass.config.async_update(language=language)
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()

    registry = er.async_get(hass)
    for key, name in (("power_import", power), ("meter_status", status)):
        entity_id = registry.async_get_entity_id("sensor", DOMAIN, f"{DEVICE_ID}_{key}")
        assert entity_id is not None
        state = hass.states.get(entity_id)
        assert state is not None
        assert state.attributes["friendly_name"] == f"whatwatt Go D4E5F6 {name}"
