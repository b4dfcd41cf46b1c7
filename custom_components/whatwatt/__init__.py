"""The whatwatt Go integration.

Set-up builds the entry's runtime (``coordinator.WhatwattRuntimeData``): the REST client (absent
for MQTT-only entries), the device coordinator, the measurement coordinator, for push transports
the push source that hands readings to it, and the SD-card ``backfill``. ``_follow_device`` lets the
measurements and the MQTT subscription follow what the device coordinator reads. The measurement
coordinator's energy guard starts from the totals Home Assistant last recorded
(``_restored_guard``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant.components import mqtt
from homeassistant.const import CONF_HOST, CONF_PASSWORD, Platform
from homeassistant.core import CALLBACK_TYPE, callback
from homeassistant.exceptions import ConfigEntryError, ConfigEntryNotReady
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.aiohttp_client import async_get_clientsession

from .api.client import WhatwattClient
from .api.clock import DeviceZone
from .api.totals import TotalsGuard
from .backfill import async_remove_coverage, async_setup_backfill
from .const import (
    CONF_SCAN_INTERVAL,
    CONF_TRANSPORT,
    DEFAULT_SCAN_INTERVAL,
    DOMAIN,
    LOGGER,
    TRANSPORT_LIVE,
    TRANSPORT_MQTT,
    TRANSPORT_REST,
)
from .coordinator import (
    DeviceCoordinator,
    MeasurementCoordinator,
    PushSource,
    WhatwattConfigEntry,
    WhatwattRuntimeData,
)
from .issues import (
    async_clear_entry_issues,
    async_clear_mqtt_missing,
    async_clear_stale_license_issue,
    async_raise_mqtt_missing,
    async_watch_license,
    async_watch_meter_link,
)
from .migration import (
    async_clear_vendor_issue,
    async_identify,
    async_learn_from_messages,
    async_migrate,
)
from .push_live import LiveSource
from .push_mqtt import MqttSource
from .sensor import restored_totals
from .service_schemas import topic_error
from .services import async_setup_services
from .submeter import (
    async_remove_config_entry_device as async_remove_config_entry_device,
    async_remove_store,
    restored_volumes,
)

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from homeassistant.helpers.typing import ConfigType

PLATFORMS: list[Platform] = [
    Platform.BUTTON,
    Platform.EVENT,
    Platform.NUMBER,
    Platform.SENSOR,
    Platform.SWITCH,
]
CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)
# The device's default publishing interval (services.report_interval), used until it is read.
DEFAULT_MQTT_INTERVAL = 30.0


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
    if transport == TRANSPORT_MQTT:
        if not await mqtt.async_wait_for_mqtt_client(hass):
            async_raise_mqtt_missing(hass, entry)
            raise ConfigEntryNotReady(
                translation_domain=DOMAIN, translation_key="mqtt_not_available"
            )
        async_clear_mqtt_missing(hass, entry)
    # MQTT-only entries have no address, hence no REST client. The device's local times are
    # read in the offset its clock shows (learnt from each system read and live event).
    zone = DeviceZone()
    client = (
        WhatwattClient(
            async_get_clientsession(hass),
            entry.data[CONF_HOST],
            entry.data.get(CONF_PASSWORD),
            tz=zone,
        )
        if entry.data.get(CONF_HOST)
        else None
    )
    # An entry taken over from the vendor's integration learns its device id first (migration.py).
    client = await async_identify(hass, entry, client)
    device = DeviceCoordinator(hass, entry, client)
    measurements = MeasurementCoordinator(
        hass,
        entry,
        client,
        scan_interval=(
            float(entry.options.get(CONF_SCAN_INTERVAL, DEFAULT_SCAN_INTERVAL))
            if transport == TRANSPORT_REST
            else None
        ),
        fallback=transport == TRANSPORT_MQTT,
        totals=_restored_guard(hass, device.device_id),
    )
    # MQTT may flow while REST does not answer (a changed address, a firewalled HTTP port).
    await device.async_setup(required=transport != TRANSPORT_MQTT)
    _follow_device(device, measurements, transport)
    # Watched from the first read on: a REST entry on a FREE device is told why it cannot load.
    entry.async_on_unload(async_watch_license(hass, entry, device))
    source: PushSource | None = None
    if transport == TRANSPORT_REST:
        await measurements.async_config_entry_first_refresh()
    elif transport == TRANSPORT_MQTT:
        if client is not None and device.last_update_success:
            await measurements.async_refresh()  # the baseline: values before the first message
        source = MqttSource(hass, entry, device.device_id, measurements.async_push)
        async_learn_from_messages(hass, entry, source)
    else:
        assert client is not None  # a live entry always has the device address
        source = LiveSource(
            hass,
            entry,
            client,
            on_report=measurements.async_push,
            on_error=measurements.async_push_failed,
            on_quiet=device.async_schedule_read,
            interval=lambda: measurements.interval,
            tz=zone,
        )
    entry.runtime_data = WhatwattRuntimeData(client, device, measurements, source)
    entry.runtime_data.backfill = await async_setup_backfill(hass, entry)  # gaps in the history
    if source is not None:
        # Registered first: whatever async_start set up before failing is stopped with the entry.
        entry.async_on_unload(source.async_stop)
        await source.async_start()
        measurements.async_watch_silence()
    if isinstance(source, MqttSource):
        entry.async_on_unload(_follow_topic(hass, entry, device, source))
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    entry.async_on_unload(async_watch_meter_link(hass, entry, device, measurements))
    return True


@callback
def _restored_guard(hass: HomeAssistant, device_id: str) -> TotalsGuard:
    """Return an energy guard seeded with the totals Home Assistant last recorded.

    Built before the first reading: a glitch in it (zero, garbage, a lower value after a restart
    of Home Assistant) is held against the recorded value instead of being taken as the
    register's first value. A register with nothing recorded takes its first reading as it is.
    """
    guard = TotalsGuard()
    recorded = restored_totals(hass, device_id) | restored_volumes(hass, device_id)
    for key, value in recorded.items():  # energy totals and sub-meter counters
        guard.seed(key, value)
    return guard


@callback
def _follow_device(
    device: DeviceCoordinator, measurements: MeasurementCoordinator, transport: str
) -> None:
    """Let the measurements follow the device's reads: cadence, meter link, restarts."""

    @callback
    def follow() -> None:
        state = device.data
        meter = state.system.meter
        interval = measurements.interval
        measurements.meter_interval = meter.report_interval
        if transport == TRANSPORT_MQTT:
            settings = state.settings
            measurements.push_interval = (
                float(settings.report_interval)
                if settings is not None and settings.report_interval
                else DEFAULT_MQTT_INTERVAL
            )
        if measurements.interval != interval:
            measurements.async_interval_changed()
        if measurements.system_meter_status != meter.status:
            measurements.system_meter_status = meter.status
            if measurements.data is not None:
                measurements.async_update_listeners()

    follow()
    device.config_entry.async_on_unload(device.async_add_listener(follow))
    measurements.on_reboot = device.async_schedule_read


