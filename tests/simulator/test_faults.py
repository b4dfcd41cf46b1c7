"""Injected faults: refuse, delay, 503, 429, malformed JSON, meter not connected."""

from __future__ import annotations

import asyncio
import json
import time

import aiohttp
import pytest


async def test_refuse_connections(simulator_factory, session):
    sim = await simulator_factory(telegram_interval=0)
    url = f"{sim.url}/api/v1/system"
    async with session.get(url) as resp:
        assert resp.status == 200
    sim.faults.refuse = True
    with pytest.raises(aiohttp.ClientConnectorError):
        async with session.get(url):
            pass
    sim.faults.refuse = False
    await sim.wait_up()
    async with session.get(url) as resp:
        assert resp.status == 200


async def test_refuse_for_via_control(simulator_factory, session):
    sim = await simulator_factory(telegram_interval=0)
    async with session.post(f"{sim.url}/_sim/faults", json={"refuse_for": 0.2}) as resp:
        assert resp.status == 200
    assert not sim.up.is_set()
    with pytest.raises(aiohttp.ClientConnectorError):
        async with session.get(f"{sim.url}/api/v1/system"):
            pass
    await sim.wait_up(5)
    assert sim.faults.refuse is False
    async with session.get(f"{sim.url}/api/v1/system") as resp:
        assert resp.status == 200


async def test_delay(simulator_factory, session):
    sim = await simulator_factory(telegram_interval=0)
    sim.faults.delay = 0.3
    start = time.monotonic()
    async with session.get(f"{sim.url}/api/v1/system") as resp:
        assert resp.status == 200
    assert time.monotonic() - start >= 0.3
    # Control is never delayed: it answers well within a delay no scheduling hiccup comes near.
    sim.faults.delay = 60.0
    async with asyncio.timeout(10), session.get(f"{sim.url}/_sim/faults") as resp:
        assert (await resp.json())["delay"] == 60.0


@pytest.mark.parametrize(("fault", "status"), [("status_503", 503), ("status_429", 429)])
async def test_status_faults(simulator_factory, session, fault, status):
    sim = await simulator_factory(telegram_interval=0)
    async with session.post(f"{sim.url}/_sim/faults", json={fault: True}) as resp:
        assert (await resp.json())[fault] is True
    async with session.get(f"{sim.url}/api/v1/system") as resp:
        assert resp.status == status
        body = await resp.json()
        assert set(body) == {"error", "message"}
    sim.faults.clear()
    async with session.get(f"{sim.url}/api/v1/system") as resp:
        assert resp.status == 200


async def test_malformed(simulator_factory, session):
    sim = await simulator_factory(telegram_interval=0)
    sim.faults.malformed = True
    async with session.get(f"{sim.url}/api/v1/system") as resp:
        assert resp.status == 200
        text = await resp.text()
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)


async def test_meter_not_connected(simulator_factory, session):
    sim = await simulator_factory(telegram_interval=0)
    await sim.emit_telegram()
    sim.faults.meter_not_connected = True
    assert await sim.emit_telegram() is None
    assert sim.state.report is None
    async with session.get(f"{sim.url}/api/v1/report") as resp:
        assert resp.status == 200
        data = await resp.json()
    assert data["meter"]["status"] == "NOT CONNECTED"
    assert "energy" not in data["report"]
    assert data["report"]["id"] == 1
    async with session.get(f"{sim.url}/api/v1/system") as resp:
        system = await resp.json()
    assert system["meter"]["status"] == "NOT CONNECTED"
    sim.faults.meter_not_connected = False
    report = await sim.emit_telegram()
    assert report["meter"]["status"] == "OK"
    assert report["report"]["id"] == 2


async def test_control_endpoint(simulator_factory, session):
    sim = await simulator_factory(telegram_interval=0, license="free")
    sim.faults.status_503 = True
    async with session.post(f"{sim.url}/_sim/telegram") as resp:
        assert resp.status == 200
        assert (await resp.json())["report"]["report"]["id"] == 1
    async with session.post(f"{sim.url}/_sim/faults", json={"nope": True}) as resp:
        assert resp.status == 400
    async with session.post(f"{sim.url}/_sim/faults", json={"delay": -1}) as resp:
        assert resp.status == 400
    async with session.post(f"{sim.url}/_sim/license", json={"license": "gold"}) as resp:
        assert resp.status == 400
    async with session.get(f"{sim.url}/_sim/requests") as resp:
        assert await resp.json() == []
