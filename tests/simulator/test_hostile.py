"""The ``hostile`` fault: what the device sends while it is on, and nothing else once it is off."""

from __future__ import annotations

import asyncio
import json
import math

import pytest

from simulator.hostile import (
    DEFAULT_UPTIME,
    EARLY_LOCAL,
    ENDLESS_CHUNK,
    LATE_UTC,
    PUSH_DEPTH,
    REST_DEPTH,
    STRAY_PER_READING,
    TRICKLE,
    Hostile,
    nested,
    parse_hostile,
)
from simulator.state import DEFAULT_MQTT_TEMPLATE

from .helpers import get_json, next_live_event, post_json

POWER = ("instantaneous_power", "active", "positive", "total")


def _at(data, *path):
    for step in path:
        data = data[step]
    return data


@pytest.fixture
async def sim(simulator_factory):
    device = await simulator_factory(telegram_interval=0, profile="p1-gas")
    await device.emit_telegram()
    return device


async def _raw(session, url: str) -> tuple[int, bytes]:
    async with session.get(url) as resp:
        return resp.status, await resp.read()


async def test_off_by_default_and_through_the_control_endpoint(sim, session) -> None:
    """Off by default; set by kinds or by object, shown, refused when bad, cleared."""
    faults = await get_json(session, f"{sim.url}/_sim/faults")
    assert faults["hostile"] is None
    status, answer = await post_json(session, f"{sim.url}/_sim/faults", {"hostile": ["overflow"]})
    assert status == 200
    assert answer["hostile"]["kinds"] == ["overflow"]
    body = {"hostile": {"kinds": ["absurd_interval"], "interval": 1e7}}
    status, answer = await post_json(session, f"{sim.url}/_sim/faults", body)
    assert (status, answer["hostile"]["interval"]) == (200, 1e7)
    assert sim.faults.hostile == Hostile(frozenset({"absurd_interval"}), interval=1e7)
    for bad in (["no_such_kind"], {"kinds": ["overflow"], "x": 1}, 5, {"body_bytes": -1}):
        status, _ = await post_json(session, f"{sim.url}/_sim/faults", {"hostile": bad})
        assert status == 400, bad
    assert parse_hostile([]) is None
    sim.faults.clear()
    assert sim.faults.hostile is None


async def test_extreme_times_overflow_interval_uptime_on_rest(sim, session) -> None:
    """The REST answers carry the hostile values; the stored report does not."""
    stored = json.dumps(sim.state.report)
    sim.faults.hostile = ["extreme_times", "overflow", "absurd_interval", "absurd_uptime"]
    report = json.loads((await _raw(session, f"{sim.url}/api/v1/report"))[1])
    body = report["report"]
    assert (body["date_time_utc"], body["date_time_local"]) == (LATE_UTC, EARLY_LOCAL)
    assert report["system"]["date_time_utc"] == LATE_UTC
    assert body["volume"][0]["date_time"] == "9999-12-31T23:59:59"
    assert _at(body, *POWER) == 1e306
    assert _at(body, "instantaneous_power", "active", "negative", "total") == -1e308
    assert math.isnan(body["power_factor"])
    assert body["current"]["l1"] == math.inf
    assert body["voltage"]["l1"] < 300  # untouched
    assert body["interval"] == 1e300
    assert report["system"]["time_since_boot"] == DEFAULT_UPTIME
    system = await get_json(session, f"{sim.url}/api/v1/system")
    device = system["device"]
    assert (device["date"], device["time"]) == ("9999-12-31", "23:59:59")
    assert device["last_reboot"] == {"date": "0001-01-01", "time": "00:00:00"}
    assert device["time_since_boot"] == DEFAULT_UPTIME
    assert system["meter"]["report_interval"] == 1e300
    settings = await get_json(session, f"{sim.url}/api/v1/settings")
    assert settings["services"]["report_interval"] == 1e300
    assert json.dumps(sim.state.report) == stored
    sim.faults.hostile = None
    report = await get_json(session, f"{sim.url}/api/v1/report")
    assert report["report"]["date_time_utc"].startswith("20")
    assert _at(report["report"], *POWER) < 10


async def test_nested_json_on_rest(sim, simulator_factory, session) -> None:
    """Every JSON answer under /api/ is nested 100,000 deep, errors too; 401 and control not."""
    sim.faults.hostile = ["nested_json"]
    status, body = await _raw(session, f"{sim.url}/api/v1/system")
    assert (status, body) == (200, nested(REST_DEPTH).encode())
    sim.faults.status_503 = True
    status, body = await _raw(session, f"{sim.url}/api/v1/report")
    assert (status, len(body)) == (503, 2 * REST_DEPTH)
    sim.faults.status_503 = False
    assert (await get_json(session, f"{sim.url}/_sim/faults"))["hostile"]["kinds"]
    protected = await simulator_factory(telegram_interval=0, auth="digest", password="secret")
    protected.faults.hostile = ["nested_json"]
    status, body = await _raw(session, f"{protected.url}/api/v1/system")
    assert status == 401
    assert json.loads(body)["error"] == "unauthorized"


