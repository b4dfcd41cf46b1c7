"""The clock of the outage tests: a meter that keeps counting while Home Assistant is on or off.

``Outage`` drives one test on a frozen clock. ``step()`` moves time on by ``STEP`` seconds and
lets the simulator decode one telegram (its SD card logs it when logging is on); while Home
Assistant is "on" it also fires the time change (the entry polls) and compiles the statistics of
every 5-minute period that has ended, as the recorder's five-minute tick does. While it is "off"
nothing happens in Home Assistant: no poll, no state, no statistics. ``restart()`` does what the
recorder does when Home Assistant starts again: it compiles the missed periods (from the states
it has, i.e. the last ones before the outage), then reloads the entry.

``truth`` keeps the simulated meter's registers (unrounded) at every telegram: the true
consumption of an hour is the register at the last telegram of the hour minus the one at the last
telegram of the hour before, which is what Home Assistant's own hourly rows measure too. Across a
meter exchange (the simulated meter starts again from zero) ``counted`` adds the increases
telegram by telegram, a fall counting from zero.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import itertools
from typing import TYPE_CHECKING, Any

from homeassistant.components.recorder.statistics import statistics_during_period
from homeassistant.components.recorder.tasks import CompileMissingStatisticsTask, StatisticsTask
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.recorder import get_instance
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import async_fire_time_changed
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

from custom_components.whatwatt.const import DOMAIN
from custom_components.whatwatt.services import ATTR_CONFIG_ENTRY_ID
from tests.integration.conftest import DEVICE_ID

if TYPE_CHECKING:
    from freezegun.api import FrozenDateTimeFactory
    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import MockConfigEntry

STEP = 60  # seconds between telegrams (and polls while Home Assistant is on)
HOUR = timedelta(hours=1)
FIVE = timedelta(minutes=5)
# A Thursday evening: 18:00 in Zurich, tariff 2 until 21:00 local (20:00 UTC), then tariff 1.
START = datetime(2026, 1, 15, 17, 0, 30, tzinfo=UTC)
KEYS = (
    "energy_import",
    "energy_import_t1",
    "energy_import_t2",
    "energy_export",
    "energy_export_t1",
    "energy_export_t2",
)
WH = 0.001  # kWh

FIRST = START.replace(minute=0, second=0)  # 17:00
GAP = [FIRST + HOUR * n for n in (1, 2, 3)]  # 18:00, 19:00, 20:00 UTC
LAST = START + timedelta(seconds=59 * STEP)  # 17:59:30, the last reading before the outage
BACK = GAP[-1] + HOUR + timedelta(seconds=30)  # 21:00:30, the first reading after it
AFTER = BACK - timedelta(seconds=30)  # 21:00, the hour after the gap
END = AFTER + HOUR + timedelta(seconds=30)  # 22:00:30, once the hour after is compiled


def floor5(moment: datetime) -> datetime:
    """Return the start of the 5-minute period ``moment`` lies in."""
    return moment.replace(minute=moment.minute - moment.minute % 5, second=0, microsecond=0)


def entity_ids(hass: HomeAssistant) -> dict[str, str]:
    """Return key → entity id of the simulated device's energy sensors."""
    registry = er.async_get(hass)
    found = {
        key: registry.async_get_entity_id("sensor", DOMAIN, f"{DEVICE_ID}_{key}") for key in KEYS
    }
    assert all(found.values()), found
    return {key: entity_id for key, entity_id in found.items() if entity_id}


async def hourly(
    hass: HomeAssistant, ids: dict[str, str], start: datetime, end: datetime
) -> dict[str, dict[datetime, tuple[float, float]]]:
    """Return key → hour → (state, sum) of the recorded hourly statistics."""
    rows = await get_instance(hass).async_add_executor_job(
        statistics_during_period,
        hass,
        start,
        end,
        set(ids.values()),
        "hour",
        None,
        {"state", "sum"},
    )
    return {
        key: {
            dt_util.utc_from_timestamp(row["start"]): (row["state"], row["sum"])
            for row in rows.get(entity_id, [])
        }
        for key, entity_id in ids.items()
    }


def used(rows: dict[datetime, tuple[float, float]], hour: datetime) -> float:
    """Return what the Energy dashboard shows for ``hour``: its sum minus the sum before."""
    return rows[hour][1] - rows[hour - HOUR][1]


