"""A refused password heals on its own: told once, tried again every minute, carried on.

The simulated device takes every password for a wrong one while its ``wrong_password`` fault
is on (as after a change of its password). Time moves with the frozen clock; the tries of the
stored password are ``GET /api/v1/system`` requests the device records.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, NamedTuple

from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import DOMAIN as HOMEASSISTANT_DOMAIN
from homeassistant.helpers import issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import async_fire_mqtt_message

from custom_components.whatwatt.const import AUTH_RETRY_INTERVAL, DOMAIN

from .conftest import advance
from .live_helpers import power_import, setup_live, shows, state, tick, wait_connections, wait_for
from .mqtt_helpers import TOPIC, mqtt_entry, mqtt_ready, payload, setup_entry

if TYPE_CHECKING:
    from freezegun.api import FrozenDateTimeFactory
    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import MockConfigEntry

__all__ = ["mqtt_ready"]

PROTECTED = [{"auth": "digest", "password": "secret"}]
MINUTE = AUTH_RETRY_INTERVAL.total_seconds()
OURS = "custom_components.whatwatt"
INTERVAL = "number.whatwatt_go_d4e5f6_report_interval"


def reauth_flows(hass: HomeAssistant) -> list[str]:
    """Return the sources of the integration's flows in progress."""
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    return [flow["context"]["source"] for flow in flows]


def reauth_repair(hass: HomeAssistant, entry: MockConfigEntry) -> ir.IssueEntry | None:
    """Return the repair Home Assistant raised for the entry's re-authentication."""
    issue_id = f"config_entry_reauth_{DOMAIN}_{entry.entry_id}"
    return ir.async_get(hass).async_get_issue(HOMEASSISTANT_DOMAIN, issue_id)


def lines(caplog: pytest.LogCaptureFixture, level: int) -> list[str]:
    """Return this integration's log lines of exactly ``level``."""
    return [r.getMessage() for r in caplog.records if r.name == OURS and r.levelno == level]


def tries(sim: Any, since: int) -> list[tuple[str, int]]:
    """Return (path, status) of the requests the device served since request ``since``."""
    return [(r.path, r.status) for r in sim.requests[since:]]


def assert_told_once(caplog: pytest.LogCaptureFixture, *, healed: bool) -> None:
    """One warning when the password stopped working, one line when it healed, no error."""
    warnings = [line for line in lines(caplog, logging.WARNING) if "password" in line]
    assert len(warnings) == 1, warnings
    assert "refuses its stored password" in warnings[0]
    assert "every 60 s" in warnings[0]
    infos = [line for line in lines(caplog, logging.INFO) if "password" in line]
    assert len(infos) == int(healed), infos
    assert not [line for line in lines(caplog, logging.INFO) if "recovered" in line]
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not [r.getMessage() for r in errors if "uthenticat" in r.getMessage()]
    assert not [r for r in errors if r.name == OURS and "refused the password" in r.getMessage()]


# --- REST --------------------------------------------------------------------------------------


class _Rest(NamedTuple):
    """A polled entry with a protected device, the test's clock and its log."""

    hass: HomeAssistant
    entry: MockConfigEntry
    sim: Any
    freezer: FrozenDateTimeFactory
    caplog: pytest.LogCaptureFixture


