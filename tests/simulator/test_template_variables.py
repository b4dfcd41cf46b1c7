"""build_variables against a running simulated device, and the integration template rendered."""

from __future__ import annotations

from datetime import UTC, datetime
import json
import re

import aiohttp

from custom_components.whatwatt.api.parse_mqtt import parse_mqtt_payload
from custom_components.whatwatt.api.parse_report import parse_report
from custom_components.whatwatt.api.template import INTEGRATION_TEMPLATE
from simulator.template import render
from simulator.variables import NUMERIC, NUMERIC_VARIABLES, build_variables

CATALOGUE_START = ["1_8_0", "energy.in", "1_8_1", "1_8_2", "2_8_0", "energy.out"]


async def test_variables_follow_the_report(simulator_factory) -> None:
    sim = await simulator_factory(profile="dlms-three", auth="none", telegram_interval=0)
    before = build_variables(sim.state)
    assert before["1_7_0"] is None  # no telegram yet
    assert before["sys.id"] == "A1B2C3D4E5F6"
    await sim.emit_telegram()
    variables = build_variables(sim.state)
    report = sim.state.report
    assert report is not None
    body = report["report"]
    assert list(variables)[: len(CATALOGUE_START)] == CATALOGUE_START
    assert variables["1_7_0"] == body["instantaneous_power"]["active"]["positive"]["total"]
    assert variables["power.in"] == variables["1_7_0"]
    assert variables["1_8_0"] == body["energy"]["active"]["positive"]["total"]
    assert variables["energy.out"] == body["energy"]["active"]["negative"]["total"]
    assert variables["32_7_0"] == body["voltage"]["l1"]
    assert variables["71_7_0"] == body["current"]["l3"]
    assert variables["meter.date_time_utc"] == body["date_time_utc"]
    expected_ts = datetime.fromisoformat(body["date_time_utc"]).timestamp()
    assert variables["timestamp"] == int(expected_ts)
    assert variables["meter.status"] == "OK"
    assert variables["meter.protocol"] == "DLMS"
    assert variables["sys.firmware"] == "1.10.3"
    assert variables["wifi.mode"] == "sta"
    assert variables["wifi.sta.rssi"] == -61
    assert variables["eth.state"] == "down"
    for name in NUMERIC_VARIABLES:
        assert name in variables, name
        assert variables[name] is None or isinstance(variables[name], int | float), name


async def test_integration_template_round_trip(simulator_factory) -> None:
    sim = await simulator_factory(profile="dlms-three", auth="none", telegram_interval=0)
    await sim.emit_telegram()
    rendered = render(INTEGRATION_TEMPLATE, build_variables(sim.state), NUMERIC)
    # No sub-meter on this bus: the template's sub-meter slots stay verbatim (quoted: valid JSON).
    assert "${" not in re.sub(r'"\$\{vol\[\d\]\.[a-z_]+\}"', '""', rendered)
    json.loads(rendered)
    from_mqtt = parse_mqtt_payload(rendered)
    from_rest = parse_report(sim.state.report)
    assert from_mqtt.device_id == "A1B2C3D4E5F6"
    assert from_mqtt.values == from_rest.values
    assert from_mqtt.timestamp == from_rest.timestamp
    assert from_mqtt.tariff == from_rest.tariff
    assert from_mqtt.rejected == ()
    assert from_mqtt.volumes == from_rest.volumes == {}
    assert len(from_mqtt.values) >= 20  # DLMS three-phase carries most quantities


async def test_single_phase_profile_renders_nulls(simulator_factory) -> None:
    sim = await simulator_factory(profile="p1-single", auth="none", telegram_interval=0)
    await sim.emit_telegram()
    rendered = render(INTEGRATION_TEMPLATE, build_variables(sim.state), NUMERIC)
    report = parse_mqtt_payload(rendered)
    assert report.values == parse_report(sim.state.report).values
    assert "reactive_energy_import" not in report.values
    assert report.rejected == ()


async def test_old_firmware_lacks_utc_variables(simulator_factory) -> None:
    sim = await simulator_factory(firmware="1.9.2", auth="none", telegram_interval=0)
    await sim.emit_telegram()
    variables = build_variables(sim.state)
    assert "meter.date_time_utc" not in variables
    assert "meter.date_time" in variables
    rendered = render(INTEGRATION_TEMPLATE, variables, NUMERIC)
    assert '"ts":"${meter.date_time_utc}"' in rendered  # left verbatim like the real device
    report = parse_mqtt_payload(rendered)
    expected = parse_report(sim.state.report, tz=sim.state.zone).timestamp
    assert report.timestamp == expected
    assert report.timestamp is not None
    assert report.timestamp.tzinfo is UTC


async def test_meter_not_connected_leaves_measurements_unavailable(simulator_factory) -> None:
    sim = await simulator_factory(auth="none", telegram_interval=0)
    await sim.emit_telegram()
    sim.state.set_meter_connected(False)
    variables = build_variables(sim.state)
    assert variables["meter.status"] == "NOT CONNECTED"
    assert variables["1_8_0"] is None
    assert variables["tariff"] is None


async def test_variables_route_uses_the_catalogue(simulator_factory) -> None:
    sim = await simulator_factory(profile="dlms-three", auth="none", telegram_interval=0)
    await sim.emit_telegram()
    async with aiohttp.ClientSession() as session, session.get(f"{sim.url}/api/v1/variables") as r:
        assert r.status == 200
        entries = await r.json()
    flat = {k: v for entry in entries for k, v in entry.items()}
    assert flat["sys.id"] == "A1B2C3D4E5F6"
    assert flat["meter.status"] == "OK"
    assert all(isinstance(v, str) for v in flat.values())
    assert flat["1_6_1"] == "null" or float(flat["1_6_1"]) >= 0
    assert list(flat)[: len(CATALOGUE_START)] == CATALOGUE_START
