"""Fill gaps in the long-term statistics of an entry's energy sensors from the device's SD card.

``async_backfill`` repairs the hours ``start``..``end`` of one entry (the gap watcher in
``watch`` calls it after Home Assistant was down, the entry unloaded or the device
unreachable; the action ``whatwatt.backfill`` calls it on demand). In this order, stopping as soon
as there is nothing to do:

1. the window: the full hours of ``start``..``end`` that have ended, no older than
   ``MAX_BACKFILL_DAYS`` (and than the recorder keeps states: the rule below needs them);
2. the recorder (its executor, never the event loop): per energy sensor of the entry, the
   statistics metadata, the hourly rows around the window and the hours with a numeric state;
   the hours that may be written follow from ``plan`` rule 1. None: done, no request;
3. the device: one listing of the card. 503 (no card, or not mounted) or logging switched off
   (``services.sd.enable`` as last read) ends here with the repair issue "history gap not filled";
4. the daily files of the window (``card``), streamed and parsed row by row, at most
   ``MAX_FILE_BYTES`` each; every reading passes the energy guard (seeded with the rows before
   the gap), the last reading of each hour is that hour's closing reading;
5. ``async_import_statistics`` (source ``recorder``, statistic id = entity id, the sensor's own
   metadata as recorded, so ``mean_type``/``unit_class`` are whatever this Home Assistant uses)
   with the rows ``plan.plan_series`` allows; then wait until the recorder has them.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timedelta
import logging
from typing import TYPE_CHECKING, Any, Final, cast

from homeassistant.components.recorder.history import state_changes_during_period
from homeassistant.components.recorder.statistics import (
    async_import_statistics,
    get_metadata,
    statistics_during_period,
)
from homeassistant.components.sensor import DOMAIN as SENSOR_DOMAIN
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.recorder import get_instance
from homeassistant.util import dt as dt_util
from homeassistant.util.hass_dict import HassKey
from homeassistant.util.unit_conversion import EnergyConverter

from custom_components.whatwatt.api.errors import WhatwattRequestError, WhatwattUnavailableError
from custom_components.whatwatt.const import DOMAIN
from custom_components.whatwatt.issues import ISSUE_SD_LOGGING, async_clear_issue, async_raise_issue

from .card import Closings, device_offset, files_for, read_file
from .plan import (
    HOUR,
    HourRow,
    floor_hour,
    full_hours,
    importable_hours,
    plan_series,
)

if TYPE_CHECKING:
    from homeassistant.components.recorder.models import StatisticData, StatisticMetaData
    from homeassistant.core import HomeAssistant

    from custom_components.whatwatt.api.client import WhatwattClient
    from custom_components.whatwatt.coordinator import DeviceCoordinator, WhatwattConfigEntry

_LOGGER = logging.getLogger(__name__)

# The longest stretch one run repairs, counted back from now (documented in the README).
MAX_BACKFILL_DAYS: Final = 7
# How far before the window the row it continues is looked for.
ANCHOR_LOOKBACK: Final = timedelta(days=MAX_BACKFILL_DAYS)

# The registers taken from the card: sensor key → native unit.
SERIES: Final[dict[str, str]] = {
    "energy_import": "kWh",
    "energy_import_t1": "kWh",
    "energy_import_t2": "kWh",
    "energy_export": "kWh",
    "energy_export_t1": "kWh",
    "energy_export_t2": "kWh",
    "reactive_energy_import": "kvarh",
    "reactive_energy_export": "kvarh",
}

IMPORTED: Final = "imported"
NOTHING_MISSING: Final = "nothing_missing"
NO_SD_CARD: Final = "no_sd_card"
LOGGING_OFF: Final = "logging_off"
NO_DATA: Final = "no_data"

_LOCKS: HassKey[dict[str, asyncio.Lock]] = HassKey(f"{DOMAIN}_backfill_locks")


def entry_lock(hass: HomeAssistant, entry_id: str) -> asyncio.Lock:
    """Return the lock that lets one backfill of an entry run at a time."""
    return hass.data.setdefault(_LOCKS, {}).setdefault(entry_id, asyncio.Lock())


def recorder_loaded(hass: HomeAssistant) -> bool:
    """Return True when the recorder runs (there are statistics to fill)."""
    return "recorder" in hass.config.components


@dataclass(slots=True)
class _Series:
    """One energy sensor of the entry and what the recorder holds for it."""

    key: str
    entity_id: str
    native_unit: str
    metadata: StatisticMetaData | None = None
    rows: list[HourRow] = field(default_factory=list)
    protected: set[datetime] = field(default_factory=set)

    @property
    def unit(self) -> str | None:
        """Return the unit of the recorded statistics."""
        return self.metadata["unit_of_measurement"] if self.metadata is not None else None

    @property
    def usable(self) -> bool:
        """Return True for a sum statistic in a unit the register converts to."""
        meta = self.metadata
        if meta is None or not meta["has_sum"]:
            return False
        unit = self.unit
        if self.native_unit == "kWh":
            return unit in EnergyConverter.VALID_UNITS
        return unit == self.native_unit

    def to_unit(self, value: float) -> float:
        """Convert a native reading into the statistics' unit."""
        if self.native_unit == "kWh" and self.unit != "kWh":
            return EnergyConverter.convert(value, "kWh", self.unit)
        return value

    def to_native(self, value: float) -> float:
        """Convert a statistics value into the register's unit."""
        if self.native_unit == "kWh" and self.unit != "kWh":
            return EnergyConverter.convert(value, self.unit, "kWh")
        return value

    def anchor_native(self, first: datetime) -> float | None:
        """Return the state of the last row before ``first`` in the register's unit."""
        anchor = next((row for row in reversed(self.rows) if row.start < first), None)
        return self.to_native(anchor.state) if anchor and anchor.state is not None else None

    def import_metadata(self) -> StatisticMetaData:
        """Return the recorded metadata to import with (``has_mean`` is deprecated)."""
        assert self.metadata is not None
        metadata = dict(self.metadata)
        if "mean_type" in metadata:
            metadata.pop("has_mean", None)
        return cast("StatisticMetaData", metadata)


