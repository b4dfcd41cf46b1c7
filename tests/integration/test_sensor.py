"""Sensor entities: the entity set per profile, cheap updates, quantities appearing later.

The energy totals are restore sensors: what Home Assistant recorded seeds the energy guard.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any
from unittest.mock import patch

from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import State
from homeassistant.helpers import entity_registry as er, restore_state
from homeassistant.helpers.entity import Entity
import pytest
from pytest_homeassistant_custom_component.common import (
    mock_restore_cache,
    mock_restore_cache_with_extra_data,
)

from custom_components.whatwatt.api.models import MEASUREMENT_KEYS, Report
from custom_components.whatwatt.api.totals import ENERGY_KEYS
from custom_components.whatwatt.const import DOMAIN
from custom_components.whatwatt.sensor import (
    DEVICE_SENSORS,
    REACTIVE_ENERGY_DEVICE_CLASS,
    SENSORS,
    TOTALS,
)

from .conftest import DEVICE_ID, device_of

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import MockConfigEntry
    from syrupy.assertion import SnapshotAssertion

    from .helpers import Poll

PREFIX = "sensor.whatwatt_go_d4e5f6_"
SUGGESTED_PRECISION = {
    description.key: description.suggested_display_precision
    for description in (*SENSORS, *DEVICE_SENSORS)
    if description.suggested_display_precision is not None
}


def _text(value: Any) -> str | None:
    """Return enum members as their plain string value (stable snapshots)."""
    return None if value is None else str(value)


def _state(value: str) -> str | float:
    """Return numbers as floats: the digits shown after unit conversion vary by line."""
    try:
        return float(value)
    except ValueError:
        return value


def _precision(entity: er.RegistryEntry) -> int | None:
    """Return the precision a sensor suggests (None where the line's default applies)."""
    key = entity.unique_id.removeprefix(f"{DEVICE_ID}_")
    if key not in SUGGESTED_PRECISION:
        return None  # later lines give some device classes a default of their own
    precision: int | None = (entity.options.get("sensor") or {}).get("suggested_display_precision")
    assert precision == SUGGESTED_PRECISION[key]
    return precision


def project(hass: HomeAssistant, entry: MockConfigEntry) -> list[dict[str, Any]]:
    """Return a projection of the entity set that is stable across Home Assistant lines."""
    rows = []
    registry = er.async_get(hass)
    for entity in er.async_entries_for_config_entry(registry, entry.entry_id):
        state = hass.states.get(entity.entity_id)
        device_class = entity.original_device_class
        if "_reactive_energy_" in entity.unique_id:
            # No reactive-energy device class on 2025.4; the one of the line in use otherwise.
            assert device_class == REACTIVE_ENERGY_DEVICE_CLASS
            device_class = "reactive_energy where available"
        rows.append(
            {
                "entity_id": entity.entity_id,
                "unique_id": entity.unique_id,
                "translation_key": entity.translation_key,
                "device_class": _text(device_class),
                "state_class": _text((entity.capabilities or {}).get("state_class")),
                "options": (entity.capabilities or {}).get("options"),
                "unit_of_measurement": _text(entity.unit_of_measurement),
                "display_precision": _precision(entity),
                "entity_category": _text(entity.entity_category),
                "disabled_by": _text(entity.disabled_by),
                "state": _state(state.state) if state else None,
            }
        )
    return sorted(rows, key=lambda row: row["entity_id"])


@pytest.mark.parametrize(
    "sim_options", [{"profile": "p1-single"}, {"profile": "dlms-three"}], ids=["p1", "dlms"]
)
async def test_entity_set(
    hass: HomeAssistant,
    enable_all_entities: None,
    init_integration: MockConfigEntry,
    snapshot: SnapshotAssertion,
) -> None:
    """Every quantity the meter supplies has its sensor (all enabled here)."""
    assert project(hass, init_integration) == snapshot


async def test_default_disabled(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    """Noisy sensors (health, the time of every reading) are disabled by default."""
    registry = er.async_get(hass)
    disabled = sorted(
        entity.unique_id.removeprefix(f"{DEVICE_ID}_")
        for entity in er.async_entries_for_config_entry(registry, init_integration.entry_id)
        if entity.disabled_by is not None
    )
    assert disabled == [
        "report_time",
        "supply_voltage_mbus",
        "supply_voltage_p1",
        "supply_voltage_scap",
        "supply_voltage_usb",
        "wifi_rssi",
    ]
    assert hass.states.get(f"{PREFIX}energy_import").state == "5120.456"
    assert hass.states.get(f"{PREFIX}tariff").state == "t2"


async def test_device(hass: HomeAssistant, init_integration: MockConfigEntry, sim: Any) -> None:
    """The device carries identity, firmware, serial and a link to its web UI."""
    device = device_of(hass, init_integration)
    assert device is not None
    assert device.manufacturer == "whatwatt"
    assert device.model == "whatwatt Go"
    assert device.hw_version == "WW_Go_1.2"
    assert device.sw_version == "1.10.3"
    assert device.serial_number == DEVICE_ID
    assert device.configuration_url == f"http://127.0.0.1:{sim.port}"
    assert device.name == "whatwatt Go D4E5F6"


async def test_writes_only_changes(
    hass: HomeAssistant, enable_all_entities: None, sim: Any, poll: Poll
) -> None:
    """A poll writes the states that changed and nothing else (every write to the state machine)."""
    writes: Counter[str] = Counter()
    original = Entity.async_write_ha_state

    def counting(self: Entity) -> None:
        if self.platform is not None and self.platform.platform_name == DOMAIN:
            writes[self.entity_id] += 1
        original(self)

    with patch.object(Entity, "async_write_ha_state", counting):
        # Same reading again: nothing to write.
        await poll()
        assert writes == Counter()

        before = {state.entity_id: state.state for state in hass.states.async_all("sensor")}
        await sim.emit_telegram()
        await poll()
        after = {state.entity_id: state.state for state in hass.states.async_all("sensor")}
        changed = {entity_id for entity_id in after if after[entity_id] != before[entity_id]}
        assert changed
        assert f"{PREFIX}report_time" in changed
        assert f"{PREFIX}energy_export" not in changed
        assert set(writes) == changed
        assert all(count == 1 for count in writes.values())


async def test_quantity_appears_later(hass: HomeAssistant, sim: Any, poll: Poll) -> None:
    """A quantity the meter starts to send gets its sensor without a restart."""
    assert hass.states.get(f"{PREFIX}power_factor") is None
    body = {
        key: value
        for key, value in sim.state.report["report"].items()
        if key not in {"id", "interval", "date_time", "date_time_local", "date_time_utc"}
    }
    body["power_factor"] = 0.97
    sim.state.set_report(body, sim.state.local_now())
    await poll()
    state = hass.states.get(f"{PREFIX}power_factor")
    assert state is not None
    assert state.state == "0.97"
    entity = er.async_get(hass).async_get(f"{PREFIX}power_factor")
    assert entity.unique_id == f"{DEVICE_ID}_power_factor"

    # It goes unavailable when the meter stops sending it again.
    await sim.emit_telegram()
    await poll()
    assert hass.states.get(f"{PREFIX}power_factor").state == STATE_UNAVAILABLE
    assert hass.states.get(f"{PREFIX}power_import").state != STATE_UNAVAILABLE


@pytest.mark.parametrize("sim_options", [{"profile": "dlms-three"}], ids=["dlms"])
async def test_derived_values(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    """Net power is import minus export; reactive and apparent power are scaled to var and VA."""
    report = init_integration.runtime_data.measurements.data
    values = report.values
    net = float(hass.states.get(f"{PREFIX}net_power").state)
    assert net == pytest.approx((values["power_import"] - values["power_export"]) * 1000)
    reactive = hass.states.get(f"{PREFIX}reactive_power_import")
    assert reactive.attributes["unit_of_measurement"] == "var"
    assert float(reactive.state) == pytest.approx(values["reactive_power_import"] * 1000)
    apparent = hass.states.get(f"{PREFIX}apparent_power")
    assert apparent.attributes["unit_of_measurement"] == "VA"
    assert float(apparent.state) == pytest.approx(values["apparent_power"] * 1000)
    assert hass.states.get(f"{PREFIX}tariff") is None


@pytest.mark.parametrize("sim_options", [{"profile": "dlms-three"}], ids=["dlms"])
async def test_only_energy_totals_are_restore_sensors(
    hass: HomeAssistant, enable_all_entities: None, init_integration: MockConfigEntry
) -> None:
    """Home Assistant keeps the last value of every energy total, and of no other sensor."""
    assert {description.key for description in TOTALS} == set(ENERGY_KEYS)
    registry = er.async_get(hass)
    restored = {
        registry.async_get(entity_id).unique_id.removeprefix(f"{DEVICE_ID}_")
        for entity_id in restore_state.async_get(hass).entities
        if entity_id.startswith("sensor.")
    }
    supplied = init_integration.runtime_data.measurements.data.values.keys()
    assert restored == set(ENERGY_KEYS) & supplied
    assert {"energy_import", "reactive_energy_import"} <= restored


def _register(hass: HomeAssistant, key: str) -> str:
    """Register the sensor of ``key`` (as a first set-up would) and return its entity id."""
    entry = er.async_get(hass).async_get_or_create(
        "sensor", DOMAIN, f"{DEVICE_ID}_{key}", suggested_object_id=f"whatwatt_go_d4e5f6_{key}"
    )
    return entry.entity_id


async def _set_up_with_first_reading(
    hass: HomeAssistant, entry: MockConfigEntry, sim: Any, value: float
) -> dict[str, str]:
    """Set up with every energy register reading ``value`` first; return the totals shown."""
    sim.faults.energy_glitch = {"kind": "garbage", "value": value, "paths": ["report"]}
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert sim.faults.energy_glitch is None  # the first report carried it
    registry = er.async_get(hass)
    return {
        key: hass.states.get(entity_id).state
        for key in ENERGY_KEYS
        if (entity_id := registry.async_get_entity_id("sensor", DOMAIN, f"{DEVICE_ID}_{key}"))
    }


@pytest.mark.parametrize("sim_options", [{"profile": "p1-single"}], ids=["p1"])
async def test_totals_seed_the_guard_with_native_numbers(
    hass: HomeAssistant, enable_all_entities: None, mock_config_entry: MockConfigEntry, sim: Any
) -> None:
    """Numbers recorded in the native unit are held against a low first reading; anything
    else, or nothing, is no seed: the first reading is taken as it is."""
    cases: dict[str, tuple[Any, str | None]] = {
        "energy_import": (5120.456, "kWh"),
        "energy_import_t1": (3010, "kWh"),  # an integer is a number too
        "energy_import_t2": (2.110356, "MWh"),  # not the native unit
        "energy_export": ("812.004", "kWh"),  # not a number
        "energy_export_t1": (None, "kWh"),  # unknown when recorded
        "energy_export_t2": (True, "kWh"),
    }
    mock_restore_cache_with_extra_data(
        hass,
        [
            (
                State(_register(hass, key), str(value)),
                {"native_value": value, "native_unit_of_measurement": unit},
            )
            for key, (value, unit) in cases.items()
        ],
    )
    shown = await _set_up_with_first_reading(hass, mock_config_entry, sim, 12.0)
    assert shown == {
        "energy_import": "5120.456",
        "energy_import_t1": "3010.0",
        "energy_import_t2": "12.0",
        "energy_export": "12.0",
        "energy_export_t1": "12.0",
        "energy_export_t2": "12.0",
    }


@pytest.mark.parametrize("sim_options", [{"profile": "dlms-three"}], ids=["dlms"])
async def test_reactive_totals_seed_in_kvarh(
    hass: HomeAssistant, enable_all_entities: None, mock_config_entry: MockConfigEntry, sim: Any
) -> None:
    """kvarh is the reactive totals' native unit; a total registered without a record, or
    another device's record, is no seed."""
    other = er.async_get(hass).async_get_or_create(
        "sensor", DOMAIN, "0123456789AB_energy_import", suggested_object_id="other_energy_import"
    )
    mock_restore_cache_with_extra_data(
        hass,
        [
            (
                State(_register(hass, "reactive_energy_import"), "950.2"),
                {"native_value": 950.2, "native_unit_of_measurement": "kvarh"},
            ),
            (
                State(other.entity_id, "5120.0"),
                {"native_value": 5120.0, "native_unit_of_measurement": "kWh"},
            ),
        ],
    )
    _register(hass, "reactive_energy_export")  # registered, nothing recorded
    shown = await _set_up_with_first_reading(hass, mock_config_entry, sim, 12.0)
    assert shown["reactive_energy_import"] == "950.2"
    assert shown["reactive_energy_export"] == "12.0"
    assert shown["energy_import"] == "12.0"  # another device's record does not count


async def test_totals_without_sensor_data_seed_nothing(
    hass: HomeAssistant, enable_all_entities: None, mock_config_entry: MockConfigEntry, sim: Any
) -> None:
    """A state recorded without the sensor's extra data (not a restore sensor then): no seed."""
    mock_restore_cache(hass, [State(_register(hass, "energy_import"), "5120.456")])
    shown = await _set_up_with_first_reading(hass, mock_config_entry, sim, 12.0)
    assert shown["energy_import"] == "12.0"


@pytest.mark.parametrize(
    "description", [d for d in SENSORS if d.measurements], ids=lambda description: description.key
)
def test_measurements_name_what_the_value_reads(description: Any) -> None:
    """A sensor told only when its ``measurements`` change reads nothing else of a reading."""
    values = {key: 1.0 + index for index, key in enumerate(MEASUREMENT_KEYS)}
    shown = description.value_fn(Report(values=values, tariff=1))
    others = {key: -5.0 for key in values if key not in description.measurements}
    assert description.value_fn(Report(values={**values, **others}, tariff=2)) == shown
    for key in description.measurements:
        assert description.value_fn(Report(values={**values, key: 99.0})) != shown
