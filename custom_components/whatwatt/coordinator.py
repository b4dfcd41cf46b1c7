"""An entry's two coordinators and the runtime data holding them (``docs/architecture.md``)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final, Protocol

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.event import async_call_later
from homeassistant.util import dt as dt_util

from .api.changes import (
    ReadingProgress,
    boot_time,
    device_events,
    meter_exchanged,
    system_after_write,
)
from .api.errors import WhatwattAuthError, WhatwattError
from .api.models import DeviceState, Report, SystemInfo
from .api.totals import TotalsGuard
from .auth_watch import WatchedCoordinator
from .const import (
    DEFAULT_REPORT_INTERVAL,
    DEVICE_REFRESH_INTERVAL,
    DOMAIN,
    LOGGER,
    METER_STATUS_OK,
    MIN_STALE_SECONDS,
    STALE_INTERVALS,
)

if TYPE_CHECKING:
    import asyncio
    from collections.abc import Mapping

    from .api.client import WhatwattClient
    from .api.models import MqttSettings, Settings
    from .auth_watch import AuthWatch

# The device's default publishing interval (``services.report_interval``), until it is read.
DEFAULT_PUBLISH_INTERVAL: Final = 30.0
# A silent push source with a device address: REST stands in after this many intervals ...
FALLBACK_AFTER_INTERVALS: Final = 2
# ... polling at the push interval, but not faster than this (seconds).
MIN_FALLBACK_POLL: Final = 5.0


class PushSource(Protocol):
    """A live stream or an MQTT subscription: started and stopped with the entry."""

    async def async_start(self) -> None:
        """Start delivering readings."""

    async def async_stop(self) -> None:
        """Stop: no task, timer, subscription or socket may remain (idempotent)."""

    def diagnostics(self) -> dict[str, Any]:
        """Return the source's state for the diagnostics."""


@dataclass(frozen=True, slots=True)
class Measurements:
    """A listener's context: the measurements it shows (told when one or availability changed)."""

    keys: tuple[str, ...]


class EntryBackfill(Protocol):
    """The entry's SD-card backfill (``backfill.Backfill``): its lock lets one run at a time."""

    lock: asyncio.Lock


@dataclass(slots=True)
class WhatwattRuntimeData:
    """What a loaded entry holds (``entry.runtime_data``)."""

    client: WhatwattClient | None
    device: DeviceCoordinator
    measurements: MeasurementCoordinator
    source: PushSource | None = None
    # What the sensor platform follows (``submeter.SubMeters``, ``demand.DemandTracker``; those
    # modules build on this one, so the types are checked where they are used).
    submeters: object | None = None
    backfill: EntryBackfill | None = None
    demand: object | None = None
    auth: AuthWatch | None = None  # an entry with the device address: its password


type WhatwattConfigEntry = ConfigEntry[WhatwattRuntimeData]


