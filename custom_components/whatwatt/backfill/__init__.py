"""Gaps in the energy statistics filled from the SD card (rules: ``docs/architecture.md``)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
import logging
from typing import TYPE_CHECKING, Any, Final, cast

from homeassistant.components.recorder.statistics import async_import_statistics
from homeassistant.const import EVENT_RECORDER_5MIN_STATISTICS_GENERATED
from homeassistant.core import CALLBACK_TYPE, callback
from homeassistant.helpers.event import async_call_later
from homeassistant.helpers.recorder import get_instance
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from custom_components.whatwatt.api.errors import (
    WhatwattError,
    WhatwattRequestError,
    WhatwattUnavailableError,
)
from custom_components.whatwatt.api.sdcard import logs_to_card, read_closings, sd_logging
from custom_components.whatwatt.const import DOMAIN
from custom_components.whatwatt.errors import validation_error
from custom_components.whatwatt.issues import ISSUE_SD_LOGGING, async_clear_issue, async_raise_issue

from .plan import HOUR, MAX_BACKFILL_DAYS, full_hours, importable_hours, plan_series, window_hours
from .statistics import Series, async_wait_recorder, entry_series, read_recorded, recorder_loaded

if TYPE_CHECKING:
    from homeassistant.components.recorder.models import StatisticData
    from homeassistant.core import HomeAssistant

    from custom_components.whatwatt.api.sdcard import Closings
    from custom_components.whatwatt.coordinator import WhatwattConfigEntry

    from .plan import SeriesPlan

_LOGGER = logging.getLogger(__name__)

IMPORTED: Final = "imported"
NOTHING_MISSING: Final = "nothing_missing"
NO_SD_CARD: Final = "no_sd_card"
LOGGING_OFF: Final = "logging_off"
NO_DATA: Final = "no_data"
DEFERRED: Final = "deferred"

STORE_VERSION: Final = 1
# The stored time of the last reading is refreshed at most this often (seconds).
HEARTBEAT: Final = 300.0
RETRY_AFTER: Final = timedelta(minutes=15)
# A run deferred until the recorder's next compile is tried again at most this often.
MAX_DEFERRALS: Final = 12


@dataclass(slots=True)
class BackfillResult:
    """What a run did: its outcome, window and, per sensor, the hours and amount imported."""

    outcome: str = NOTHING_MISSING
    start: datetime | None = None
    end: datetime | None = None
    sensors: dict[str, dict[str, float]] = field(default_factory=dict)
    hours: set[datetime] = field(default_factory=set)

    def as_dict(self) -> dict[str, Any]:
        """Return the result as the action answers it."""
        return {
            "outcome": self.outcome,
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
            "hours": len(self.hours),
            "sensors": self.sensors,
        }


def _store(hass: HomeAssistant, entry_id: str) -> Store[dict[str, Any]]:
    return Store(hass, STORE_VERSION, f"{DOMAIN}.coverage.{entry_id}")


def _time(value: Any) -> datetime | None:
    return dt_util.parse_datetime(value) if isinstance(value, str) else None


class Backfill:
    """An entry's backfill: one run at a time (``lock``); follows the readings, fills the gaps."""

    def __init__(self, hass: HomeAssistant, entry: WhatwattConfigEntry) -> None:
        """Watch ``entry`` (loaded, with a device address)."""
        self._hass = hass
        self._entry = entry
        self.lock = asyncio.Lock()
        self._store = _store(hass, entry.entry_id)
        self.last_reading: datetime | None = None
        self.pending: list[tuple[datetime, datetime]] = []
        self._save_scheduled = False
        self._running = False
        self._retry: CALLBACK_TYPE | None = None  # a timer, or a wait for the next compile
        self._deferrals = 0

    async def async_start(self) -> None:
        """Read what was kept from before; follow the readings and the device reads until unload."""
        data = await self._store.async_load() or {}
        self.last_reading = _time(data.get("last_reading"))
        for item in data.get("pending") or ():
            if isinstance(item, list) and len(item) == 2:
                start, end = _time(item[0]), _time(item[1])
                if start is not None and end is not None and start < end:
                    self.pending.append((start, end))
        runtime = self._entry.runtime_data
        self._entry.async_on_unload(self.async_stop)
        self._entry.async_on_unload(runtime.measurements.async_add_listener(self._on_reading))
        self._entry.async_on_unload(runtime.device.async_add_listener(self._on_device))
        self._on_reading()
        self._on_device()
        if self.pending:
            self._start_run()

    async def async_stop(self) -> None:
        """Stop retrying and keep what is known (the entry unloads)."""
        if self._retry is not None:
            self._retry()
            self._retry = None
        await self._store.async_save(self._data())

    def _data(self) -> dict[str, Any]:
        self._save_scheduled = False
        return {
            "last_reading": self.last_reading.isoformat() if self.last_reading else None,
            "pending": [[start.isoformat(), end.isoformat()] for start, end in self.pending],
        }

    @callback
    def _on_reading(self) -> None:
        """Note a reading; a silence that held a full hour is a gap to fill."""
        if not self._entry.runtime_data.measurements.measurements_available:
            return
        now = dt_util.utcnow()
        last, self.last_reading = self.last_reading, now
        if last is not None and full_hours(last, now):
            _LOGGER.info("%s: no readings from %s to %s", self._entry.title, last, now)
            self.pending.append((last, now))
            self._save()
            self._start_run()
        else:
            self._save(HEARTBEAT)

    @callback
    def _save(self, delay: float = 0) -> None:
        """Write soon (the store keeps the latest time asked for, so a due write is left be)."""
        if delay and self._save_scheduled:
            return
        self._save_scheduled = True
        self._store.async_delay_save(self._data, delay)

    @callback
    def _on_device(self) -> None:
        """Clear the "history gap not filled" issue once logging is on and a card is in."""
        state = self._entry.runtime_data.device.data
        if logs_to_card(state.system, state.settings):
            async_clear_issue(self._hass, self._entry, ISSUE_SD_LOGGING)

    @callback
    def _start_run(self) -> None:
        if self._running or self._retry is not None:
            return
        self._running = True
        self._entry.async_create_background_task(
            self._hass, self._async_run(), f"{DOMAIN} backfill {self._entry.title}"
        )

    @callback
    def _retry_now(self, _now: object) -> None:
        self._retry = None
        self._start_run()

    async def _async_run(self) -> None:
        """Fill the pending gaps, oldest first; a device error or a deferral: again later."""
        try:
            while self.pending:
                start, end = self.pending[0]
                live = end > dt_util.utcnow() - timedelta(days=MAX_BACKFILL_DAYS)
                if live and recorder_loaded(self._hass) and not await self._fill(start, end):
                    return
                self.pending.pop(0)
                self._save()
        finally:
            self._running = False

    async def _fill(self, start: datetime, end: datetime) -> bool:
        """Run the gap; False when it is to be run again (a device error, a deferred run)."""
        try:
            async with self.lock:
                result = await async_backfill(self._hass, self._entry, start, end)
        except WhatwattError as err:
            _LOGGER.info("%s: the gap from %s is filled later: %s", self._entry.title, start, err)
            self._retry = async_call_later(self._hass, RETRY_AFTER, self._retry_now)
            return False
        except Exception:  # a bug must not keep the gap open for ever
            _LOGGER.exception("%s: gap from %s not filled", self._entry.title, start)
            return True
        if result.outcome == DEFERRED and self._deferrals < MAX_DEFERRALS:
            self._deferrals += 1
            event = EVENT_RECORDER_5MIN_STATISTICS_GENERATED
            self._retry = self._hass.bus.async_listen_once(event, self._retry_now)
            return False
        self._deferrals = 0
        return True


