"""The whatwatt Go integration."""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant.const import CONF_HOST, CONF_PASSWORD, Platform
from homeassistant.exceptions import ConfigEntryError
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.aiohttp_client import async_get_clientsession

from .api.client import WhatwattClient
from .const import CONF_TRANSPORT, DOMAIN, TRANSPORT_LIVE, TRANSPORT_MQTT, TRANSPORT_REST
from .coordinator import WhatwattConfigEntry, WhatwattCoordinator
from .issues import (
    async_clear_entry_issues,
    async_clear_stale_license_issue,
    async_watch_license,
    async_watch_meter_link,
)
from .services import async_setup_services
from .transport import WhatwattTransport
from .transport_live import LiveTransport
from .transport_mqtt import WhatwattMqttTransport

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from homeassistant.helpers.typing import ConfigType

PLATFORMS: list[Platform] = [Platform.BUTTON, Platform.NUMBER, Platform.SENSOR, Platform.SWITCH]
CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:  # noqa: ARG001
    """Register the integration's actions (once, whatever the number of entries)."""
    async_setup_services(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: WhatwattConfigEntry) -> bool:
    """Connect to the device and set up its entities."""
    transport = entry.data.get(CONF_TRANSPORT, TRANSPORT_REST)
    if transport not in (TRANSPORT_REST, TRANSPORT_LIVE, TRANSPORT_MQTT):
        raise ConfigEntryError(
            translation_domain=DOMAIN,
            translation_key="transport_not_supported",
            translation_placeholders={"transport": transport},
        )
    async_clear_stale_license_issue(hass, entry)
    # MQTT-only entries have no address, hence no REST client.
    client = (
        WhatwattClient(
            async_get_clientsession(hass),
            entry.data[CONF_HOST],
            entry.data.get(CONF_PASSWORD),
        )
        if entry.data.get(CONF_HOST)
        else None
    )
    live = transport == TRANSPORT_LIVE
    push = live or transport == TRANSPORT_MQTT
    coordinator = WhatwattCoordinator(hass, entry, client, poll=not push, read_report=not live)
    if transport == TRANSPORT_MQTT:
        mqtt_transport = WhatwattMqttTransport(hass, entry, coordinator)
        coordinator.transport = mqtt_transport
        await mqtt_transport.async_prepare()
    else:
        coordinator.transport = (LiveTransport if live else WhatwattTransport)(
            hass, entry, coordinator
        )
        await coordinator.async_config_entry_first_refresh()
    entry.runtime_data = coordinator
    # Registered first: whatever async_start set up before failing is stopped with the entry
    # (it raises ConfigEntryNotReady, so no platform is set up yet when it fails).
    entry.async_on_unload(coordinator.transport.async_stop)
    await coordinator.transport.async_start()
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    entry.async_on_unload(async_watch_meter_link(hass, coordinator))
    entry.async_on_unload(async_watch_license(hass, coordinator))
    return True


async def async_unload_entry(hass: HomeAssistant, entry: WhatwattConfigEntry) -> bool:
    """Unload the entities; the coordinator stops with the entry."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)


async def async_remove_entry(hass: HomeAssistant, entry: WhatwattConfigEntry) -> None:
    """Forget the entry's repair issues."""
    async_clear_entry_issues(hass, entry)
