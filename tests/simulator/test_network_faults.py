"""Faults for the heal and the chaos soak: a wrong password, offline, a stream cut mid-event."""

from __future__ import annotations

import aiohttp
import pytest

from simulator.auth import parse_digest_params

from .conftest import digest_header
from .helpers import get_json, next_live_event, post_json


async def _signed_get(session, sim, path: str, password: str) -> aiohttp.ClientResponse:
    """GET ``path`` answering the device's challenge with ``password``; return the response."""
    async with session.get(f"{sim.url}{path}") as first:
        assert first.status == 401
        challenge = first.headers["WWW-Authenticate"]
    header = digest_header(challenge, "GET", path, password)
    return await session.get(f"{sim.url}{path}", headers={"Authorization": header})


async def test_wrong_password_refuses_the_right_one(simulator_factory, session):
    sim = await simulator_factory(auth="digest", password="right", telegram_interval=0)
    status, answer = await post_json(session, f"{sim.url}/_sim/faults", {"wrong_password": True})
    assert (status, answer["wrong_password"]) == (200, True)
    async with await _signed_get(session, sim, "/api/v1/system", "right") as resp:
        assert resp.status == 401
        challenge = parse_digest_params(resp.headers["WWW-Authenticate"])
        assert "stale" not in challenge  # a refusal, not an expired nonce
        assert await resp.json(content_type=None) == {
            "error": "unauthorized",
            "message": "Authentication required",
        }
    assert (await get_json(session, f"{sim.url}/_sim/faults"))["wrong_password"] is True
    sim.faults.wrong_password = False
    async with await _signed_get(session, sim, "/api/v1/system", "right") as resp:
        assert resp.status == 200


async def test_wrong_password_on_an_unprotected_device(simulator_factory, session):
    """Even a device without a password asks for one while the fault is on."""
    sim = await simulator_factory(auth="none", telegram_interval=0)
    sim.faults.wrong_password = True
    async with session.get(f"{sim.url}/api/v1/report") as resp:
        assert resp.status == 401
        assert resp.headers["WWW-Authenticate"].startswith("Digest ")
    sim.faults.clear()
    assert (await get_json(session, f"{sim.url}/api/v1/system"))["device"]["id"]


async def test_offline_over_control_then_back(simulator_factory, session):
    sim = await simulator_factory(telegram_interval=0)
    status, answer = await post_json(session, f"{sim.url}/_sim/faults", {"offline": True})
    assert (status, answer["offline"]) == (200, True)
    assert not sim.up.is_set()
    with pytest.raises(aiohttp.ClientConnectorError):
        async with session.get(f"{sim.url}/api/v1/system"):
            pass
    sim.faults.offline = False
    await sim.wait_up()
    assert (await get_json(session, f"{sim.url}/api/v1/system"))["device"]["id"]


@pytest.mark.parametrize("value", ["yes", 1])
async def test_offline_must_be_a_boolean(simulator_factory, session, value):
    sim = await simulator_factory(telegram_interval=0)
    status, answer = await post_json(session, f"{sim.url}/_sim/faults", {"offline": value})
    assert status == 400
    assert answer["message"] == "offline must be a boolean"
    assert sim.faults.offline is False


@pytest.mark.mosquitto
async def test_offline_disconnects_the_mqtt_client(simulator_factory, mosquitto):
    sim = await simulator_factory(telegram_interval=0, report_interval=1, mqtt_url=mosquitto.url)
    await sim.publisher.wait_link(connected=True)
    sim.faults.offline = True
    await sim.settle()
    assert sim.publisher is None
    assert sim.state.mqtt_link == {"enabled": True, "connected": False}
    subscriber = await mosquitto.subscribe("whatwatt/#")
    await sim.emit_telegram()
    await subscriber.expect_none(0.3)  # nothing reaches the broker
    sim.faults.offline = False
    await sim.settle()
    assert sim.up.is_set()
    await sim.publisher.wait_link(connected=True)
    sim.state.settings["services"]["report_interval"] = 0
    await sim.emit_telegram()
    assert (await subscriber.next()).topic == "whatwatt/A1B2C3D4E5F6"


async def test_live_stream_cut_mid_event(simulator_factory, session):
    """Half an event, then the connection goes: the client reads a broken-off response."""
    sim = await simulator_factory(telegram_interval=0)
    async with session.get(f"{sim.url}/api/v1/live") as resp:
        await sim.live.wait_clients(1)
        await sim.emit_telegram()
        assert (await next_live_event(resp))["P_In"] >= 0
        sim.live.cut_mid_event()
        with pytest.raises(aiohttp.ClientPayloadError):
            await resp.content.read()
    await sim.live.wait_clients(0)
    sim.live.cut_mid_event()  # nobody listens: nothing to cut
    assert sim.live.connections_total == 1