class Outage:
    """One outage test: the simulated meter, Home Assistant on or off, the true registers."""

    def __init__(
        self,
        hass: HomeAssistant,
        sim: Any,
        freezer: FrozenDateTimeFactory,
        entry: MockConfigEntry,
    ) -> None:
        """Start at the current (frozen) time with Home Assistant on."""
        self.hass = hass
        self.sim = sim
        self.freezer = freezer
        self.entry = entry
        self.on = True
        self.truth: list[tuple[datetime, dict[str, float]]] = []
        self._compiled = floor5(dt_util.utcnow())
        self.note()

    def note(self) -> None:
        """Remember the meter's registers now (after a telegram)."""
        meter = self.sim.meter
        registers = {
            "energy_import_t1": meter.energy_in[0],
            "energy_import_t2": meter.energy_in[1],
            "energy_export_t1": meter.energy_out[0],
            "energy_export_t2": meter.energy_out[1],
        }
        registers["energy_import"] = sum(meter.energy_in)
        registers["energy_export"] = sum(meter.energy_out)
        self.truth.append((dt_util.utcnow(), registers))

    async def step(self, seconds: float = STEP) -> None:
        """Move time on to the next telegram; Home Assistant polls and compiles while on.

        The house draws about 1.5 kW for 40 minutes of each hour and feeds in about 0.8 kW for
        the other 20 (the meter adds its own jitter), so every hour has import and export.
        """
        self.freezer.tick(timedelta(seconds=seconds))
        self.sim.meter.net_kw = 1.5 if dt_util.utcnow().minute < 40 else -0.8
        await self.sim.emit_telegram()
        self.note()
        if self.on:
            await self.deliver()
            await self.compile()

    async def deliver(self) -> None:
        """Let the entry take the telegram: it polls (REST) when the time changes."""
        async_fire_time_changed(self.hass, dt_util.utcnow() + timedelta(seconds=1))
        await self.hass.async_block_till_done(wait_background_tasks=True)

    async def run_until(self, moment: datetime) -> None:
        """Step until the next step would pass ``moment``."""
        while dt_util.utcnow() + timedelta(seconds=STEP) <= moment:
            await self.step()

    async def compile(self) -> None:
        """Compile every 5-minute period that has ended (the recorder's five-minute tick).

        Each compile fires the recorder's events, as its own tick does.
        """
        end = floor5(dt_util.utcnow())
        while self._compiled < end:
            get_instance(self.hass).queue_task(StatisticsTask(self._compiled, True))
            self._compiled += FIVE
        await async_wait_recording_done(self.hass)

    async def catch_up(self) -> None:
        """Compile the periods missed while off, as the recorder does when it starts."""
        get_instance(self.hass).queue_task(CompileMissingStatisticsTask())
        await async_wait_recording_done(self.hass)
        self._compiled = floor5(dt_util.utcnow())

    async def settle(self) -> None:
        """Wait for background work (a backfill run), timers due now, and the recorder."""
        await self.hass.async_block_till_done(wait_background_tasks=True)
        async_fire_time_changed(self.hass, dt_util.utcnow())  # e.g. a store write due now
        await self.hass.async_block_till_done(wait_background_tasks=True)
        await async_wait_recording_done(self.hass)

    def reading(self, key: str, moment: datetime) -> float:
        """Return the register at the last telegram at or before ``moment``."""
        return [registers[key] for at, registers in self.truth if at <= moment][-1]

    def consumption(self, key: str, hour: datetime) -> float:
        """Return the true consumption of ``hour`` (between the readings at its ends)."""
        return self.reading(key, hour + HOUR) - self.reading(key, hour)

    def counted(self, key: str, hour: datetime) -> float:
        """Return the true consumption of ``hour`` across a meter exchange (a fall: from zero)."""
        total = 0.0
        for (_, before), (at, after) in itertools.pairwise(self.truth):
            if hour < at <= hour + HOUR:
                old, new = before[key], after[key]
                total += new - old if new >= old else new
        return total


# -- the steps of a test --------------------------------------------------------------


async def backfill(hass: HomeAssistant, entry: MockConfigEntry, **times: Any) -> dict[str, Any]:
    """Call ``whatwatt.backfill`` and return its answer."""
    return await hass.services.async_call(
        DOMAIN,
        "backfill",
        {ATTR_CONFIG_ENTRY_ID: entry.entry_id, **times},
        blocking=True,
        return_response=True,
    )


async def go_through(
    outage: Outage,
    cause: str,
    *,
    catch_up: bool = True,
    until: datetime = BACK,
    exchange: datetime | None = None,
) -> None:
    """Run until the last reading, stop the readings for ``cause``, run to the first one after.

    Home Assistant down: its recorder catches up at the end unless ``catch_up`` is False. The
    run goes on ``until`` the readings come back; at ``exchange`` the meter is exchanged.
    """
    hass, sim, entry = outage.hass, outage.sim, outage.entry
    await outage.run_until(LAST)
    outage.freezer.tick(timedelta(seconds=15))  # the readings stop after the last one
    if cause == "home_assistant_down":
        outage.on = False
        for coordinator in (entry.runtime_data.device, entry.runtime_data.measurements):
            coordinator.update_interval = None  # nothing runs while Home Assistant is down
            coordinator._unschedule_refresh()
    elif cause == "entry_unloaded":
        assert await hass.config_entries.async_unload(entry.entry_id)
    else:
        sim.faults.refuse = True
    await outage.step(STEP - 15)  # back on the minute's telegram
    if exchange is not None:
        await outage.run_until(exchange)
        sim.exchange_meter("NEW-2")
    await outage.run_until(until)
    if cause == "home_assistant_down" and catch_up:
        await outage.catch_up()


async def come_back(outage: Outage, cause: str) -> None:
    """Let the readings come back; the gap watcher runs the backfill."""
    hass, sim, entry = outage.hass, outage.sim, outage.entry
    if cause == "home_assistant_down":
        outage.on = True
        assert await hass.config_entries.async_reload(entry.entry_id)
    elif cause == "entry_unloaded":
        assert await hass.config_entries.async_setup(entry.entry_id)
    else:
        sim.faults.refuse = False
        await sim.wait_up()
        await entry.runtime_data.measurements.async_refresh()
    await outage.settle()
