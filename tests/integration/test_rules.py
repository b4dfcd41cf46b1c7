"""Availability rules and value helpers on edge cases the simulator does not produce."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from custom_components.whatwatt.api.models import MeterInfo, Report, SystemInfo
from custom_components.whatwatt.const import DEFAULT_REPORT_INTERVAL
from custom_components.whatwatt.coordinator import WhatwattData
from custom_components.whatwatt.sensor import SENSORS

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import MockConfigEntry

NOW = datetime(2026, 1, 15, 8, 12, 40, tzinfo=UTC)
BY_KEY = {description.key: description for description in SENSORS}


def test_values_without_report() -> None:
    """Nothing to show before the first reading; unknown statuses stay unknown."""
    data = WhatwattData(system=SystemInfo(device_id="A1B2C3D4E5F6"))
    assert not data.measurements_available
    for key in ("power_import", "power_net", "tariff", "report_time", "meter_status"):
        assert BY_KEY[key].value_fn(data) is None
        assert not BY_KEY[key].exists_fn(data)
    data = replace(data, report=Report(values={"power_import": 1.0}), meter_status="WEIRD")
    assert BY_KEY["power_net"].value_fn(data) is None
    assert BY_KEY["meter_status"].value_fn(data) is None
    assert BY_KEY["meter_status"].exists_fn(data)  # a status the entity shows as unknown
    assert not data.measurements_available


async def test_interval_and_boot_fallbacks(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """The reporting interval and boot time fall back to what the device tells elsewhere."""
    coordinator = init_integration.runtime_data
    system = coordinator.system
    assert coordinator.report_interval(Report()) == system.meter.report_interval
    coordinator.system = replace(system, meter=MeterInfo())
    assert coordinator.report_interval(None) == DEFAULT_REPORT_INTERVAL

    boot = NOW - timedelta(days=3)
    coordinator.system = replace(system, last_boot=boot)
    coordinator._update_last_boot(None, NOW)
    assert coordinator.build_data(None, NOW).last_boot == boot
    coordinator.system = replace(system, last_boot=None)
    coordinator._update_last_boot(None, NOW)
    assert coordinator.build_data(None, NOW).last_boot == boot
    # Within a minute of the known boot time: the same boot, no change.
    coordinator._update_last_boot(3 * 86400 - 30, NOW)
    assert coordinator.build_data(None, NOW).last_boot == boot


async def test_firmware_change_without_device(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """A firmware change for a device not (or no longer) in the registry is harmless."""
    coordinator = init_integration.runtime_data
    coordinator.system = replace(coordinator.system, device_id="0011223344AA", firmware="0.1")
    system = await coordinator.async_refresh_system()
    assert system.firmware == "1.10.3"
