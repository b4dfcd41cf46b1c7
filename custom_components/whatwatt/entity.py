"""Base entity of the whatwatt Go integration."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.const import CONF_HOST
from homeassistant.core import callback
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .const import DEFAULT_NAME, DOMAIN, MANUFACTURER, device_title
from .coordinator import DeviceCoordinator, MeasurementCoordinator

if TYPE_CHECKING:
    from homeassistant.helpers.entity import EntityDescription


def device_info(device: DeviceCoordinator) -> DeviceInfo:
    """Describe the whatwatt Go of an entry (the device coordinator keeps it up to date).

    The model is the product name for every entry (an MQTT-only entry never learns more); the
    device's own hardware string (``WW_Go_1.2``) is its hardware version.
    """
    system = device.data.system
    info = DeviceInfo(
        identifiers={(DOMAIN, device.device_id)},
        manufacturer=MANUFACTURER,
        model=DEFAULT_NAME,
        hw_version=system.model or None,
        name=device_title(system.name, device.device_id),
        serial_number=device.device_id,
        sw_version=system.firmware,
    )
    if host := device.config_entry.data.get(CONF_HOST):
        info["configuration_url"] = f"http://{host}"
    return info


class WhatwattEntity[C: DeviceCoordinator | MeasurementCoordinator](CoordinatorEntity[C]):
    """A whatwatt Go entity that writes its state only when something it shows changed."""

    _attr_has_entity_name = True
    _written: tuple[Any, ...] | None = None

    def __init__(
        self, coordinator: C, device: DeviceCoordinator, description: EntityDescription
    ) -> None:
        """Attach the entity to the device and give it its contract unique id."""
        super().__init__(coordinator)
        self.entity_description = description
        self._attr_unique_id = f"{device.device_id}_{description.key}"
        self._attr_device_info = device_info(device)

    def state_signature(self) -> tuple[Any, ...]:
        """Return what this entity shows (availability first); written only when it changes."""
        return (self.available,)

    async def async_added_to_hass(self) -> None:
        """Remember the state written when the entity is added."""
        await super().async_added_to_hass()
        self._written = self.state_signature()

    @callback
    def _handle_coordinator_update(self) -> None:
        """Write the state only when its value or availability changed."""
        signature = self.state_signature()
        if signature == self._written:
            return
        self._written = signature
        self.async_write_ha_state()