class DeviceCoordinator(WatchedCoordinator[DeviceState]):
    """Read the device's system information and configuration every few minutes."""

    config_entry: WhatwattConfigEntry

    def __init__(
        self,
        hass: HomeAssistant,
        config_entry: WhatwattConfigEntry,
        client: WhatwattClient | None,
    ) -> None:
        """Set up the reads; an entry without address (MQTT only) never reads."""
        super().__init__(
            hass,
            LOGGER,
            config_entry=config_entry,
            name=f"{DOMAIN} device {config_entry.title}",
            update_interval=DEVICE_REFRESH_INTERVAL if client is not None else None,
            always_update=False,
        )
        self.client = client
        self._expect_reboot = False

    @property
    def device_id(self) -> str:
        """Return the device id (the entry's unique id)."""
        assert self.config_entry.unique_id is not None
        return self.config_entry.unique_id

    async def async_setup(self, *, required: bool) -> None:
        """Read the device once; ``required=False`` lets the entry start from its id alone."""
        if self.client is not None:
            if required:
                await self.async_config_entry_first_refresh()
                return
            # Logged here, once, in the words of this case (recovery is logged as usual).
            await self._async_refresh(log_failures=False)
            if not self.last_update_success:
                LOGGER.warning(
                    "%s does not answer over REST: %s; its data comes by push meanwhile",
                    self.config_entry.title,
                    self.last_exception,
                )
        if self.data is None:
            self.data = DeviceState(system=SystemInfo(device_id=self.device_id))

    async def _async_update_data(self) -> DeviceState:
        """Read system information, settings and MQTT settings."""
        client = self.client
        previous = self.data
        if client is None:
            return previous
        try:
            system = await client.get_system()
        except WhatwattError as err:
            raise self.read_error(err) from err
        now = dt_util.utcnow()  # the moment its uptime counts to
        settings = previous.settings if previous is not None else None
        mqtt_settings = previous.mqtt_settings if previous is not None else None
        try:
            settings = await client.get_settings()
            mqtt_settings = await client.get_mqtt_settings()
        except WhatwattAuthError as err:
            raise self.read_error(err) from err
        except WhatwattError as err:  # the configuration stays as last known (unknown at first)
            LOGGER.debug("%s: configuration not read: %s", self.config_entry.title, err)
        known_boot = previous.last_boot if previous is not None else None
        state = DeviceState(
            system=system,
            settings=settings,
            mqtt_settings=mqtt_settings,
            last_boot=boot_time(system, now, known_boot),
            fetched=now,
        )
        if previous is not None and previous.fetched is not None:
            rebooted = previous.last_boot is not None and state.last_boot != previous.last_boot
            if rebooted and self._expect_reboot:  # the restart this entry asked for
                rebooted = self._expect_reboot = False
            state = replace(state, events=device_events(previous, state, rebooted=rebooted))
        return state

    @callback
    def async_keep(
        self, *, settings: Settings | None = None, mqtt_settings: MqttSettings | None = None
    ) -> None:
        """Keep what this entry wrote or read (name, MQTT client too): the next read compares."""
        kept: dict[str, Any] = {"settings": settings, "mqtt_settings": mqtt_settings}
        changes = {name: value for name, value in kept.items() if value is not None}
        system = system_after_write(self.data.system, settings, mqtt_settings)
        self.async_set_updated_data(replace(self.data, system=system, events=(), **changes))

    @callback
    def async_announce_exchange(self, old: str | None, new: str | None) -> None:
        """Tell a meter exchange found by the energy guard as a ``device_event``."""
        self.async_set_updated_data(replace(self.data, events=(meter_exchanged(old, new),)))

    @callback
    def async_schedule_read(self) -> None:
        """Read the device soon (a restart seen in a reading, a quiet live stream)."""
        if self.client is not None:
            self.config_entry.async_create_background_task(
                self.hass, self.async_request_refresh(), f"{DOMAIN} device read"
            )

    @callback
    def expect_reboot(self) -> None:
        """Expect the restart this entry asked for: the next reboot found is not announced."""
        self._expect_reboot = True


