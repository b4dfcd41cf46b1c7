"""Coming from the vendor's integration: history, long-term statistics and the Energy dashboard.

A vendor install records an hour of states and its statistics (``recorder_mock``), Home Assistant
restarts with this integration, the vendor's payload arrives over MQTT, and the next hour is
compiled: the statistics continue under the same statistic ids in compatible units, the
recorder raises no issue and the Energy dashboard's validation stays clean.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from homeassistant.components.recorder.statistics import (
    get_metadata,
    list_statistic_ids,
    statistics_during_period,
)
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import ATTR_UNIT_OF_MEASUREMENT
from homeassistant.helpers import entity_registry as er, issue_registry as ir
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import async_fire_mqtt_message
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
    do_adhoc_statistics,
)

from custom_components.whatwatt.const import DOMAIN

from .conftest import DEVICE_ID
from .mqtt_helpers import mqtt_ready
from .vendor_helpers import (
    VENDOR_TOPIC,
    add_vendor_install,
    restart,
    vendor_entry,
    vendor_payload,
    vendor_states,
)

if TYPE_CHECKING:
    from freezegun.api import FrozenDateTimeFactory
    from homeassistant.components.recorder import Recorder
    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import MockConfigEntry

__all__ = ["mqtt_ready"]

# The keys whose statistics are looked at: a sum (energy), means (power, reactive power).
WATCHED = ("energy_in", "energy_out", "power_in", "reactive_power_in", "apparent_power")


@pytest.fixture
def mock_recorder_before_hass(recorder_db_url: str) -> None:
    """Prepare the recorder's database before ``hass`` (the autouse fixtures ask for it first)."""


def energy_prefs(entity_ids: dict[str, str]) -> dict[str, Any]:
    """Return the Energy dashboard as the person configured it with the vendor's entities."""
    return {
        "version": 1,
        "minor_version": 1,
        "key": "energy",
        "data": {
            "energy_sources": [
                {
                    "type": "grid",
                    "flow_from": [
                        {
                            "stat_energy_from": entity_ids["energy_in"],
                            "stat_cost": None,
                            "entity_energy_price": None,
                            "number_energy_price": None,
                        }
                    ],
                    "flow_to": [
                        {
                            "stat_energy_to": entity_ids["energy_out"],
                            "stat_compensation": None,
                            "entity_energy_price": None,
                            "number_energy_price": None,
                        }
                    ],
                    "cost_adjustment_day": 0.0,
                }
            ],
            "device_consumption": [],
        },
    }


async def _compile(hass: HomeAssistant, start: datetime, periods: int) -> None:
    """Compile ``periods`` five-minute periods from ``start`` (each hour's last one: hourly)."""
    for n in range(periods):
        do_adhoc_statistics(hass, start=start + timedelta(minutes=5 * n))
    await async_wait_recording_done(hass)


async def _hourly(
    recorder: Recorder, hass: HomeAssistant, start: datetime, ids: set[str]
) -> dict[str, list[Any]]:
    return await recorder.async_add_executor_job(
        statistics_during_period, hass, start, None, ids, "hour", None, {"sum", "state", "mean"}
    )


async def _client(hass: HomeAssistant, hass_ws_client: Any, user: Any) -> Any:
    """Connect with a token issued now (the clock moves in this test; tokens expire)."""
    refresh = await hass.auth.async_create_refresh_token(user, "https://example.com/app")
    return await hass_ws_client(hass, hass.auth.async_create_access_token(refresh))


async def _ws(client: Any, command: str) -> Any:
    await client.send_json_auto_id({"type": command})
    response = await client.receive_json()
    assert response["success"], response
    return response["result"]


async def _metadata_units(recorder: Recorder, hass: HomeAssistant, ids: set[str]) -> Any:
    return await recorder.async_add_executor_job(lambda: get_metadata(hass, statistic_ids=ids))


