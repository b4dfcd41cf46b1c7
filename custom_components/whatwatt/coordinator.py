"""Data coordinator of the whatwatt Go integration.

One coordinator class serves every transport: the REST transport polls through
``_async_update_data``; push transports (MQTT, live stream) hand each new reading to
``async_push_report``. Staleness and availability are decided in one place, ``build_data``.
The device's system information and writable configuration are re-read every few minutes:
by the REST poll, and for push transports by ``async_device_tick`` (armed by the transport).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.event import async_call_later
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util import dt as dt_util

from .api.errors import (
    WhatwattAuthError,
    WhatwattError,
    WhatwattLicenseError,
    WhatwattTimeoutError,
)
from .const import (
    CLOCK_UNSET_SECONDS,
    CONF_SCAN_INTERVAL,
    DEFAULT_REPORT_INTERVAL,
    DEFAULT_SCAN_INTERVAL,
    DOMAIN,
    LOGGER,
    METER_STATUS_OK,
    MIN_STALE_SECONDS,
    STALE_INTERVALS,
    SYSTEM_REFRESH_INTERVAL,
)
from .device_control import async_read_config
from .issues import async_check_license

if TYPE_CHECKING:
    from .api.client import WhatwattClient
    from .api.models import MqttSettings, Report, Settings, SystemInfo
    from .transport import WhatwattTransport

type WhatwattConfigEntry = ConfigEntry[WhatwattCoordinator]

# A newly computed boot time within this many seconds of the known one is the same boot.
_LAST_BOOT_TOLERANCE = 60.0


@dataclass(frozen=True, slots=True)
class WhatwattData:
    """Everything the entities show, as one immutable snapshot."""

    system: SystemInfo
    report: Report | None = None
    meter_status: str | None = None
    stale: bool = False
    last_boot: datetime | None = None

    @property
    def measurements_available(self) -> bool:
        """Return True when measurement values may be shown."""
        return (
            self.report is not None
            and not self.stale
            and self.meter_status in (None, METER_STATUS_OK)
        )


def _meter_status(report: Report | None, system: SystemInfo) -> str | None:
    """Return the meter link status, preferring whichever source reports a problem."""
    report_status = report.meter.status if report is not None and report.meter else None
    system_status = system.meter.status
    for status in (report_status, system_status):
        if status and status != METER_STATUS_OK:
            return status
    return report_status or system_status


class WhatwattCoordinator(DataUpdateCoordinator[WhatwattData]):
    """Keep the latest reading and device health of one whatwatt Go."""

    config_entry: WhatwattConfigEntry

    def __init__(
        self,
        hass: HomeAssistant,
        config_entry: WhatwattConfigEntry,
        client: WhatwattClient | None,
        *,
        poll: bool = True,
        read_report: bool = True,
    ) -> None:
        """Set up the coordinator; ``poll=False`` for push transports.

        ``read_report=False``: refreshes read only ``/api/v1/system`` and keep the last pushed
        reading (the live transport; FREE devices answer 404 on ``/api/v1/report``).
        """
        self.client = client
        self.read_report = read_report
        self.scan_interval = float(
            config_entry.options.get(CONF_SCAN_INTERVAL, DEFAULT_SCAN_INTERVAL)
        )
        super().__init__(
            hass,
            LOGGER,
            config_entry=config_entry,
            name=f"{DOMAIN} {config_entry.title}",
            update_interval=timedelta(seconds=self.scan_interval) if poll else None,
            always_update=False,
        )
        self.system: SystemInfo | None = None
        self._system_fetched: datetime | None = None
        self._boot_id: str | None = None
        self._last_boot: datetime | None = None
        self._report_id: int | None = None
        self._report_id_since: datetime | None = None
        self._push_watchdog: CALLBACK_TYPE | None = None
        # The device's writable configuration as last read back (actions, config entities).
        self.settings: Settings | None = None
        self.mqtt_settings: MqttSettings | None = None
        self.mqtt_settings_at: datetime | None = None
        self._config_fetched: datetime | None = None
        self._device_read_failed = False
        # Set by async_setup_entry: starts/stops the data flow and follows device writes.
        self.transport: WhatwattTransport

    # -- shared logic (every transport) -------------------------------------------------

    def report_interval(self, report: Report | None) -> float:
        """Return the meter's reporting interval in seconds (best known)."""
        if report is not None and report.interval:
            return report.interval
        if self.system is not None and self.system.meter.report_interval:
            return self.system.meter.report_interval
        return DEFAULT_REPORT_INTERVAL

    def stale_after(self, interval: float) -> float:
        """Return after how many seconds without news data with this cadence is stale."""
        return max(STALE_INTERVALS * interval, MIN_STALE_SECONDS)

    def build_data(self, report: Report | None, now: datetime) -> WhatwattData:
        """Combine the latest reading with the device state and decide staleness."""
        assert self.system is not None
        stale_after = self.stale_after(self.report_interval(report))
        stale = False
        meter_status = _meter_status(report, self.system)
        if report is not None:
            if report.report_id is not None:
                if report.report_id != self._report_id or self._report_id_since is None:
                    self._report_id = report.report_id
                    self._report_id_since = now
                elif (now - self._report_id_since).total_seconds() > stale_after:
                    stale = True
            if report.timestamp is not None:
                age = (now - report.timestamp).total_seconds()
                if stale_after < age < CLOCK_UNSET_SECONDS:
                    stale = True
        return WhatwattData(
            system=self.system,
            report=report,
            meter_status=meter_status,
            stale=stale,
            last_boot=self._last_boot,
        )

    @callback
    def async_push_report(self, report: Report, *, interval: float | None = None) -> None:
        """Publish a reading delivered by a push transport.

        ``interval`` is the cadence the transport expects readings at (seconds; the meter's
        report interval when omitted). When no reading follows within ``stale_after`` of it,
        the measurement entities go unavailable until the next one arrives.
        """
        now = dt_util.utcnow()
        self._update_last_boot(report.uptime, now)
        self.async_set_updated_data(self.build_data(report, now))
        self._arm_push_watchdog(self.stale_after(interval or self.report_interval(report)))

    @callback
    def _arm_push_watchdog(self, seconds: float) -> None:
        """(Re)start the timer that marks pushed data stale when the pushes stop."""
        self._cancel_push_watchdog()
        self._push_watchdog = async_call_later(self.hass, seconds, self._async_push_silent)

    @callback
    def async_follow_push_interval(self, interval: float) -> None:
        """Follow a new push cadence: restart a running staleness timer with its timeout."""
        if self._push_watchdog is not None:
            self._arm_push_watchdog(self.stale_after(interval))

    @callback
    def _cancel_push_watchdog(self) -> None:
        if self._push_watchdog is not None:
            self._push_watchdog()
            self._push_watchdog = None

    @callback
    def _async_push_silent(self, _now: datetime) -> None:
        """No reading arrived in time: the measurements are stale."""
        self._push_watchdog = None
        if self.data is not None and not self.data.stale:
            if self.last_update_success:
                self.async_set_updated_data(replace(self.data, stale=True))
            else:  # keep a transport's error: stale data must not make the entities available
                self.data = replace(self.data, stale=True)

    async def async_shutdown(self) -> None:
        """Stop the push watchdog with the coordinator."""
        self._cancel_push_watchdog()
        await super().async_shutdown()

    def set_scan_interval(self, seconds: float) -> None:
        """Change the polling interval (takes effect from the next refresh on)."""
        self.scan_interval = float(seconds)
        self._apply_poll_interval(self.data.report if self.data else None)

    def _apply_poll_interval(self, report: Report | None) -> None:
        """Never poll faster than the meter reports."""
        if self.update_interval is not None:
            seconds = max(self.scan_interval, self.report_interval(report))
            self.update_interval = timedelta(seconds=seconds)

    def _update_last_boot(self, uptime: float | None, now: datetime) -> None:
        """Keep a boot time that does not move with every reading."""
        if uptime is not None:
            boot = (now - timedelta(seconds=uptime)).replace(microsecond=0)
        elif self.system is not None and self.system.last_boot is not None:
            boot = self.system.last_boot
        else:
            return
        if (
            self._last_boot is None
            or abs((boot - self._last_boot).total_seconds()) > _LAST_BOOT_TOLERANCE
        ):
            self._last_boot = boot

    @property
    def system_fetched(self) -> datetime | None:
        """Return when /api/v1/system was last read (None: never)."""
        return self._system_fetched

    @callback
    def async_keep_config(
        self, *, settings: Settings | None = None, mqtt_settings: MqttSettings | None = None
    ) -> None:
        """Keep the device's configuration as read or written; entities and transport follow."""
        if settings is not None:
            self.settings = settings
            self.transport.follow_settings(settings)
        if mqtt_settings is not None:
            self.mqtt_settings = mqtt_settings
            self.mqtt_settings_at = dt_util.utcnow()
        self.async_update_listeners()

    async def _async_read_config_when_due(self, now: datetime) -> None:
        """Re-read settings and MQTT settings at most every SYSTEM_REFRESH_INTERVAL."""
        if self._config_fetched is None or now - self._config_fetched >= SYSTEM_REFRESH_INTERVAL:
            self._config_fetched = now
            await async_read_config(self)

    @callback
    def note_device_unreachable(self, err: BaseException) -> None:
        """Log once that a device read outside the polling schedule failed (until it answers)."""
        if not self._device_read_failed:
            self._device_read_failed = True
            LOGGER.warning(
                "%s does not answer over REST: %s; its data comes by push meanwhile",
                self.config_entry.title,
                err,
            )

    async def async_device_tick(self, _now: datetime | None = None) -> None:
        """Push transports: re-read system information and configuration (every few minutes).

        Licence, meter link, MQTT link, health and firmware follow; errors keep the pushed data
        (logged once), a refused password starts re-authentication.
        """
        now = dt_util.utcnow()
        try:
            system = await self.async_refresh_system(now)
        except WhatwattAuthError:
            self.config_entry.async_start_reauth(self.hass)
            return
        except WhatwattError as err:
            self.note_device_unreachable(err)
            return
        if self._device_read_failed:
            self._device_read_failed = False
            LOGGER.info("%s answers over REST again", self.config_entry.title)
        self._config_fetched = now
        await async_read_config(self)
        assert self.data is not None  # the transport starts after the first data is in
        data = replace(
            self.data,
            system=system,
            meter_status=_meter_status(self.data.report, system),
            last_boot=self._last_boot,
        )
        if self.last_update_success:
            self.async_set_updated_data(data)
        else:  # keep a transport's error: the entities stay unavailable until it recovers
            self.data = data

    async def async_refresh_system(self, now: datetime | None = None) -> SystemInfo:
        """Read /api/v1/system and follow firmware changes in the device registry."""
        now = now or dt_util.utcnow()
        if self.client is None:
            # An MQTT-only entry: nothing to read; the device id is all that is known.
            assert self.system is not None
            return self.system
        system = await self.client.get_system()
        previous = self.system
        self.system = system
        self._system_fetched = now
        async_check_license(self.hass, self.config_entry, system)
        self._update_last_boot(system.uptime, now)
        if previous is not None and previous.firmware != system.firmware:
            registry = dr.async_get(self.hass)
            for device in dr.async_entries_for_config_entry(registry, self.config_entry.entry_id):
                if (DOMAIN, system.device_id) in device.identifiers:
                    registry.async_update_device(device.id, sw_version=system.firmware)
        return system

    # -- REST polling ----------------------------------------------------------------------

    def _system_due(self, now: datetime) -> bool:
        if self.system is None or self._system_fetched is None:
            return True
        if self.data is not None and not self.data.measurements_available:
            # Follow the meter link and the device closely while something is wrong.
            return True
        return now - self._system_fetched >= SYSTEM_REFRESH_INTERVAL

    async def _async_update_data(self) -> WhatwattData:
        """Poll the report (and, every few minutes, the system information)."""
        now = dt_util.utcnow()
        if self.client is None:
            # An MQTT-only entry has no address: its data only ever arrives by push.
            return self.build_data(self.data.report if self.data else None, now)
        try:
            if self._system_due(now) or not self.read_report:
                await self.async_refresh_system(now)
                await self._async_read_config_when_due(now)
            if not self.read_report:
                return self.build_data(self.data.report if self.data else None, now)
            report = await self.client.get_report()
            if report.boot_id is not None and report.boot_id != self._boot_id:
                if self._boot_id is not None:
                    # The device restarted: firmware and boot time may have changed.
                    await self.async_refresh_system(now)
                self._boot_id = report.boot_id
        except WhatwattAuthError as err:
            raise ConfigEntryAuthFailed(
                translation_domain=DOMAIN, translation_key="invalid_auth"
            ) from err
        except WhatwattLicenseError as err:
            raise UpdateFailed(
                translation_domain=DOMAIN, translation_key="license_required"
            ) from err
        except WhatwattTimeoutError as err:
            raise UpdateFailed(translation_domain=DOMAIN, translation_key="timeout") from err
        except WhatwattError as err:
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="communication_error",
                translation_placeholders={"error": str(err)},
            ) from err
        self._update_last_boot(report.uptime, now)
        self._apply_poll_interval(report)
        return self.build_data(report, now)