class MeasurementCoordinator(WatchedCoordinator[Report]):
    """Keep the latest reading: polled over REST, or pushed by a live stream or MQTT."""

    config_entry: WhatwattConfigEntry

    def __init__(
        self,
        hass: HomeAssistant,
        config_entry: WhatwattConfigEntry,
        client: WhatwattClient | None,
        *,
        scan_interval: float | None,
        fallback: bool = False,
        totals: TotalsGuard | None = None,
        on_reboot: CALLBACK_TYPE | None = None,
    ) -> None:
        """Poll every ``scan_interval`` s or wait for pushes; ``fallback``: an MQTT entry."""
        super().__init__(
            hass,
            LOGGER,
            config_entry=config_entry,
            name=f"{DOMAIN} {config_entry.title}",
            update_interval=timedelta(seconds=scan_interval) if scan_interval else None,
            always_update=True,
        )
        self.client = client
        self.scan_interval = scan_interval
        self.publishes = fallback
        self.can_fall_back = fallback and client is not None
        # Followed from the device coordinator's reads (``async_follow_device``).
        self.meter_interval: float | None = None
        self.push_interval: float | None = None
        self.system_meter_status: str | None = None
        self.fresh = True
        # True while readings arrive and the meter link is up (set with every update).
        self.measurements_available = False
        self.fallback_active = False
        self.pushes = 0
        self.on_reboot = on_reboot
        self._progress = ReadingProgress()
        self._last_push: datetime | None = None
        self._silence: CALLBACK_TYPE | None = None
        # Seeded by the total sensors as they restore (async_seed_total).
        self._totals = totals if totals is not None else TotalsGuard()
        # Listeners of measurements (key, callback), and what they were last told.
        self._value_listeners: list[tuple[str, CALLBACK_TYPE]] = []
        self._told: tuple[bool, bool, Mapping[str, float]] | None = None
        config_entry.async_on_unload(self.async_add_listener(self._tell_value_listeners))

    # -- timing --------------------------------------------------------------------------

    @property
    def interval(self) -> float:
        """Return the cadence readings come at (seconds; best known)."""
        if self.push_interval:
            return self.push_interval
        if self.data is not None and self.data.interval:
            return self.data.interval
        return self.meter_interval or DEFAULT_REPORT_INTERVAL

    @property
    def stale_after(self) -> float:
        """Return after how many seconds without a new reading the measurements are stale."""
        return max(STALE_INTERVALS * self.interval, MIN_STALE_SECONDS)

    @property
    def silent_after(self) -> float:
        """Return after how long without a push REST stands in (or the data goes stale)."""
        if self.can_fall_back:
            return FALLBACK_AFTER_INTERVALS * self.interval
        return self.stale_after

    @property
    def fallback_poll_interval(self) -> float:
        """Return the REST polling interval while a silent push source is stood in for."""
        return max(self.interval, MIN_FALLBACK_POLL)

    def set_scan_interval(self, seconds: float) -> None:
        """Change the polling interval of a REST entry (from the next refresh on)."""
        self.scan_interval = float(seconds)
        self._apply_poll_interval()

    def _apply_poll_interval(self) -> None:
        """Never poll faster than the meter reports."""
        if self.scan_interval:
            self.update_interval = timedelta(seconds=max(self.scan_interval, self.interval))

    @callback
    def async_follow_device(self, state: DeviceState) -> None:
        """Follow a device read: the meter's and the publish cadence, the meter link status."""
        interval = self.interval
        meter = state.system.meter
        self.meter_interval = meter.report_interval
        if self.publishes:
            published = state.settings.report_interval if state.settings is not None else None
            self.push_interval = float(published or DEFAULT_PUBLISH_INTERVAL)
        if self.interval != interval:
            self.async_interval_changed()
        if self.system_meter_status != meter.status:
            self.system_meter_status = meter.status
            if self.data is not None:
                self.async_update_listeners()

    # -- availability --------------------------------------------------------------------

    @property
    def meter_status(self) -> str | None:
        """Return the meter link status: the reading's (fresher), else the device read's."""
        report = self.data
        if report is not None and report.meter is not None and report.meter.status:
            return report.meter.status
        return self.system_meter_status

    @callback
    def async_update_listeners(self) -> None:
        """Decide availability once for all entities, then tell them (``Measurements``: if new)."""
        self.measurements_available = (
            self.last_update_success
            and self.fresh
            and self.data is not None
            and self.meter_status in (None, METER_STATUS_OK)
        )
        super().async_update_listeners()

    @callback
    def async_add_listener(
        self, update_callback: CALLBACK_TYPE, context: Any = None
    ) -> CALLBACK_TYPE:
        """Listen for updates (with ``Measurements``: for changes of those measurements)."""
        if not isinstance(context, Measurements):
            return super().async_add_listener(update_callback, context)
        pairs = [(key, update_callback) for key in context.keys]
        self._value_listeners = [*self._value_listeners, *pairs]  # a copy: told from a snapshot

        @callback
        def remove() -> None:
            self._value_listeners = [pair for pair in self._value_listeners if pair not in pairs]

        return remove

    @callback
    def _tell_value_listeners(self) -> None:
        """Tell the listeners of the measurements that changed (all when availability did)."""
        values = self.data.values if self.data is not None else {}
        told, now = self._told, (self.measurements_available, self.last_update_success, values)
        self._told = now
        if told is None or told[:2] != now[:2]:
            listeners = list(dict.fromkeys(listener for _, listener in self._value_listeners))
        elif told[2] != values:
            value, old_value = values.get, told[2].get
            listeners = [
                call for key, call in self._value_listeners if value(key) != old_value(key)
            ]
        else:
            return
        for listener in listeners:
            try:
                listener()
            except Exception:  # as the coordinator does for its other listeners
                self.logger.exception("Error updating a listener of %s", self.name)

    # -- REST ----------------------------------------------------------------------------

    async def _async_update_data(self) -> Report:
        """Read the report over REST (the poll, the MQTT baseline, the fallback)."""
        if self.client is None:  # an MQTT-only entry: readings only ever arrive by push
            return self.data
        try:
            report = await self.client.get_report()
        except WhatwattError as err:
            if isinstance(err, WhatwattAuthError):
                self._stop_fallback()
            raise self.read_error(err) from err
        self.fresh = self._progress.advancing(report, dt_util.utcnow(), self.stale_after)
        self._note_boot(report)
        self._apply_poll_interval()
        return self._totals.check(report)

    def _note_boot(self, report: Report) -> None:
        """Tell the device coordinator when a reading shows a restart (new boot id, uptime)."""
        if self._progress.restarted(report) and self.on_reboot is not None:
            self.on_reboot()

    @callback
    def async_seed_total(self, key: str, value: float) -> None:
        """Hand the energy guard a total Home Assistant recorded (restored by its sensor)."""
        if self.data is None:
            self._totals.seed(key, value)
        else:
            self.data = self._totals.late_seed(self.data, key, value)
            self._told = None  # its sensor shows the seeded reading: the next one tells all

    # -- pushes --------------------------------------------------------------------------

    @callback
    def async_push(self, report: Report) -> None:
        """Take a reading from a push source (the callable handed to it)."""
        self.pushes += 1
        self._last_push = dt_util.utcnow()
        if self.fallback_active:
            LOGGER.info("Readings from %s are pushed again", self.config_entry.title)
            self._stop_fallback()
        self.fresh = True
        self._note_boot(report)
        self.async_set_updated_data(self._totals.check(report))
        if self._silence is None:
            self._arm_silence(self.silent_after)

    @callback
    def async_push_failed(self, err: Exception) -> None:
        """Make the measurements unavailable: the push source lost its connection."""
        self.async_set_update_error(err)

    @callback
    def async_watch_silence(self) -> None:
        """Start the silence watchdog (a push source started: a first reading is due)."""
        self._last_push = dt_util.utcnow()
        self._arm_silence(self.silent_after)

    @callback
    def _arm_silence(self, seconds: float) -> None:
        self._cancel_silence()
        self._silence = async_call_later(self.hass, seconds, self._async_silence_check)

    @callback
    def _cancel_silence(self) -> None:
        if self._silence is not None:
            self._silence()
            self._silence = None

    @callback
    def _async_silence_check(self, now: datetime) -> None:
        """Re-arm while pushes arrive; when none came in time, fall back to REST or go stale."""
        self._silence = None
        if self._last_push is None:
            return
        left = self.silent_after - (now - self._last_push).total_seconds()
        if left > 0:
            self._arm_silence(left)
            return
        if self.can_fall_back:
            self._start_fallback()
        elif self.fresh:
            self.fresh = False
            self.async_update_listeners()

    @callback
    def async_interval_changed(self) -> None:
        """Follow a new cadence: the watchdog and a running fallback take the new timing."""
        if self._silence is not None:
            self._arm_silence(0)  # re-checked against the new timing at once
        if self.fallback_active:
            self.update_interval = timedelta(seconds=self.fallback_poll_interval)

    @callback
    def _start_fallback(self) -> None:
        LOGGER.info(
            "No reading pushed by %s for %.0f s; reading it over REST meanwhile",
            self.config_entry.title,
            self.silent_after,
        )
        self.fallback_active = True
        self.update_interval = timedelta(seconds=self.fallback_poll_interval)
        self.config_entry.async_create_background_task(
            self.hass, self.async_refresh(), f"{DOMAIN} REST fallback {self.config_entry.title}"
        )

    @callback
    def _stop_fallback(self) -> None:
        if self.fallback_active:
            self.fallback_active = False
            self.update_interval = None

    async def async_shutdown(self) -> None:
        """Stop the watchdog with the coordinator."""
        self._cancel_silence()
        await super().async_shutdown()
