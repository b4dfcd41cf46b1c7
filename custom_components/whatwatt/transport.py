"""Transports: how readings reach the coordinator, and what a device write means for them.

Every config entry has one transport (``rest``, ``mqtt`` or ``live``). The coordinator holds the
data; the transport starts and stops the data flow and follows configuration changes written to
the device (DESIGN.md section 1: "mapped onto each transport"). The base class is the REST
transport: polling is the coordinator's own schedule, and a write is followed by a refresh.

Push transports with a device address (live, MQTT with ``host``) have no polling schedule: the
base class re-reads the device (system information and configuration) every
``SYSTEM_REFRESH_INTERVAL`` for them, in this one place (``WhatwattCoordinator.async_device_tick``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.core import CALLBACK_TYPE, callback
from homeassistant.helpers.event import async_track_time_interval

from .const import DOMAIN, SYSTEM_REFRESH_INTERVAL

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
        self._unsub_device_tick: CALLBACK_TYPE | None = None

    async def async_start(self) -> None:
        """Start the data flow (after the coordinator's first data is in).

        Subclasses call this first: it starts the periodic device read of push transports.
        """
        coordinator = self.coordinator
        if coordinator.client is not None and coordinator.update_interval is None:
            self._unsub_device_tick = async_track_time_interval(
                self.hass,
                coordinator.async_device_tick,
                SYSTEM_REFRESH_INTERVAL,
                name=f"{DOMAIN} device read {self.entry.title}",
                cancel_on_shutdown=True,
            )

    async def async_stop(self) -> None:
        """Stop the data flow: no task, timer, subscription or socket may remain (idempotent)."""
        if self._unsub_device_tick is not None:
            self._unsub_device_tick()
            self._unsub_device_tick = None

    def diagnostics(self) -> dict[str, Any]:
        """Return the transport's state for the diagnostics (nothing for REST)."""
        return {}

    @callback
    def follow_settings(self, settings: Settings) -> None:
        """Follow the device settings as read or written (the REST transport needs nothing)."""

    async def async_settings_written(self, settings: Settings) -> None:
        """Follow a write of the device settings (the device's answer, read back)."""
        self.follow_settings(settings)
        await self.coordinator.async_request_refresh()

    async def async_mqtt_settings_written(self, mqtt: MqttSettings) -> None:  # noqa: ARG002
        """Follow a write of the device's MQTT settings (the device's answer, read back)."""
        await self.coordinator.async_request_refresh()
