"""A meter exchange while Home Assistant reads the meter: the energy sensors follow the new meter.

The simulated meter runs as in the outage tests (one telegram a minute, Home Assistant's real
recorder compiling every five minutes). At 18:21:30 UTC it is exchanged for a new meter that
starts from zero. On every transport the energy totals follow the new meter, either at once
(its id changed in the readings) or with the third reading that counts on from the fall: the hour
of the exchange holds the true consumption (the old meter's part and the new one's) to 1 Wh, and
so does the hour after. The device event announces the exchange.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import TYPE_CHECKING, Any

# Imported before the clock is frozen (its imports fail under a frozen clock).
import homeassistant.components.mqtt.config_flow  # noqa: F401
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import async_fire_mqtt_message

from tests.integration.live_helpers import live_entry, within
from tests.integration.mqtt_helpers import TEMPLATES, TOPIC, mqtt_entry, mqtt_ready, payload

from .helpers import FIRST, HOUR, KEYS, WH, Outage, entity_ids, hourly, used

if TYPE_CHECKING:
    from freezegun.api import FrozenDateTimeFactory
    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import MockConfigEntry

__all__ = ["mqtt_ready"]

EXCHANGED = FIRST + HOUR + timedelta(minutes=21, seconds=30)  # 18:21:30, after its telegram
EXCHANGE_HOUR = FIRST + HOUR  # 18:00
DONE = FIRST + 3 * HOUR + timedelta(seconds=30)  # 20:00:30: 18:00 and 19:00 compiled
EVENT = "event.whatwatt_go_d4e5f6_device_event"
# Real seconds a push, or settling after it, may take (a loaded machine); the test's own
# limit is 60 s, so a wait that fails says why before that limit cuts it off.
PUSH_WAIT = 20.0


class Pushed(Outage):
    """The same run, pushed: a live event, or an MQTT message rendered from ``template``."""

    def __init__(self, *args: Any, template: str | None = None) -> None:
        super().__init__(*args)
        self.template = template
        self.pushed = self.entry.runtime_data.measurements.pushes

    async def deliver(self) -> None:
        """Wait until the telegram's push arrived (every telegram is pushed once).

        The waits are bounded in real time (the clock is frozen): a push that never comes fails
        the test, saying what the stream and the source knew then.
        """
        measurements = self.entry.runtime_data.measurements
        self.pushed += 1
        arrived = asyncio.Event()

        def check() -> None:
            if measurements.pushes >= self.pushed:
                arrived.set()

        unsubscribe = measurements.async_add_listener(check)
        try:
            if self.template is not None:
                async_fire_mqtt_message(self.hass, TOPIC, payload(self.sim, self.template))
            check()
            await within(arrived.wait(), self.missing, PUSH_WAIT)
        finally:
            unsubscribe()
        await within(self.hass.async_block_till_done(), self.unsettled, PUSH_WAIT)

    def missing(self) -> str:
        """Describe a push that did not come: the counts, the stream, the source's state."""
        runtime = self.entry.runtime_data
        measurements = runtime.measurements
        source = runtime.source.diagnostics() if runtime.source is not None else None
        hub = self.sim.live
        return (
            f"push {self.pushed} at {dt_util.utcnow():%H:%M:%S} (pushes: {measurements.pushes}; "
            f"streams open: {hub.clients}, served: {hub.connections_total}; source: {source}; "
            f"last error: {measurements.last_exception!r})"
        )

    def unsettled(self) -> str:
        """Describe Home Assistant not settling after a push: the tasks still running."""
        names = {getattr(task.get_coro(), "__qualname__", "?") for task in asyncio.all_tasks()}
        return f"settling after push {self.pushed} (running: {', '.join(sorted(names))})"


async def _run(
    hass: HomeAssistant, sim: Any, freezer: FrozenDateTimeFactory, transport: str, entry: Any
) -> Outage:
    """Set the entry up for ``transport`` and return the run driving it."""
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    if transport == "rest":
        return Outage(hass, sim, freezer, entry)
    if transport == "live":
        await within(sim.live.wait_clients(1), "the live stream is opened")
        return Pushed(hass, sim, freezer, entry)
    return Pushed(hass, sim, freezer, entry, template=TEMPLATES[transport.removeprefix("mqtt-")])


@pytest.mark.parametrize(
    ("transport", "old_id", "new_id"),
    [("rest", "OLD-1", "NEW-2"), ("rest", None, None), ("live", "OLD-1", None)],
    ids=["rest-new-id", "rest-no-id", "live"],
)
async def test_the_sensors_follow_the_new_meter(
    recorder_mock: Any,
    hass: HomeAssistant,
    sim: Any,
    freezer: FrozenDateTimeFactory,
    mock_config_entry: MockConfigEntry,
    transport: str,
    old_id: str | None,
    new_id: str | None,
) -> None:
    """REST: the new id in the report, or a meter without any id; live: no id in the events
    (the device read names the old meter, the new one is followed with its third reading)."""
    if old_id is None:
        sim.state.meter_info |= {"id": "", "logical_name": ""}
        await sim.emit_telegram()  # the report read at set-up names no meter either
    entry = live_entry(sim) if transport == "live" else mock_config_entry
    run = await _exchange(hass, sim, freezer, transport, entry, new_id)
    event = hass.states.get(EVENT)
    assert event is not None
    assert event.attributes["event_type"] == "meter_exchanged"
    ids = (event.attributes["old_meter_id"], event.attributes["new_meter_id"])
    assert ids == (old_id, new_id)
    await hass.config_entries.async_unload(run.entry.entry_id)


@pytest.mark.parametrize(("template", "new_id"), [("vendor", "NEW-2"), ("own", None)])
async def test_the_sensors_follow_the_new_meter_over_mqtt(
    recorder_mock: Any,
    hass: HomeAssistant,
    mqtt_ready: Any,
    sim: Any,
    freezer: FrozenDateTimeFactory,
    template: str,
    new_id: str | None,
) -> None:
    """The vendor's template carries the meter id, the integration's does not."""
    run = await _exchange(hass, sim, freezer, f"mqtt-{template}", mqtt_entry(), new_id)
    await hass.config_entries.async_unload(run.entry.entry_id)


async def _exchange(
    hass: HomeAssistant,
    sim: Any,
    freezer: FrozenDateTimeFactory,
    transport: str,
    entry: Any,
    new_id: str | None,
) -> Outage:
    """Run to the exchange, exchange the meter, run on; check the hours and the sensor."""
    if sim.state.meter_info["logical_name"]:
        sim.state.meter_info["id"] = "OLD-1"
    run = await _run(hass, sim, freezer, transport, entry)
    await run.run_until(EXCHANGED)
    ids = entity_ids(hass)  # a push entry makes its sensors with the first reading
    sim.exchange_meter(new_id)
    await run.run_until(DONE)
    rows = await hourly(hass, ids, FIRST, DONE)
    for key in KEYS:
        for hour in (EXCHANGE_HOUR, EXCHANGE_HOUR + HOUR):
            assert abs(used(rows[key], hour) - run.counted(key, hour)) <= WH, (key, hour)
    # The import register of the new meter is shown, not the old meter's last value.
    shown = float(hass.states.get(ids["energy_import"]).state)
    assert shown == pytest.approx(sum(sim.meter.energy_in), abs=WH)
    assert shown < 10
    assert run.counted("energy_import", EXCHANGE_HOUR) > 0.5
    return run