@pytest.fixture
def rest(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    sim: Any,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> _Rest:
    return _Rest(hass, init_integration, sim, freezer, caplog)


@pytest.mark.parametrize("sim_options", PROTECTED)
async def test_rest_wrong_for_two_minutes_then_right(rest: _Rest) -> None:
    """Polling stops on the refusal, the stored password is tried once a minute, and when it
    works again polling carries on, the flow is aborted and its repair deleted."""
    hass, init_integration, sim, freezer, caplog = rest
    caplog.set_level(logging.INFO, logger=OURS)
    sim.faults.wrong_password = True
    await advance(hass, freezer, 10)
    assert state(hass, "power_import") == STATE_UNAVAILABLE
    assert reauth_flows(hass) == [SOURCE_REAUTH]
    assert reauth_repair(hass, init_integration) is not None
    since = len(sim.requests)
    await advance(hass, freezer, MINUTE)
    await advance(hass, freezer, MINUTE)
    # Two tries a minute apart, each refusal confirmed by a second 401; no poll meanwhile.
    assert tries(sim, since) == [("/api/v1/system", 401)] * 4
    assert state(hass, "power_import") == STATE_UNAVAILABLE

    sim.faults.wrong_password = False
    report = await sim.emit_telegram()
    await advance(hass, freezer, MINUTE)
    assert float(state(hass, "power_import")) == power_import(report)
    assert reauth_flows(hass) == []
    assert reauth_repair(hass, init_integration) is None
    assert init_integration.state is ConfigEntryState.LOADED
    report = await sim.emit_telegram()
    await advance(hass, freezer, 10)  # polling carries on at the scan interval
    assert float(state(hass, "power_import")) == power_import(report)
    assert_told_once(caplog, healed=True)


@pytest.mark.parametrize("sim_options", PROTECTED)
async def test_rest_wrong_for_good(rest: _Rest) -> None:
    """A password that stays wrong: the re-authentication stays asked for; nothing more is
    logged, and the device hears of the stored password once a minute (twice: confirmed)."""
    hass, init_integration, sim, freezer, caplog = rest
    caplog.set_level(logging.INFO, logger=OURS)
    sim.faults.wrong_password = True
    await advance(hass, freezer, 10)
    since = len(sim.requests)
    for _ in range(10):
        await advance(hass, freezer, MINUTE)
    refused = tries(sim, since)
    assert set(refused) == {("/api/v1/system", 401)}
    # Ten tries, plus the device read due after 5 minutes (it stops too, like the polling).
    assert len(refused) == 2 * 10 + 2
    assert reauth_flows(hass) == [SOURCE_REAUTH]
    assert reauth_repair(hass, init_integration) is not None
    assert state(hass, "power_import") == STATE_UNAVAILABLE
    assert init_integration.state is ConfigEntryState.LOADED
    assert_told_once(caplog, healed=False)


@pytest.mark.parametrize("sim_options", PROTECTED)
async def test_new_password_through_the_flow_still_works(rest: _Rest) -> None:
    """The person enters the device's new password: the entry reloads with it, no try is left."""
    hass, init_integration, sim, freezer, _ = rest
    sim.state.settings["system"]["password"] = "changed"
    await advance(hass, freezer, 10)
    flow = hass.config_entries.flow.async_progress_by_handler(DOMAIN)[0]
    result = await hass.config_entries.flow.async_configure(
        flow["flow_id"], {"password": "changed"}
    )
    assert result["reason"] == "reauth_successful"
    await hass.async_block_till_done()
    assert init_integration.state is ConfigEntryState.LOADED
    assert reauth_repair(hass, init_integration) is None
    since = len(sim.requests)
    await advance(hass, freezer, MINUTE)
    assert ("/api/v1/system", 401) not in tries(sim, since)
    report = await sim.emit_telegram()
    await advance(hass, freezer, 10)
    assert float(state(hass, "power_import")) == power_import(report)


@pytest.mark.parametrize("sim_options", PROTECTED)
async def test_rest_heal_waits_for_the_device(rest: _Rest) -> None:
    """A try that cannot reach the device says nothing; after the heal, a read that fails for
    another reason (the licence is gone meanwhile) is logged once and the polling goes on."""
    hass, _, sim, freezer, caplog = rest
    caplog.set_level(logging.INFO, logger=OURS)
    sim.faults.wrong_password = True
    await advance(hass, freezer, 10)
    sim.faults.refuse = True
    await advance(hass, freezer, MINUTE)  # this try meets a closed port
    assert reauth_flows(hass) == [SOURCE_REAUTH]
    sim.faults.update({"refuse": False, "wrong_password": False})
    await sim.wait_up()
    sim.set_license("free")
    await advance(hass, freezer, MINUTE)
    assert reauth_flows(hass) == []
    failures = [line for line in lines(caplog, logging.ERROR) if "no Plus licence" in line]
    assert len(failures) == 1, failures
    since = len(sim.requests)
    await advance(hass, freezer, 10)
    assert ("/api/v1/report", 404) in tries(sim, since)  # polling goes on
    assert lines(caplog, logging.ERROR) == failures  # ... without a line more
    assert state(hass, "power_import") == STATE_UNAVAILABLE
    assert_told_once(caplog, healed=True)


# --- live --------------------------------------------------------------------------------------


async def _refused_live(
    hass: HomeAssistant, sim: Any, freezer: FrozenDateTimeFactory
) -> MockConfigEntry:
    """Set up a live entry, then make the device refuse its password and restart."""
    entry = await setup_live(hass, sim, "secret")
    await shows(hass, await sim.emit_telegram())
    sim.faults.wrong_password = True
    await sim.reboot(downtime=0)  # the stream goes; opening it again is refused
    await tick(hass, freezer, 1)
    await wait_for(hass, lambda: reauth_flows(hass) == [SOURCE_REAUTH])
    assert state(hass, "power_import") == STATE_UNAVAILABLE
    await hass.async_block_till_done(wait_background_tasks=True)  # the stream task has ended
    return entry


@pytest.mark.parametrize("sim_options", PROTECTED)
async def test_live_wrong_for_two_minutes_then_right(
    hass: HomeAssistant, sim: Any, freezer: FrozenDateTimeFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """The stream stops on the refusal and opens again once the stored password works."""
    caplog.set_level(logging.INFO, logger=OURS)
    entry = await _refused_live(hass, sim, freezer)
    connections, since = sim.live.connections_total, len(sim.requests)
    await advance(hass, freezer, MINUTE)
    await advance(hass, freezer, MINUTE)
    assert tries(sim, since) == [("/api/v1/system", 401)] * 4
    assert sim.live.connections_total == connections  # the stream is not tried meanwhile

    sim.faults.wrong_password = False
    await sim.emit_telegram()  # the meter went on meanwhile (the device read shows its link up)
    await tick(hass, freezer, MINUTE)
    await wait_connections(sim, connections + 1)
    await sim.live.wait_clients(1)
    await shows(hass, await sim.emit_telegram())
    assert reauth_flows(hass) == []
    assert reauth_repair(hass, entry) is None
    assert "is back" not in caplog.text  # the heal is the one line
    assert_told_once(caplog, healed=True)
    assert await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.parametrize("sim_options", PROTECTED)
async def test_live_wrong_for_good(
    hass: HomeAssistant, sim: Any, freezer: FrozenDateTimeFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """A password that stays wrong: re-authentication asked, the stream stays shut, no spam."""
    caplog.set_level(logging.INFO, logger=OURS)
    entry = await setup_live(hass, sim, "secret")
    await shows(hass, await sim.emit_telegram())
    sim.faults.wrong_password = True  # the open stream stays open ...
    await tick(hass, freezer, 61)  # ... until it is quiet for a minute: reopening is refused
    await wait_for(hass, lambda: reauth_flows(hass) == [SOURCE_REAUTH])
    await hass.async_block_till_done(wait_background_tasks=True)  # the stream task has ended
    connections, since = sim.live.connections_total, len(sim.requests)
    for _ in range(10):
        await advance(hass, freezer, MINUTE)
    refused = tries(sim, since)
    assert refused == [("/api/v1/system", 401)] * 2 * 10  # the device read stopped at once
    assert sim.live.connections_total == connections
    assert reauth_flows(hass) == [SOURCE_REAUTH]
    assert reauth_repair(hass, entry) is not None
    assert entry.state is ConfigEntryState.LOADED
    assert_told_once(caplog, healed=False)
    assert await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.parametrize("sim_options", PROTECTED)
async def test_live_close_then_refusal_is_no_takeover(
    hass: HomeAssistant, sim: Any, freezer: FrozenDateTimeFactory
) -> None:
    """The device closes the stream and refuses the password: no take-over drop is counted."""
    entry = await setup_live(hass, sim, "secret")
    source = entry.runtime_data.source
    await shows(hass, await sim.emit_telegram())
    sim.faults.wrong_password = True
    sim.live.drop()  # a clean close ...
    await wait_for(hass, lambda: state(hass, "power_import") == STATE_UNAVAILABLE)
    await tick(hass, freezer, 1)  # ... and the next attempt is refused
    await wait_for(hass, lambda: reauth_flows(hass) == [SOURCE_REAUTH])
    await hass.async_block_till_done(wait_background_tasks=True)
    sim.faults.wrong_password = False
    await sim.emit_telegram()
    await tick(hass, freezer, MINUTE)
    await wait_connections(sim, 2)
    await sim.live.wait_clients(1)
    await shows(hass, await sim.emit_telegram())
    sim.live.drop()  # a close after the heal: the one before the refusal is not a drop
    await wait_for(hass, lambda: state(hass, "power_import") == STATE_UNAVAILABLE)
    await tick(hass, freezer, 1)
    await wait_connections(sim, 3)
    assert source.diagnostics()["drops"] == 0
    assert await hass.config_entries.async_unload(entry.entry_id)


# --- MQTT with the device address ----------------------------------------------------------------


async def _publish_for(
    hass: HomeAssistant, device: Any, freezer: FrozenDateTimeFactory, seconds: float
) -> None:
    """Let the device publish every 30 s for ``seconds`` (MQTT flows: REST does not stand in)."""
    for _ in range(int(seconds // 30)):
        await device.emit_telegram()
        async_fire_mqtt_message(hass, TOPIC, payload(device))
        await advance(hass, freezer, 30)


@pytest.fixture
async def go(mqtt_ready: Any, simulator_factory: Any, caplog: pytest.LogCaptureFixture) -> Any:
    """A device with a password that publishes every 30 s, a first telegram decoded; this
    integration's lines logged from INFO up."""
    caplog.set_level(logging.INFO, logger=OURS)
    device = await simulator_factory(
        telegram_interval=0, seed=11, report_interval=30, auth="digest", password="secret"
    )
    await device.emit_telegram()
    return device


async def test_mqtt_device_read_heals(
    hass: HomeAssistant, go: Any, freezer: FrozenDateTimeFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """The device read is refused while MQTT flows: the config entities wait for the heal."""
    device = go
    entry = await setup_entry(hass, mqtt_entry(host=device.host, password="secret"))
    assert hass.states.get(INTERVAL).state == "30"
    device.faults.wrong_password = True
    await _publish_for(hass, device, freezer, 300)  # the device read of minute 5 is refused
    assert reauth_flows(hass) == [SOURCE_REAUTH]
    assert hass.states.get(INTERVAL).state == STATE_UNAVAILABLE
    assert state(hass, "power_import") != STATE_UNAVAILABLE

    device.faults.wrong_password = False
    await advance(hass, freezer, MINUTE)
    assert hass.states.get(INTERVAL).state == "30"
    assert reauth_flows(hass) == []
    assert reauth_repair(hass, entry) is None
    assert_told_once(caplog, healed=True)
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_mqtt_set_up_while_refused(
    hass: HomeAssistant, go: Any, freezer: FrozenDateTimeFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """An MQTT entry loads while its device refuses the password (MQTT flows): the stored
    password is tried from the start on, and the device read carries on once it works."""
    device = go
    device.faults.wrong_password = True
    entry = await setup_entry(hass, mqtt_entry(host=device.host, password="secret"))
    assert entry.state is ConfigEntryState.LOADED
    assert reauth_flows(hass) == [SOURCE_REAUTH]
    warnings = [line for line in lines(caplog, logging.WARNING) if "password" in line]
    assert len(warnings) == 1, warnings
    assert "does not answer over REST: The device refused the password" in warnings[0]
    since = len(device.requests)
    await _publish_for(hass, device, freezer, MINUTE)
    assert tries(device, since) == [("/api/v1/system", 401)] * 2
    device.faults.wrong_password = False
    await _publish_for(hass, device, freezer, MINUTE)
    assert hass.states.get(INTERVAL).state == "30"
    assert reauth_flows(hass) == []
    assert reauth_repair(hass, entry) is None
    assert [line for line in lines(caplog, logging.WARNING) if "password" in line] == warnings
    assert sum("accepts its stored password" in line for line in lines(caplog, logging.INFO)) == 1
    assert await hass.config_entries.async_unload(entry.entry_id)
