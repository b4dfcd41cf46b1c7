"""REST coordinator: outages, staleness, meter link, auth, licence, firmware and reboots."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import SOURCE_REAUTH
from homeassistant.const import CONF_HOST, STATE_UNAVAILABLE
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.whatwatt.api.parse_report import parse_report
from custom_components.whatwatt.const import CONF_TRANSPORT, DOMAIN, TRANSPORT_REST
from custom_components.whatwatt.coordinator import Measurements

from .conftest import DEVICE_ID, device_of, host_of

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from freezegun.api import FrozenDateTimeFactory
    from homeassistant.core import HomeAssistant

    from .helpers import Poll

PREFIX = "sensor.whatwatt_go_d4e5f6_"
MEASUREMENTS = ("power_import", "energy_import", "tariff", "net_power", "voltage_phase_1")
# A device behind Digest auth, the entry with its password.
PROTECTED = pytest.mark.parametrize("sim_options", [{"auth": "digest", "password": "secret"}])


def states(hass: HomeAssistant, *names: str) -> dict[str, str]:
    """Return the states of the named sensors."""
    return {name: hass.states.get(f"{PREFIX}{name}").state for name in names}


async def test_unreachable_and_recovery(
    hass: HomeAssistant, sim: Any, poll: Poll, info_log: pytest.LogCaptureFixture
) -> None:
    """Entities go unavailable while the device refuses; one log line each way."""
    sim.faults.refuse = True
    await poll()
    assert set(states(hass, *MEASUREMENTS, "meter_status").values()) == {STATE_UNAVAILABLE}
    await poll()
    failures = [r for r in info_log.records if "Error fetching" in r.getMessage()]
    assert len(failures) == 1
    assert "Error communicating with the device" in failures[0].getMessage()

    sim.faults.refuse = False
    await sim.wait_up()
    await sim.emit_telegram()
    await poll()
    assert STATE_UNAVAILABLE not in states(hass, *MEASUREMENTS, "meter_status").values()
    recovered = [r for r in info_log.records if "recovered" in r.getMessage()]
    assert len(recovered) == 1


async def test_timeout(
    hass: HomeAssistant,
    simulator_factory: Callable[..., Awaitable[Any]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A device that answers too late counts as unreachable (real clock, no time travel)."""
    device = await simulator_factory(auth="none", telegram_interval=0)
    await device.emit_telegram()
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=DEVICE_ID,
        data={CONF_HOST: host_of(device), CONF_TRANSPORT: TRANSPORT_REST},
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    coordinator = entry.runtime_data.measurements
    default_timeout = coordinator.client._timeout
    coordinator.client._timeout = 0.05  # the client default is 10 s
    device.faults.delay = 0.3
    await coordinator.async_refresh()
    assert not coordinator.last_update_success
    assert "did not answer in time" in caplog.text
    assert hass.states.get(f"{PREFIX}power_import").state == STATE_UNAVAILABLE
    device.faults.delay = 0
    # The recovery poll runs with the real timeout: 50 ms is too tight for a loaded machine.
    coordinator.client._timeout = default_timeout
    await coordinator.async_refresh()
    assert coordinator.last_update_success
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_device_busy(hass: HomeAssistant, sim: Any, poll: Poll) -> None:
    """503 answers make the entities unavailable until the device serves again."""
    sim.faults.status_503 = True
    await poll()
    assert states(hass, "power_import")["power_import"] == STATE_UNAVAILABLE
    sim.faults.status_503 = False
    await sim.emit_telegram()
    await poll()
    assert states(hass, "power_import")["power_import"] != STATE_UNAVAILABLE


async def test_stale_report(
    hass: HomeAssistant,
    enable_all_entities: None,
    init_integration: MockConfigEntry,
    sim: Any,
    poll: Poll,
) -> None:
    """No new telegram for 3 intervals (30 s at least): measurements become unavailable."""
    await poll()
    await poll()
    assert STATE_UNAVAILABLE not in states(hass, *MEASUREMENTS).values()
    await poll(11)
    assert set(states(hass, *MEASUREMENTS).values()) == {STATE_UNAVAILABLE}
    # Device health and the meter status stay; the report time shows the last reading.
    assert states(hass, "meter_status", "report_time") == {
        "meter_status": "ok",
        "report_time": "2026-01-15T08:12:40+00:00",
    }
    assert not init_integration.runtime_data.measurements.fresh

    await sim.emit_telegram()
    await poll()
    assert STATE_UNAVAILABLE not in states(hass, *MEASUREMENTS).values()


async def test_meter_not_connected(hass: HomeAssistant, sim: Any, poll: Poll) -> None:
    """The meter link down: measurements unavailable and meter_status says why."""
    sim.faults.meter_not_connected = True
    await poll()
    assert set(states(hass, *MEASUREMENTS).values()) == {STATE_UNAVAILABLE}
    assert states(hass, "meter_status")["meter_status"] == "not_connected"

    sim.faults.meter_not_connected = False
    await poll()
    assert states(hass, "meter_status")["meter_status"] == "no_data"
    await sim.emit_telegram()
    await poll()
    assert states(hass, "meter_status")["meter_status"] == "ok"
    assert STATE_UNAVAILABLE not in states(hass, *MEASUREMENTS).values()


@PROTECTED
async def test_password_changed_starts_reauth(hass: HomeAssistant, sim: Any, poll: Poll) -> None:
    """A password that stops working starts a reauth flow."""
    assert states(hass, "power_import")["power_import"] != STATE_UNAVAILABLE
    sim.state.settings["system"]["password"] = "changed"
    await poll()
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == [SOURCE_REAUTH]
    assert states(hass, "power_import")["power_import"] == STATE_UNAVAILABLE


