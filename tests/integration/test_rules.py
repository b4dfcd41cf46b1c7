"""Availability rules and value helpers on edge cases the simulator does not produce."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from custom_components.whatwatt.api.changes import boot_time, changed_keys
from custom_components.whatwatt.api.models import MeterInfo, Report, SystemInfo
from custom_components.whatwatt.api.states import meter_status_option
from custom_components.whatwatt.const import DEFAULT_REPORT_INTERVAL
from custom_components.whatwatt.sensor import SENSORS

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import MockConfigEntry

NOW = datetime(2026, 1, 15, 8, 12, 40, tzinfo=UTC)
BY_KEY = {description.key: description for description in SENSORS}


def test_values_of_an_empty_report() -> None:
    """A reading without values has nothing to show; unknown statuses stay unknown."""
    empty = Report()
    for key in ("power_import", "power_net", "tariff", "report_time"):
        assert BY_KEY[key].value_fn(empty) is None
        assert not BY_KEY[key].exists_fn(empty)
    only_import = Report(values={"power_import": 1.0})
    assert BY_KEY["power_net"].value_fn(only_import) is None
    assert meter_status_option("WEIRD") is None
    assert meter_status_option("NOT CONNECTED") == "not_connected"
    assert meter_status_option(None) is None


async def test_interval_fallbacks(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    """The cadence falls back from the push interval to the report's, the meter's, a default."""
    measurements = init_integration.runtime_data.measurements
    system = init_integration.runtime_data.device.data.system
    assert measurements.interval == measurements.data.interval
    measurements.data = replace(measurements.data, interval=None)
    assert measurements.interval == system.meter.report_interval
    measurements.meter_interval = None
    assert measurements.interval == DEFAULT_REPORT_INTERVAL
    measurements.push_interval = 45.0
    assert measurements.interval == 45.0
    assert measurements.stale_after == 135.0
    assert replace(system, meter=MeterInfo()).meter.report_interval is None


def test_boot_time() -> None:
    """Uptime first, then the device's last reboot; within a minute it is the same boot."""
    boot = NOW - timedelta(days=3)
    system = SystemInfo(device_id="X", uptime=3 * 86400)
    assert boot_time(system, NOW, None) == boot
    assert boot_time(replace(system, uptime=3 * 86400 - 30), NOW, boot) == boot
    assert boot_time(replace(system, uptime=60), NOW, boot) == NOW - timedelta(minutes=1)
    assert boot_time(SystemInfo(device_id="X", last_boot=boot), NOW, None) == boot
    assert boot_time(SystemInfo(device_id="X"), NOW, boot) == boot


def test_changed_keys() -> None:
    """Nested settings compare key by key; added and removed keys count."""
    before = {"system": {"name": "a", "power_save": False}, "services": {"report_interval": 30}}
    after = {"system": {"name": "b", "power_save": False}, "services": {}, "new": 1}
    assert changed_keys(before, after) == ("new", "services.report_interval", "system.name")
    assert changed_keys(before, before) == ()
