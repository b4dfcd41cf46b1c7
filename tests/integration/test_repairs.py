"""Repair issues: licence, licence changes, MQTT integration missing, meter not connected."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.helpers import issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.whatwatt.const import (
    CONF_TOPIC,
    CONF_TRANSPORT,
    TRANSPORT_LIVE,
    TRANSPORT_MQTT,
)
from custom_components.whatwatt.issues import (
    ISSUE_LICENSE_CHANGED,
    ISSUE_LICENSE_INSUFFICIENT,
    ISSUE_METER_NOT_CONNECTED,
    ISSUE_MQTT_MISSING,
    async_set_mqtt_missing,
)

from .conftest import advance
from .live_helpers import issue, setup_live, shows, state, tick, wait_for
from .mqtt_helpers import TOPIC, mqtt_ready

__all__ = ["mqtt_ready"]

if TYPE_CHECKING:
    from freezegun.api import FrozenDateTimeFactory
    from homeassistant.core import HomeAssistant

    from .helpers import Poll

ROOT = Path(__file__).parents[2] / "custom_components" / "whatwatt"
FREE = pytest.mark.parametrize("sim_options", [{"license": "free"}])  # a FREE device


@pytest.fixture
async def refused_entry(hass: HomeAssistant, mock_config_entry: MockConfigEntry) -> MockConfigEntry:
    """Add the REST entry (on a FREE device: mark the test ``FREE``); its set-up fails."""
    mock_config_entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(mock_config_entry.entry_id)
    return mock_config_entry


async def switch_transport(
    hass: HomeAssistant, entry: MockConfigEntry, data: dict[str, str]
) -> None:
    """What reconfigure does: new data (another transport), then a reload."""
    hass.config_entries.async_update_entry(entry, data={**entry.data, **data})
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()


@FREE
async def test_rest_on_free_device(
    hass: HomeAssistant, refused_entry: MockConfigEntry, sim: Any, freezer: FrozenDateTimeFactory
) -> None:
    """A REST entry on a FREE device: "licence insufficient" until the licence is upgraded."""
    assert refused_entry.state is ConfigEntryState.SETUP_RETRY
    found = issue(hass, ISSUE_LICENSE_INSUFFICIENT, refused_entry)
    assert found is not None
    assert found.severity is ir.IssueSeverity.ERROR
    assert found.translation_key == "license_insufficient_rest"
    assert found.learn_more_url.endswith("#licence-insufficient")
    assert not found.is_fixable

    sim.set_license("plus")
    await advance(hass, freezer, 60)  # the set-up retry
    assert refused_entry.state is ConfigEntryState.LOADED
    assert issue(hass, ISSUE_LICENSE_INSUFFICIENT, refused_entry) is None


async def test_rest_licence_downgrade_at_run_time(
    hass: HomeAssistant, init_integration: MockConfigEntry, sim: Any, poll: Poll
) -> None:
    """The downgrade is noticed on the next system read (within 5 minutes) and undone likewise."""
    sim.set_license("free")
    await poll()
    assert issue(hass, ISSUE_LICENSE_INSUFFICIENT, init_integration) is None
    for _ in range(30):
        await poll()
    assert issue(hass, ISSUE_LICENSE_INSUFFICIENT, init_integration) is not None

    sim.set_license("plus")
    for _ in range(31):
        await sim.emit_telegram()
        await poll()
    assert issue(hass, ISSUE_LICENSE_INSUFFICIENT, init_integration) is None
    assert state(hass, "power_import") != "unavailable"


async def five_minutes(hass: HomeAssistant, sim: Any, freezer: FrozenDateTimeFactory) -> None:
    """Let a live entry run five minutes (one periodic system read), a telegram every 30 s."""
    for _ in range(10):
        await tick(hass, freezer, 30)
        await shows(hass, await sim.emit_telegram())


@pytest.mark.parametrize(
    ("started", "changed", "key"),
    [("free", "plus", "license_upgraded"), ("plus", "free", "license_downgraded")],
)
async def test_live_licence_change_clears_itself(
    hass: HomeAssistant,
    sim: Any,
    freezer: FrozenDateTimeFactory,
    started: str,
    changed: str,
    key: str,
) -> None:
    """A live entry works on any licence: a change raises an issue, the way back clears it."""
    sim.set_license(started)
    entry = await setup_live(hass, sim)
    assert issue(hass, ISSUE_LICENSE_CHANGED, entry) is None

    sim.set_license(changed)
    await five_minutes(hass, sim, freezer)
    await wait_for(hass, lambda: issue(hass, ISSUE_LICENSE_CHANGED, entry) is not None)
    found = issue(hass, ISSUE_LICENSE_CHANGED, entry)
    assert found.translation_key == key
    assert found.translation_placeholders == {"name": entry.title, "license": changed.upper()}
    assert found.learn_more_url.endswith("#licence-changed")
    assert issue(hass, ISSUE_LICENSE_INSUFFICIENT, entry) is None

    sim.set_license(started)  # back to the licence the entry started with
    await five_minutes(hass, sim, freezer)
    await wait_for(hass, lambda: issue(hass, ISSUE_LICENSE_CHANGED, entry) is None)

    sim.set_license(changed)
    await five_minutes(hass, sim, freezer)
    await wait_for(hass, lambda: issue(hass, ISSUE_LICENSE_CHANGED, entry) is not None)
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert issue(hass, ISSUE_LICENSE_CHANGED, entry) is None  # gone with the entry

    # Loaded again, the entry starts from the new licence: nothing to tell.
    assert await hass.config_entries.async_setup(entry.entry_id)
    await sim.live.wait_clients(1)
    await shows(hass, await sim.emit_telegram())
    await five_minutes(hass, sim, freezer)
    assert issue(hass, ISSUE_LICENSE_CHANGED, entry) is None
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_live_licence_issue_removed_with_entry(
    hass: HomeAssistant, sim: Any, freezer: FrozenDateTimeFactory, live: MockConfigEntry
) -> None:
    """Removing the entry removes its issue."""
    sim.set_license("free")
    await five_minutes(hass, sim, freezer)
    await wait_for(hass, lambda: issue(hass, ISSUE_LICENSE_CHANGED, live) is not None)
    await hass.config_entries.async_remove(live.entry_id)
    assert issue(hass, ISSUE_LICENSE_CHANGED, live) is None


@FREE
async def test_transport_change_drops_the_old_transports_issue(
    hass: HomeAssistant, refused_entry: MockConfigEntry, sim: Any, freezer: FrozenDateTimeFactory
) -> None:
    """REST on FREE, then the entry is switched to the live stream: the REST issue goes."""
    found = issue(hass, ISSUE_LICENSE_INSUFFICIENT, refused_entry)
    assert found.translation_key == "license_insufficient_rest"

    await switch_transport(hass, refused_entry, {CONF_TRANSPORT: TRANSPORT_LIVE})
    assert refused_entry.state is ConfigEntryState.LOADED
    await sim.live.wait_clients(1)
    assert issue(hass, ISSUE_LICENSE_INSUFFICIENT, refused_entry) is None
    await shows(hass, await sim.emit_telegram())
    await five_minutes(hass, sim, freezer)  # the periodic system read raises nothing either
    assert issue(hass, ISSUE_LICENSE_INSUFFICIENT, refused_entry) is None
    assert issue(hass, ISSUE_LICENSE_CHANGED, refused_entry) is None
    assert await hass.config_entries.async_unload(refused_entry.entry_id)


@FREE
async def test_transport_change_keeps_an_issue_that_still_applies(
    hass: HomeAssistant,
    mqtt_ready: Any,  # set up before the clock is frozen
    refused_entry: MockConfigEntry,
) -> None:
    """REST on FREE switched to MQTT (with the address): still insufficient, with MQTT's text."""
    assert issue(hass, ISSUE_LICENSE_INSUFFICIENT, refused_entry) is not None

    await switch_transport(hass, refused_entry, {CONF_TRANSPORT: TRANSPORT_MQTT, CONF_TOPIC: TOPIC})
    found = issue(hass, ISSUE_LICENSE_INSUFFICIENT, refused_entry)
    assert found is not None
    assert found.translation_key == "license_insufficient_mqtt"
    await hass.config_entries.async_unload(refused_entry.entry_id)


