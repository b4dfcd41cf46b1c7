"""Number entities of the whatwatt Go integration: the device's report interval."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.components.number import NumberDeviceClass, NumberEntity, NumberMode
from homeassistant.const import EntityCategory, UnitOfTime

from .device_control import async_update_settings, rest_client
from .entity import WhatwattEntity
from .service_schemas import ATTR_REPORT_INTERVAL, MAX_REPORT_INTERVAL, MIN_REPORT_INTERVAL

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

    from .coordinator import WhatwattConfigEntry

PARALLEL_UPDATES = 1


async def async_setup_entry(
    hass: HomeAssistant,  # noqa: ARG001
    entry: WhatwattConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the report-interval number (only when the device's address is known)."""
    coordinator = entry.runtime_data
    if rest_client(coordinator) is None:
        return
    async_add_entities([WhatwattReportIntervalNumber(coordinator, ATTR_REPORT_INTERVAL)])


class WhatwattReportIntervalNumber(WhatwattEntity, NumberEntity):
    """How often the device pushes to its clouds and its MQTT broker (``report_interval``)."""

    _attr_translation_key = ATTR_REPORT_INTERVAL
    _attr_entity_category = EntityCategory.CONFIG
    _attr_device_class = NumberDeviceClass.DURATION
    _attr_native_unit_of_measurement = UnitOfTime.SECONDS
    _attr_native_min_value = MIN_REPORT_INTERVAL
    _attr_native_max_value = MAX_REPORT_INTERVAL
    _attr_native_step = 1
    _attr_mode = NumberMode.BOX

    @property
    def native_value(self) -> int | None:
        """Return the interval as last read back from the device."""
        settings = self.coordinator.settings
        return settings.report_interval if settings is not None else None

    def state_signature(self) -> tuple[Any, ...]:
        """Return availability and value."""
        return (self.available, self.native_value)

    async def async_set_native_value(self, value: float) -> None:
        """Write the new interval to the device."""
        await async_update_settings(self.coordinator, {ATTR_REPORT_INTERVAL: int(value)})
