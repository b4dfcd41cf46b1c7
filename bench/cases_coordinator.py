"""Benchmark cases, run by ``bench/coordinator_updates.py``: the cost of one coordinator update.

Feeds 2,000 readings through the coordinator of a set-up entry (three-phase DLMS profile, every
entity enabled) and prints the CPU time per update and the state writes per update for three
cases: nothing but the reading's counter and time changes, 3 measurements change, every
measurement changes. It then polls a Digest-protected simulator 20 times and prints the HTTP
requests one steady-state poll costs.

Not part of the test suite and no assertions on time: pytest only lends Home Assistant's harness.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta
import time
from typing import TYPE_CHECKING, Any
from unittest.mock import PropertyMock, patch

from homeassistant.const import CONF_HOST, CONF_PASSWORD, EVENT_STATE_CHANGED
from homeassistant.helpers.entity import Entity
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.whatwatt.const import CONF_TRANSPORT, DOMAIN, TRANSPORT_REST

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

UPDATES = 2000
CHANGING = ("power_import", "current_l1", "voltage_l1")


async def _set_up(hass: HomeAssistant, sim: Any, password: str | None = None) -> MockConfigEntry:
    data = {CONF_HOST: f"127.0.0.1:{sim.port}", CONF_TRANSPORT: TRANSPORT_REST}
    if password:
        data[CONF_PASSWORD] = password
    entry = MockConfigEntry(domain=DOMAIN, unique_id=sim.state.device_id, data=data)
    entry.add_to_hass(hass)
    with patch.object(
        Entity, "entity_registry_enabled_default", new_callable=PropertyMock, return_value=True
    ):
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
    return entry


def _run(hass: HomeAssistant, coordinator: Any, make: Any) -> tuple[float, float, float]:
    """Push UPDATES readings; return (CPU µs per update, writes per update, changes per update)."""
    writes = 0
    original = Entity.async_write_ha_state

    def counting(self: Entity) -> None:
        nonlocal writes
        writes += 1
        original(self)

    changes = 0

    def on_change(_: Any) -> None:
        nonlocal changes
        changes += 1

    unsub = hass.bus.async_listen(EVENT_STATE_CHANGED, on_change)
    base = coordinator.data.report
    with patch.object(Entity, "async_write_ha_state", counting):
        start = time.process_time()
        for i in range(1, UPDATES + 1):
            coordinator.async_push_report(make(base, i))
        cpu = time.process_time() - start
    unsub()
    return cpu / UPDATES * 1e6, writes / UPDATES, changes / UPDATES


@pytest.mark.usefixtures("enable_custom_integrations")
async def test_update_cost(hass: HomeAssistant, simulator_factory: Any) -> None:
    """Print the cost of coordinator updates (a benchmark, not a test)."""
    asyncio.get_running_loop().set_debug(False)  # the test harness turns debug on; HA runs without
    sim = await simulator_factory(profile="dlms-three", auth="none", telegram_interval=0, seed=1)
    await sim.emit_telegram()
    entry = await _set_up(hass, sim)
    coordinator = entry.runtime_data
    entities = len(hass.states.async_all("sensor"))
    await hass.async_block_till_done()

    def unchanged(base: Any, i: int) -> Any:
        return replace(
            base, report_id=base.report_id + i, timestamp=base.timestamp + timedelta(seconds=i)
        )

    def three(base: Any, i: int) -> Any:
        values = dict(base.values)
        for key in CHANGING:
            values[key] = values[key] + i / 1000
        return replace(unchanged(base, i), values=values)

    def everything(base: Any, i: int) -> Any:
        values = {key: value + i / 1000 for key, value in base.values.items()}
        return replace(unchanged(base, i), values=values)

    print(f"\n{entities} sensor entities, {UPDATES} updates per case")
    print(f"{'case':<28}{'CPU µs/update':>15}{'writes/update':>15}{'changes/update':>16}")
    for name, make in (
        ("new reading, same values", unchanged),
        ("3 measurements change", three),
        ("every measurement changes", everything),
    ):
        cpu, writes, changes = _run(hass, coordinator, make)
        print(f"{name:<28}{cpu:>15.1f}{writes:>15.2f}{changes:>16.2f}")
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


@pytest.mark.usefixtures("enable_custom_integrations")
async def test_requests_per_poll(hass: HomeAssistant, simulator_factory: Any) -> None:
    """Print the HTTP requests of steady-state polls against a Digest-protected device."""
    sim = await simulator_factory(
        profile="p1-single", auth="digest", password="secret", telegram_interval=0, seed=1
    )
    await sim.emit_telegram()
    entry = await _set_up(hass, sim, password="secret")
    coordinator = entry.runtime_data
    polls = 20
    before = len(sim.requests)
    for _ in range(polls):
        await sim.emit_telegram()
        await coordinator.async_refresh()
    sent = len(sim.requests) - before
    per_poll = sent / polls
    print(f"\n{polls} steady-state polls (Digest): {sent} HTTP requests, {per_poll:.2f} per poll")
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
