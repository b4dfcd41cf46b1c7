"""The whatwatt Go integration."""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant.const import CONF_HOST, CONF_PASSWORD, Platform
from homeassistant.exceptions import ConfigEntryError
from homeassistant.helpers.aiohttp_client import async_get_clientsession

from .api.client import WhatwattClient
from .const import CONF_TRANSPORT, DOMAIN, TRANSPORT_REST
from .coordinator import WhatwattConfigEntry, WhatwattCoordinator
from .transport import WhatwattTransport

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

PLATFORMS: list[Platform] = [Platform.SENSOR]


async def async_setup_entry(hass: HomeAssistant, entry: WhatwattConfigEntry) -> bool:
    """Connect to the device and set up its entities."""
    transport = entry.data.get(CONF_TRANSPORT, TRANSPORT_REST)
    if transport != TRANSPORT_REST:
        raise ConfigEntryError(
            translation_domain=DOMAIN,
            translation_key="transport_not_supported",
            translation_placeholders={"transport": transport},
        )
    client = WhatwattClient(
        async_get_clientsession(hass),
        entry.data[CONF_HOST],
        entry.data.get(CONF_PASSWORD),
    )
    coordinator = WhatwattCoordinator(hass, entry, client)
    coordinator.transport = WhatwattTransport(hass, entry, coordinator)
    await coordinator.async_config_entry_first_refresh()
    entry.runtime_data = coordinator
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    await coordinator.transport.async_start()
    entry.async_on_unload(coordinator.transport.async_stop)
    return True


async def async_unload_entry(hass: HomeAssistant, entry: WhatwattConfigEntry) -> bool:
    """Unload the entities; the coordinator stops with the entry."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
