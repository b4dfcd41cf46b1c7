"""Actions: definitions, call → 202, status ring, 409 busy, 429 in flight, real local HTTP."""

from __future__ import annotations

import asyncio
import json

from aiohttp import web
import pytest


@pytest.fixture
async def target(socket_enabled):
    """A local HTTP server whose /hold handler waits until released."""
    release = asyncio.Event()
    hits: list[str] = []

    async def ok(request: web.Request) -> web.Response:
        hits.append(request.method + " " + request.path_qs + " " + await request.text())
        return web.Response(status=201)

    async def hold(request: web.Request) -> web.Response:
        await release.wait()
        return web.Response(status=200)

    app = web.Application()
    app.router.add_route("*", "/ok", ok)
    app.router.add_get("/hold", hold)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield {"base": f"http://127.0.0.1:{port}", "release": release, "hits": hits}
    release.set()
    await runner.cleanup()


async def _define(session, sim, definition):
    async with session.post(f"{sim.url}/api/v1/actions", data=json.dumps(definition)) as resp:
        return resp.status, await resp.json(content_type=None)


async def _status(session, sim, ids):
    query = ",".join(str(i) for i in ids)
    async with session.get(f"{sim.url}/api/v1/actions/status?id={query}") as resp:
        assert resp.status == 200
        return await resp.json()


async def _wait_done(sim):
    async with asyncio.timeout(5):
        await sim.actions.idle.wait()


async def test_definition_lifecycle(simulator_factory, session):
    sim = await simulator_factory(telegram_interval=0)
    async with session.get(f"{sim.url}/api/v1/actions") as resp:
        assert resp.status == 404
    definition = {
        "const": {"plug": "192.0.2.30"},
        "actions": [
            {"id": "boiler_on", "requests": [{"http": {"url": "http://${plug}/relay?state=1"}}]}
        ],
    }
    status, body = await _define(session, sim, definition)
    assert status == 200
    assert body == definition
    async with session.get(f"{sim.url}/api/v1/actions") as resp:
        assert await resp.json() == definition
    async with session.delete(f"{sim.url}/api/v1/actions") as resp:
        assert resp.status == 204
    async with session.get(f"{sim.url}/api/v1/actions") as resp:
        assert resp.status == 404


async def test_invalid_definitions(simulator_factory, session):
    sim = await simulator_factory(telegram_interval=0)
    for bad in (
        {"actions": "x"},
        {"actions": [{"id": "x" * 16, "requests": []}]},
        {"actions": [{"id": "a", "requests": [{"http": {"url": "short"}}]}]},
        {"actions": [{"id": "a", "requests": [{"modbus": {"host": "1.2.3.4", "func": 3}}]}]},
        {"const": {"nested": {}}, "actions": []},
    ):
        status, body = await _define(session, sim, bad)
        assert status == 400, bad
        assert "error" in body
    big = {"actions": [], "pad": "x" * 8200}
    status, _ = await _define(session, sim, big)
    assert status == 413


async def test_call_runs_local_http_and_fails_remote(simulator_factory, session, target):
    sim = await simulator_factory(telegram_interval=0)
    definition = {
        "const": {"base": target["base"], "level": 40},
        "actions": [
            {
                "id": "mixed",
                "requests": [
                    {"http": {"url": "${base}/ok", "method": "POST", "payload": "l=${level}"}},
                    {"http": {"url": "http://192.0.2.1/x", "timeout": 1}},
                    {"modbus": {"host": "192.0.2.40", "func": 6, "address": 1, "value": "1"}},
                    {"http": {"url": "${base}/never", "enable": False}},
                ],
            },
            {"id": "off", "enable": False, "requests": [{"http": {"url": "${base}/ok"}}]},
        ],
    }
    assert (await _define(session, sim, definition))[0] == 200
    async with session.post(f"{sim.url}/api/v1/actions/call?id=mixed") as resp:
        assert resp.status == 202
        ids = (await resp.json())["status_ids"]
        assert resp.headers["Location"] == "/api/v1/actions/status?id=" + ",".join(
            str(i) for i in ids
        )
    assert len(ids) == 3
    await _wait_done(sim)
    records = await _status(session, sim, ids)
    assert [(r["action_id"], r["id"], r["code"]) for r in records] == [
        ("mixed", ids[0], 201),
        ("mixed", ids[1], -17),
        ("mixed", ids[2], -17),
    ]
    assert all(r["exe_time"] > 0 for r in records)
    assert target["hits"] == ["POST /ok l=40"]
    async with session.post(f"{sim.url}/api/v1/actions/call?id=off") as resp:
        assert resp.status == 400
    async with session.post(f"{sim.url}/api/v1/actions/call?id=nope") as resp:
        assert resp.status == 404


async def test_busy_and_in_flight_limit(simulator_factory, session, target):
    sim = await simulator_factory(telegram_interval=0)
    hold = {"http": {"url": target["base"] + "/hold"}}
    definition = {
        "actions": [
            {"id": "slow", "requests": [hold]},
            {"id": "many", "requests": [hold] * 20},
        ]
    }
    assert (await _define(session, sim, definition))[0] == 200
    async with session.post(f"{sim.url}/api/v1/actions/call?id=slow") as resp:
        assert resp.status == 202
        (slow_id,) = (await resp.json())["status_ids"]
    assert (await _status(session, sim, [slow_id]))[0]["code"] == -1
    assert (await _status(session, sim, [slow_id]))[0]["exe_time"] == 0
    async with session.post(f"{sim.url}/api/v1/actions/call?id=slow") as resp:
        assert resp.status == 409
    async with session.post(f"{sim.url}/api/v1/actions/call?id=many") as resp:
        assert resp.status == 429  # 1 + 20 > 20 in flight
    target["release"].set()
    await _wait_done(sim)
    assert (await _status(session, sim, [slow_id]))[0]["code"] == 200
    async with session.post(f"{sim.url}/api/v1/actions/call?id=many") as resp:
        assert resp.status == 202
    await _wait_done(sim)


async def test_status_ring_keeps_40(simulator_factory, session):
    sim = await simulator_factory(telegram_interval=0, action_fake_delay=0)
    definition = {"actions": [{"id": "r", "requests": [{"http": {"url": "http://192.0.2.9/"}}]}]}
    assert (await _define(session, sim, definition))[0] == 200
    for _ in range(45):
        async with session.post(f"{sim.url}/api/v1/actions/call?id=r") as resp:
            assert resp.status == 202
        await _wait_done(sim)
    records = await _status(session, sim, list(range(1, 46)))
    assert [r["id"] for r in records] == list(range(6, 46))
