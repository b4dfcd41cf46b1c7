"""Fill gaps in the long-term statistics of an entry's energy sensors from the device's SD card.

The rules: ``docs/architecture.md``, "The backfill: a run".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
import logging
from typing import TYPE_CHECKING, Any, Final, cast

from homeassistant.components.recorder.statistics import async_import_statistics
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers.recorder import get_instance
from homeassistant.util import dt as dt_util

from custom_components.whatwatt.api.errors import WhatwattRequestError, WhatwattUnavailableError
from custom_components.whatwatt.const import DOMAIN
from custom_components.whatwatt.issues import ISSUE_SD_LOGGING, async_clear_issue, async_raise_issue

from .card import Closings, device_offset, files_for, read_file, sd_logging
from .plan import HOUR, MAX_BACKFILL_DAYS, importable_hours, plan_series, window_hours
from .statistics import Series, async_wait_recorder, entry_series, read_recorded, recorder_loaded
from .watch import Backfill, async_remove_coverage as async_remove_coverage

if TYPE_CHECKING:
    from homeassistant.components.recorder.models import StatisticData
    from homeassistant.core import HomeAssistant

    from custom_components.whatwatt.coordinator import WhatwattConfigEntry

    from .plan import SeriesPlan

_LOGGER = logging.getLogger(__name__)

IMPORTED: Final = "imported"
NOTHING_MISSING: Final = "nothing_missing"
NO_SD_CARD: Final = "no_sd_card"
LOGGING_OFF: Final = "logging_off"
NO_DATA: Final = "no_data"


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
        sensors = {
            entity_id: {"hours": hours, unit.lower(): round(amount, 3)}
            for entity_id, (hours, amount, unit) in self.sensors.items()
        }
        return {
            "outcome": self.outcome,
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
            "hours": len(self.hours),
            "sensors": sensors,
        }


async def async_setup_backfill(hass: HomeAssistant, entry: WhatwattConfigEntry) -> Backfill | None:
    """Return the backfill of a loaded entry, watching for gaps; None without a device address."""
    if entry.runtime_data.client is None:
        return None
    backfill = Backfill(hass, entry, async_backfill)
    await backfill.async_load()
    entry.async_on_unload(backfill.async_stop)
    backfill.async_start()
    return backfill


async def async_backfill(
    hass: HomeAssistant, entry: WhatwattConfigEntry, start: datetime, end: datetime
) -> BackfillResult:
    """Repair the hours of ``start``..``end`` (see the module docstring; the caller holds the lock).

    Device errors (unreachable, timeouts) propagate as the client's ``WhatwattError``s.
    """
    if not recorder_loaded(hass) or entry.runtime_data.client is None:
        return BackfillResult(NOTHING_MISSING)
    await async_wait_recorder(hass)
    instance = get_instance(hass)
    hours = window_hours(start, end, dt_util.utcnow(), instance.keep_days)
    if not hours or not (series := entry_series(hass, entry)):
        return BackfillResult(NOTHING_MISSING)
    result = BackfillResult(NOTHING_MISSING, hours[0], hours[-1] + HOUR)
    await instance.async_add_executor_job(read_recorded, hass, series, hours)
    series = [item for item in series if item.usable]
    if not any(importable_hours(item.rows, hours, item.protected) for item in series):
        return result
    closings = await _async_read_card(hass, entry, series, hours)
    if isinstance(closings, str):
        result.outcome = closings
        return result
    for item in series:
        readings = {hour: item.to_unit(value) for hour, value in closings.values[item.key].items()}
        plan = plan_series(item.rows, hours, item.protected, readings)
        _import(hass, entry.title, item, plan, result)
    if result.hours:
        result.outcome = IMPORTED
        async_clear_issue(hass, entry, ISSUE_SD_LOGGING)
        _LOGGER.info("%s: %s hours filled from the SD card", entry.title, len(result.hours))
    elif not any(closings.values.values()):
        result.outcome = NO_DATA
        _LOGGER.info("%s: the SD card holds no readings from %s to %s", entry.title, *_gap(hours))
    return result


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
    if sd_logging(entry.runtime_data.device.data) is False:
        return _not_read(hass, entry, hours, LOGGING_OFF, "SD-card logging is off")
    seeds = {item.key: item.anchor_native(hours[0]) for item in series}
    closings = Closings(seeds, hours, entry.title)
    for sd_file in files_for(listing, hours, device_offset(client)):
        await read_file(client, sd_file, hours, closings)
        if closings.stopped:
            break
    return closings


def _import(
    hass: HomeAssistant, name: str, item: Series, plan: SeriesPlan, result: BackfillResult
) -> None:
    """Queue the rows of one sensor's plan and count them in ``result``."""
    if plan.problem is not None:
        _LOGGER.warning("%s: %s keeps its statistics (%s)", name, item.entity_id, plan.problem)
    if plan.rows:
        rows = [cast("StatisticData", dict(row)) for row in plan.rows]
        async_import_statistics(hass, item.import_metadata(), rows)
        result.sensors[item.entity_id] = (len(rows), item.to_native(plan.amount), item.native_unit)
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


def validation_error(key: str, **placeholders: str) -> ServiceValidationError:
    """Return the translated error an action call is refused with."""
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
    ``MAX_BACKFILL_DAYS`` ago. Waits for a run of the watch (the entry's lock).
    """
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
