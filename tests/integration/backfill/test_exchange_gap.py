"""A meter exchanged during an outage: the hours of the gap, the exchange's among them, hold the
true consumption, and so does the hour after; no hour is negative, none counted twice.

The meter is exchanged at 19:20:30 UTC, in the middle of the three-hour outage of the outage
tests; the card logs the old meter's rows, then the new meter's (a new ``MIDENT``, registers from
zero). Home Assistant's own rows after the gap count the new meter from zero (a new cycle) but
never saw the old meter's last 80 minutes: the backfill books them in the gap and moves the rows
after it up by as much (once the recorder has compiled the first period after the gap).
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import pytest

from .helpers import (
    AFTER,
    BACK,
    END,
    FIRST,
    GAP,
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

EXCHANGE = GAP[1] + timedelta(minutes=20, seconds=30)  # 19:20:30, after that minute's telegram


@pytest.mark.parametrize("cause", ["home_assistant_down", "entry_unloaded", "device_unreachable"])
async def test_a_meter_exchanged_in_the_gap(outage: Outage, cause: str) -> None:
    hass, entry = outage.hass, outage.entry
    ids = entity_ids(hass)
    await go_through(outage, cause, exchange=EXCHANGE)
    before = await hourly(hass, ids, FIRST, BACK)
    await come_back(outage, cause)
    await outage.run_until(END)
    rows = await hourly(hass, ids, FIRST, END)
    for key in KEYS:
        for hour in (*GAP, AFTER):
            assert abs(used(rows[key], hour) - outage.counted(key, hour)) <= WH, (key, hour)
        for hour, row in before[key].items():
            if hour < GAP[0]:
                assert rows[key][hour] == row, (key, hour)
    # The exchange's hour: the old meter's last 20 minutes and the new meter's first 40, both
    # with real consumption; its state is the new meter's register.
    old_part = outage.reading("energy_import", EXCHANGE) - outage.reading("energy_import", GAP[1])
    assert old_part > 0.3
    assert outage.counted("energy_import", GAP[1]) - old_part > 0.3
    assert rows["energy_import"][GAP[1]][0] < 5
    assert all(used(rows[key], hour) >= 0 for key in KEYS for hour in (*GAP, AFTER))
    # A second run changes nothing.
    answer = await backfill(hass, entry, start=FIRST, end=END)
    assert answer["hours"] == 0
    await outage.settle()
    assert await hourly(hass, ids, FIRST, END) == rows
    assert rows["energy_import"][AFTER][0] < 5  # Home Assistant follows the new meter
