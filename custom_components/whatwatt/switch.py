"""Switch entities of the whatwatt Go integration: the device's MQTT client."""

from __future__ import annotations

from typing import Any

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.const import EntityCategory
from homeassistant.exceptions import HomeAssistantError

from .api.requests import ENABLE
from .coordinator import DeviceCoordinator
from .device_control import async_configure_mqtt
from .entity import WhatwattEntity, device_platform
from .errors import device_errors, switch_error

PARALLEL_UPDATES = 1

MQTT_CLIENT = SwitchEntityDescription(
    key="mqtt_client", translation_key="mqtt_client", entity_category=EntityCategory.CONFIG
)


class WhatwattMqttClientSwitch(WhatwattEntity[DeviceCoordinator], SwitchEntity):
    """The device's MQTT client on or off (``configure_mqtt`` with ``enable`` only)."""

    @property
    def available(self) -> bool:
        """Return False on a FREE licence (the device never runs its MQTT client there)."""
        return super().available and self.coordinator.data.system.is_licensed

    @property
    def is_on(self) -> bool | None:
        """Return the client state: the MQTT settings as last read or written."""
        state = self.coordinator.data
        if state.mqtt_settings is not None and state.mqtt_settings.enable is not None:
            return state.mqtt_settings.enable
        return state.system.mqtt_enabled

    async def async_turn_on(self, **kwargs: Any) -> None:  # noqa: ARG002
        """Switch the client on (with the broker and template fill-ins of configure_mqtt)."""
        await self._async_switch(enable=True)

    async def async_turn_off(self, **kwargs: Any) -> None:  # noqa: ARG002
        """Switch the client off."""
        await self._async_switch(enable=False)

    async def _async_switch(self, *, enable: bool) -> None:
        """Write ``enable``; on failure show the unchanged state and raise the switch's error."""
        try:
            await device_errors(async_configure_mqtt)(
                self.hass, self.coordinator.config_entry, {ENABLE: enable}
            )
        except HomeAssistantError as err:
            self.async_write_ha_state()
            raise switch_error(err) from err


async_setup_entry = device_platform(WhatwattMqttClientSwitch, MQTT_CLIENT)