async def _vendor_hour(
    recorder: Recorder, hass: HomeAssistant, freezer: FrozenDateTimeFactory, hour: datetime
) -> tuple[MockConfigEntry, dict[str, str]]:
    """Record the last minutes of ``hour`` with the vendor's integration and compile the hour."""
    freezer.move_to(hour + timedelta(minutes=50, seconds=30))
    assert await async_setup_component(hass, "sensor", {})  # the vendor's sensors were loaded
    entry = vendor_entry()
    entity_ids = add_vendor_install(hass, entry)
    er.async_get(hass).async_update_entity(entity_ids["energy_in"], name="Grid import")
    assert entity_ids["energy_in"] == "sensor.whatwatt_energy_in"
    vendor_states(hass, entity_ids, vendor_payload(energy_in="5100", energy_out="800"))
    freezer.move_to(hour + timedelta(minutes=56))
    vendor_states(
        hass,
        entity_ids,
        vendor_payload(energy_in="5100.5", energy_out="800.25", reactive_power_in="0.1"),
    )
    await async_wait_recording_done(hass)
    await _compile(hass, hour + timedelta(minutes=50), 2)  # and the hour before the restart
    before = await _metadata_units(recorder, hass, {entity_ids[key] for key in WATCHED})
    assert {sid: meta[1]["unit_of_measurement"] for sid, meta in before.items()} == {
        entity_ids["energy_in"]: "kWh",
        entity_ids["energy_out"]: "kWh",
        entity_ids["power_in"]: "kW",
        entity_ids["reactive_power_in"]: "kvar",
        entity_ids["apparent_power"]: "kVA",
    }
    return entry, entity_ids


