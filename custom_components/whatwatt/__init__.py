"""The whatwatt Go integration: set-up, unload and removal of an entry.

The runtime (client, coordinators, push source) is built and wired in ``runtime.py``;
``docs/architecture.md`` describes the whole structure.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant.components import mqtt
from homeassistant.const import Platform
from homeassistant.exceptions import ConfigEntryError, ConfigEntryNotReady
from homeassistant.helpers import config_validation as cv

from .backfill import async_remove_coverage, async_setup_backfill
from .const import CONF_TRANSPORT, DOMAIN, TRANSPORT_MQTT, TRANSPORT_REST, TRANSPORTS
from .demand import async_remove_demand
from .issues import (
    async_clear_entry_issues,
    async_clear_mqtt_missing,
    async_clear_stale_license_issue,
    async_raise_mqtt_missing,
    async_watch_meter_link,
)
from .migration import async_clear_vendor_issue, async_migrate
from .runtime import async_build_runtime, async_start_feed
from .services import async_setup_services
from .submeter import async_remove_config_entry_device as async_remove_config_entry_device

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from homeassistant.helpers.typing import ConfigType

    from .coordinator import WhatwattConfigEntry

PLATFORMS: list[Platform] = [
    Platform.BUTTON,
    Platform.EVENT,
    Platform.NUMBER,
    Platform.SENSOR,
    Platform.SWITCH,
]
CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:  # noqa: ARG001
    """Register the integration's actions (once, whatever the number of entries)."""
    async_setup_services(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: WhatwattConfigEntry) -> bool:
    """Connect to the device and set up its entities."""
    await _async_check_transport(hass, entry)
    entry.runtime_data = await async_build_runtime(hass, entry)
    # Gaps in the history: filled from the SD card.
    entry.runtime_data.backfill = await async_setup_backfill(hass, entry)
    await async_start_feed(entry)
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    runtime = entry.runtime_data
    entry.async_on_unload(async_watch_meter_link(hass, entry, runtime.device, runtime.measurements))
    return True


async def _async_check_transport(hass: HomeAssistant, entry: WhatwattConfigEntry) -> None:
    """Refuse an unknown transport; wait for Home Assistant's MQTT client for an MQTT entry."""
    transport = entry.data.get(CONF_TRANSPORT, TRANSPORT_REST)
    if transport not in TRANSPORTS:
        raise ConfigEntryError(
            translation_domain=DOMAIN,
            translation_key="transport_not_supported",
            translation_placeholders={"transport": transport},
        )
    async_clear_stale_license_issue(hass, entry)
    if transport == TRANSPORT_MQTT:
        if not await mqtt.async_wait_for_mqtt_client(hass):
            async_raise_mqtt_missing(hass, entry)
            raise ConfigEntryNotReady(
                translation_domain=DOMAIN, translation_key="mqtt_not_available"
            )
        async_clear_mqtt_missing(hass, entry)


async def async_migrate_entry(hass: HomeAssistant, entry: WhatwattConfigEntry) -> bool:
    """Bring an entry to the current version (entries of the vendor's integration included)."""
    return async_migrate(hass, entry)


async def async_unload_entry(hass: HomeAssistant, entry: WhatwattConfigEntry) -> bool:
    """Unload the entities; the coordinators and the push source stop with the entry."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)


async def async_remove_entry(hass: HomeAssistant, entry: WhatwattConfigEntry) -> None:
    """Forget the entry's repair issues and what it stored."""
    async_clear_entry_issues(hass, entry)
    await async_remove_coverage(hass, entry.entry_id)
    await async_remove_demand(hass, entry.entry_id)
    async_clear_vendor_issue(hass, entry)
