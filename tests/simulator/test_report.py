"""Meter profiles, report shape, time stamps, licence gating, origin check, request counting."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

GATED = (
    ("GET", "/api/v1/report"),
    ("GET", "/api/v1/report/objects"),
    ("GET", "/api/v1/variables"),
    ("GET", "/api/v1/actions"),
    ("POST", "/api/v1/actions"),
    ("DELETE", "/api/v1/actions"),
    ("POST", "/api/v1/actions/call?id=x"),
    ("GET", "/api/v1/actions/status?id=1"),
)


async def _get(session, url, **kwargs):
    async with session.get(url, **kwargs) as resp:
        return resp.status, await resp.json(content_type=None)


async def test_p1_single_profile(simulator_factory, session):
    sim = await simulator_factory(telegram_interval=0, profile="p1-single")
    status, skeleton = await _get(session, f"{sim.url}/api/v1/report")
    assert status == 200
    assert skeleton["meter"]["status"] == "NO DATA"
    assert "instantaneous_power" not in skeleton["report"]
    await sim.emit_telegram()
    status, data = await _get(session, f"{sim.url}/api/v1/report")
    assert status == 200
    report = data["report"]
    assert report["id"] == 1
    assert report["tariff"] in (1, 2)
    active = report["instantaneous_power"]["active"]
    assert set(active["positive"]) == {"total", "l1"}
    assert "reactive" not in report["instantaneous_power"]
    assert "apparent" not in report["instantaneous_power"]
    assert set(report["voltage"]) == {"l1"}
    energy = report["energy"]["active"]["positive"]
    assert energy["total"] == pytest.approx(energy["t1"] + energy["t2"], abs=0.002)
    assert data["meter"]["status"] == "OK"
    assert data["meter"]["interface"] == "P1"
    assert data["meter"]["protocol"] == "DSMR"
    assert data["system"]["id"] == "A1B2C3D4E5F6"
    assert len(data["system"]["boot_id"]) == 8


async def test_dlms_three_profile_and_monotonic_energy(simulator_factory, session):
    sim = await simulator_factory(telegram_interval=0, profile="dlms-three", seed=7)
    totals = []
    for expected_id in range(1, 40):
        report = (await sim.emit_telegram())["report"]
        assert report["id"] == expected_id
        totals.append(report["energy"]["active"]["positive"]["total"])
    assert totals == sorted(totals)
    assert totals[-1] > totals[0]
    status, data = await _get(session, f"{sim.url}/api/v1/report")
    assert status == 200
    report = data["report"]
    assert "tariff" not in report
    power = report["instantaneous_power"]
    assert set(power["active"]["positive"]) == {"total", "l1", "l2", "l3"}
    assert set(power["reactive"]["positive"]) == {"total", "l1", "l2", "l3"}
    assert "total" in power["apparent"]
    assert 0 < report["power_factor"] <= 1
    assert set(report["voltage"]) == {"l1", "l2", "l3"}
    assert "t1" not in report["energy"]["active"]["positive"]
    assert "total" in report["energy"]["reactive"]["positive"]
    assert "total" in report["max_demand"]["active"]["positive"]
    assert data["meter"]["protocol"] == "DLMS"


async def test_time_stamps_and_z_quirk(simulator_factory, session):
    sim = await simulator_factory(telegram_interval=0, timezone="Europe/Zurich")
    report = (await sim.emit_telegram())["report"]
    local = datetime.fromisoformat(report["date_time_local"])
    utc = datetime.fromisoformat(report["date_time_utc"])
    assert local == utc
    assert report["date_time"] == local.strftime("%Y-%m-%dT%H:%M:%SZ")  # local time, "Z"
    assert local.utcoffset().total_seconds() in (3600, 7200)
    assert abs((datetime.now(UTC) - utc).total_seconds()) < 60


async def test_old_firmware_only_date_time(simulator_factory, session):
    sim = await simulator_factory(telegram_interval=0, firmware="1.9.2")
    await sim.emit_telegram()
    _, data = await _get(session, f"{sim.url}/api/v1/report")
    assert "date_time" in data["report"]
    assert "date_time_utc" not in data["report"]
    assert "date_time_local" not in data["system"]


async def test_free_license_gates_routes(simulator_factory, session):
    sim = await simulator_factory(telegram_interval=0, license="free")
    for method, path in GATED:
        async with session.request(method, sim.url + path, data=b"{}") as resp:
            assert resp.status == 404, path
            assert await resp.json() == {
                "error": "license_required",
                "message": "License required",
            }
    status, system = await _get(session, f"{sim.url}/api/v1/system")
    assert status == 200
    assert system["device"]["license"]["type"] == "FREE"
    assert (await _get(session, f"{sim.url}/api/v1/settings"))[0] == 200
    async with session.post(f"{sim.url}/_sim/license", json={"license": "plus"}) as resp:
        assert resp.status == 200
    assert (await _get(session, f"{sim.url}/api/v1/report"))[0] == 200
    sim.set_license("free")
    assert (await _get(session, f"{sim.url}/api/v1/report"))[0] == 404


async def test_variables_are_strings(simulator_factory, session):
    sim = await simulator_factory(telegram_interval=0)
    await sim.emit_telegram()
    status, data = await _get(session, f"{sim.url}/api/v1/variables")
    assert status == 200
    assert isinstance(data, list)
    flat = {}
    for item in data:
        assert len(item) == 1
        flat.update(item)
    assert all(isinstance(v, str) for v in flat.values())
    assert flat["sys.id"] == "A1B2C3D4E5F6"
    assert flat["meter.status"] == "OK"
    assert flat["3_7_0"] == "null"  # no reactive power on a P1 single-phase meter


async def test_origin_check(simulator_factory, session):
    sim = await simulator_factory(telegram_interval=0)
    url = f"{sim.url}/api/v1/system"
    assert (await _get(session, url, headers={"Origin": "http://evil.example"}))[0] == 404
    for origin in (
        "http://whatwatt_D4E5F6",
        "http://whatwatt_D4E5F6.local",
        "http://whatwatt-D4E5F6.local",
    ):
        assert (await _get(session, url, headers={"Origin": origin}))[0] == 200


async def test_unknown_route_and_request_count(simulator_factory, session):
    sim = await simulator_factory(telegram_interval=0)
    status, body = await _get(session, f"{sim.url}/api/v1/nope")
    assert status == 404
    assert body == {"error": "not_found", "message": "Not found"}
    await _get(session, f"{sim.url}/api/v1/system")
    await _get(session, f"{sim.url}/_sim/faults")  # control requests are not counted
    assert [(r.method, r.path, r.status) for r in sim.requests] == [
        ("GET", "/api/v1/nope", 404),
        ("GET", "/api/v1/system", 200),
    ]


async def test_telegram_listener(simulator_factory):
    sim = await simulator_factory(telegram_interval=0)
    seen = []

    async def listener(report):
        seen.append(report["report"]["id"])

    unsubscribe = sim.state.add_telegram_listener(listener)
    await sim.emit_telegram()
    await sim.emit_telegram()
    unsubscribe()
    await sim.emit_telegram()
    assert seen == [1, 2]


async def test_telegram_loop_runs(simulator_factory):
    sim = await simulator_factory(telegram_interval=0.05)
    got = asyncio.Event()
    sim.state.add_telegram_listener(lambda _report: got.set())
    async with asyncio.timeout(5):
        await got.wait()
    assert sim.state.report is not None
