"""Transports: how readings reach the coordinator, and what a device write means for them.

Every config entry has one transport (``rest``, ``mqtt`` or ``live``). The coordinator holds the
data; the transport starts and stops the data flow and follows configuration changes written to
the device (DESIGN.md section 1: "mapped onto each transport"). The base class is the REST
transport: polling is the coordinator's own schedule, and a write is followed by a refresh.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

    from .api.models import MqttSettings, Settings
    from .coordinator import WhatwattConfigEntry, WhatwattCoordinator


class WhatwattTransport:
    """The REST transport, and the interface every other transport implements."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: WhatwattConfigEntry,
        coordinator: WhatwattCoordinator,
    ) -> None:
        """Bind the transport to its entry and coordinator."""
        self.hass = hass
        self.entry = entry
        self.coordinator = coordinator

    async def async_start(self) -> None:
        """Start the data flow (after the coordinator's first data is in)."""

    async def async_stop(self) -> None:
        """Stop the data flow: no task, timer, subscription or socket may remain."""

    async def async_settings_written(self, settings: Settings) -> None:  # noqa: ARG002
        """Follow a write of the device settings (the device's answer, read back)."""
        await self.coordinator.async_request_refresh()

    async def async_mqtt_settings_written(self, mqtt: MqttSettings) -> None:  # noqa: ARG002
        """Follow a write of the device's MQTT settings (the device's answer, read back)."""
        await self.coordinator.async_request_refresh()