@dataclass(slots=True)
class BackfillResult:
    """What a run did: its outcome, window and, per sensor, the hours and amount imported."""

    outcome: str
    start: datetime | None = None
    end: datetime | None = None
    sensors: dict[str, tuple[int, float, str]] = field(default_factory=dict)
    hours: set[datetime] = field(default_factory=set)

    def as_dict(self) -> dict[str, Any]:
        """Return the result as the action answers it."""
        sensors: dict[str, Any] = {}
        for entity_id, (hours, amount, unit) in self.sensors.items():
            sensors[entity_id] = {"hours": hours, unit.lower(): round(amount, 3)}
        return {
            "outcome": self.outcome,
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
            "hours": len(self.hours),
            "sensors": sensors,
        }


def window_hours(
    start: datetime, end: datetime, now: datetime, keep_days: int | None = None
) -> list[datetime]:
    """Return the full, ended hours of ``start``..``end`` within the bounds of one run."""
    oldest = floor_hour(now) - timedelta(days=MAX_BACKFILL_DAYS)
    if keep_days is not None:
        oldest = max(oldest, now - timedelta(days=keep_days))
    return full_hours(max(start, oldest), min(end, now))


def _series(hass: HomeAssistant, entry: WhatwattConfigEntry) -> list[_Series]:
    """Return the entry's enabled energy sensors (by unique id, as the registry knows them)."""
    registry = er.async_get(hass)
    device_id = entry.unique_id
    found: list[_Series] = []
    for key, unit in SERIES.items():
        entity_id = registry.async_get_entity_id(SENSOR_DOMAIN, DOMAIN, f"{device_id}_{key}")
        registered = registry.async_get(entity_id) if entity_id else None
        if registered is not None and not registered.disabled:
            found.append(_Series(key, registered.entity_id, unit))
    return found


