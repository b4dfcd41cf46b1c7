"""Live transport against the simulator: values, framing, reboot, idle watchdog, FREE licence."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
import pytest

from custom_components.whatwatt.api.live import BACKOFF_CEILING, backoff_delay
from custom_components.whatwatt.push_live import LiveSource

from .live_helpers import setup_live, shows, state, tick, wait_connections, wait_for

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from freezegun.api import FrozenDateTimeFactory
    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import MockConfigEntry


@pytest.fixture
async def live(
    hass: HomeAssistant, sim: Any, sim_options: dict[str, Any]
) -> AsyncIterator[MockConfigEntry]:
    """Set up a live entry against the simulator, wait until its stream is open; unload after."""
    entry = await setup_live(hass, sim, sim_options.get("password"))
    yield entry
    await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.parametrize(("newline", "space"), [("\n", True), ("\r\n", False), ("\r\n", True)])
async def test_values_on_entities(
    hass: HomeAssistant,
    enable_all_entities: None,
    live: MockConfigEntry,
    sim: Any,
    newline: str,
    space: bool,
) -> None:
    """Each event updates the entities, whatever the line endings; /report is never read."""
    sim.live.newline, sim.live.data_space = newline, space
    assert isinstance(live.runtime_data.source, LiveSource)
    assert state(hass, "power_import") is None  # appears with the first event
    for _ in range(3):
        report = await sim.emit_telegram()
        await shows(hass, report)
    assert (
        float(state(hass, "energy_import"))
        == report["report"]["energy"]["active"]["positive"]["total"]
    )
    assert state(hass, "tariff") == "t2"
    assert state(hass, "meter_status") == "ok"
    assert state(hass, "report_time") == "2026-01-15T08:12:40+00:00"
    assert "/api/v1/report" not in {r.path for r in sim.requests}


@pytest.mark.parametrize("sim_options", [{"license": "free"}])
async def test_free_device(hass: HomeAssistant, live: MockConfigEntry, sim: Any) -> None:
    """A FREE device streams; the integration never asks for the gated report."""
    report = await sim.emit_telegram()
    await shows(hass, report)
    assert live.state is ConfigEntryState.LOADED
    assert "/api/v1/report" not in {r.path for r in sim.requests}


async def test_reboot_mid_stream(
    hass: HomeAssistant, live: MockConfigEntry, sim: Any, freezer: FrozenDateTimeFactory
) -> None:
    """A reboot breaks the stream: unavailable at once, back with the first event after it."""
    await shows(hass, await sim.emit_telegram())
    await sim.reboot(downtime=0)
    await wait_for(hass, lambda: state(hass, "power_import") == STATE_UNAVAILABLE)
    assert state(hass, "meter_status") == STATE_UNAVAILABLE
    await tick(hass, freezer, 1)  # the first retry waits 0.5-1 s
    await wait_connections(sim, 2)
    report = await sim.emit_telegram()
    await shows(hass, report)
    assert state(hass, "meter_status") == "ok"


async def test_unreachable_backs_off_and_recovers(
    hass: HomeAssistant,
    live: MockConfigEntry,
    sim: Any,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Refused connections are retried with growing delays; one log line each way."""
    await shows(hass, await sim.emit_telegram())
    sim.faults.refuse = True
    await wait_for(hass, lambda: state(hass, "power_import") == STATE_UNAVAILABLE)
    for seconds in (1, 2, 4, 8, 16):  # attempts 0..4 wait at most these
        await tick(hass, freezer, seconds)
    assert sim.live.connections_total == 1
    sim.faults.refuse = False
    await sim.wait_up()
    await tick(hass, freezer, 32)
    await wait_connections(sim, 2)
    await shows(hass, await sim.emit_telegram())
    assert caplog.text.count("Error requesting") == 1
    assert caplog.text.count("is back") == 1


async def test_idle_timeout_reconnects(
    hass: HomeAssistant, live: MockConfigEntry, sim: Any, freezer: FrozenDateTimeFactory
) -> None:
    """A silent stream is reopened after 60 s; the system is read; values go stale meanwhile."""
    await shows(hass, await sim.emit_telegram())
    source = live.runtime_data.source
    assert isinstance(source, LiveSource)
    assert source.idle_timeout == 60
    system_reads = sum(r.path == "/api/v1/system" for r in sim.requests)
    await tick(hass, freezer, 31)
    assert state(hass, "power_import") == STATE_UNAVAILABLE  # stale: 30 s without news
    assert state(hass, "meter_status") == "ok"  # the device itself is fine
    await tick(hass, freezer, 30)
    await wait_connections(sim, 2)
    assert sum(r.path == "/api/v1/system" for r in sim.requests) == system_reads + 1
    await shows(hass, await sim.emit_telegram())


async def test_periodic_system_read(
    hass: HomeAssistant, live: MockConfigEntry, sim: Any, freezer: FrozenDateTimeFactory
) -> None:
    """Health and firmware are read every 5 minutes while the stream runs."""
    sim.state.firmware = "1.11.0"
    for _ in range(10):
        await tick(hass, freezer, 30)
        await shows(hass, await sim.emit_telegram())
    device = live.runtime_data.device
    await wait_for(hass, lambda: device.data.system.firmware == "1.11.0")
    assert sim.live.connections_total == 1


@pytest.mark.parametrize("sim_options", [{"auth": "digest", "password": "secret"}])
async def test_password_changed_starts_reauth(
    hass: HomeAssistant, live: MockConfigEntry, sim: Any, freezer: FrozenDateTimeFactory
) -> None:
    """A refused password stops the reconnection and asks for the new one."""
    await shows(hass, await sim.emit_telegram())
    sim.state.settings["system"]["password"] = "changed"
    await sim.reboot(downtime=0)
    await tick(hass, freezer, 1)
    await wait_for(
        hass, lambda: bool(hass.config_entries.flow.async_progress_by_handler("whatwatt"))
    )
    flows = hass.config_entries.flow.async_progress_by_handler("whatwatt")
    assert [flow["context"]["source"] for flow in flows] == ["reauth"]
    assert state(hass, "power_import") == STATE_UNAVAILABLE


async def test_unload_stops_everything(
    hass: HomeAssistant, live: MockConfigEntry, sim: Any
) -> None:
    """Unloading closes the stream (the lingering-task check does the rest)."""
    assert await hass.config_entries.async_unload(live.entry_id)
    await hass.async_block_till_done()
    await sim.live.wait_clients(0)


def test_backoff() -> None:
    """Delays double up to the ceiling with jitter."""
    for attempt in range(20):
        delay = backoff_delay(attempt)
        assert min(BACKOFF_CEILING, 2**attempt) / 2 <= delay <= min(BACKOFF_CEILING, 2**attempt)