async def async_remove_coverage(hass: HomeAssistant, entry_id: str) -> None:
    """Forget what the watcher kept for a removed entry."""
    await _store(hass, entry_id).async_remove()


async def async_setup_backfill(hass: HomeAssistant, entry: WhatwattConfigEntry) -> Backfill | None:
    """Return the backfill of a loaded entry, watching for gaps; None without a device address."""
    if entry.runtime_data.client is None:
        return None
    backfill = Backfill(hass, entry)
    await backfill.async_start()
    return backfill


async def async_backfill(
    hass: HomeAssistant, entry: WhatwattConfigEntry, start: datetime, end: datetime
) -> BackfillResult:
    """Repair ``start``..``end`` (recorder loaded, under the lock); device errors propagate."""
    await async_wait_recorder(hass)
    instance = get_instance(hass)
    hours = window_hours(start, end, dt_util.utcnow(), instance.keep_days)
    if not hours or not (series := entry_series(hass, entry)):
        return BackfillResult()
    result = BackfillResult(NOTHING_MISSING, hours[0], hours[-1] + HOUR)
    await instance.async_add_executor_job(read_recorded, hass, series, hours)
    series = [item for item in series if item.usable]
    if any(item.uncompiled for item in series):
        return _deferred(entry, result, "the recorder compiles hours of it yet")
    if not any(importable_hours(item.rows, hours, item.protected) for item in series):
        return result
    closings = await _async_read_card(hass, entry, series, hours)
    if isinstance(closings, str):
        return replace(result, outcome=closings)
    plans = [(item, _plan(item, hours, closings)) for item in series]
    if any(plan.shift and not item.continued for item, plan in plans):
        return _deferred(entry, result, "the meter was exchanged in it, the hour after waits")
    for item, plan in plans:
        _import(hass, entry.title, item, plan, result)
    if result.hours:
        result.outcome = IMPORTED
        async_clear_issue(hass, entry, ISSUE_SD_LOGGING)
        _LOGGER.info("%s: %s hours filled from the SD card", entry.title, len(result.hours))
    elif not any(closings.values.values()):
        result.outcome = NO_DATA
        _LOGGER.info("%s: the SD card holds no readings from %s to %s", entry.title, *_gap(hours))
    return result


