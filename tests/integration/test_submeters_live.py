"""Sub-meters over the live stream: the events' ``Vol[]`` make the same devices and sensors.

The live event's capture time is local (``DT``), read in the offset the device's clock shows.
"""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any
from unittest.mock import patch

from homeassistant.const import ATTR_DEVICE_CLASS, STATE_UNAVAILABLE
from homeassistant.util import dt as dt_util
import pytest

from custom_components.whatwatt.api.submeters import GONE_AFTER

from .live_helpers import shows, wait_for
from .submeter_helpers import (
    GAS_ID,
    assert_gas_meter,
    counter,
    sensor,
    set_kinds,
    submeter_device,
)

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import MockConfigEntry


@pytest.fixture
def sim_options() -> dict[str, Any]:
    """A P1 meter with a gas meter on bus 1."""
    return {"profile": "p1-gas"}


async def _event(hass: HomeAssistant, sim: Any) -> None:
    """Send the next telegram as a live event and wait until it is shown."""
    await shows(hass, await sim.emit_telegram())


async def test_devices_sensors_kinds_and_buses(
    hass: HomeAssistant, live: MockConfigEntry, sim: Any
) -> None:
    """Gas meter from the stream; water by option; a second bus appears and goes for good."""
    await _event(hass, sim)
    assert_gas_meter(hass)
    assert sensor(hass, "volume_1_capture_time").state == "2026-01-15T08:00:00+00:00"
    assert live.options == {"volume_1": "gas"}

    # The options form is offered to a live entry now, and applies at once.
    entity_id = counter(hass, 1).entity_id
    await set_kinds(hass, live, volume_1="water")
    assert counter(hass, 1).entity_id == entity_id
    assert counter(hass, 1).attributes[ATTR_DEVICE_CLASS] == "water"
    assert submeter_device(hass, 1).name == f"Water meter {GAS_ID}"
    await _event(hass, sim)
    assert counter(hass, 1).state == "4321.123"

    # A second sub-meter appears ...
    sim.meter.add_submeter(2, "W42", cumulative=7.25)
    await _event(hass, sim)
    await wait_for(hass, lambda: sensor(hass, "volume_2") is not None)
    assert counter(hass, 2).state == "7.25"
    assert submeter_device(hass, 2).name == "Gas meter W42"
    # ... and goes: unavailable at once, removed with its device after 30 days of events.
    sim.meter.remove_submeter(2)
    await _event(hass, sim)
    assert counter(hass, 2).state == STATE_UNAVAILABLE
    # (The sub-meters' clock is moved, not the test's: the stream's own timers stay put.)
    later = SimpleNamespace(utcnow=lambda: dt_util.utcnow() + GONE_AFTER + timedelta(minutes=1))
    with patch("custom_components.whatwatt.submeter.dt_util", later):
        await _event(hass, sim)
    await wait_for(hass, lambda: submeter_device(hass, 2) is None)
    assert sensor(hass, "volume_2") is None
    assert live.options == {"volume_1": "water", "demand_window": 15, "demand_peaks": 1}
    assert counter(hass, 1).state != STATE_UNAVAILABLE