async def test_meter_not_connected(
    hass: HomeAssistant, init_integration: MockConfigEntry, sim: Any, poll: Poll
) -> None:
    """Raised after 10 minutes without the meter, cleared when it is back."""
    sim.faults.meter_not_connected = True
    await poll()
    assert state(hass, "meter_status") == "not_connected"
    for _ in range(59):
        await poll()
    assert issue(hass, ISSUE_METER_NOT_CONNECTED, init_integration) is None  # 9 min 50 s
    await poll()
    await poll()
    found = issue(hass, ISSUE_METER_NOT_CONNECTED, init_integration)
    assert found is not None
    assert found.translation_placeholders == {"name": init_integration.title, "minutes": "10"}

    sim.faults.meter_not_connected = False
    await sim.emit_telegram()
    await poll()
    assert state(hass, "meter_status") == "ok"
    assert issue(hass, ISSUE_METER_NOT_CONNECTED, init_integration) is None


async def test_meter_back_before_ten_minutes(
    hass: HomeAssistant, init_integration: MockConfigEntry, sim: Any, poll: Poll
) -> None:
    """A short interruption raises nothing."""
    sim.faults.meter_not_connected = True
    await poll()
    sim.faults.meter_not_connected = False
    await sim.emit_telegram()
    await poll()
    for _ in range(70):
        await sim.emit_telegram()
        await poll()
    assert issue(hass, ISSUE_METER_NOT_CONNECTED, init_integration) is None


