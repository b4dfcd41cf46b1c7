"""``GET /api/v1/live``: SSE framing, one subscriber at a time, closed streams noticed."""

from __future__ import annotations

import asyncio
import json

import aiohttp

from .helpers import next_sse_event


async def _next_event(resp: aiohttp.ClientResponse) -> tuple[str, str]:
    return await next_sse_event(resp, line_ends="\n")  # the simulator's default: LF only


async def test_live_events(simulator_factory, session):
    sim = await simulator_factory(telegram_interval=0, profile="dlms-three")
    await sim.emit_telegram()  # before connecting: not replayed
    async with session.get(f"{sim.url}/api/v1/live") as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"] == "text/event-stream"
        await sim.live.wait_clients(1)
        report = (await sim.emit_telegram())["report"]
        event, data = await _next_event(resp)
        assert event == "live"
        payload = json.loads(data)
        assert payload["P_In"] == report["instantaneous_power"]["active"]["positive"]["total"]
        assert payload["E_In"] == report["energy"]["active"]["positive"]["total"]
        assert payload["V_P3"] == report["voltage"]["l3"]
        assert payload["rP_In"] == report["instantaneous_power"]["reactive"]["positive"]["total"]
        assert "T" not in payload  # no tariff on this meter
        assert set(payload) >= {"Date", "Time", "Uptime"}
        assert payload["Uptime"] < 1  # hours


async def test_second_client_drops_first(simulator_factory, session):
    sim = await simulator_factory(telegram_interval=0)
    async with session.get(f"{sim.url}/api/v1/live") as first:
        await sim.live.wait_clients(1)
        async with aiohttp.ClientSession() as other, other.get(f"{sim.url}/api/v1/live") as second:
            async with asyncio.timeout(5):
                assert await first.content.read() == b""  # the device closed it
            await sim.live.wait_clients(1)
            await sim.emit_telegram()
            event, _ = await _next_event(second)
            assert event == "live"
    assert sim.live.connections_total == 2


async def test_closed_stream_is_noticed(simulator_factory, session):
    sim = await simulator_factory(telegram_interval=0)
    resp = await session.get(f"{sim.url}/api/v1/live")
    await sim.live.wait_clients(1)
    resp.close()  # client goes away without telling the handler
    await sim.live.wait_clients(0)


async def test_meter_not_connected_silences_stream(simulator_factory, session):
    sim = await simulator_factory(telegram_interval=0)
    async with session.get(f"{sim.url}/api/v1/live") as resp:
        await sim.live.wait_clients(1)
        sim.faults.meter_not_connected = True
        assert await sim.emit_telegram() is None
        sim.faults.meter_not_connected = False
        report = await sim.emit_telegram()
        _, data = await _next_event(resp)
        assert (
            json.loads(data)["P_In"]
            == (report["report"]["instantaneous_power"]["active"]["positive"]["total"])
        )


async def test_live_is_not_license_gated_and_malformed(simulator_factory, session):
    sim = await simulator_factory(telegram_interval=0, license="free")
    sim.faults.malformed = True
    async with session.get(f"{sim.url}/api/v1/live") as resp:
        assert resp.status == 200
        await sim.live.wait_clients(1)
        await sim.emit_telegram()
        _, data = await _next_event(resp)
        assert data == "{not json"


async def test_live_503(simulator_factory, session):
    sim = await simulator_factory(telegram_interval=0)
    sim.faults.status_503 = True
    async with session.get(f"{sim.url}/api/v1/live") as resp:
        assert resp.status == 503


async def test_live_alone_refused(simulator_factory, session):
    """``live.refuse_status``: the stream refuses while the rest of the API answers."""
    sim = await simulator_factory(telegram_interval=0)
    sim.live.refuse_status = 503
    async with session.get(f"{sim.url}/api/v1/live") as resp:
        assert resp.status == 503
    async with session.get(f"{sim.url}/api/v1/system") as resp:
        assert resp.status == 200
    assert sim.live.connections_total == 0
    sim.live.refuse_status = None
    async with session.get(f"{sim.url}/api/v1/live") as resp:
        assert resp.status == 200