async def test_license_revoked(
    hass: HomeAssistant, sim: Any, poll: Poll, caplog: pytest.LogCaptureFixture
) -> None:
    """A device that loses its Plus licence cannot be polled."""
    sim.set_license("free")
    await poll()
    assert states(hass, "power_import")["power_import"] == STATE_UNAVAILABLE
    assert "no Plus licence" in caplog.text


async def test_firmware_and_reboot(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    sim: Any,
    freezer: FrozenDateTimeFactory,
    poll: Poll,
) -> None:
    """A new firmware shows in the device registry; a reboot moves the boot time."""
    sim.state.firmware = "1.11.0"
    await sim.emit_telegram()
    await poll()
    device = device_of(hass, init_integration)
    assert device.sw_version == "1.10.3"  # system information is read every 5 minutes

    for _ in range(30):
        await sim.emit_telegram()
        await poll()
    device = device_of(hass, init_integration)
    assert device.sw_version == "1.11.0"
    boot_before = hass.states.get(f"{PREFIX}last_boot").state

    freezer.tick(timedelta(hours=2))
    await sim.reboot(downtime=0)
    sim.state.firmware = "1.12.0"
    await sim.emit_telegram()
    await poll()
    device = device_of(hass, init_integration)
    assert device.sw_version == "1.12.0"  # read at once after a reboot
    assert hass.states.get(f"{PREFIX}last_boot").state != boot_before


@pytest.mark.parametrize("sim_options", [{"profile": "dlms-three"}])
async def test_never_faster_than_meter(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """With a 2 s scan interval, a meter reporting every 5.02 s is polled every 5.02 s."""
    coordinator = init_integration.runtime_data.measurements
    coordinator.set_scan_interval(2)
    assert coordinator.update_interval == timedelta(seconds=5.02)
    coordinator.set_scan_interval(60)
    assert coordinator.update_interval == timedelta(seconds=60)


async def test_push_and_freshness_by_arrival(
    hass: HomeAssistant, init_integration: MockConfigEntry, sim: Any
) -> None:
    """Pushed readings reach the entities; their time stamps never decide availability."""
    coordinator = init_integration.runtime_data.measurements
    report = parse_report(await sim.emit_telegram())
    coordinator.async_push(replace(report, values={**report.values, "power_import": 2.5}))
    await hass.async_block_till_done()
    assert float(states(hass, "power_import")["power_import"]) == 2500
    now = dt_util.utcnow()
    for timestamp in (now - timedelta(hours=3), now + timedelta(minutes=2), None):
        coordinator.async_push(replace(report, timestamp=timestamp, report_id=None))
        await hass.async_block_till_done()
        assert STATE_UNAVAILABLE not in states(hass, *MEASUREMENTS).values()


@PROTECTED
async def test_polls_reuse_digest_nonce(hass: HomeAssistant, sim: Any, poll: Poll) -> None:
    """Polling a protected device is one request per poll: no new challenge each time."""
    for _ in range(5):
        await sim.emit_telegram()
        await poll()
    reports = [r for r in sim.requests if r.path == "/api/v1/report"]
    assert [r.status for r in reports].count(200) == 6
    assert [r.status for r in sim.requests].count(401) == 1
    assert STATE_UNAVAILABLE not in states(hass, *MEASUREMENTS).values()


async def test_measurement_listeners_told_on_change(
    hass: HomeAssistant, init_integration: MockConfigEntry, sim: Any
) -> None:
    """A listener of measurements hears of a reading only when they or availability changed."""
    coordinator = init_integration.runtime_data.measurements
    told: list[str] = []
    unsubscribe = coordinator.async_add_listener(
        lambda: told.append("power"), Measurements(("power_import", "power_export"))
    )
    coordinator.async_add_listener(lambda: told.append("every"))
    report = parse_report(await sim.emit_telegram())
    values = {**report.values, "power_import": 1.5, "voltage_l1": 230.0}
    coordinator.async_push(replace(report, values=values))  # the first: told
    coordinator.async_push(replace(report, values={**values, "voltage_l1": 231.0}))
    coordinator.async_push(replace(report, values={**values, "power_export": 0.1}))
    coordinator.async_push(replace(report, values={**values, "power_export": 0.1}))
    assert told == ["power", "every", "every", "power", "every", "every"]

    told.clear()
    coordinator.async_set_update_error(TimeoutError())  # availability: every listener, once
    coordinator.async_push(replace(report, values={**values, "power_export": 0.1}))
    assert told == ["power", "every", "power", "every"]

    told.clear()
    unsubscribe()
    coordinator.async_push(replace(report, values={**values, "power_import": 9.0}))
    assert told == ["every"]


async def test_a_failing_measurement_listener_stops_no_other(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    sim: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """One listener that raises is logged; the listeners after it are still told."""
    coordinator = init_integration.runtime_data.measurements
    told: list[float] = []

    def failing() -> None:
        raise ValueError("broken listener")

    coordinator.async_add_listener(failing, Measurements(("power_import",)))
    coordinator.async_add_listener(
        lambda: told.append(coordinator.data.values["power_import"]),
        Measurements(("power_import",)),
    )
    report = parse_report(await sim.emit_telegram())
    for power in (1.5, 2.5):
        coordinator.async_push(replace(report, values={**report.values, "power_import": power}))
    assert told == [1.5, 2.5]
    failures = [r for r in caplog.records if r.exc_info and "broken" in str(r.exc_info[1])]
    assert len(failures) == 2
