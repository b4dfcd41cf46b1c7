"""Switch entities of the whatwatt Go integration: the device's MQTT client."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.components.switch import SwitchEntity
from homeassistant.const import EntityCategory

from .device_control import async_configure_mqtt, rest_client
from .entity import WhatwattEntity
from .service_schemas import ATTR_ENABLE

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
    """Add the MQTT client switch (only when the device's address is known)."""
    coordinator = entry.runtime_data
    if rest_client(coordinator) is None:
        return
    async_add_entities([WhatwattMqttClientSwitch(coordinator, "mqtt_client")])


class WhatwattMqttClientSwitch(WhatwattEntity, SwitchEntity):
    """The device's MQTT client on or off (``configure_mqtt`` with ``enable`` only)."""

    _attr_translation_key = "mqtt_client"
    _attr_entity_category = EntityCategory.CONFIG

    @property
    def is_on(self) -> bool | None:
        """Return the client state from the fresher source: MQTT settings or system info."""
        coordinator = self.coordinator
        mqtt = coordinator.mqtt_settings
        system_state = coordinator.data.system.mqtt_enabled
        if mqtt is None or mqtt.enable is None:
            return system_state
        if system_state is None:
            return mqtt.enable
        system_at, mqtt_at = coordinator.system_fetched, coordinator.mqtt_settings_at
        if system_at is not None and mqtt_at is not None and system_at > mqtt_at:
            return system_state
        return mqtt.enable

    def state_signature(self) -> tuple[Any, ...]:
        """Return availability and state."""
        return (self.available, self.is_on)

    async def async_turn_on(self, **kwargs: Any) -> None:  # noqa: ARG002
        """Switch the client on (with the broker and template fill-ins of configure_mqtt)."""
        await async_configure_mqtt(self.hass, self.coordinator, {ATTR_ENABLE: True})

    async def async_turn_off(self, **kwargs: Any) -> None:  # noqa: ARG002
        """Switch the client off."""
        await async_configure_mqtt(self.hass, self.coordinator, {ATTR_ENABLE: False})
