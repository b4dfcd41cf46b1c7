"""Reboot and factory reset: 204, downtime with connection refused, same port, new boot."""

from __future__ import annotations

import json

import aiohttp
import pytest


async def test_reboot_downtime_and_new_boot(simulator_factory, session):
    sim = await simulator_factory(telegram_interval=0, reboot_downtime=0.3)
    port = sim.port
    await sim.emit_telegram()
    await sim.emit_telegram()
    async with session.get(f"{sim.url}/api/v1/report") as resp:
        before = await resp.json()
    assert before["report"]["id"] == 2
    async with session.post(f"{sim.url}/api/v1/reboot") as resp:
        assert resp.status == 204
        assert await resp.read() == b""
    async with aiohttp.ClientSession() as fresh:
        with pytest.raises(aiohttp.ClientConnectorError):
            async with fresh.get(f"{sim.url}/api/v1/system"):
                pass
    await sim.wait_up(5)
    assert sim.port == port
    async with session.get(f"{sim.url}/api/v1/system") as resp:
        system = await resp.json()
    assert system["device"]["time_since_boot"] == 0
    after = await sim.emit_telegram()
    assert after["report"]["id"] == 1  # the counter restarts
    assert after["system"]["boot_id"] != before["system"]["boot_id"]
    assert sim.boots == 2


async def test_restore_wipes_configuration(simulator_factory, session):
    sim = await simulator_factory(telegram_interval=0, reboot_downtime=0.1, password="pw")
    sim.state.settings["system"]["protection"] = False
    sim.state.settings["system"]["name"] = "Garage"
    async with session.put(
        f"{sim.url}/api/v1/mqtt/settings", data=json.dumps({"url": "mqtt://127.0.0.1:1"})
    ) as resp:
        assert resp.status == 200
    async with session.post(f"{sim.url}/api/v1/restore") as resp:
        assert resp.status == 204
    await sim.wait_up(5)
    async with session.get(f"{sim.url}/api/v1/settings") as resp:
        settings = await resp.json()
    assert settings["system"]["name"] == ""
    assert settings["system"]["password_len"] == 0
    assert sim.state.mqtt_settings["url"] == ""


async def test_in_process_reboot(simulator_factory, session):
    sim = await simulator_factory(telegram_interval=0, reboot_downtime=0.05)
    boot_id = sim.state.boot_id
    await sim.reboot()
    assert sim.up.is_set()
    assert sim.state.boot_id != boot_id
    async with session.get(f"{sim.url}/api/v1/system") as resp:
        assert resp.status == 200
