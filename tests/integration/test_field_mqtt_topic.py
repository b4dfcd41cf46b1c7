"""No config flow per reading: a configured device on the default topic is not "discovered" again.

End to end with Home Assistant's real MQTT integration and a private mosquitto on 127.0.0.1
(skipped when mosquitto is not installed): the simulated device publishes its readings on the
default topic ``whatwatt/<DEVICE_ID>`` (``sim.configure_mqtt(url)``, the vendor's template), the
configured MQTT entry shows every one of them, and no config flow of ``whatwatt`` is started for
any of them, not even one that aborts at once (every ``flow.async_init`` is counted).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
import json
from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import Event, callback
import pytest

from .live_helpers import wait_for
from .mqtt_helpers import DEVICE_ID, TOPIC, mqtt_entry, sensor_state, setup_entry, setup_ha_mqtt

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import MockConfigEntry

pytestmark = pytest.mark.mosquitto

SimFactory = Callable[..., Awaitable[Any]]
READINGS = 50
DOMAIN = "whatwatt"


class _Midpoint:
    """A stand-in for the meter's random source: every draw is the middle of its range."""

    def uniform(self, low: float, high: float) -> float:
        return (low + high) / 2


@pytest.fixture
async def ha_mqtt(
    hass: HomeAssistant, mosquitto: Any, mock_hass_config: None
) -> AsyncIterator[MockConfigEntry]:
    """Home Assistant's real MQTT integration, connected to the private broker."""
    entry = await setup_ha_mqtt(hass, mosquitto.port)
    yield entry
    if entry.state is ConfigEntryState.LOADED:
        await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


def _shows(hass: HomeAssistant, message: bytes) -> Callable[[], bool]:
    """Return a check: the entities show this message's power and energy."""
    sent = json.loads(message)
    watts = float(sent["power_in"]) * 1000
    kwh = float(sent["energy_in"])

    def check() -> bool:
        power, energy = sensor_state(hass, "power_import"), sensor_state(hass, "energy_import")
        if power in (None, STATE_UNAVAILABLE) or energy in (None, STATE_UNAVAILABLE):
            return False
        return float(power) == pytest.approx(watts) and float(energy) == pytest.approx(kwh)

    return check


async def test_readings_on_default_topic_start_no_flow(
    hass: HomeAssistant,
    ha_mqtt: MockConfigEntry,
    mosquitto: Any,
    simulator_factory: SimFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """50 different readings on ``whatwatt/<DEVICE_ID>``: all shown, no config flow started."""
    starts: list[tuple[str, str | None]] = []
    results: list[Any] = []
    original = hass.config_entries.flow.async_init

    async def counting_init(handler: str, *args: Any, **kwargs: Any) -> Any:
        context = kwargs.get("context") or {}
        starts.append((handler, context.get("source")))
        result = await original(handler, *args, **kwargs)
        results.append(result)
        return result

    monkeypatch.setattr(hass.config_entries.flow, "async_init", counting_init)

    sim = await simulator_factory(auth="none", telegram_interval=0, seed=11, report_interval=1)
    sim.meter.rng = _Midpoint()  # the power is set per reading below: every payload differs
    sim.configure_mqtt(mosquitto.url)  # the default topic and the vendor's template
    assert sim.state.mqtt_settings["publish"]["topic"] == f"whatwatt/{DEVICE_ID}" == TOPIC
    sim.state.settings["services"]["report_interval"] = 0  # publish every telegram
    await sim.emit_telegram()
    await sim.publisher.wait_link(connected=True)

    entry = await setup_entry(hass, mqtt_entry(host=sim.host))
    assert entry.state is ConfigEntryState.LOADED

    # Home Assistant subscribes with a short delay: publish until the first reading shows.
    async with asyncio.timeout(30):
        while True:
            sim.meter.net_kw = 0.25
            await sim.emit_telegram()
            try:
                await wait_for(hass, _shows(hass, sim.publisher.last_payload), limit=0.5)
            except TimeoutError:
                continue
            break

    # Count every reading the entity takes from here on.
    written: list[str] = []

    @callback
    def _written(event: Event) -> None:
        if event.data.get("entity_id", "").endswith("_power_import"):
            written.append(event.event_type)

    unlisten = hass.bus.async_listen("state_changed", _written)
    payloads: list[bytes] = []
    for n in range(READINGS):
        sim.meter.net_kw = 0.5 + n * 0.01  # import 500 W, 510 W, ...: each reading differs
        published = sim.publisher.published
        await sim.emit_telegram()
        assert sim.publisher.published == published + 1
        message = sim.publisher.last_payload
        assert json.loads(message)["sys_id"] == DEVICE_ID
        payloads.append(message)
        await wait_for(hass, _shows(hass, message), limit=10)
    unlisten()
    await hass.async_block_till_done()

    assert len(set(payloads)) == READINGS
    assert len(written) == READINGS  # one state change per reading: none lost, none merged
    assert float(sensor_state(hass, "power_import")) == pytest.approx(
        (0.5 + (READINGS - 1) * 0.01) * 1000
    )
    ours = [start for start in starts if start[0] == DOMAIN]
    assert ours == [], f"{len(ours)} config flows started, e.g. {ours[:3]}; results {results[:2]}"
    assert hass.config_entries.flow.async_progress_by_handler(DOMAIN) == []
    assert entry.state is ConfigEntryState.LOADED
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
