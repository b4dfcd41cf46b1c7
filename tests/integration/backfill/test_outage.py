"""History without gaps: a three-hour outage, then the hours filled from the device's SD card.

The simulated meter runs from 17:00:30 UTC on a Thursday (18:00 in Zurich, tariff 2; tariff 1
from 20:00 UTC) with one telegram a minute, logged to the card. Home Assistant reads it until
17:59:30, then the readings stop for three hours, for each of three reasons, and come back at
21:00:30. Then:

- each gap hour (18:00, 19:00, 20:00 UTC) holds the meter's true consumption of that hour, to
  1 Wh, for the total and both tariffs, import and export;
- the hour after (21:00) holds only its own consumption;
- no row outside the gap hours changed (those inside had no reading behind them: absent, or a
  copy of the row before when the recorder caught up after Home Assistant was down);
- a second run (the action) imports nothing and changes nothing.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from homeassistant.core import CoreState
import pytest

from custom_components.whatwatt.const import DOMAIN

from .helpers import (
    AFTER,
    BACK,
    END,
    FIRST,
    GAP,
    HOUR,
    KEYS,
    WH,
    backfill,
    come_back,
    entity_ids,
    go_through,
    hourly,
    used,
)

if TYPE_CHECKING:
    from .helpers import Outage


@pytest.mark.parametrize("cause", ["home_assistant_down", "entry_unloaded", "device_unreachable"])
async def test_three_hour_outage(outage: Outage, cause: str) -> None:
    """The gap hours get the true consumption; nothing else changes; a second run does nothing."""
    hass, sim, entry = outage.hass, outage.sim, outage.entry
    ids = entity_ids(hass)
    await go_through(outage, cause)
    before = await hourly(hass, ids, FIRST, BACK)
    for key in KEYS:
        assert FIRST in before[key]  # compiled by Home Assistant from its own readings
        for hour in GAP:
            # No reading behind any of them: absent (unavailable), or a flat copy of the row
            # before (compiled from the last state, as when the recorder caught up).
            assert before[key].get(hour, before[key][FIRST]) == before[key][FIRST]
        if cause == "home_assistant_down":
            assert all(hour in before[key] for hour in GAP)
    sim.requests.clear()
    await come_back(outage, cause)
    sd_requests = [r.path for r in sim.requests if r.path.startswith("/sdcard")]
    assert sd_requests == ["/sdcard/", "/sdcard/20260115.CSV"]
    await outage.run_until(END)
    after = await hourly(hass, ids, FIRST, END)
    for key in KEYS:
        rows = after[key]
        for hour in GAP:
            assert abs(used(rows, hour) - outage.consumption(key, hour)) <= WH, (key, hour)
            assert rows[hour][0] == pytest.approx(outage.reading(key, hour + HOUR), abs=WH)
        # The hour after the restart holds its own consumption only.
        assert abs(used(rows, AFTER) - outage.consumption(key, AFTER)) <= WH, key
        for hour, row in before[key].items():
            if hour not in GAP:
                assert rows[hour] == row, (key, hour)
    # Real consumption in the gap, on both tariffs (the test is not about flat registers only).
    for direction in ("import", "export"):
        assert all(outage.consumption(f"energy_{direction}_t2", hour) > 0.1 for hour in GAP[:2])
        assert outage.consumption(f"energy_{direction}_t1", GAP[2]) > 0.1
    # A second run imports nothing and changes nothing.
    answer = await backfill(hass, entry, start=FIRST, end=END)
    assert answer["hours"] == 0
    await outage.settle()
    assert await hourly(hass, ids, FIRST, END) == after


async def test_action_fills_a_past_gap(
    outage: Outage, hass_storage: dict[str, Any], hass_admin_user: Any
) -> None:
    """A gap the watcher did not see is filled on demand; the answer tells hours and kWh."""
    hass, entry = outage.hass, outage.entry
    ids = entity_ids(hass)
    await go_through(outage, "entry_unloaded")
    hass_storage.pop(f"{DOMAIN}.coverage.{entry.entry_id}")  # as if never written
    await come_back(outage, "entry_unloaded")
    recorded = await hourly(hass, ids, FIRST, BACK)
    assert all(hour not in rows for rows in recorded.values() for hour in GAP)
    answer = await backfill(hass, entry, start=FIRST + timedelta(minutes=30), end=BACK)
    assert answer["outcome"] == "imported"
    assert answer["hours"] == 3
    assert answer["start"] == GAP[0].isoformat()
    assert answer["end"] == AFTER.isoformat()
    expected = sum(outage.consumption("energy_import", hour) for hour in GAP)
    imported = answer["sensors"][ids["energy_import"]]
    assert imported["hours"] == 3
    assert imported["kwh"] == pytest.approx(expected, abs=WH)
    await outage.settle()
    rows = (await hourly(hass, ids, FIRST, BACK))["energy_import"]
    for hour in GAP:
        assert abs(used(rows, hour) - outage.consumption("energy_import", hour)) <= WH
    again = await backfill(hass, entry, start=FIRST, end=BACK)
    assert again["hours"] == 0
    assert again["sensors"] == {}


async def test_a_run_at_start_up_waits_for_the_recorder(outage: Outage) -> None:
    """Home Assistant starting: the run waits until the recorder has compiled what it missed.

    Only then are the gap hours in the recorder's queue (flat copies of the hour before the
    outage), and the rows of the run come after them.
    """
    hass, sim, entry = outage.hass, outage.sim, outage.entry
    ids = entity_ids(hass)
    await go_through(outage, "home_assistant_down", catch_up=False)
    hass.set_state(CoreState.starting)
    outage.on = True
    sim.requests.clear()
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.runtime_data.backfill is not None
    assert entry.runtime_data.backfill.pending  # noticed, not run: the recorder is behind
    assert not [r for r in sim.requests if r.path.startswith("/sdcard")]
    hass.set_state(CoreState.running)
    await outage.catch_up()  # the recorder compiles the missed periods and says so
    await outage.settle()
    sd_requests = [r.path for r in sim.requests if r.path.startswith("/sdcard")]
    assert sd_requests == ["/sdcard/", "/sdcard/20260115.CSV"]
    assert not entry.runtime_data.backfill.pending
    after = await hourly(hass, ids, FIRST, BACK)
    for key in KEYS:
        for hour in GAP:
            assert abs(used(after[key], hour) - outage.consumption(key, hour)) <= WH, (key, hour)