def _numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _read_recorded(hass: HomeAssistant, series: list[_Series], hours: list[datetime]) -> None:
    """Fill in metadata, hourly rows and protected hours (runs in the recorder's executor)."""
    ids = {item.entity_id for item in series}
    metadata = get_metadata(hass, statistic_ids=ids)
    first, end = hours[0], hours[-1] + HOUR
    rows = statistics_during_period(
        hass, first - ANCHOR_LOOKBACK, None, ids, "hour", None, {"state", "sum"}
    )
    for item in series:
        found = metadata.get(item.entity_id)
        item.metadata = found[1] if found is not None else None
        item.rows = [
            HourRow(dt_util.utc_from_timestamp(row["start"]), row.get("state"), row.get("sum"))
            for row in rows.get(item.entity_id, [])
        ]
        changes = state_changes_during_period(
            hass,
            first,
            end,
            entity_id=item.entity_id,
            no_attributes=True,
            include_start_time_state=False,
        )
        item.protected = {
            floor_hour(state.last_updated)
            for state in changes.get(item.entity_id, [])
            if _numeric(state.state)
        }


def logging_off(device: DeviceCoordinator) -> bool:
    """Return True when the device's last read settings show SD-card logging switched off."""
    settings = device.data.settings if device.data is not None else None
    if settings is None:
        return False
    sd = settings.raw.get("services", {}).get("sd", {})
    return isinstance(sd, dict) and sd.get("enable") is False


async def async_backfill(
    hass: HomeAssistant, entry: WhatwattConfigEntry, start: datetime, end: datetime
) -> BackfillResult:
    """Repair the hours of ``start``..``end`` (see the module docstring); one run at a time.

    Device errors (unreachable, timeouts) propagate as the client's ``WhatwattError``s.
    """
    async with entry_lock(hass, entry.entry_id):
        return await _async_backfill(hass, entry, start, end)


async def _async_backfill(
    hass: HomeAssistant, entry: WhatwattConfigEntry, start: datetime, end: datetime
) -> BackfillResult:
    client = entry.runtime_data.client
    if not recorder_loaded(hass) or client is None:
        return BackfillResult(NOTHING_MISSING)
    instance = get_instance(hass)
    await instance.async_db_ready
    await instance.async_recorder_ready.wait()  # missed statistics are compiled before us
    hours = window_hours(start, end, dt_util.utcnow(), instance.keep_days)
    if not hours or not (series := _series(hass, entry)):
        return BackfillResult(NOTHING_MISSING)
    result = BackfillResult(NOTHING_MISSING, hours[0], hours[-1] + HOUR)
    await instance.async_add_executor_job(_read_recorded, hass, series, hours)
    series = [item for item in series if item.usable]
    if not any(importable_hours(item.rows, hours, item.protected) for item in series):
        return result
    closings = await _async_read_card(hass, entry, client, series, hours, result)
    if closings is None:
        return result
    for item in series:
        _import(hass, entry, item, hours, closings.values[item.key], result)
    gap = f"{_local(hours[0])} to {_local(hours[-1] + HOUR)}"
    if result.hours:
        await instance.async_block_till_done()
        result.outcome = IMPORTED
        async_clear_issue(hass, entry, ISSUE_SD_LOGGING)
        _LOGGER.info("%s: %s hours filled from the SD card", entry.title, len(result.hours))
    elif not any(closings.values.values()):
        result.outcome = NO_DATA
        _LOGGER.info("%s: the SD card holds no readings for %s", entry.title, gap)
    return result


