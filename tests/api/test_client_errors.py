"""Licence gating and every error type, produced by the simulator's fault switches."""

from __future__ import annotations

import aiohttp
import pytest

from custom_components.whatwatt.api import (
    WhatwattBusyError,
    WhatwattClient,
    WhatwattConnectionError,
    WhatwattInvalidResponseError,
    WhatwattLicenseError,
    WhatwattTimeoutError,
    WhatwattUnavailableError,
)


async def test_free_licence_gates_report_variables_and_actions(simulator_factory, session) -> None:
    sim = await simulator_factory(license="free", telegram_interval=0)
    await sim.emit_telegram()
    client = WhatwattClient(session, sim.host)
    info = await client.get_system()
    assert info.license == "FREE"
    assert not info.is_licensed
    for call in (
        client.get_report,
        client.get_variables,
        client.get_actions,
        lambda: client.call_action("x"),
        lambda: client.get_action_status([1]),
    ):
        with pytest.raises(WhatwattLicenseError, match="License required"):
            await call()
    # ungated routes keep working
    assert (await client.get_settings()).host_name == "whatwatt_D4E5F6"
    sim.set_license("plus")
    assert (await client.get_report()).report_id == 1
    assert await client.get_actions() == {}


async def test_refused(simulator_factory, session) -> None:
    sim = await simulator_factory(telegram_interval=0)
    client = WhatwattClient(session, sim.host)
    await client.get_system()
    sim.faults.refuse = True
    with pytest.raises(WhatwattConnectionError) as info:
        await client.get_system()
    assert not isinstance(info.value, WhatwattTimeoutError)
    with pytest.raises(WhatwattConnectionError, match="cannot connect"):
        await client.get_system()
    sim.faults.refuse = False
    await sim.wait_up()
    assert (await client.get_system()).device_id == "A1B2C3D4E5F6"


async def test_refused_in_the_systems_words(simulator_factory, session) -> None:
    """A refused connection is told as the system tells it, not with aiohttp's own text."""
    sim = await simulator_factory(telegram_interval=0)
    sim.faults.refuse = True
    with pytest.raises(WhatwattConnectionError) as info:
        await WhatwattClient(session, sim.host).get_system()
    assert str(info.value) == f"cannot connect to {sim.host}: Connection refused"
    assert isinstance(info.value.__cause__, aiohttp.ClientConnectorError)


async def test_timeout(simulator_factory, session) -> None:
    sim = await simulator_factory(telegram_interval=0)
    sim.faults.delay = 1.0
    client = WhatwattClient(session, sim.host, timeout=0.2)
    with pytest.raises(WhatwattTimeoutError, match="did not answer in time"):
        await client.get_system()
    sim.faults.delay = 0
    # The same client recovers, judged with the default timeout (0.2 s is tight under load).
    client._timeout = WhatwattClient(session, sim.host)._timeout
    assert (await client.get_system()).device_id == "A1B2C3D4E5F6"


async def test_503_and_429(simulator_factory, session) -> None:
    sim = await simulator_factory(telegram_interval=0)
    client = WhatwattClient(session, sim.host)
    sim.faults.status_503 = True
    with pytest.raises(WhatwattUnavailableError, match="temporarily unavailable"):
        await client.get_system()
    sim.faults.status_503 = False
    sim.faults.status_429 = True
    with pytest.raises(WhatwattBusyError, match="Too many requests"):
        await client.get_settings()
    sim.faults.status_429 = False
    assert (await client.get_settings()).report_interval == 30


async def test_malformed(simulator_factory, session) -> None:
    sim = await simulator_factory(telegram_interval=0)
    await sim.emit_telegram()
    client = WhatwattClient(session, sim.host)
    sim.faults.malformed = True
    for call in (client.get_system, client.get_report, client.get_settings, client.get_variables):
        with pytest.raises(WhatwattInvalidResponseError):
            await call()
    sim.faults.malformed = False
    assert (await client.get_report()).values


async def test_meter_not_connected(simulator_factory, session) -> None:
    sim = await simulator_factory(telegram_interval=0)
    sim.faults.meter_not_connected = True
    client = WhatwattClient(session, sim.host)
    report = await client.get_report()
    assert report.values == {}
    assert report.meter is not None
    assert report.meter.status == "NOT CONNECTED"