async def _restart_with_this_integration(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    entry: MockConfigEntry,
    entity_ids: dict[str, str],
    next_hour: datetime,
) -> None:
    """Home Assistant restarts with this integration; the device publishes every half hour."""
    freezer.move_to(next_hour + timedelta(seconds=30))
    restart(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    for minute, energy_in, reactive in ((1, "5120.5", "0.12"), (31, "5121", "0.2")):
        freezer.move_to(next_hour + timedelta(minutes=minute))
        message = vendor_payload(energy_in=energy_in, reactive_power_in=reactive)
        async_fire_mqtt_message(hass, VENDOR_TOPIC, message)
        await hass.async_block_till_done()
    assert entry.unique_id == DEVICE_ID
    assert float(hass.states.get(entity_ids["energy_in"]).state) == pytest.approx(5121)
    assert hass.states.get(entity_ids["energy_in"]).name == "Grid import"
    await async_wait_recording_done(hass)


async def _assert_nothing_to_complain(hass: HomeAssistant, hass_ws_client: Any, user: Any) -> None:
    """The Energy dashboard and the recorder find nothing to complain about."""
    client = await _client(hass, hass_ws_client, user)
    validation = await _ws(client, "energy/validate")
    assert all(not issues for group in validation.values() for issues in group), validation
    assert await _ws(client, "recorder/validate_statistics") == {}
    await _ws(client, "recorder/update_statistics_issues")
    assert [key for key in ir.async_get(hass).issues if key[0] == "sensor"] == []


def _assert_carried_on(
    hass: HomeAssistant, rows: dict[str, list[Any]], after: Any, entity_ids: dict[str, str]
) -> None:
    """The same statistic ids go on over the restart, in units they can go on in."""
    for key in WATCHED:
        assert len(rows[entity_ids[key]]) == 2, key  # one hour each side of the restart
    energy = rows[entity_ids["energy_in"]]
    assert energy[0]["state"] == pytest.approx(5100.5)
    assert energy[1]["state"] == pytest.approx(5121)
    assert energy[1]["sum"] == pytest.approx(energy[0]["sum"] + 5121 - 5100.5)  # no reset
    assert after[entity_ids["energy_in"]][1]["unit_of_measurement"] == "kWh"
    power = rows[entity_ids["power_in"]]
    assert after[entity_ids["power_in"]][1]["unit_of_measurement"] == "kW"
    assert power[1]["mean"] == pytest.approx(1.204, abs=0.005)  # the vendor's last 1.2 first
    # kvar and kVA go on, every line: converted from var and VA where Home Assistant converts
    # them, else kept as the sensors' native units (migration.py).
    assert after[entity_ids["reactive_power_in"]][1]["unit_of_measurement"] == "kvar"
    state = hass.states.get(entity_ids["reactive_power_in"])
    assert state.attributes[ATTR_UNIT_OF_MEASUREMENT] == "kvar"
    reactive = rows[entity_ids["reactive_power_in"]]
    assert 0.1 <= reactive[0]["mean"] <= 0.12  # the vendor's 0.12, then 0.1
    assert 0.12 <= reactive[1]["mean"] <= 0.2
    assert after[entity_ids["apparent_power"]][1]["unit_of_measurement"] == "kVA"
    state = hass.states.get(entity_ids["apparent_power"])
    assert state.attributes[ATTR_UNIT_OF_MEASUREMENT] == "kVA"
    apparent = rows[entity_ids["apparent_power"]]
    assert apparent[1]["mean"] == pytest.approx(apparent[0]["mean"])  # 1.21 kVA both sides
    assert apparent[1]["mean"] == pytest.approx(1.21)


async def _assert_one_set(
    recorder: Recorder, hass: HomeAssistant, entry: MockConfigEntry, ids: set[str]
) -> None:
    """No second set: every statistic id is an entity of the entry, the vendor's ids included."""
    listed = await recorder.async_add_executor_job(list_statistic_ids, hass)
    registry = er.async_get(hass)
    statistic_ids = {item["statistic_id"] for item in listed}
    assert ids <= statistic_ids
    for statistic_id in statistic_ids:
        entity = registry.async_get(statistic_id)
        assert entity is not None, statistic_id
        assert entity.config_entry_id == entry.entry_id
        assert entity.unique_id.startswith(f"{DEVICE_ID}_")


async def test_history_carries_on(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    hass_ws_client: Any,
    hass_admin_user: Any,
    mqtt_ready: Any,
    freezer: FrozenDateTimeFactory,
) -> None:
    """One hour with the vendor's integration, one with this one: one history, no issue."""
    # The person's Energy dashboard, with the vendor's entities.
    hass_storage["energy"] = energy_prefs(
        {"energy_in": "sensor.whatwatt_energy_in", "energy_out": "sensor.whatwatt_energy_out"}
    )
    assert await async_setup_component(hass, "energy", {})
    hour = (dt_util.utcnow() + timedelta(hours=2)).replace(minute=0, second=0, microsecond=0)
    entry, entity_ids = await _vendor_hour(recorder_mock, hass, freezer, hour)
    ids = {entity_ids[key] for key in WATCHED}
    next_hour = hour + timedelta(hours=1)
    await _restart_with_this_integration(hass, freezer, entry, entity_ids, next_hour)
    await _assert_nothing_to_complain(hass, hass_ws_client, hass_admin_user)

    # The next hour is compiled.
    freezer.move_to(next_hour + timedelta(hours=1, seconds=30))
    await _compile(hass, next_hour, 12)
    rows = await _hourly(recorder_mock, hass, hour, ids)
    _assert_carried_on(hass, rows, await _metadata_units(recorder_mock, hass, ids), entity_ids)

    await _assert_one_set(recorder_mock, hass, entry, ids)
    async_fire_mqtt_message(hass, VENDOR_TOPIC, vendor_payload(energy_in="5121.5"))
    await hass.async_block_till_done()
    await _assert_nothing_to_complain(hass, hass_ws_client, hass_admin_user)
    assert not [key for key in ir.async_get(hass).issues if key[0] == DOMAIN]