def _deferred(entry: WhatwattConfigEntry, result: BackfillResult, why: str) -> BackfillResult:
    """Leave the window for a run after the recorder's next compile (nothing is written)."""
    _LOGGER.info("%s: the gap from %s is filled later: %s", entry.title, result.start, why)
    result.outcome = DEFERRED
    return result


def _plan(item: Series, hours: list[datetime], closings: Closings) -> SeriesPlan:
    """Return one sensor's plan from the card's readings (in the statistics' unit)."""
    readings = {hour: item.to_unit(value) for hour, value in closings.values[item.key].items()}
    used = {hour: item.to_unit(value) for hour, value in closings.used[item.key].items()}
    return plan_series(item.rows, hours, item.protected, readings, used)


async def _async_read_card(
    hass: HomeAssistant, entry: WhatwattConfigEntry, series: list[Series], hours: list[datetime]
) -> Closings | str:
    """Read the window's readings from the card; without card or logging, the outcome instead."""
    client = entry.runtime_data.client
    assert client is not None
    try:
        listing = await client.get_sdcard_listing()
    except (WhatwattUnavailableError, WhatwattRequestError) as err:
        return _not_read(hass, entry, hours, NO_SD_CARD, f"no SD card ({err})")
    if sd_logging(entry.runtime_data.device.data.settings) is False:
        return _not_read(hass, entry, hours, LOGGING_OFF, "SD-card logging is off")
    seeds = {item.key: item.anchor_native(hours[0]) for item in series}
    return await read_closings(client, listing, hours, seeds, entry.title)


def _import(
    hass: HomeAssistant, name: str, item: Series, plan: SeriesPlan, result: BackfillResult
) -> None:
    """Queue the rows of one sensor's plan and count them in ``result``."""
    if plan.problem is not None:
        _LOGGER.warning("%s: %s keeps its statistics (%s)", name, item.entity_id, plan.problem)
    if plan.rows:
        rows = [cast("StatisticData", dict(row)) for row in plan.rows]
        async_import_statistics(hass, item.import_metadata(), rows)
        if plan.shift and result.end is not None:  # rule 5: after the import, in the queue
            unit = item.unit or item.native_unit
            get_instance(hass).async_adjust_statistics(item.entity_id, result.end, plan.shift, unit)
        amount = round(item.to_native(plan.amount), 3)
        result.sensors[item.entity_id] = {"hours": len(rows), item.native_unit.lower(): amount}
        result.hours.update(plan.hours)


def _gap(hours: list[datetime]) -> tuple[str, str]:
    """Return the window's start and end in Home Assistant's time zone (log, repair issue)."""
    start, end = hours[0], hours[-1] + HOUR
    return f"{dt_util.as_local(start):%Y-%m-%d %H:%M}", f"{dt_util.as_local(end):%Y-%m-%d %H:%M}"


def _not_read(
    hass: HomeAssistant, entry: WhatwattConfigEntry, hours: list[datetime], outcome: str, why: str
) -> str:
    """Log why the card is not read, raise "history gap not filled" and return the outcome."""
    start, end = _gap(hours)
    _LOGGER.info("%s: %s to %s stays as recorded: %s", entry.title, start, end, why)
    key = "sd_card_missing" if outcome == NO_SD_CARD else "sd_logging_off"
    placeholders = {"start": start, "end": end}
    async_raise_issue(
        hass, entry, ISSUE_SD_LOGGING, translation_key=key, placeholders=placeholders, fixable=True
    )
    return outcome


async def async_backfill_action(
    hass: HomeAssistant, entry: WhatwattConfigEntry, start: datetime, end: datetime | None
) -> dict[str, Any]:
    """Run the action ``whatwatt.backfill`` for ``start``..``end`` (default: now)."""
    backfill = entry.runtime_data.backfill
    if entry.runtime_data.client is None or backfill is None:
        raise validation_error("backfill_no_address")
    if not recorder_loaded(hass):
        raise validation_error("backfill_no_recorder")
    now = dt_util.utcnow()
    first = dt_util.as_utc(start)
    last = min(dt_util.as_utc(end), now) if end is not None else now
    if first >= last:
        raise validation_error("backfill_invalid_range")
    if first < now - timedelta(days=MAX_BACKFILL_DAYS):
        raise validation_error("backfill_too_old", days=str(MAX_BACKFILL_DAYS))
    async with backfill.lock:
        result = await async_backfill(hass, entry, first, last)
    return result.as_dict()