async def _async_read_card(
    hass: HomeAssistant,
    entry: WhatwattConfigEntry,
    client: WhatwattClient,
    series: list[_Series],
    hours: list[datetime],
    result: BackfillResult,
) -> Closings | None:
    """Read the window's readings from the card; None (issue raised) without card or logging."""
    gap = f"{_local(hours[0])} to {_local(hours[-1] + HOUR)}"
    try:
        listing = await client.get_sdcard_listing()
    except (WhatwattUnavailableError, WhatwattRequestError) as err:
        _LOGGER.info("%s: no SD card to fill %s from (%s)", entry.title, gap, err)
        _raise_issue(hass, entry, "sd_card_missing", hours)
        result.outcome = NO_SD_CARD
        return None
    if logging_off(entry.runtime_data.device):
        _LOGGER.info("%s: SD-card logging is off, %s stays as recorded", entry.title, gap)
        _raise_issue(hass, entry, "sd_logging_off", hours)
        result.outcome = LOGGING_OFF
        return None
    seeds = {item.key: item.anchor_native(hours[0]) for item in series}
    closings = Closings(seeds, hours, entry.title)
    for sd_file in files_for(listing, hours, device_offset(client)):
        await read_file(client, sd_file, hours, closings)
        if closings.stopped:
            break
    return closings


def _import(
    hass: HomeAssistant,
    entry: WhatwattConfigEntry,
    item: _Series,
    hours: list[datetime],
    closing: dict[datetime, float],
    result: BackfillResult,
) -> None:
    """Queue the rows ``plan_series`` allows for one sensor and count them in ``result``."""
    readings = {hour: item.to_unit(value) for hour, value in closing.items()}
    plan = plan_series(item.rows, hours, item.protected, readings)
    if plan.problem is not None:
        _LOGGER.warning(
            "%s: the statistics of %s are left as they are (%s)",
            entry.title,
            item.entity_id,
            plan.problem,
        )
    if not plan.rows:
        return
    rows = [cast("StatisticData", dict(row)) for row in plan.rows]
    async_import_statistics(hass, item.import_metadata(), rows)
    amount = item.to_native(plan.amount) if item.native_unit == "kWh" else plan.amount
    result.sensors[item.entity_id] = (len(rows), amount, item.native_unit)
    result.hours.update(plan.hours)


def _local(moment: datetime) -> str:
    """Return a time in Home Assistant's time zone, as the log and the repair issue show it."""
    return f"{dt_util.as_local(moment):%Y-%m-%d %H:%M}"


def _raise_issue(
    hass: HomeAssistant, entry: WhatwattConfigEntry, key: str, hours: list[datetime]
) -> None:
    placeholders = {"start": _local(hours[0]), "end": _local(hours[-1] + HOUR)}
    async_raise_issue(
        hass, entry, ISSUE_SD_LOGGING, translation_key=key, placeholders=placeholders, fixable=True
    )


def _invalid(key: str, **placeholders: str) -> ServiceValidationError:
    return ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders=placeholders or None,
    )


async def async_backfill_action(
    hass: HomeAssistant, entry: WhatwattConfigEntry, start: datetime, end: datetime | None
) -> dict[str, Any]:
    """Run the action ``whatwatt.backfill`` for ``start``..``end`` (default: now).

    Times without a zone are Home Assistant's local time. Refused (translated) for an entry without
    a device address, without the recorder, an empty range and a start more than
    ``MAX_BACKFILL_DAYS`` ago.
    """
    if entry.runtime_data.client is None:
        raise _invalid("backfill_no_address")
    if not recorder_loaded(hass):
        raise _invalid("backfill_no_recorder")
    now = dt_util.utcnow()
    first = dt_util.as_utc(start)
    last = min(dt_util.as_utc(end), now) if end is not None else now
    if first >= last:
        raise _invalid("backfill_invalid_range")
    if first < now - timedelta(days=MAX_BACKFILL_DAYS):
        raise _invalid("backfill_too_old", days=str(MAX_BACKFILL_DAYS))
    result = await async_backfill(hass, entry, first, last)
    return result.as_dict()
