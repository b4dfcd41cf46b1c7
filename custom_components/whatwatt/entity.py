"""Base entity of the whatwatt Go integration."""

from __future__ import annotations

from typing import Any

from homeassistant.const import CONF_HOST
from homeassistant.core import callback
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .const import DEFAULT_NAME, DOMAIN, MANUFACTURER, device_title
from .coordinator import WhatwattCoordinator


def device_info(coordinator: WhatwattCoordinator) -> DeviceInfo:
    """Describe the whatwatt Go behind a coordinator.

    The model is the product name for every entry (an MQTT-only entry never learns more); the
    device's own hardware string (``WW_Go_1.2``) is its hardware version.
    """
    system = coordinator.data.system
    info = DeviceInfo(
        identifiers={(DOMAIN, system.device_id)},
        manufacturer=MANUFACTURER,
        model=DEFAULT_NAME,
        hw_version=system.model or None,
        name=device_title(system.name, system.device_id),
        serial_number=system.device_id,
        sw_version=system.firmware,
    )
    if host := coordinator.config_entry.data.get(CONF_HOST):
        info["configuration_url"] = f"http://{host}"
    return info


class WhatwattEntity(CoordinatorEntity[WhatwattCoordinator]):
    """A whatwatt Go entity that writes its state only when something it shows changed."""

    _attr_has_entity_name = True
    _written: tuple[Any, ...] | None = None

    def __init__(self, coordinator: WhatwattCoordinator, key: str) -> None:
        """Attach the entity to the device and give it its contract unique id."""
        super().__init__(coordinator)
        self._attr_unique_id = f"{coordinator.data.system.device_id}_{key}"
        self._attr_device_info = device_info(coordinator)

    def state_signature(self) -> tuple[Any, ...]:
        """Return what this entity shows; a state is written only when this changes."""
        raise NotImplementedError

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
