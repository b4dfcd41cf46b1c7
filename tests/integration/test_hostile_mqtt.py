"""A hostile device publishing through a real broker (the simulator's ``hostile`` fault).

simulator → mosquitto (127.0.0.1, skipped when not installed) → Home Assistant's MQTT → entities,
with the integration's template and the vendor's flat template (its ``time`` as the device's
ISO time, as in issue 19: ``{"sys_id": ..., "time": "9999-12-31T23:59:59-01:00"}``).

Each of the first two tests would fail against ``api/`` before the boundary was made to hold:
an extreme time raised ``OverflowError`` in the message callback (1) and a value that overflows
once scaled a ``ValueError`` in the listener loop (3); either way the other measurements of the
message were lost. Now: no traceback, the message's other values count, an unusable value keeps
its last good one. A message nested 30,000 deep is dropped with a warning (2).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
import contextlib
from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import ConfigEntryState
import pytest

from custom_components.whatwatt.api.template import INTEGRATION_TEMPLATE
from simulator.hostile import LATE_UTC, PUSH_DEPTH, nested
from simulator.state import DEFAULT_MQTT_TEMPLATE

from .helpers import publishing_sim
from .hostile_helpers import ENERGY, Readings, at, tracebacks, value, watts
from .live_helpers import wait_for
from .mqtt_helpers import mqtt_entry, setup_entry

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import MockConfigEntry

SimFactory = Callable[..., Awaitable[Any]]
TEMPLATES = {
    "own": INTEGRATION_TEMPLATE,
    "vendor": DEFAULT_MQTT_TEMPLATE.replace("${timestamp}", "${meter.date_time_utc}"),
}
pytestmark = [pytest.mark.mosquitto, pytest.mark.usefixtures("enable_all_entities")]


class Publishing:
    """A simulated device publishing every telegram, and the entries that read it."""

    def __init__(self, hass: HomeAssistant, sim: Any, entries: list[MockConfigEntry]) -> None:
        self.hass = hass
        self.sim = sim
        self.readings = Readings(sim)
        self.entries = entries

    async def send(self) -> dict[str, Any]:
        """Publish the next telegram; return its report."""
        published = self.sim.publisher.published
        report = await self.readings.emit()
        assert self.sim.publisher.published == published + 1
        return report

    async def shown(self, report: dict[str, Any], limit: float = 10) -> None:
        """Wait until the reading's energy total is shown."""
        expected = at(report, ENERGY)
        await wait_for(self.hass, lambda: value(self.hass, "energy_import") == expected, limit)

    async def until_received(self) -> None:
        """Publish until a message got through (the subscription settles on the broker)."""
        async with asyncio.timeout(30):
            while True:
                report = await self.send()
                with contextlib.suppress(TimeoutError):
                    await self.shown(report, limit=0.5)
                    return

    async def close(self) -> None:
        for entry in self.entries:
            assert await self.hass.config_entries.async_unload(entry.entry_id)
        await self.hass.async_block_till_done()


async def _publishing(
    hass: HomeAssistant, mosquitto: Any, simulator_factory: SimFactory, template: str
) -> Publishing:
    broker_entry, sim = await publishing_sim(
        hass, mosquitto, simulator_factory, TEMPLATES[template]
    )
    entry = await setup_entry(hass, mqtt_entry())  # MQTT only: no REST to stand in
    publishing = Publishing(hass, sim, [entry, broker_entry])
    await publishing.until_received()
    return publishing


@pytest.fixture(params=["own", "vendor"])
async def device(
    hass: HomeAssistant,
    mock_hass_config: None,
    mosquitto: Any,
    simulator_factory: SimFactory,
    request: pytest.FixtureRequest,
) -> Publishing:
    """A device publishing with the integration's template, then with the vendor's."""
    return await _publishing(hass, mosquitto, simulator_factory, request.param)


async def test_extreme_times(
    hass: HomeAssistant, device: Publishing, caplog: pytest.LogCaptureFixture
) -> None:
    """(1) Times beyond year 9999 in the message: its values count, no traceback."""
    device.sim.faults.hostile = ["extreme_times"]
    for _ in range(2):
        report = await device.send()
        assert LATE_UTC in device.sim.publisher.last_payload.decode()
        await device.shown(report)
        assert value(hass, "power_import") == watts(report)
    assert not tracebacks(caplog)
    assert device.entries[0].state is ConfigEntryState.LOADED
    await device.close()


async def test_overflowing_values(
    hass: HomeAssistant, device: Publishing, caplog: pytest.LogCaptureFixture
) -> None:
    """(3) 1e306 kW, -1e308 kW in a message: power keeps its last good value, net power too,
    every other value of the message counts."""
    last = await device.send()
    await device.shown(last)
    power, net = value(hass, "power_import"), value(hass, "power_net")
    assert power == watts(last)
    assert net is not None
    device.sim.faults.hostile = ["overflow"]
    for _ in range(2):
        report = await device.send()
        assert b"1e+306" in device.sim.publisher.last_payload
        await device.shown(report)
        assert value(hass, "voltage_l1") == at(report, ("voltage", "l1"))
        assert (value(hass, "power_import"), value(hass, "power_net")) == (power, net)
    assert not tracebacks(caplog)
    device.sim.faults.hostile = None
    report = await device.send()
    await device.shown(report)
    assert value(hass, "power_import") == watts(report)
    await device.close()


async def test_nested_message(
    hass: HomeAssistant,
    mock_hass_config: None,
    mosquitto: Any,
    simulator_factory: SimFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """(2) A message nested 30,000 deep is dropped (one warning); the next one counts."""
    device = await _publishing(hass, mosquitto, simulator_factory, "own")
    device.sim.faults.hostile = ["nested_json"]
    before = value(hass, "energy_import")
    await device.send()
    assert device.sim.publisher.last_payload == nested(PUSH_DEPTH).encode()
    device.sim.faults.hostile = None
    report = await device.send()  # after the nested one on the same connection
    await device.shown(report)
    assert before != value(hass, "energy_import")
    warnings = [r.getMessage() for r in caplog.records if "not a JSON object" in r.getMessage()]
    assert len(warnings) == 1, warnings
    assert not tracebacks(caplog)
    await device.close()
