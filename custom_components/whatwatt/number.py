"""Number entities of the whatwatt Go integration: the device's report interval."""

from __future__ import annotations

from homeassistant.components.number import (
    NumberDeviceClass,
    NumberEntity,
    NumberEntityDescription,
    NumberMode,
)
from homeassistant.const import EntityCategory, UnitOfTime

from .api import requests as wire
from .coordinator import DeviceCoordinator
from .device_control import async_update_settings
from .entity import WhatwattEntity, device_platform
from .errors import device_errors

PARALLEL_UPDATES = 1

REPORT_INTERVAL = NumberEntityDescription(
    key=wire.REPORT_INTERVAL,
    translation_key=wire.REPORT_INTERVAL,
    entity_category=EntityCategory.CONFIG,
    device_class=NumberDeviceClass.DURATION,
    native_unit_of_measurement=UnitOfTime.SECONDS,
    native_min_value=wire.MIN_REPORT_INTERVAL,
    native_max_value=wire.MAX_REPORT_INTERVAL,
    native_step=1,
    mode=NumberMode.BOX,
)


class WhatwattReportIntervalNumber(WhatwattEntity[DeviceCoordinator], NumberEntity):
    """How often the device pushes to its clouds and its MQTT broker (``report_interval``)."""

    @property
    def native_value(self) -> int | None:
        """Return the interval as last read back from the device."""
        settings = self.coordinator.data.settings
        return settings.report_interval if settings is not None else None

    @device_errors
    async def async_set_native_value(self, value: float) -> None:
        """Write the new interval to the device."""
        await async_update_settings(
            self.coordinator.config_entry, {wire.REPORT_INTERVAL: int(value)}
        )


async_setup_entry = device_platform(WhatwattReportIntervalNumber, REPORT_INTERVAL)
