"""Switch entities of the whatwatt Go integration: the device's MQTT client.

The device runs its MQTT client on a Plus licence only, so the switch is unavailable on FREE.
A failed switching writes the unchanged state back (the frontend has flipped its toggle already)
and raises the switch's own translated error.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.const import EntityCategory
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError

from .api.errors import WhatwattError
from .const import DOMAIN
from .coordinator import DeviceCoordinator
from .device_control import async_configure_mqtt
from .entity import WhatwattEntity
from .helpers import async_require_admin, user_error
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
    runtime = entry.runtime_data
    if runtime.client is not None:
        async_add_entities([WhatwattMqttClientSwitch(runtime.device, runtime.device, MQTT_CLIENT)])


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
        """Write ``enable`` (admins only); on failure show the unchanged state and raise."""
        await async_require_admin(self.hass, self._context)
        try:
            try:
                await async_configure_mqtt(
                    self.hass, self.coordinator.config_entry, {ATTR_ENABLE: enable}
                )
            except WhatwattError as err:
                raise user_error(err) from err
        except HomeAssistantError as err:
            self.async_write_ha_state()
            raise _switch_error(err) from err
