"""The runtime of a loaded entry, built and wired in one place.

``async_build_runtime`` makes what ``entry.runtime_data`` holds: the REST client (none for an
MQTT-only entry), the device coordinator, the measurement coordinator and, for the push
transports, the push source (live stream or MQTT subscription). None of them holds another:
they are wired here with callables and coordinator listeners:

- the measurement coordinator follows each device read (``async_follow_device``: cadence,
  meter link) and asks for a device read when a reading shows a restart (``on_reboot``);
- a push source hands readings to the measurement coordinator (``async_push``) and, for the
  live stream, its failures (``async_push_failed``);
- the MQTT source follows the device's publish topic from each device read;
- the energy guard follows the meter's identity from each device read and announces a meter
  exchange as a ``device_event`` (``_announce_exchange``).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from homeassistant.const import CONF_HOST, CONF_PASSWORD
from homeassistant.helpers.aiohttp_client import async_get_clientsession

from .api.client import WhatwattClient
from .api.clock import DeviceZone
from .api.totals import TotalsGuard
from .const import (
    CONF_SCAN_INTERVAL,
    CONF_TRANSPORT,
    DEFAULT_SCAN_INTERVAL,
    TRANSPORT_LIVE,
    TRANSPORT_MQTT,
    TRANSPORT_REST,
)
from .coordinator import (
    EVENT_METER_EXCHANGED,
    DeviceCoordinator,
    DeviceEvent,
    MeasurementCoordinator,
    PushSource,
    WhatwattRuntimeData,
)
from .issues import async_watch_license
from .migration import async_identify, async_learn_from_messages
from .push_live import LiveSource
from .push_mqtt import MqttSource

if TYPE_CHECKING:
    from collections.abc import Callable

    from homeassistant.core import HomeAssistant

    from .coordinator import DeviceState, WhatwattConfigEntry


async def async_build_runtime(
    hass: HomeAssistant, entry: WhatwattConfigEntry
) -> WhatwattRuntimeData:
    """Read the device, take the first readings and make the push source (not yet started)."""
    transport = entry.data.get(CONF_TRANSPORT, TRANSPORT_REST)
    # The device's local times are read in the offset its clock shows (learnt from each
    # system read and live event).
    zone = DeviceZone()
    client = None
    if host := entry.data.get(CONF_HOST):
        session = async_get_clientsession(hass)
        client = WhatwattClient(session, host, entry.data.get(CONF_PASSWORD), tz=zone)
    # An entry taken over from the vendor's integration learns its device id first.
    client = await async_identify(hass, entry, client)
    device = DeviceCoordinator(hass, entry, client)
    totals = TotalsGuard(on_exchange=_announce_exchange(device))
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
        totals=totals,
        on_reboot=device.async_schedule_read,
    )
    # MQTT may flow while REST does not answer (a changed address, a firewalled HTTP port).
    await device.async_setup(required=transport != TRANSPORT_MQTT)
    _follow(device, measurements.async_follow_device)
    _follow(device, lambda state: totals.follow_meter(state.system.meter))
    # Watched from the first read on: a REST entry on a FREE device is told why it cannot load.
    entry.async_on_unload(async_watch_license(hass, entry, device))
    if transport == TRANSPORT_REST:
        await measurements.async_config_entry_first_refresh()
    elif transport == TRANSPORT_MQTT and client is not None and device.last_update_success:
        await measurements.async_refresh()  # the baseline: values before the first message
    source = _push_source(hass, entry, device, measurements, zone)
    return WhatwattRuntimeData(client, device, measurements, source)


def _push_source(
    hass: HomeAssistant,
    entry: WhatwattConfigEntry,
    device: DeviceCoordinator,
    measurements: MeasurementCoordinator,
    zone: DeviceZone,
) -> PushSource | None:
    """Return the push source of a live or MQTT entry, wired to the coordinators."""
    transport = entry.data.get(CONF_TRANSPORT, TRANSPORT_REST)
    if transport == TRANSPORT_MQTT:
        mqtt_source = MqttSource(hass, entry, device.device_id, measurements.async_push)
        async_learn_from_messages(hass, entry, mqtt_source)
        _follow(device, mqtt_source.async_follow_device, now=False)
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
        on_quiet=device.async_schedule_read,
        interval=lambda: measurements.interval,
        tz=zone,
    )


def _announce_exchange(device: DeviceCoordinator) -> Callable[[str | None, str | None], None]:
    """Return the energy guard's callable: a meter exchange becomes a ``device_event``."""

    def announce(old: str | None, new: str | None) -> None:
        details = (("old_meter_id", old), ("new_meter_id", new))
        event = DeviceEvent(EVENT_METER_EXCHANGED, details=details)
        device.async_set_updated_data(replace(device.data, events=(event,)))

    return announce


def _follow(
    device: DeviceCoordinator, follower: Callable[[DeviceState], None], *, now: bool = True
) -> None:
    """Hand every new device state to ``follower`` (``now``: the current one at once too)."""
    if now:
        follower(device.data)
    device.config_entry.async_on_unload(device.async_add_listener(lambda: follower(device.data)))


async def async_start_feed(entry: WhatwattConfigEntry) -> None:
    """Start the push source, if any; what it set up before failing stops with the entry."""
    runtime = entry.runtime_data
    if (source := runtime.source) is not None:
        entry.async_on_unload(source.async_stop)
        await source.async_start()
        runtime.measurements.async_watch_silence()