async def test_huge_body_is_streamed_and_counted(sim, session) -> None:
    """A huge answer is valid JSON of exactly ``body_bytes``, chunked, counted as it goes."""
    sim.faults.hostile = {"kinds": ["huge_body"], "body_bytes": 3 * 1024 * 1024 + 5}
    async with session.get(f"{sim.url}/api/v1/report") as resp:
        assert resp.status == 200
        assert resp.content_length is None
        body = await resp.read()
    assert len(body) == 3 * 1024 * 1024 + 5 == sim.hostile_bytes_sent
    assert set(json.loads(body)) == {"pad"}


async def test_a_client_that_leaves_stops_a_huge_body(sim, session) -> None:
    """64 MiB by default; a client that reads 1 MiB and leaves is sent little more."""
    sim.faults.hostile = ["huge_body"]
    async with session.get(f"{sim.url}/api/v1/system") as resp:
        await resp.content.readexactly(1024 * 1024)
        resp.close()
    await asyncio.sleep(0)
    assert 1024 * 1024 <= sim.hostile_bytes_sent < 32 * 1024 * 1024


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("nested_json", f"event: live\ndata: {nested(PUSH_DEPTH)}\n\n".encode()),
        ("endless_line", b"x" * ENDLESS_CHUNK),
        ("trickle", TRICKLE.encode()),
    ],
)
async def test_live_frames(sim, session, kind: str, expected: bytes) -> None:
    """The live stream sends the hostile frame in place of each event."""
    sim.faults.hostile = [kind]
    async with session.get(f"{sim.url}/api/v1/live") as resp:
        await sim.live.wait_clients(1)
        await sim.emit_telegram()
        async with asyncio.timeout(5):
            got = await resp.content.readexactly(len(expected))
    assert got == expected
    assert len(nested(PUSH_DEPTH)) < 64 * 1024


async def test_live_without_blank_lines_and_with_hostile_values(sim, session) -> None:
    """Events without their blank line; once off, events with the hostile values, then none."""
    sim.faults.hostile = ["no_blank_line", "extreme_times", "absurd_uptime", "overflow"]
    async with session.get(f"{sim.url}/api/v1/live") as resp:
        await sim.live.wait_clients(1)
        for _ in range(2):
            await sim.emit_telegram()
        async with asyncio.timeout(5):
            lines = [await resp.content.readline() for _ in range(4)]
        assert [line[:7] for line in lines] == [b"event: ", b"data: {"] * 2
        assert b"\n\n" not in b"".join(lines)
        events = [json.loads(line.removeprefix(b"data: ")) for line in lines[1::2]]
        clocks = {(event["Date"], event["Time"]) for event in events}
        assert clocks == {("9999-12-31", "23:59:59"), ("0001-01-01", "00:00:00")}
        event = events[0]
        assert event["Uptime"] == DEFAULT_UPTIME
        assert event["P_In"] == 1e306
        assert event["Vol"][0]["DT"] == "9999-12-31T23:59:59"
        sim.faults.hostile = None
        await sim.emit_telegram()
        event = await next_live_event(resp)
        assert event["Date"].startswith("20")


async def test_stray_submeters(sim, session) -> None:
    """Every reading names new buses, besides the real sub-meter."""
    sim.faults.hostile = ["stray_submeters"]
    seen: set[int] = set()
    for _ in range(3):
        report = await get_json(session, f"{sim.url}/api/v1/report")
        buses = [entry["bus"] for entry in report["report"]["volume"]]
        assert buses[0] == 1
        assert len(buses) == 1 + STRAY_PER_READING
        assert not seen & set(buses[1:])
        seen.update(buses[1:])


async def test_mqtt_message(sim) -> None:
    """The MQTT message the device would publish follows the fault."""
    template = DEFAULT_MQTT_TEMPLATE.replace("${timestamp}", "${meter.date_time_utc}")
    sim.faults.hostile = ["extreme_times", "overflow"]
    message = json.loads(sim.mqtt_message(template))
    assert message["time"] == LATE_UTC
    assert float(message["power_in"]) == 1e306
    sim.faults.hostile = ["nested_json"]
    assert sim.mqtt_message(template) == nested(PUSH_DEPTH).encode()
    sim.faults.hostile = None
    assert json.loads(sim.mqtt_message(template))["time"].startswith("20")
