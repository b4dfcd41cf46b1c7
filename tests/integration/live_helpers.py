"""Helpers for the live-transport and repair tests: a live entry, time steps, event waits
(bounded in real time too)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
import threading
from typing import TYPE_CHECKING, Any

from homeassistant.const import CONF_HOST, CONF_PASSWORD, MATCH_ALL, STATE_UNAVAILABLE
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.whatwatt.const import CONF_TRANSPORT, DOMAIN, TRANSPORT_LIVE

from .conftest import DEVICE_ID, host_of

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from freezegun.api import FrozenDateTimeFactory

PREFIX = "sensor.whatwatt_go_d4e5f6_"


def live_entry(device: Any, password: str | None = None) -> MockConfigEntry:
    """Return a live-stream config entry for a simulator (not yet added)."""
    data = {CONF_HOST: host_of(device), CONF_TRANSPORT: TRANSPORT_LIVE}
    if password:
        data[CONF_PASSWORD] = password
    return MockConfigEntry(
        domain=DOMAIN, title="whatwatt Go D4E5F6", unique_id=DEVICE_ID, data=data
    )


async def setup_live(
    hass: HomeAssistant, device: Any, password: str | None = None
) -> MockConfigEntry:
    """Add and set up a live entry for a simulator; return once its stream is open."""
    entry = live_entry(device, password)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    await device.live.wait_clients(1)
    return entry


def kw_to_w(report: dict[str, Any], *path: str) -> float:
    """Return a report value in kW as the W the entity shows."""
    value: Any = report["report"]
    for key in path:
        value = value[key]
    return round(value * 1000, 3)


def power_import(report: dict[str, Any]) -> float:
    """Return a telegram's import power as the entity shows it."""
    return kw_to_w(report, "instantaneous_power", "active", "positive", "total")


async def shows(hass: HomeAssistant, report: dict[str, Any]) -> None:
    """Wait until the power entity shows this telegram's value."""

    def current() -> bool:
        value = state(hass, "power_import")
        return value not in (None, STATE_UNAVAILABLE) and float(value) == power_import(report)

    await wait_for(hass, current)


def state(hass: HomeAssistant, name: str) -> str | None:
    """Return the state of one sensor of the simulated device (None when it does not exist)."""
    found = hass.states.get(f"{PREFIX}{name}")
    return found.state if found is not None else None


async def wait_for(hass: HomeAssistant, condition: Callable[[], bool], limit: float = 10) -> None:
    """Wait until ``condition()`` holds, re-checking on every event of the bus."""
    if condition():
        return
    done = asyncio.Event()

    @callback
    def check(_event: Event) -> None:
        if condition():
            done.set()

    unsub = hass.bus.async_listen(MATCH_ALL, check)
    try:
        async with asyncio.timeout(limit):
            await done.wait()
    finally:
        unsub()


async def within(
    awaitable: Awaitable[Any], what: str | Callable[[], str], seconds: float = 10.0
) -> None:
    """Await ``awaitable``, failing after ``seconds`` of real time (the loop's clock is frozen).

    With time frozen ``asyncio`` timeouts never expire: a thread timer bounds the wait instead,
    so that a wait that never ends fails the test (naming ``what``, or what ``what()`` says
    then) instead of hanging it.
    """
    loop = asyncio.get_running_loop()
    expired: asyncio.Future[None] = loop.create_future()

    def _expire() -> None:
        if not expired.done():
            expired.set_result(None)

    timer = threading.Timer(seconds, lambda: loop.call_soon_threadsafe(_expire))
    timer.start()
    task = asyncio.ensure_future(awaitable)
    try:
        await asyncio.wait({task, expired}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        timer.cancel()
        timer.join()
    if not task.done():
        task.cancel()
        pytest.fail(f"not within {seconds:g} s: {what if isinstance(what, str) else what()}")
    task.result()


async def wait_connections(device: Any, total: int) -> None:
    """Wait until the simulator has served ``total`` live-stream connections."""
    hub = device.live
    while hub.connections_total < total:
        hub.changed.clear()
        await hub.changed.wait()


async def tick(hass: HomeAssistant, freezer: FrozenDateTimeFactory, seconds: float) -> None:
    """Move the frozen clock on and run what fell due (the stream task keeps running)."""
    freezer.tick(timedelta(seconds=seconds))
    async_fire_time_changed(hass, dt_util.utcnow())
    await hass.async_block_till_done()


def issue(hass: HomeAssistant, kind: str, entry: MockConfigEntry) -> ir.IssueEntry | None:
    """Return the entry's repair issue of one kind, if raised."""
    return ir.async_get(hass).async_get_issue(DOMAIN, f"{kind}_{entry.entry_id}")
