"""What the card holds (glitches, broken lines, nothing, too much), and the watcher's store."""

from __future__ import annotations

from datetime import timedelta
import logging
from typing import TYPE_CHECKING, Any
from unittest.mock import patch

from custom_components.whatwatt.api import sdcard
from custom_components.whatwatt.api.client import WhatwattClient
from custom_components.whatwatt.const import DOMAIN

from .helpers import (
    BACK,
    FIRST,
    GAP,
    LAST,
    WH,
    backfill,
    come_back,
    entity_ids,
    go_through,
    hourly,
    used,
)

if TYPE_CHECKING:
    import pytest

    from .helpers import Outage

CARD = "20260115.CSV"


def card_lines(sim: Any) -> list[bytes]:
    return bytes(sim.sdcard.files[CARD]).split(b"\r\n")


async def test_glitches_on_the_card_are_held(outage: Outage) -> None:
    """A zero row, a repeated row, a broken and an overlong line: the hours stay true."""
    hass, sim = outage.hass, outage.sim
    ids = entity_ids(hass)
    await go_through(outage, "entry_unloaded")
    lines = card_lines(sim)
    header = lines[0].split(b",")
    index = next(n for n, line in enumerate(lines) if b'"2026-01-15T19:20:30Z"' in line)
    zero = lines[index].split(b",")
    for column in (b"EAP_T", b"EAP_T1", b"EAP_T2"):
        zero[header.index(column)] = b"0"
    lines[index + 1 : index + 1] = [
        b",".join(zero).replace(b"19:20:30", b"19:20:45"),  # the device's zero glitch
        lines[index],  # a repeated row (not later than the one before)
        b'999,"2026-01-15T19:20:50Z,1',  # an unclosed quote
        b"x" * 5000,  # a line too long to be a row
    ]
    sim.sdcard.files[CARD] = bytearray(b"\r\n".join(lines))
    await come_back(outage, "entry_unloaded")
    rows = (await hourly(hass, ids, FIRST, BACK))["energy_import"]
    for hour in GAP:
        assert abs(used(rows, hour) - outage.consumption("energy_import", hour)) <= WH


async def test_nothing_on_the_card(outage: Outage, hass_storage: dict[str, Any]) -> None:
    """A card without the gap's file: ``no_data``, nothing written, no issue."""
    hass, sim, entry = outage.hass, outage.sim, outage.entry
    await go_through(outage, "entry_unloaded")
    hass_storage.pop(f"{DOMAIN}.coverage.{entry.entry_id}")
    sim.sdcard.clear()
    await come_back(outage, "entry_unloaded")
    answer = await backfill(hass, entry, start=FIRST, end=BACK)
    assert answer["outcome"] == "no_data"
    assert answer["hours"] == 0
    # Hours Home Assistant recorded itself: nothing to ask the card for.
    sim.requests.clear()
    answer = await backfill(hass, entry, start=FIRST, end=FIRST + timedelta(hours=1))
    assert answer["outcome"] == "nothing_missing"
    assert sim.requests == []


async def test_a_file_is_read_no_further_than_the_bound(
    outage: Outage, hass_storage: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    """Past ``MAX_FILE_BYTES`` the download stops (with a warning); what was read is used."""
    hass, entry = outage.hass, outage.entry
    ids = entity_ids(hass)
    await go_through(outage, "entry_unloaded")
    hass_storage.pop(f"{DOMAIN}.coverage.{entry.entry_id}")
    await come_back(outage, "entry_unloaded")
    original = WhatwattClient.stream_sdcard_file

    def small_chunks(self: WhatwattClient, name: str, **_: Any) -> Any:
        return original(self, name, chunk_size=4096)

    with (
        patch.object(sdcard, "MAX_FILE_BYTES", 30_000),
        patch.object(WhatwattClient, "stream_sdcard_file", small_chunks),
        caplog.at_level(logging.WARNING),
    ):
        answer = await backfill(hass, entry, start=FIRST, end=BACK)
    assert "only the first" in caplog.text
    assert answer["hours"] == 1  # 18:00; 19:00 was cut short, so it and what follows wait
    await outage.settle()
    rows = (await hourly(hass, ids, FIRST, BACK))["energy_import"]
    assert abs(used(rows, GAP[0]) - outage.consumption("energy_import", GAP[0])) <= WH


async def test_store_pending_gaps_and_removal(
    outage: Outage, hass_storage: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    """Gaps kept from before are run at set-up (bad ones dropped); removal forgets the store."""
    hass, sim, entry = outage.hass, outage.sim, outage.entry
    key = f"{DOMAIN}.coverage.{entry.entry_id}"
    ids = entity_ids(hass)
    await go_through(outage, "entry_unloaded")
    last = LAST.isoformat()
    hass_storage[key]["data"] = {
        "last_reading": None,  # as after a first run of a new version: no gap from it
        "pending": [[last, BACK.isoformat()], ["junk"], [BACK.isoformat(), last], "x"],
    }
    await come_back(outage, "entry_unloaded")
    assert hass_storage[key]["data"]["pending"] == []
    rows = (await hourly(hass, ids, FIRST, BACK))["energy_import"]
    assert all(hour in rows for hour in GAP)
    # A failure that is no device error is logged and the gap dropped (no endless retries).
    assert await hass.config_entries.async_unload(entry.entry_id)
    hass_storage[key]["data"]["pending"] = [[last, BACK.isoformat()]]
    with patch("custom_components.whatwatt.backfill.async_backfill", side_effect=RuntimeError):
        await come_back(outage, "entry_unloaded")
    assert "not filled" in caplog.text
    assert hass_storage[key]["data"]["pending"] == []
    assert sim.sdcard.files
    await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    assert key not in hass_storage
