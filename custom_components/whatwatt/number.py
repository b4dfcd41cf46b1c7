"""Number entities of the whatwatt Go integration: the device's report interval."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.components.number import (
    NumberDeviceClass,
    NumberEntity,
    NumberEntityDescription,
    NumberMode,
)
from homeassistant.const import EntityCategory, UnitOfTime

from .coordinator import DeviceCoordinator
from .device_control import async_update_settings
from .entity import WhatwattEntity
from .helpers import whatwatt_exception_handler
from .service_schemas import ATTR_REPORT_INTERVAL, MAX_REPORT_INTERVAL, MIN_REPORT_INTERVAL

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

    from .coordinator import WhatwattConfigEntry

PARALLEL_UPDATES = 1

REPORT_INTERVAL = NumberEntityDescription(
    key=ATTR_REPORT_INTERVAL,
    translation_key=ATTR_REPORT_INTERVAL,
    entity_category=EntityCategory.CONFIG,
    device_class=NumberDeviceClass.DURATION,
    native_unit_of_measurement=UnitOfTime.SECONDS,
    native_min_value=MIN_REPORT_INTERVAL,
    native_max_value=MAX_REPORT_INTERVAL,
    native_step=1,
    mode=NumberMode.BOX,
)


async def async_setup_entry(
    hass: HomeAssistant,  # noqa: ARG001
    entry: WhatwattConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the report-interval number (only when the device's address is known)."""
    runtime = entry.runtime_data
    if runtime.client is not None:
        async_add_entities(
            [WhatwattReportIntervalNumber(runtime.device, runtime.device, REPORT_INTERVAL)]
        )


class WhatwattReportIntervalNumber(WhatwattEntity[DeviceCoordinator], NumberEntity):
    """How often the device pushes to its clouds and its MQTT broker (``report_interval``)."""

    @property
    def native_value(self) -> int | None:
        """Return the interval as last read back from the device."""
        settings = self.coordinator.data.settings
        return settings.report_interval if settings is not None else None

    def state_signature(self) -> tuple[Any, ...]:
        """Return availability and value."""
        return (self.available, self.native_value)

    @whatwatt_exception_handler
    async def async_set_native_value(self, value: float) -> None:
        """Write the new interval to the device."""
        await async_update_settings(
            self.coordinator.config_entry, {ATTR_REPORT_INTERVAL: int(value)}
        )