async def test_mqtt_missing_helper(hass: HomeAssistant) -> None:
    """The helper the MQTT transport calls: raise, then clear."""
    entry = MockConfigEntry(domain="whatwatt", title="Garage", data={"transport": "mqtt"})
    entry.add_to_hass(hass)
    async_set_mqtt_missing(hass, entry, missing=True)
    found = issue(hass, ISSUE_MQTT_MISSING, entry)
    assert found.severity is ir.IssueSeverity.ERROR
    assert found.translation_key == "mqtt_integration_missing"
    assert found.learn_more_url.endswith("#mqtt-integration-missing")
    async_set_mqtt_missing(hass, entry, missing=False)
    assert issue(hass, ISSUE_MQTT_MISSING, entry) is None


def test_issue_texts() -> None:
    """Every issue has a title and a description in every language that has issues."""
    code = (ROOT / "issues.py").read_text(encoding="utf-8")
    keys = {
        "license_insufficient_rest",
        "license_insufficient_mqtt",
        "license_upgraded",
        "license_downgraded",
        "mqtt_integration_missing",
        "meter_not_connected",
        "live_stream_taken_over",
        "vendor_duplicate",  # migration.py: a second vendor entry for the same device
        "sd_logging_off",  # backfill: fixable (repairs.py), a fix flow for a description
        "sd_card_missing",
    }
    for name in (
        "strings.json",
        "translations/en.json",
        *(f"translations/{lang}.json" for lang in ("de", "fr", "it")),
    ):
        path = ROOT / name
        if not path.exists():
            continue
        issues = json.loads(path.read_text(encoding="utf-8")).get("issues")
        if issues is None and name.startswith("translations/") and name != "translations/en.json":
            continue
        assert set(issues) == keys, name
        for text in issues.values():
            assert text["title"]
            assert text.get("description") or text["fix_flow"]["step"]["confirm"]["description"]
    assert "learn_more_url" in code
