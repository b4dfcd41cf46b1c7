"""The whatwatt Go integration: an entry's runtime built and wired (``docs/architecture.md``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant.components import mqtt
from homeassistant.const import CONF_HOST, CONF_PASSWORD, Platform
from homeassistant.exceptions import ConfigEntryError, ConfigEntryNotReady
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.aiohttp_client import async_get_clientsession

from .api.client import WhatwattClient
from .api.clock import DeviceZone
from .api.totals import TotalsGuard
from .auth_watch import AuthWatch
from .backfill import async_remove_coverage, async_setup_backfill
from .const import (
    CONF_SCAN_INTERVAL,
    DEFAULT_SCAN_INTERVAL,
    DOMAIN,
    TRANSPORT_LIVE,
    TRANSPORT_MQTT,
    TRANSPORT_REST,
    TRANSPORTS,
    transport_of,
)
from .coordinator import (
    DeviceCoordinator,
    MeasurementCoordinator,
    PushSource,
    WhatwattRuntimeData,
)
from .demand import async_remove_demand
from .entity import async_follow_registry
from .issues import (
    async_clear_entry_issues,
    async_clear_stale_license_issue,
    async_set_mqtt_missing,
    async_watch_license,
    async_watch_meter_link,
)
from .migration import (
    async_identify,
    async_learn_from_messages,
    async_migrate_entry as async_migrate_entry,
)
from .push_live import LiveSource
from .push_mqtt import MqttSource
from .services import async_setup_services
from .submeter import async_remove_config_entry_device as async_remove_config_entry_device

if TYPE_CHECKING:
    from collections.abc import Callable

    from homeassistant.core import HomeAssistant
    from homeassistant.helpers.typing import ConfigType

    from .api.models import DeviceState
    from .coordinator import WhatwattConfigEntry

PLATFORMS = [Platform.BUTTON, Platform.EVENT, Platform.NUMBER, Platform.SENSOR, Platform.SWITCH]
CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:  # noqa: ARG001
    """Register the integration's actions (once, whatever the number of entries)."""
    async_setup_services(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: WhatwattConfigEntry) -> bool:
    """Connect to the device and set up its entities."""
    await _async_check_transport(hass, entry)
    runtime = entry.runtime_data = await async_build_runtime(hass, entry)
    runtime.backfill = await async_setup_backfill(hass, entry)
    if (source := runtime.source) is not None:  # what it set up before failing stops with the entry
        entry.async_on_unload(source.async_stop)
        await source.async_start()
        runtime.measurements.async_watch_silence()
    if runtime.auth is not None:
        runtime.auth.async_start()
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    async_watch_meter_link(hass, entry, runtime.device, runtime.measurements)
    return True


async def _async_check_transport(hass: HomeAssistant, entry: WhatwattConfigEntry) -> None:
    """Refuse an unknown transport; wait for Home Assistant's MQTT client for an MQTT entry."""
    transport = transport_of(entry)
    if transport not in TRANSPORTS:
        raise ConfigEntryError(
            translation_domain=DOMAIN,
            translation_key="transport_not_supported",
            translation_placeholders={"transport": transport},
        )
    async_clear_stale_license_issue(hass, entry)
    if transport == TRANSPORT_MQTT:
        available = await mqtt.async_wait_for_mqtt_client(hass)
        async_set_mqtt_missing(hass, entry, missing=not available)
        if not available:
            raise ConfigEntryNotReady(
                translation_domain=DOMAIN, translation_key="mqtt_not_available"
            )


async def async_unload_entry(hass: HomeAssistant, entry: WhatwattConfigEntry) -> bool:
    """Unload the entities; the coordinators and the push source stop with the entry."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)


async def async_remove_entry(hass: HomeAssistant, entry: WhatwattConfigEntry) -> None:
    """Forget the entry's repair issues and what it stored."""
    async_clear_entry_issues(hass, entry)
    await async_remove_coverage(hass, entry.entry_id)
    await async_remove_demand(hass, entry.entry_id)


