"""Only the daily files the gap needs are downloaded.

The gaps lie far from midnight; the card also holds the whole days before and after (about
1.4 MB each at a row every 15 s). Files are named by date, UTC or local, so while the device's
UTC offset is unknown the neighbouring days are candidates. A device read tells the offset: then
only the gap's file is read. A device whose clock tells nothing: the day after is never opened
(the gap's file went past its end), the day before only for its first rows (its day ended long
before the gap).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from unittest.mock import patch

import aiohttp
import pytest

from custom_components.whatwatt.api.client import WhatwattClient
from custom_components.whatwatt.api.clock import DeviceZone
from custom_components.whatwatt.api.sdcard import Closings, files_for, read_file
from custom_components.whatwatt.backfill.plan import HOUR
from custom_components.whatwatt.const import DOMAIN
from simulator.sdcard import HEADER, csv_row

from .helpers import BACK, FIRST, GAP, WH, backfill, come_back, entity_ids, go_through, hourly, used

if TYPE_CHECKING:
    from .helpers import Outage

BEFORE, DAY, AFTER = "20260114.CSV", "20260115.CSV", "20260116.CSV"
ROW_EVERY = timedelta(seconds=15)


def whole_day(sim: Any, name: str) -> None:
    """Put a whole day's log on the card under ``name`` (a row every 15 s)."""
    start = datetime.strptime(name[:8], "%Y%m%d").replace(tzinfo=FIRST.tzinfo)
    report = sim.state.report
    content = bytearray(HEADER.encode())
    for index in range(int(timedelta(days=1) / ROW_EVERY)):
        content.extend(csv_row(report, start + index * ROW_EVERY).encode())
    sim.sdcard.files[name] = content


@pytest.mark.parametrize("clock", ["tells", "tells_nothing"])
async def test_only_the_files_of_the_gap(outage: Outage, hass_storage: Any, clock: str) -> None:
    hass, sim, entry = outage.hass, outage.sim, outage.entry
    ids = entity_ids(hass)
    await go_through(outage, "entry_unloaded")
    hass_storage.pop(f"{DOMAIN}.coverage.{entry.entry_id}")  # the gap is filled by the action
    await come_back(outage, "entry_unloaded")
    whole_day(sim, BEFORE)
    whole_day(sim, AFTER)
    assert len(sim.sdcard.files[BEFORE]) > 1_000_000
    zone = entry.runtime_data.client.tz
    assert isinstance(zone, DeviceZone)
    zone.offset = None  # no device read since the set-up told it
    taken: dict[str, int] = {}
    original = WhatwattClient.stream_sdcard_file

    async def counted(self: WhatwattClient, name: str, **kwargs: Any) -> Any:
        async for chunk in original(self, name, **kwargs):
            taken[name] = taken.get(name, 0) + len(chunk)
            yield chunk

    observe = DeviceZone.observe if clock == "tells" else lambda *_args, **_kw: False
    sim.requests.clear()
    with (
        patch.object(WhatwattClient, "stream_sdcard_file", counted),
        patch.object(DeviceZone, "observe", observe),
    ):
        answer = await backfill(hass, entry, start=FIRST, end=BACK)
    assert answer["hours"] == 3
    files = [r.path.removeprefix("/sdcard/") for r in sim.requests if r.path.startswith("/sdcard")]
    assert files == ["", DAY]
    assert set(taken) == {DAY}
    await outage.settle()
    rows = (await hourly(hass, ids, FIRST, BACK))["energy_import"]
    for hour in GAP:
        assert abs(used(rows, hour) - outage.consumption("energy_import", hour)) <= WH


async def test_a_morning_gap_leaves_the_day_before_after_its_first_rows(sim: Any) -> None:
    """02:00..05:00 UTC, the offset unknown: the day before is a candidate, read one chunk far."""
    whole_day(sim, BEFORE)
    whole_day(sim, DAY)
    hours = [datetime(2026, 1, 15, 2, tzinfo=FIRST.tzinfo) + HOUR * n for n in range(3)]
    taken: dict[str, int] = {}
    async with aiohttp.ClientSession() as session:
        client = WhatwattClient(session, sim.host, None, tz=DeviceZone())
        listing = await client.get_sdcard_listing()
        files = files_for(listing, hours, None)
        assert [item.name for item in files] == [BEFORE, DAY]
        closings = Closings({"energy_import": None}, hours, "test")
        original = client.stream_sdcard_file

        async def counted(name: str, **kwargs: Any) -> Any:
            async for chunk in original(name, **kwargs):
                taken[name] = taken.get(name, 0) + len(chunk)
                yield chunk

        with patch.object(client, "stream_sdcard_file", counted):
            for sd_file in files:
                if await read_file(client, sd_file, hours, closings):
                    break
    assert set(taken) == {BEFORE, DAY}
    assert taken[BEFORE] <= 64 * 1024 < len(sim.sdcard.files[BEFORE])
    assert set(closings.values["energy_import"]) == set(hours)
