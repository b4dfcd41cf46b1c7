"""MQTT transport's REST fallback when REST itself fails: reauth, and one log line each way."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import SOURCE_REAUTH
from homeassistant.const import STATE_UNAVAILABLE
import pytest
from pytest_homeassistant_custom_component.common import async_fire_mqtt_message

from custom_components.whatwatt.const import DOMAIN

from .conftest import advance
from .mqtt_helpers import TOPIC, mqtt_entry, payload, sensor_state, setup_entry

if TYPE_CHECKING:
    from freezegun.api import FrozenDateTimeFactory
    from homeassistant.core import HomeAssistant

    from tests.plugins.simulator import SimulatorFactory

INTERVAL = 30  # the device's report interval (s): fallback after 2, staleness after 3


async def _device(factory: SimulatorFactory, **options: Any) -> Any:
    sim = await factory(telegram_interval=0, seed=5, report_interval=INTERVAL, **options)
    await sim.emit_telegram()
    return sim


def _rest_watts(sim: Any) -> float:
    power = sim.state.report["report"]["instantaneous_power"]["active"]["positive"]
    return round(power["total"] * 1000, 6)


def _report_reads(sim: Any) -> int:
    return len([r for r in sim.requests if r.path == "/api/v1/report"])


def _ours(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.name.startswith("custom_components.whatwatt") and record.levelno >= logging.INFO
    ]


async def test_fallback_rest_fails_and_returns(
    hass: HomeAssistant,
    mqtt_ready: Any,
    simulator_factory: SimulatorFactory,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """MQTT silent and REST down: one line when REST goes, one when it returns; values come back."""
    sim = await _device(simulator_factory, auth="none")
    entry = await setup_entry(hass, mqtt_entry(host=sim.host))
    measurements = entry.runtime_data.measurements
    async_fire_mqtt_message(hass, TOPIC, payload(sim))
    await hass.async_block_till_done()
    caplog.set_level(logging.INFO)
    # Silent for two intervals: the fallback reads the device over REST (the meter goes on).
    freezer.tick(2 * INTERVAL)
    await sim.emit_telegram()
    await advance(hass, freezer, 1)
    assert measurements.fallback_active
    assert float(sensor_state(hass, "power_import") or "nan") == pytest.approx(_rest_watts(sim))
    caplog.clear()
    # The device stops answering over REST too: polled on, logged once, stale after a while.
    sim.faults.refuse = True
    for _ in range(4):
        await advance(hass, freezer, INTERVAL)
    assert measurements.fallback_active
    assert sensor_state(hass, "power_import") == STATE_UNAVAILABLE
    gone = _ours(caplog)
    assert len(gone) == 1, gone
    assert "Error fetching" in gone[0]
    # REST answers again: one line, fresh values.
    caplog.clear()
    sim.faults.refuse = False
    for _ in range(3):
        freezer.tick(INTERVAL - 1)
        await sim.emit_telegram()
        await advance(hass, freezer, 1)
    back = _ours(caplog)
    assert len(back) == 1, back
    assert "recovered" in back[0]
    assert float(sensor_state(hass, "power_import") or "nan") == pytest.approx(_rest_watts(sim))
    assert measurements.fallback_active
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_fallback_auth_error_starts_reauth(
    hass: HomeAssistant,
    mqtt_ready: Any,
    simulator_factory: SimulatorFactory,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A password the device no longer takes ends the fallback and asks for the new one."""
    sim = await _device(simulator_factory, auth="digest", password="secret")
    entry = await setup_entry(hass, mqtt_entry(host=sim.host, password="secret"))
    measurements = entry.runtime_data.measurements
    async_fire_mqtt_message(hass, TOPIC, payload(sim))
    await hass.async_block_till_done()
    assert not hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    sim.state.settings["system"]["password"] = "changed"
    await advance(hass, freezer, 2 * INTERVAL + 1)
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == [SOURCE_REAUTH]
    assert not measurements.fallback_active
    # No more polling with the refused password.
    reads = _report_reads(sim)
    for _ in range(3):
        await advance(hass, freezer, INTERVAL)
    assert _report_reads(sim) == reads
    # MQTT still delivers meanwhile.
    await sim.emit_telegram()
    async_fire_mqtt_message(hass, TOPIC, payload(sim))
    await hass.async_block_till_done()
    assert sensor_state(hass, "power_import") not in (None, STATE_UNAVAILABLE)
    assert await hass.config_entries.async_unload(entry.entry_id)
