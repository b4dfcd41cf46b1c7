"""Button entities of the whatwatt Go integration: restart the device."""

from __future__ import annotations

from homeassistant.components.button import (
    ButtonDeviceClass,
    ButtonEntity,
    ButtonEntityDescription,
)
from homeassistant.const import EntityCategory

from .coordinator import DeviceCoordinator
from .device_control import async_reboot
from .entity import WhatwattEntity, device_platform
from .errors import device_errors

PARALLEL_UPDATES = 1

REBOOT = ButtonEntityDescription(
    key="reboot", device_class=ButtonDeviceClass.RESTART, entity_category=EntityCategory.CONFIG
)


class WhatwattRebootButton(WhatwattEntity[DeviceCoordinator], ButtonEntity):
    """Restart the whatwatt Go (it is offline for up to a minute); available while REST answers."""

    @device_errors
    async def async_press(self) -> None:
        """Send the reboot request."""
        await async_reboot(self.coordinator.config_entry)


async_setup_entry = device_platform(WhatwattRebootButton, REBOOT)
