"""What the recorder holds for an entry's energy sensors, read with its public API only."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Final, cast

from homeassistant.components.recorder.history import state_changes_during_period
from homeassistant.components.recorder.statistics import get_metadata, statistics_during_period
from homeassistant.components.sensor import DOMAIN as SENSOR_DOMAIN
from homeassistant.const import EVENT_RECORDER_5MIN_STATISTICS_GENERATED
from homeassistant.core import CoreState, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.recorder import async_migration_in_progress
from homeassistant.util import dt as dt_util
from homeassistant.util.unit_conversion import EnergyConverter

from custom_components.whatwatt.api.totals import ENERGY_KEYS
from custom_components.whatwatt.const import DOMAIN

from .plan import HOUR, MAX_BACKFILL_DAYS, HourRow, floor_hour

if TYPE_CHECKING:
    from homeassistant.components.recorder.models import StatisticMetaData
    from homeassistant.core import HomeAssistant

    from custom_components.whatwatt.coordinator import WhatwattConfigEntry

# The registers taken from the card, the energy totals: sensor key → native unit.
SERIES: Final = {key: "kvarh" if key.startswith("reactive") else "kWh" for key in ENERGY_KEYS}


def recorder_loaded(hass: HomeAssistant) -> bool:
    """Return True when the recorder runs (set up: its database is ready)."""
    return "recorder" in hass.config.components


async def async_wait_recorder(hass: HomeAssistant) -> None:
    """Return once the recorder has compiled the periods it missed (rules in the architecture)."""
    if hass.state is CoreState.running and not async_migration_in_progress(hass):
        return
    compiled = asyncio.Event()
    unsubscribe = hass.bus.async_listen(
        EVENT_RECORDER_5MIN_STATISTICS_GENERATED, callback(lambda _event: compiled.set())
    )
    try:
        await compiled.wait()
    finally:
        unsubscribe()


@dataclass(slots=True)
class Series:
    """One energy sensor of the entry and what the recorder holds for it."""

    key: str
    entity_id: str
    native_unit: str
    metadata: StatisticMetaData | None = None
    rows: list[HourRow] = field(default_factory=list)
    protected: set[datetime] = field(default_factory=set)
    uncompiled: set[datetime] = field(default_factory=set)  # the recorder compiles them yet
    continued: bool = False  # a five-minute row at or after the window's end exists

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
        if self.native_unit == "kWh":
            return self.unit in EnergyConverter.VALID_UNITS
        return self.unit == self.native_unit

    def to_unit(self, value: float) -> float:
        """Convert a native reading into the statistics' unit."""
        kwh = self.native_unit == "kWh"
        return EnergyConverter.convert(value, "kWh", self.unit) if kwh else value

    def to_native(self, value: float) -> float:
        """Convert a statistics value (or an amount) into the register's unit."""
        kwh = self.native_unit == "kWh"
        return EnergyConverter.convert(value, self.unit, "kWh") if kwh else value

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


def entry_series(hass: HomeAssistant, entry: WhatwattConfigEntry) -> list[Series]:
    """Return the entry's enabled energy sensors (by unique id, as the registry knows them)."""
    registry = er.async_get(hass)
    found: list[Series] = []
    for key, unit in SERIES.items():
        unique_id = f"{entry.unique_id}_{key}"
        entity_id = registry.async_get_entity_id(SENSOR_DOMAIN, DOMAIN, unique_id)
        registered = registry.async_get(entity_id) if entity_id else None
        if registered is not None and not registered.disabled:
            found.append(Series(key, registered.entity_id, unit))
    return found


def _numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def read_recorded(hass: HomeAssistant, series: list[Series], hours: list[datetime]) -> None:
    """Fill in metadata, rows, protected and uncompiled hours (in the recorder's executor)."""
    ids = {item.entity_id for item in series}
    metadata = get_metadata(hass, statistic_ids=ids)
    first, end = hours[0], hours[-1] + HOUR
    lookback = first - timedelta(days=MAX_BACKFILL_DAYS)  # for the row the window continues
    rows = statistics_during_period(hass, lookback, None, ids, "hour", None, {"state", "sum"})
    later = statistics_during_period(hass, end, None, ids, "5minute", None, {"sum"})
    for item in series:
        found = metadata.get(item.entity_id)
        item.metadata = found[1] if found is not None else None
        item.rows = [
            HourRow(dt_util.utc_from_timestamp(row["start"]), row.get("state"), row.get("sum"))
            for row in rows.get(item.entity_id, [])
        ]
        item.continued = bool(later.get(item.entity_id))
        states = state_changes_during_period(
            hass, first, end, entity_id=item.entity_id, no_attributes=True
        ).get(item.entity_id, [])
        numeric = [(state.last_updated, _numeric(state.state)) for state in states]
        # The first is the state at ``first`` (from before): it protects no hour.
        item.protected = {floor_hour(at) for at, number in numeric if number and at > first}
        recorded = {row.start for row in item.rows}
        item.uncompiled = _numeric_hours(numeric, first, end) - recorded


def _numeric_hours(
    states: list[tuple[datetime, bool]], first: datetime, end: datetime
) -> set[datetime]:
    """Return the hours of ``first``..``end`` in which a state was a number for a while."""
    hours: set[datetime] = set()
    for (since, number), (until, _) in zip(states, [*states[1:], (end, False)], strict=True):
        hour = floor_hour(max(since, first))
        while number and hour < until:
            hours.add(hour)
            hour += HOUR
    return hours
