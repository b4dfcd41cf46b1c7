"""Live stream taken over by a second client: back-off, repair issue, recovery; latency figure."""

from __future__ import annotations

import asyncio
import statistics
import time
from typing import TYPE_CHECKING, Any

import aiohttp
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.helpers import issue_registry as ir

from custom_components.whatwatt.issues import ISSUE_LIVE_TAKEN_OVER

from .live_helpers import (
    issue,
    kw_to_w,
    power_import,
    setup_live,
    shows,
    state,
    tick,
    wait_connections,
    wait_for,
)

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from freezegun.api import FrozenDateTimeFactory
    from homeassistant.core import HomeAssistant
    import pytest
    from pytest_homeassistant_custom_component.common import MockConfigEntry


async def test_taken_over(
    hass: HomeAssistant, sim: Any, freezer: FrozenDateTimeFactory, live: MockConfigEntry
) -> None:
    """Three take-overs in a row: back off, raise the issue; it clears once the stream holds."""
    async with aiohttp.ClientSession() as session:
        rivals: list[aiohttp.ClientResponse] = []
        for round_ in range(3):
            await shows(hass, await sim.emit_telegram())
            # Another client opens the stream: the device drops ours.
            rivals.append(await session.get(f"{sim.url}/api/v1/live"))
            await wait_for(hass, lambda: state(hass, "power_import") == STATE_UNAVAILABLE)
            if round_ < 2:
                assert issue(hass, ISSUE_LIVE_TAKEN_OVER, live) is None
                await tick(hass, freezer, 1)  # a quick retry takes the stream back
                await wait_connections(sim, 2 * round_ + 3)
        found = issue(hass, ISSUE_LIVE_TAKEN_OVER, live)
        assert found is not None
        assert found.severity is ir.IssueSeverity.WARNING
        assert found.translation_placeholders == {"name": live.title, "drops": "3"}
        assert found.learn_more_url.endswith("#live-stream-taken-over")
        # Backing off: no attempt within two minutes; the other client keeps the stream.
        await tick(hass, freezer, 120)
        assert sim.live.connections_total == 6
        for rival in rivals:
            rival.close()
    await tick(hass, freezer, 180)  # the jittered ceiling: 150-300 s
    await wait_connections(sim, 7)
    await shows(hass, await sim.emit_telegram())
    assert issue(hass, ISSUE_LIVE_TAKEN_OVER, live) is not None  # not held long enough yet
    await tick(hass, freezer, 30)
    await shows(hass, await sim.emit_telegram())
    await tick(hass, freezer, 30)
    await shows(hass, await sim.emit_telegram())
    assert issue(hass, ISSUE_LIVE_TAKEN_OVER, live) is None


async def test_reboots_are_not_take_overs(
    hass: HomeAssistant, sim: Any, freezer: FrozenDateTimeFactory, live: MockConfigEntry
) -> None:
    """Three reboots within 10 minutes break the stream: quick retries each time, no issue."""
    for round_ in range(3):
        await shows(hass, await sim.emit_telegram())
        await sim.reboot(downtime=0)  # the connection breaks; it is not closed cleanly
        await wait_for(hass, lambda: state(hass, "power_import") == STATE_UNAVAILABLE)
        await tick(hass, freezer, 1)  # the first retry waits 0.5-1 s, never the ceiling
        await wait_connections(sim, round_ + 2)
    await shows(hass, await sim.emit_telegram())
    assert sim.boots == 4
    assert issue(hass, ISSUE_LIVE_TAKEN_OVER, live) is None


async def test_clean_close_then_device_away_is_not_a_take_over(
    hass: HomeAssistant,
    sim: Any,
    freezer: FrozenDateTimeFactory,
    monkeypatch: pytest.MonkeyPatch,
    live: MockConfigEntry,
) -> None:
    """A clean close counts only when the next attempt gets the stream: here it is refused."""
    coordinator = live.runtime_data.measurements
    failed = asyncio.Event()
    set_error = coordinator.async_set_update_error

    def failing(err: Exception) -> None:
        set_error(err)
        failed.set()  # the transport has chosen its next delay by now

    monkeypatch.setattr(coordinator, "async_set_update_error", failing)
    async with aiohttp.ClientSession() as session:
        rivals: list[aiohttp.ClientResponse] = []
        for round_ in range(3):
            await shows(hass, await sim.emit_telegram())
            rivals.append(await session.get(f"{sim.url}/api/v1/live"))  # a clean close for us
            await wait_for(hass, lambda: state(hass, "power_import") == STATE_UNAVAILABLE)
            sim.faults.status_503 = True  # ... and the device refuses the next attempt
            failed.clear()
            await tick(hass, freezer, 1)
            async with asyncio.timeout(5):
                await failed.wait()
            assert sim.requests[-1].status == 503
            sim.faults.status_503 = False
            await tick(hass, freezer, 2)  # the second attempt waits 1-2 s
            await wait_connections(sim, 2 * round_ + 3)
        await shows(hass, await sim.emit_telegram())
        assert issue(hass, ISSUE_LIVE_TAKEN_OVER, live) is None
        for rival in rivals:
            rival.close()


def power_export(report: dict[str, Any]) -> float:
    return kw_to_w(report, "instantaneous_power", "active", "negative", "total")


def shown(hass: HomeAssistant) -> tuple[float, float] | None:
    values = (state(hass, "power_import"), state(hass, "power_export"))
    if None in values or STATE_UNAVAILABLE in values:
        return None
    return (float(values[0]), float(values[1]))


async def test_latency_telegram_to_state(
    hass: HomeAssistant, simulator_factory: Callable[..., Awaitable[Any]]
) -> None:
    """Time telegram → entity state, 50 telegrams, real clock (the figure is printed only)."""
    device = await simulator_factory(auth="none", telegram_interval=0, seed=7)
    await device.emit_telegram()
    entry = await setup_live(hass, device)
    waits: list[float] = []
    previous = None
    for _ in range(50):
        start = time.perf_counter()
        report = await device.emit_telegram()
        expected = (power_import(report), power_export(report))
        assert expected != previous  # each telegram changes a state: the wait is real
        previous = expected
        await wait_for(hass, lambda expected=expected: shown(hass) == expected)
        waits.append(time.perf_counter() - start)
    median = statistics.median(waits)
    print(f"\nlive telegram -> entity state: median {median * 1000:.2f} ms over {len(waits)}")  # noqa: T201
    assert await hass.config_entries.async_unload(entry.entry_id)
