"""Every WhatwattClient endpoint against the simulator over a real socket (no auth)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from custom_components.whatwatt.api import (
    ActionStatus,
    WhatwattClient,
    WhatwattConnectionError,
    WhatwattRequestError,
)
from custom_components.whatwatt.api.clock import DeviceZone

from .helpers import start_device


async def test_system(simulator_factory, session) -> None:
    sim, client = await start_device(simulator_factory, session, firmware="1.10.3")
    info = await client.get_system()
    assert info.device_id == "A1B2C3D4E5F6"
    assert info.firmware == "1.10.3"
    assert info.license == "PLUS"
    assert info.is_licensed
    assert info.uptime is not None
    assert info.uptime >= 0
    assert client.requests_sent == 1
    assert [(r.method, r.path, r.status) for r in sim.requests] == [("GET", "/api/v1/system", 200)]


@pytest.mark.parametrize("profile", ["p1-single", "dlms-three"])
async def test_report_follows_the_meter(simulator_factory, session, profile) -> None:
    sim, client = await start_device(simulator_factory, session, profile=profile)
    wire = await sim.emit_telegram()
    assert wire is not None
    report = await client.get_report()
    power = wire["report"]["instantaneous_power"]["active"]["positive"]["total"]
    energy = wire["report"]["energy"]["active"]["positive"]["total"]
    assert report.values["power_import"] == pytest.approx(power)
    assert report.values["energy_import"] == pytest.approx(energy)
    assert report.device_id == "A1B2C3D4E5F6"
    assert report.report_id == wire["report"]["id"]
    assert report.rejected == ()
    assert report.timestamp is not None
    assert abs(report.timestamp - datetime.now(UTC)) < timedelta(minutes=1)
    if profile == "dlms-three":
        assert {"voltage_l2", "voltage_l3", "reactive_power_import"} <= report.values.keys()
    nxt = await sim.emit_telegram()
    assert nxt is not None
    assert (await client.get_report()).report_id == report.report_id + 1


async def test_old_firmware_report_teaches_the_zone(simulator_factory, session) -> None:
    """Old firmware: the report's own ``system.date_time`` moves the zone, no system read needed.

    The offset changes (DST) between two reports: the second is read in the new offset at once.
    """
    sim = await simulator_factory(telegram_interval=0, timezone="+01:00")
    sim.faults.old_time_stamps = True
    zone = DeviceZone()
    client = WhatwattClient(session, sim.host, tz=zone)
    for offset in ("+01:00", "+02:00"):
        sim.faults.timezone = offset
        await sim.emit_telegram()
        report = await client.get_report()
        assert "date_time_utc" not in report.raw["report"]
        assert zone.offset == timedelta(hours=int(offset[1:3]))
        assert report.local_time is not None
        assert report.timestamp is not None
        assert abs(report.timestamp - datetime.now(UTC)) < timedelta(minutes=1), offset
    assert [r.path for r in sim.requests] == ["/api/v1/report"] * 2


async def test_report_with_utc_time_leaves_the_zone_alone(simulator_factory, session) -> None:
    sim = await simulator_factory(telegram_interval=0, timezone="+01:00", firmware="1.10.3")
    zone = DeviceZone()
    client = WhatwattClient(session, sim.host, tz=zone)
    await sim.emit_telegram()
    report = await client.get_report()
    assert report.local_time is None
    assert zone.offset is None
    assert report.timestamp is not None
    assert abs(report.timestamp - datetime.now(UTC)) < timedelta(minutes=1)


async def test_variables(simulator_factory, session) -> None:
    sim, client = await start_device(simulator_factory, session)
    await sim.emit_telegram()
    variables = await client.get_variables()
    assert variables["sys.id"] == "A1B2C3D4E5F6"
    assert variables["meter.status"] == "OK"
    assert float(variables["1_8_0"]) == pytest.approx(
        sim.state.report["report"]["energy"]["active"]["positive"]["total"]
    )
    assert all(isinstance(value, str) for value in variables.values())


async def test_settings_read_and_partial_write(simulator_factory, session) -> None:
    sim, client = await start_device(simulator_factory, session)
    settings = await client.get_settings()
    assert settings.host_name == "whatwatt_D4E5F6"
    assert settings.report_interval == 30
    assert settings.protection is False
    updated = await client.update_settings(
        {"system": {"name": "Basement"}, "services": {"report_interval": 15}}
    )
    assert updated.name == "Basement"
    assert updated.report_interval == 15
    assert updated.broadcast is True  # untouched keys survive a PUT
    assert sim.state.settings["services"]["report_interval"] == 15
    assert sim.requests[-1][:2] == ("PUT", "/api/v1/settings")


async def test_mqtt_settings_read_and_write(simulator_factory, session) -> None:
    sim, client = await start_device(simulator_factory, session)
    before = await client.get_mqtt_settings()
    assert before.enable is False
    after = await client.update_mqtt_settings(
        {
            "url": "mqtt://127.0.0.1:1",
            "username": "ww",
            "password": "secret8!",
            "publish": {"topic": "home/ww"},
        }
    )
    assert after.url == "mqtt://127.0.0.1:1"
    assert after.username == "ww"
    assert after.password_len == 8
    assert after.topic == "home/ww"
    assert "password" not in after.raw
    assert sim.state.mqtt_settings["password"] == "secret8!"
    again = await client.update_mqtt_settings({"client_id": "ha"})
    assert again.password_len == 8  # the stored secret survives a partial write
    assert again.client_id == "ha"


async def test_meter_settings(simulator_factory, session) -> None:
    _, client = await start_device(simulator_factory, session)
    current = await client.get_meter_settings()
    assert current["baudrate"] == 115200
    assert "encryption_key" not in current
    changed = await client.update_meter_settings({"baudrate": 9600, "parity": "even"})
    assert changed["baudrate"] == 9600
    assert changed["parity"] == "even"
    assert changed["stop_bits"] == current["stop_bits"]


@pytest.mark.parametrize(
    ("changes", "status", "error"),
    [
        ({"services": {"report_interval": 0}}, 400, "invalid_value"),
        ({"system": {"host_name": "not a host name!"}}, 400, "invalid_value"),
        ({"system": {"name": "x" * 9000}}, 413, "payload_too_large"),
    ],
)
async def test_rejected_settings_writes(simulator_factory, session, changes, status, error) -> None:
    sim, client = await start_device(simulator_factory, session)
    with pytest.raises(WhatwattRequestError) as info:
        await client.update_settings(changes)
    assert info.value.status == status
    assert info.value.error == error
    assert info.value.message
    assert info.value.message in str(info.value)
    assert sim.state.settings["services"]["report_interval"] == 30


async def test_rejected_meter_and_mqtt_writes(simulator_factory, session) -> None:
    _, client = await start_device(simulator_factory, session)
    with pytest.raises(WhatwattRequestError) as info:
        await client.update_meter_settings({"parity": "sometimes"})
    assert info.value.status == 400
    with pytest.raises(WhatwattRequestError) as info:
        await client.update_mqtt_settings({"url": "ftp://nope"})
    assert info.value.status == 400


async def test_actions(simulator_factory, session) -> None:
    sim, client = await start_device(simulator_factory, session)
    assert await client.get_actions() == {}
    definition = {
        "actions": [
            {
                "id": "ping",
                "requests": [
                    {"http": {"url": f"http://127.0.0.1:{sim.port}/api/v1/system", "timeout": 2}},
                    {"modbus": {"host": "192.0.2.1", "func": 6, "address": 1, "value": "1"}},
                ],
            },
            {"id": "off", "enable": False, "requests": [{"http": {"url": "http://192.0.2.1/x"}}]},
        ]
    }
    sim.state.actions = definition
    assert (await client.get_actions())["actions"][0]["id"] == "ping"
    ids = await client.call_action("ping")
    assert len(ids) == 2
    first = await client.get_action_status(ids)
    assert [status.status_id for status in first] == ids
    assert all(isinstance(status, ActionStatus) for status in first)
    with pytest.raises(WhatwattRequestError) as busy:
        await client.call_action("ping")
    assert busy.value.status == 409
    await asyncio.wait_for(sim.actions.idle.wait(), 10)
    done = await client.get_action_status(ids)
    assert [(s.action_id, s.code) for s in done] == [("ping", 200), ("ping", -17)]
    assert not any(status.running for status in done)
    with pytest.raises(WhatwattRequestError) as unknown:
        await client.call_action("nope")
    assert (unknown.value.status, unknown.value.error) == (404, "not_found")
    with pytest.raises(WhatwattRequestError) as disabled:
        await client.call_action("off")
    assert disabled.value.status == 400


async def test_reboot(simulator_factory, session) -> None:
    sim, client = await start_device(simulator_factory, session, reboot_downtime=0.3)
    assert sim.boots == 1
    await client.reboot()
    assert sim.requests[-1] == ("POST", "/api/v1/reboot", 204)
    async with asyncio.timeout(5):  # the device goes away right after answering
        while True:
            try:
                await client.get_system()
            except WhatwattConnectionError:
                break
    await sim.wait_up()
    info = await client.get_system()
    assert info.device_id == "A1B2C3D4E5F6"
    assert sim.boots == 2
