"""(8) Rows beyond ``MAX_LINE_BYTES`` on the card are dropped, however the download is cut.

The simulator's ``hostile`` fault ``long_sd_rows`` makes its logging service write valid rows of
5,000 bytes. Downloaded through the client and read with ``SdCsvReader``, the rows that count
are the same whether the file arrives in 100-byte pieces or whole. Before the fix (``api/`` of
32c1f4f) a long row that arrived whole was read as a row, one cut into pieces was dropped: the
backfill's hours depended on the network.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import aiohttp
import pytest

from custom_components.whatwatt.api import SdCsvReader, WhatwattClient
from custom_components.whatwatt.api.parse_sdcard import MAX_LINE_BYTES, daily_file_name
from simulator.hostile import LONG_ROW_BYTES

from .model_checks import check_report

if TYPE_CHECKING:
    from collections.abc import AsyncIterator


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


@pytest.mark.parametrize("chunk_size", [100, 4096, 64 * 1024])
async def test_long_rows_dropped_whatever_the_chunks(
    simulator_factory, session: aiohttp.ClientSession, chunk_size: int
) -> None:
    """Rows 1 and 4 count; the long rows 2 and 3 never, in every chunking."""
    sim = await simulator_factory(telegram_interval=0, sd_card=True, auth="none")
    sim.state.settings["services"]["sd"]["enable"] = True
    sim.state.settings["services"]["sd"]["frequency"] = 0
    sim.sdcard.chunk = 1 << 20  # the whole file in one write: the client's pieces decide
    for hostile in (None, ["long_sd_rows"], ["long_sd_rows"], None):
        sim.faults.hostile = hostile
        await sim.emit_telegram()
    name = daily_file_name(sim.state.device_now().date())
    lines = bytes(sim.sdcard.files[name]).split(b"\r\n")
    assert [len(line) for line in lines[2:4]] == [LONG_ROW_BYTES - 2] * 2
    assert LONG_ROW_BYTES > MAX_LINE_BYTES
    reader = SdCsvReader()
    rows = []
    client = WhatwattClient(session, sim.host)
    async for piece in client.stream_sdcard_file(name, chunk_size=chunk_size):
        assert len(piece) <= chunk_size
        rows += reader.feed(piece)
    rows += reader.close()
    assert [row.report_id for row in rows] == [1, 4]
    assert reader.skipped == 2
    for row in rows:
        check_report(row)
