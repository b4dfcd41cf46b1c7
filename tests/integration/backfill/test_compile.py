"""The backfill never imports an hour the recorder has yet to compile.

Home Assistant was down from 17:59:45 and started again at 20:59:30: its recorder compiled the
periods it missed up to 20:55. The entry is set up (again) at 21:00:05, five seconds past the
hour, before the recorder's compile of 20:55..21:00 (which writes the hourly rows of 20:00 for
every sensor). Had the run imported 20:00 then, that compile would have collided with it and been
rolled back whole: every sensor of every integration would have lost the 20:55 five-minute row
and the 20:00 hourly row. The run waits for the compile instead, then fills all three hours.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from homeassistant.components.recorder.statistics import statistics_during_period
from homeassistant.helpers.recorder import get_instance

from .helpers import (
    AFTER,
    END,
    FIRST,
    GAP,
    KEYS,
    WH,
    entity_ids,
    go_through,
    hourly,
    used,
)

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    import pytest

    from .helpers import Outage

OTHER = "sensor.other_meter_energy"  # a sensor of another integration
STARTED = GAP[-1] + timedelta(minutes=59, seconds=30)  # 20:59:30
SET_UP = AFTER + timedelta(seconds=5)  # 21:00:05


def other_reading(hass: HomeAssistant, value: float) -> None:
    attributes = {
        "state_class": "total_increasing",
        "device_class": "energy",
        "unit_of_measurement": "kWh",
    }
    hass.states.async_set(OTHER, str(value), attributes)


async def other_rows(hass: HomeAssistant, period: str) -> set[float]:
    """Return the starts (timestamps) of the other sensor's rows of ``period``."""
    rows = await get_instance(hass).async_add_executor_job(
        statistics_during_period, hass, FIRST, END, {OTHER}, period, None, {"sum"}
    )
    return {row["start"] for row in rows.get(OTHER, [])}


async def test_a_set_up_five_seconds_past_the_hour(
    outage: Outage, caplog: pytest.LogCaptureFixture
) -> None:
    hass, entry = outage.hass, outage.entry
    ids = entity_ids(hass)
    other_reading(hass, 100.0)
    await go_through(outage, "home_assistant_down", catch_up=False, until=STARTED)
    await outage.catch_up()  # the recorder compiles what it missed: up to 20:55
    other_reading(hass, 101.0)  # Home Assistant runs again: the other sensor reads on
    outage.freezer.move_to(SET_UP)
    outage.on = True
    assert await hass.config_entries.async_reload(entry.entry_id)
    await outage.settle()
    await outage.compile()  # the recorder's compile of 20:55..21:00, ten seconds past the hour
    await outage.settle()
    await outage.run_until(END)
    five_minutes = await other_rows(hass, "5minute")
    hours = await other_rows(hass, "hour")
    assert (AFTER - timedelta(minutes=5)).timestamp() in five_minutes
    assert {hour.timestamp() for hour in (FIRST, *GAP, AFTER)} <= hours
    assert "duplicated statistic rows" not in caplog.text
    rows = await hourly(hass, ids, FIRST, END)
    for key in KEYS:
        for hour in (*GAP, AFTER):
            assert abs(used(rows[key], hour) - outage.consumption(key, hour)) <= WH, (key, hour)