async def async_build_runtime(
    hass: HomeAssistant, entry: WhatwattConfigEntry
) -> WhatwattRuntimeData:
    """Read the device, take the first readings and make the push source (not yet started)."""
    transport = transport_of(entry)
    client = None
    if host := entry.data.get(CONF_HOST):
        session = async_get_clientsession(hass)
        client = WhatwattClient(session, host, entry.data.get(CONF_PASSWORD), tz=DeviceZone())
    client = await async_identify(hass, entry, client)
    device = DeviceCoordinator(hass, entry, client)
    async_follow_registry(device)
    totals = TotalsGuard(on_exchange=device.async_announce_exchange)
    scan_interval = float(entry.options.get(CONF_SCAN_INTERVAL, DEFAULT_SCAN_INTERVAL))
    measurements = MeasurementCoordinator(
        hass,
        entry,
        client,
        scan_interval=scan_interval if transport == TRANSPORT_REST else None,
        fallback=transport == TRANSPORT_MQTT,
        totals=totals,
        on_reboot=device.async_schedule_read,
    )
    auth = _auth_watch(hass, entry, device, measurements)
    # MQTT may flow while REST does not answer (a changed address, a firewalled HTTP port).
    await device.async_setup(required=transport != TRANSPORT_MQTT)
    _follow(device, measurements.async_follow_device)
    _follow(device, lambda state: totals.follow_meter(state.system.meter))
    # Watched from the first read on: a REST entry on a FREE device is told why it cannot load.
    async_watch_license(hass, entry, device)
    if transport == TRANSPORT_REST:
        await measurements.async_config_entry_first_refresh()
    elif transport == TRANSPORT_MQTT and client is not None and device.last_update_success:
        await measurements.async_refresh()  # the baseline: values before the first message
    source = _push_source(hass, entry, transport, device, measurements)
    if auth is not None and isinstance(source, LiveSource):
        auth.on_heal(source.async_resume)
    return WhatwattRuntimeData(client, device, measurements, source, auth=auth)


def _auth_watch(
    hass: HomeAssistant,
    entry: WhatwattConfigEntry,
    device: DeviceCoordinator,
    measurements: MeasurementCoordinator,
) -> AuthWatch | None:
    """Return the watch of the entry's password (an entry with the device address)."""
    if device.client is None:
        return None
    auth = AuthWatch(hass, entry, device.client)
    device.on_refused = measurements.on_refused = auth.async_refused
    entry.async_on_unload(auth.async_stop)
    # When the stored password works again: reads, polling (the live stream: its source).
    auth.on_heal(device.async_resume)
    if (transport := transport_of(entry)) == TRANSPORT_REST:
        auth.on_heal(measurements.async_resume)
    elif transport == TRANSPORT_MQTT:  # the REST stand-in watches for silence again
        auth.on_heal(measurements.async_watch_silence)
    return auth


def _push_source(
    hass: HomeAssistant,
    entry: WhatwattConfigEntry,
    transport: str,
    device: DeviceCoordinator,
    measurements: MeasurementCoordinator,
) -> PushSource | None:
    """Return the push source of a live or MQTT entry, wired to the coordinators."""
    if transport == TRANSPORT_MQTT:
        mqtt_source = MqttSource(hass, entry, device.device_id, measurements.async_push)
        async_learn_from_messages(hass, entry, mqtt_source)
        # From the first device read on: a restart does not keep an outdated topic.
        _follow(device, mqtt_source.async_follow_device)
        return mqtt_source
    if transport != TRANSPORT_LIVE:
        return None
    assert device.client is not None  # a live entry always has the device address
    return LiveSource(
        hass,
        entry,
        device.client,
        on_report=measurements.async_push,
        on_error=measurements.async_push_failed,
        on_refused=measurements.async_set_refused,
        on_quiet=device.async_schedule_read,
        interval=lambda: measurements.interval,
    )


def _follow(device: DeviceCoordinator, follower: Callable[[DeviceState], None]) -> None:
    """Hand the current device state and every new one to ``follower``."""
    follower(device.data)
    device.config_entry.async_on_unload(device.async_add_listener(lambda: follower(device.data)))
