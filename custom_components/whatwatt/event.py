"""Event entity of the whatwatt Go integration: changes made outside Home Assistant."""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant.components.event import EventEntity, EventEntityDescription
from homeassistant.const import EntityCategory
from homeassistant.core import callback

from .api.changes import (
    EVENT_METER_EXCHANGED,
    EVENT_MQTT_SETTINGS_CHANGED,
    EVENT_REBOOTED,
    EVENT_SETTINGS_CHANGED,
)
from .coordinator import DeviceCoordinator
from .entity import WhatwattEntity, device_platform

if TYPE_CHECKING:
    from .api.models import DeviceState

PARALLEL_UPDATES = 0

DEVICE_EVENT = EventEntityDescription(
    key="device_event",
    translation_key="device_event",
    entity_category=EntityCategory.DIAGNOSTIC,
    event_types=[
        EVENT_SETTINGS_CHANGED,
        EVENT_MQTT_SETTINGS_CHANGED,
        EVENT_REBOOTED,
        EVENT_METER_EXCHANGED,
    ],
)


class WhatwattDeviceEvent(WhatwattEntity[DeviceCoordinator], EventEntity):
    """Changes of the device's configuration, restarts and meter exchanges (not this entry's)."""

    _fired: DeviceState | None = None

    @callback
    def _handle_coordinator_update(self) -> None:
        """Fire the events a new device read found (each read's once)."""
        state = self.coordinator.data
        if state.events and state is not self._fired:
            self._fired = state
            for event in state.events:
                self._trigger_event(event.event_type, dict(event.attributes) or None)
            self.async_write_ha_state()
            return
        super()._handle_coordinator_update()


async_setup_entry = device_platform(WhatwattDeviceEvent, DEVICE_EVENT)
