"""Clock faults: ``clock_offset``, ``timezone`` (switched mid-stream) and ``old_time_stamps``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import json
from zoneinfo import ZoneInfo

import pytest

from custom_components.whatwatt.api.template import INTEGRATION_TEMPLATE
from simulator import Simulator, SimulatorConfig
from simulator.__main__ import build_parser, config_from_args
from simulator.template import render
from simulator.variables import NUMERIC, build_variables

from .helpers import get_json, live_local, next_live_event, post_json, stamp_local

SLACK = 5.0  # seconds a test may take between two prints of the clock


def near(moment: datetime, expected: datetime, slack: float = SLACK) -> bool:
    return abs((moment - expected).total_seconds()) <= slack


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text)


async def test_clock_offset_shifts_every_printed_time(simulator_factory, session):
    offset = 5400.0  # 1 h 30 min ahead
    sim = await simulator_factory(telegram_interval=0, timezone="+01:00", auth="none")
    await sim.emit_telegram()
    sim.faults.clock_offset = offset
    ahead = datetime.now(UTC) + timedelta(seconds=offset)

    report = (await sim.emit_telegram())["report"]
    assert report["id"] == 2  # counters do not care about the clock
    assert report["interval"] == sim.state.telegram_interval
    assert near(utc(report["date_time_utc"]), ahead)
    local = datetime.fromisoformat(report["date_time_local"])
    assert local.utcoffset() == timedelta(hours=1)
    assert local == utc(report["date_time_utc"])
    assert report["date_time"] == local.strftime("%Y-%m-%dT%H:%M:%SZ")

    data = await get_json(session, f"{sim.url}/api/v1/report")
    clock = data["system"]
    assert near(utc(clock["date_time_utc"]), ahead)
    assert clock["date_time_local"].endswith("+01:00")
    assert clock["time_since_boot"] < 60

    system = await get_json(session, f"{sim.url}/api/v1/system")
    device = system["device"]
    local_ahead = (ahead + timedelta(hours=1)).replace(tzinfo=None)
    assert near(datetime.fromisoformat(f"{device['date']}T{device['time']}"), local_ahead)
    meter = system["meter"]
    assert near(datetime.fromisoformat(f"{meter['date']}T{meter['time']}"), local_ahead)
    reboot = device["last_reboot"]
    booted = datetime.fromisoformat(f"{reboot['date']}T{reboot['time']}")
    assert near(booted, local_ahead, SLACK + device["time_since_boot"])
    assert device["time_since_boot"] < 60  # uptime is not shifted


async def test_clock_offset_reaches_live_and_template(simulator_factory, session):
    sim = await simulator_factory(telegram_interval=0, timezone="+01:00", auth="none")
    status, answer = await post_json(session, f"{sim.url}/_sim/faults", {"clock_offset": -7200})
    assert status == 200
    assert answer["clock_offset"] == -7200.0
    behind = datetime.now(UTC) - timedelta(hours=2)
    async with session.get(f"{sim.url}/api/v1/live") as resp:
        await sim.live.wait_clients(1)
        report = (await sim.emit_telegram())["report"]
        event = await next_live_event(resp)
    assert live_local(event) == stamp_local(report["date_time"])
    assert near(live_local(event), (behind + timedelta(hours=1)).replace(tzinfo=None))
    assert event["Uptime"] < 0.1  # hours, unaffected

    variables = build_variables(sim.state)
    assert near(datetime.fromtimestamp(variables["timestamp"], UTC), behind)
    assert variables["meter.date_time_utc"] == report["date_time_utc"]
    assert near(utc(variables["sys.date_time_utc"]), behind)
    assert variables["sys.date_time_local"].endswith("+01:00")
    payload = json.loads(render(INTEGRATION_TEMPLATE, variables, NUMERIC))
    assert payload["ts"] == report["date_time_utc"]
    assert payload["t"] == variables["timestamp"]

    sim.faults.clear()
    assert sim.faults.clock_offset == 0.0
    fresh = (await sim.emit_telegram())["report"]
    assert near(utc(fresh["date_time_utc"]), datetime.now(UTC))


@pytest.mark.parametrize("bad", ["soon", True, None, 1e12])
async def test_clock_offset_rejects_bad_values(simulator_factory, session, bad):
    sim = await simulator_factory(telegram_interval=0)
    status, _ = await post_json(session, f"{sim.url}/_sim/faults", {"clock_offset": bad})
    assert status == 400
    assert sim.faults.clock_offset == 0.0


async def test_timezone_switch_while_live_stream_is_open(simulator_factory, session):
    """A daylight-saving change (+01:00 → +02:00) during an open stream."""
    sim = await simulator_factory(telegram_interval=0, timezone="+01:00", auth="none")
    async with session.get(f"{sim.url}/api/v1/live") as resp:
        await sim.live.wait_clients(1)
        winter = (await sim.emit_telegram())["report"]
        before = await next_live_event(resp)
        status, answer = await post_json(session, f"{sim.url}/_sim/faults", {"timezone": "+02:00"})
        assert status == 200
        assert answer["timezone"] == "+02:00"
        summer = (await sim.emit_telegram())["report"]
        after = await next_live_event(resp)
    assert sim.live.connections_total == 1  # the same stream saw both
    assert winter["date_time_local"].endswith("+01:00")
    assert summer["date_time_local"].endswith("+02:00")
    real_gap = utc(summer["date_time_utc"]) - utc(winter["date_time_utc"])
    assert real_gap < timedelta(seconds=SLACK)
    assert live_local(before) == stamp_local(winter["date_time"])
    assert live_local(after) == stamp_local(summer["date_time"])
    assert live_local(after) - live_local(before) - real_gap == timedelta(hours=1)

    system = await get_json(session, f"{sim.url}/api/v1/system")
    shown = datetime.fromisoformat(f"{system['device']['date']}T{system['device']['time']}")
    assert near(shown, (datetime.now(UTC) + timedelta(hours=2)).replace(tzinfo=None))
    data = await get_json(session, f"{sim.url}/api/v1/report")
    assert data["system"]["date_time_local"].endswith("+02:00")

    sim.faults.timezone = None  # back to the configured zone
    assert (await sim.emit_telegram())["report"]["date_time_local"].endswith("+01:00")


async def test_real_dst_rule_with_clock_offset(simulator_factory):
    """Europe/Zurich springs forward at 01:00 UTC on 2026-03-29; move the device clock across."""
    try:
        ZoneInfo("Europe/Zurich")
    except Exception:
        pytest.skip("no time zone database")
    sim = await simulator_factory(telegram_interval=0, timezone="Europe/Zurich")
    switch = datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
    sim.faults.clock_offset = (switch - timedelta(minutes=5) - datetime.now(UTC)).total_seconds()
    before = (await sim.emit_telegram())["report"]
    sim.faults.clock_offset = (switch + timedelta(minutes=5) - datetime.now(UTC)).total_seconds()
    after = (await sim.emit_telegram())["report"]
    assert before["date_time"].startswith("2026-03-29T01:5")
    assert before["date_time_local"].endswith("+01:00")
    assert after["date_time"].startswith("2026-03-29T03:0")
    assert after["date_time_local"].endswith("+02:00")
    assert after["id"] == before["id"] + 1


@pytest.mark.parametrize("zone", ["Mars/Olympus", "+25:00", "", 2])
async def test_timezone_rejects_unknown_zones(simulator_factory, session, zone):
    sim = await simulator_factory(telegram_interval=0)
    status, body = await post_json(session, f"{sim.url}/_sim/faults", {"timezone": zone})
    assert status == 400
    assert body["error"] == "invalid_request"
    with pytest.raises(ValueError, match=r"timezone|time zone|offset"):
        sim.faults.timezone = zone
    assert sim.faults.timezone is None


async def test_old_time_stamps_switch(simulator_factory, session):
    sim = await simulator_factory(telegram_interval=0, timezone="+01:00", auth="none")
    await sim.emit_telegram()  # decoded with the full trio, before the switch
    status, answer = await post_json(session, f"{sim.url}/_sim/faults", {"old_time_stamps": True})
    assert status == 200
    assert answer["old_time_stamps"] is True
    data = await get_json(session, f"{sim.url}/api/v1/report")
    for block in (data["report"], data["system"]):
        assert "date_time_utc" not in block
        assert "date_time_local" not in block
        local = stamp_local(block["date_time"])
        assert block["date_time"].endswith("Z")
        assert near(local, (datetime.now(UTC) + timedelta(hours=1)).replace(tzinfo=None))
    system = await get_json(session, f"{sim.url}/api/v1/system")
    assert system["device"]["firmware"] == "1.10.3"  # only the stamps are old

    report = (await sim.emit_telegram())["report"]
    assert set(report) >= {"date_time"}
    assert "date_time_utc" not in report
    variables = build_variables(sim.state)
    assert "meter.date_time_utc" not in variables
    assert "sys.date_time_local" not in variables
    rendered = render(INTEGRATION_TEMPLATE, variables, NUMERIC)
    assert '"ts":"${meter.date_time_utc}"' in rendered  # left verbatim like the real device
    local = stamp_local(report["date_time"]).replace(tzinfo=sim.state.zone)
    assert json.loads(rendered)["t"] == int(local.timestamp())

    sim.faults.old_time_stamps = False
    data = await get_json(session, f"{sim.url}/api/v1/report")
    assert "date_time_local" in data["system"]  # printed now
    assert "date_time_utc" not in data["report"]  # as printed when it was decoded
    assert "date_time_utc" in (await sim.emit_telegram())["report"]


async def test_old_firmware_profile_matches_the_switch(simulator_factory):
    old = await simulator_factory(telegram_interval=0, firmware="1.9.2")
    switched = await simulator_factory(telegram_interval=0)
    switched.faults.old_time_stamps = True
    a = await old.emit_telegram()
    b = await switched.emit_telegram()
    for part in ("report", "system"):
        assert {k for k in a[part] if "date_time" in k} == {"date_time"}
        assert {k for k in b[part] if "date_time" in k} == {"date_time"}


def test_cli_and_config_set_the_clock_faults():
    args = build_parser().parse_args(["--timezone", "+02:00", "--clock-offset", "-900"])
    config = config_from_args(args)
    assert config.timezone == "+02:00"
    assert config.clock_offset == -900.0
    sim = Simulator(config)
    assert sim.faults.clock_offset == -900.0
    assert sim.state.clock_offset == -900.0
    assert sim.state.zone.utcoffset(None) == timedelta(hours=2)
    assert Simulator(SimulatorConfig()).faults.as_dict()["clock_offset"] == 0.0
