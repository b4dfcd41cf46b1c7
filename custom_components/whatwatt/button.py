"""Button entities of the whatwatt Go integration: restart the device."""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant.components.button import (
    ButtonDeviceClass,
    ButtonEntity,
    ButtonEntityDescription,
)
from homeassistant.const import EntityCategory

from .coordinator import DeviceCoordinator
from .device_control import async_reboot
from .entity import WhatwattEntity
from .helpers import whatwatt_exception_handler

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

    from .coordinator import WhatwattConfigEntry

PARALLEL_UPDATES = 1

REBOOT = ButtonEntityDescription(
    key="reboot", device_class=ButtonDeviceClass.RESTART, entity_category=EntityCategory.CONFIG
)


async def async_setup_entry(
    hass: HomeAssistant,  # noqa: ARG001
    entry: WhatwattConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the restart button (only when the device's address is known)."""
    runtime = entry.runtime_data
    if runtime.client is not None:
        async_add_entities([WhatwattRebootButton(runtime.device, runtime.device, REBOOT)])


class WhatwattRebootButton(WhatwattEntity[DeviceCoordinator], ButtonEntity):
    """Restart the whatwatt Go (it is offline for up to a minute); available while REST answers."""

    @whatwatt_exception_handler
    async def async_press(self) -> None:
        """Send the reboot request."""
        await async_reboot(self.coordinator.config_entry)