@callback
def _follow_topic(
    hass: HomeAssistant, entry: WhatwattConfigEntry, device: DeviceCoordinator, source: MqttSource
) -> CALLBACK_TYPE:
    """Re-subscribe when the device's publish topic changes (written here or elsewhere).

    A topic that cannot be subscribed to and a client switched off are logged once each.
    """
    logged: set[object] = set()

    @callback
    def follow() -> None:
        mqtt_settings = device.data.mqtt_settings
        if mqtt_settings is None:
            return
        if mqtt_settings.enable is False and False not in logged:
            logged.add(False)
            LOGGER.warning(
                "The MQTT client of %s is disabled: this entry receives no MQTT data until it "
                "is enabled again",
                entry.title,
            )
        elif mqtt_settings.enable:
            logged.discard(False)
        if not (topic := mqtt_settings.topic) or topic == source.topic or topic in logged:
            return
        if topic_error(topic) is not None:
            logged.add(topic)
            LOGGER.warning(
                "%s publishes to %r, which cannot be subscribed to as one topic; this entry "
                "keeps listening on %s",
                entry.title,
                topic,
                source.topic,
            )
            return
        entry.async_create_background_task(
            hass, source.async_set_topic(topic), f"{DOMAIN} re-subscribe {entry.title}"
        )

    return device.async_add_listener(follow)


async def async_migrate_entry(hass: HomeAssistant, entry: WhatwattConfigEntry) -> bool:
    """Bring an entry to the current version (entries of the vendor's integration included)."""
    return async_migrate(hass, entry)


async def async_unload_entry(hass: HomeAssistant, entry: WhatwattConfigEntry) -> bool:
    """Unload the entities; the coordinators and the push source stop with the entry."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)


async def async_remove_entry(hass: HomeAssistant, entry: WhatwattConfigEntry) -> None:
    """Forget the entry's repair issues."""
    async_clear_entry_issues(hass, entry)
    await async_remove_coverage(hass, entry.entry_id)
    async_clear_vendor_issue(hass, entry)
    await async_remove_store(hass, entry)  # the sub-meters' missing times
