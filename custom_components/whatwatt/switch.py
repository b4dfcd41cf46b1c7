"""Switch entities of the whatwatt Go integration: the device's MQTT client.

The device runs its MQTT client on a Plus licence only, so the switch is unavailable on FREE.
A failed switching writes the unchanged state back (the frontend has flipped its toggle already)
and raises the switch's own translated error.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.components.switch import SwitchEntity
from homeassistant.const import EntityCategory
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError

from .const import DOMAIN
from .device_control import async_configure_mqtt, rest_client
from .entity import WhatwattEntity
from .service_schemas import ATTR_ENABLE

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

    from .coordinator import WhatwattConfigEntry

PARALLEL_UPDATES = 1

# configure_mqtt's errors for a device without a broker it can reach (its fill-in failed).
_NO_BROKER_KEYS = frozenset({"mqtt_broker_unknown", "mqtt_broker_unreachable"})


def _switch_error(err: HomeAssistantError) -> HomeAssistantError:
    """Return the switch's own error for a failed ``configure_mqtt``."""
    if err.translation_key in _NO_BROKER_KEYS:
        return ServiceValidationError(
            translation_domain=DOMAIN, translation_key="mqtt_switch_no_broker"
        )
    error_class: type[HomeAssistantError] = (
        ServiceValidationError if isinstance(err, ServiceValidationError) else HomeAssistantError
    )
    return error_class(
        translation_domain=DOMAIN,
        translation_key="mqtt_switch_failed",
        translation_placeholders={"reason": str(err)},
    )


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
    def available(self) -> bool:
        """Return False on a FREE licence (the device never runs its MQTT client there)."""
        return super().available and self.coordinator.data.system.is_licensed

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
        await self._async_switch(enable=True)

    async def async_turn_off(self, **kwargs: Any) -> None:  # noqa: ARG002
        """Switch the client off."""
        await self._async_switch(enable=False)

    async def _async_switch(self, *, enable: bool) -> None:
        """Write ``enable``; on failure show the unchanged state and raise the switch's error."""
        try:
            await async_configure_mqtt(self.hass, self.coordinator, {ATTR_ENABLE: enable})
        except HomeAssistantError as err:
            self.async_write_ha_state()
            raise _switch_error(err) from err
