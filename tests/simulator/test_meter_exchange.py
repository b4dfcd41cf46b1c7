"""The simulated meter exchange: a new identity and registers from near zero, everywhere at once.

The report's and the system's meter block, the MQTT template's variables and the SD card's rows
all show the new meter from the next telegram on; the card keeps the old meter's rows before it.
"""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING, Any

from simulator.meter import METER_INFO
from simulator.variables import build_variables

from .helpers import get_json, post_json

if TYPE_CHECKING:
    import aiohttp


def card_rows(sim: Any) -> list[dict[str, str]]:
    content = b"".join(bytes(data) for _, data in sorted(sim.sdcard.files.items()))
    lines = [line for line in content.decode().splitlines() if not line.startswith("RID,")]
    header = next(iter(sim.sdcard.files.values())).decode().splitlines()[0]
    return list(csv.DictReader(io.StringIO("\n".join([header, *lines]))))


async def test_exchange_through_the_control_endpoint(
    simulator_factory: Any, session: aiohttp.ClientSession
) -> None:
    sim = await simulator_factory(
        auth="none", telegram_interval=0, sd_card=True, meter_id="OLD-1", seed=3
    )
    sim.state.settings["services"]["sd"] |= {"enable": True, "frequency": 1}
    before = await sim.emit_telegram()
    assert before["meter"]["id"] == "OLD-1"
    old_import = before["report"]["energy"]["active"]["positive"]["total"]
    assert old_import > 5000
    status, block = await post_json(session, f"{sim.url}/_sim/meter", {"meter_id": "NEW-2"})
    assert status == 200
    assert (block["id"], block["logical_name"]) == ("NEW-2", "NEW-2")
    sim.state.clock_offset += 2  # the next telegram is a row of its own on the card
    await sim.emit_telegram()
    report = await get_json(session, f"{sim.url}/api/v1/report")
    assert report["meter"]["id"] == "NEW-2"
    energy = report["report"]["energy"]["active"]
    assert 0 <= energy["positive"]["total"] < 0.01
    assert energy["negative"]["total"] == 0
    system = await get_json(session, f"{sim.url}/api/v1/system")
    assert (system["meter"]["id"], system["meter"]["type"]) == ("NEW-2", "NEW-2")
    variables = build_variables(sim.state, sim.state.report)
    assert variables["meter.id"] == "NEW-2"
    rows = card_rows(sim)
    assert [(row["MID"], row["MIDENT"]) for row in rows] == [
        ("OLD-1", METER_INFO["p1-single"]["logical_name"]),
        ("NEW-2", "NEW-2"),
    ]
    assert float(rows[0]["EAP_T"]) == old_import
    assert float(rows[1]["EAP_T"]) < 0.01


async def test_exchange_without_an_id_keeps_the_identity(
    simulator_factory: Any, session: aiohttp.ClientSession
) -> None:
    """A meter that shows no new id: only its registers start again (from ``start``)."""
    sim = await simulator_factory(auth="none", telegram_interval=0, seed=3)
    before = await sim.emit_telegram()
    status, block = await post_json(session, f"{sim.url}/_sim/meter", {"start": 1.25})
    assert status == 200
    assert block["logical_name"] == before["meter"]["logical_name"]
    after = await sim.emit_telegram()
    assert after["meter"] == before["meter"]
    assert 1.25 <= after["report"]["energy"]["active"]["positive"]["total"] < 1.26


async def test_bad_exchange_requests_are_refused(
    simulator_factory: Any, session: aiohttp.ClientSession
) -> None:
    sim = await simulator_factory(auth="none", telegram_interval=0)
    for body in ({"meter_id": 5}, {"start": -1}, {"start": True}, {"serial": ["x"]}):
        status, _ = await post_json(session, f"{sim.url}/_sim/meter", body)
        assert status == 400, body
