"""Button entities of the whatwatt Go integration: restart the device."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.components.button import ButtonDeviceClass, ButtonEntity
from homeassistant.const import EntityCategory

from .device_control import async_reboot, rest_client
from .entity import WhatwattEntity

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
    """Add the restart button (only when the device's address is known)."""
    coordinator = entry.runtime_data
    if rest_client(coordinator) is not None:
        async_add_entities([WhatwattRebootButton(coordinator, "reboot")])


class WhatwattRebootButton(WhatwattEntity, ButtonEntity):
    """Restart the whatwatt Go (it is offline for up to a minute)."""

    _attr_device_class = ButtonDeviceClass.RESTART
    _attr_entity_category = EntityCategory.CONFIG

    def state_signature(self) -> tuple[Any, ...]:
        """Return availability (a button has no other state)."""
        return (self.available,)

    async def async_press(self) -> None:
        """Send the reboot request."""
        await async_reboot(self.coordinator)
