"""Peak demand for capacity tariffs: window averages of the import register and their peaks.

``Demand`` holds the arithmetic and knows no Home Assistant object; ``DemandTracker`` feeds it
from the measurement coordinator and keeps it in a ``Store``; the five sensors show it.

- **Windows** of 15 or 60 minutes (option ``demand_window``) are aligned to the wall clock of
  Home Assistant's time zone (:00, :15, :30, :45): a 23-hour day has 23 hourly windows, a
  25-hour day 25. A window's average is the register's difference over it divided by its
  length, whatever the cadence of the readings. The register at a boundary that falls between
  two readings is interpolated linearly between them.
- **Incomplete windows** never count as a peak: the first window (no reading before its start),
  every window overlapping two readings more than ``MAX_GAP`` apart (Home Assistant or the
  device was down; the SD card's history is not used here) or between which the register fell
  or rose faster than ``MAX_KW`` (a meter exchange), and a window whose average is negative or
  above ``MAX_KW``.
- **Peaks**: the best complete window of each local day of the calendar month is kept; the
  month's peak is the average of the ``demand_peaks`` highest of them (so at most one window a
  day when N > 1; with N = 1 it is the month's highest window). Each month's peak is kept;
  ``peak_12m`` averages the current month's and those of the 11 months before that have one.
- **Persistence**: the state (last reading, current window, the month's days, monthly peaks) is
  saved with the entry's ``Store`` at most every ``SAVE_DELAY`` seconds, at unload and when Home
  Assistant stops; after a restart the next reading continues the window if the gap is short.
  A new window length starts the current month afresh (its windows would not compare).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import UnitOfPower
from homeassistant.core import callback
from homeassistant.helpers import entity_registry as er, selector
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from .compat import vol
from .const import CONF_DEMAND_PEAKS, CONF_DEMAND_WINDOW, DOMAIN
from .coordinator import MeasurementCoordinator
from .entity import WhatwattEntity

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from datetime import tzinfo

    from homeassistant.config_entries import ConfigEntry
    from homeassistant.core import HomeAssistant
    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

    from .api.models import Report
    from .coordinator import WhatwattConfigEntry

WINDOWS: Final = (15, 60)  # minutes
DEFAULT_WINDOW: Final = 15
DEFAULT_PEAKS: Final = 1
MAX_PEAKS: Final = 5
MAX_GAP: Final = 300.0  # seconds between two readings; longer: the windows are incomplete
MAX_KW: Final = 1000.0  # an average above this (kW) is no household's: a register jump
SAVE_DELAY: Final = 300.0
STORE_VERSION: Final = 1
REGISTER: Final = "energy_import"


def window_start(moment: datetime, minutes: int, zone: tzinfo) -> datetime:
    """Return the start (UTC) of the wall-clock window of ``zone`` holding ``moment``."""
    local = moment.astimezone(zone)
    start = local.replace(minute=local.minute - local.minute % minutes, second=0, microsecond=0)
    return start.astimezone(UTC)


def _month_index(month: str) -> int:
    year, number = month.split("-")
    return int(year) * 12 + int(number)


class Demand:
    """Window averages of a cumulative import register (kWh) and the month's peaks (kW)."""

    def __init__(self, window: int = DEFAULT_WINDOW, peaks: int = DEFAULT_PEAKS) -> None:
        """Start with no reading."""
        self.window, self.peaks = window, peaks
        self.zone: tzinfo = UTC
        self.last: tuple[datetime, float] | None = None  # the last reading: time, register
        self.power: float | None = None  # kW at the last reading
        self.start: datetime | None = None  # the current window
        self.start_value: float | None = None  # the register at its start (None: unknown)
        self.complete = False
        self.month: str | None = None  # "YYYY-MM" of the current window
        self.days: dict[str, tuple[datetime, float]] = {}  # local day → best window, kW
        self.months: dict[str, float] = {}  # "YYYY-MM" → that month's peak

    @property
    def length(self) -> timedelta:
        """Return the window length."""
        return timedelta(minutes=self.window)

    def configure(self, window: int, peaks: int) -> None:
        """Apply the options: a new length restarts the month, a new N recomputes its peak."""
        if window != self.window:
            self.window, self.start, self.start_value, self.complete = window, None, None, False
            self.days = {}
            self.months.pop(self.month or "", None)
        self.peaks = peaks
        self._record_month()

    def add(self, moment: datetime, value: float, power: float | None, zone: tzinfo) -> None:
        """Take a reading: the register ``value`` (kWh) at ``moment``, the power (kW)."""
        self.zone, last = zone, self.last
        if last is not None and moment <= last[0]:
            return
        self.last, self.power = (moment, value), power
        start = window_start(moment, self.window, zone)
        if last is None or self.start is None:
            self._open(start, value if start == moment else None)
            return
        then, before = last
        hours = (moment - then).total_seconds() / 3600
        good = hours * 3600 <= MAX_GAP and 0 <= value - before <= MAX_KW * hours
        while self.start < start:
            end = self.start + self.length
            at_end = before + (value - before) * ((end - then) / (moment - then))
            self._close(value if end == moment else at_end if good else None)
            if good:
                self._open(end, value if end == moment else at_end)
            else:
                self._open(start, value if start == moment else None)
        if not good and self.start < moment:
            self.complete = False

    def _open(self, start: datetime, value: float | None) -> None:
        self.start, self.start_value, self.complete = start, value, value is not None
        month = start.astimezone(self.zone).strftime("%Y-%m")
        if month != self.month:
            self.month, self.days = month, {}

    def _close(self, value: float | None) -> None:
        if not self.complete or value is None or self.start is None or self.start_value is None:
            return
        average = (value - self.start_value) / (self.window / 60)
        if not 0 <= average <= MAX_KW:
            return
        day = self.start.astimezone(self.zone).date().isoformat()
        if day not in self.days or average > self.days[day][1]:
            self.days[day] = (self.start, average)
            self._record_month()

    def _record_month(self) -> None:
        if self.month is not None and (peak := self.peak()) is not None:
            self.months[self.month] = peak
        if self.month is not None:
            oldest = _month_index(self.month) - 11
            self.months = {m: p for m, p in self.months.items() if _month_index(m) >= oldest}

    def current(self) -> float | None:
        """Return the current window's average so far (kW)."""
        if self.last is None or self.start is None or self.start_value is None:
            return None
        moment, value = self.last
        if value < self.start_value:
            return None
        if (seconds := (moment - self.start).total_seconds()) <= 0:
            return self.power
        return round((value - self.start_value) * 3600 / seconds, 6)

    def projected(self) -> float | None:
        """Return the window's average at its end if the power of the last reading continues."""
        if (current := self.current()) is None or self.last is None or self.start is None:
            return None
        moment, value = self.last
        assert self.start_value is not None  # current() has one
        left = (self.start + self.length - moment).total_seconds() / 3600
        power = self.power if self.power is not None else current
        return round((value - self.start_value + power * left) / (self.window / 60), 6)

    def peak(self) -> float | None:
        """Return the month's peak: the average of the N highest days' best windows (kW)."""
        best = sorted((average for _, average in self.days.values()), reverse=True)
        return round(sum(best[: self.peaks]) / len(best[: self.peaks]), 6) if best else None

    def peak_time(self) -> datetime | None:
        """Return the start of the month's highest window."""
        return max(self.days.values(), key=lambda day: day[1])[0] if self.days else None

    def peak_12m(self) -> float | None:
        """Return the average of the monthly peaks of the last 12 months (kW)."""
        peaks = list(self.months.values())
        return round(sum(peaks) / len(peaks), 6) if peaks else None

    def as_dict(self) -> dict[str, Any]:
        """Return the state to store."""
        last = self.last
        return {
            "window": self.window,
            "last": [last[0].isoformat(), last[1]] if last else None,
            "power": self.power,
            "start": self.start.isoformat() if self.start else None,
            "start_value": self.start_value,
            "complete": self.complete,
            "month": self.month,
            "days": {day: [start.isoformat(), kw] for day, (start, kw) in self.days.items()},
            "months": self.months,
        }

    def restore(self, data: Mapping[str, Any]) -> None:
        """Take the stored state back (a stored window of another length is not restored)."""
        try:
            last, start = data.get("last"), data.get("start")
            self.last = (datetime.fromisoformat(last[0]), float(last[1])) if last else None
            power = data.get("power")
            self.power = float(power) if power is not None else None
            self.month = data.get("month")
            self.months = {str(m): float(kw) for m, kw in (data.get("months") or {}).items()}
            if data.get("window") != self.window:  # as ``configure`` does
                self.months.pop(self.month or "", None)
                return
            self.start = datetime.fromisoformat(start) if start else None
            value = data.get("start_value")
            self.start_value = float(value) if value is not None else None
            self.complete = bool(data.get("complete"))
            days = (data.get("days") or {}).items()
            self.days = {d: (datetime.fromisoformat(s), float(kw)) for d, (s, kw) in days}
        except (TypeError, ValueError, IndexError, AttributeError):
            self.last, self.start, self.start_value, self.complete = None, None, None, False
            self.month, self.days, self.months = None, {}, {}


# -- options ------------------------------------------------------------------------------

WINDOW_SELECTOR: Final = selector.SelectSelector(
    selector.SelectSelectorConfig(
        options=[selector.SelectOptionDict(value=str(m), label=f"{m} min") for m in WINDOWS],
        mode=selector.SelectSelectorMode.LIST,
    )
)
PEAKS_SELECTOR: Final = selector.NumberSelector(
    selector.NumberSelectorConfig(min=1, max=MAX_PEAKS, mode=selector.NumberSelectorMode.BOX)
)


def demand_settings(options: Mapping[str, Any]) -> tuple[int, int]:
    """Return the window length (minutes) and N of an entry's options."""
    window = int(options.get(CONF_DEMAND_WINDOW, DEFAULT_WINDOW))
    peaks = int(options.get(CONF_DEMAND_PEAKS, DEFAULT_PEAKS))
    return (window if window in WINDOWS else DEFAULT_WINDOW, min(max(peaks, 1), MAX_PEAKS))


def demand_fields(options: Mapping[str, Any]) -> dict[Any, Any]:
    """Return the options form's fields for the demand, with the entry's values."""
    window, peaks = demand_settings(options)
    return {
        vol.Required(CONF_DEMAND_WINDOW, default=str(window)): WINDOW_SELECTOR,
        vol.Required(CONF_DEMAND_PEAKS, default=peaks): PEAKS_SELECTOR,
    }


def demand_options(user_input: Mapping[str, Any]) -> dict[str, int]:
    """Return the demand options of the form's answer."""
    window, peaks = demand_settings(user_input)
    return {CONF_DEMAND_WINDOW: window, CONF_DEMAND_PEAKS: peaks}


# -- Home Assistant -----------------------------------------------------------------------


class DemandTracker:
    """The demand of one entry: fed with each reading, kept in the entry's ``Store``."""

    def __init__(self, hass: HomeAssistant, entry: WhatwattConfigEntry) -> None:
        """Follow ``entry``'s measurement coordinator (``async_start``)."""
        self.entry = entry
        self.coordinator = entry.runtime_data.measurements
        self.demand = Demand(*demand_settings(entry.options))
        self.store: Store[dict[str, Any]] = Store(hass, STORE_VERSION, _store_key(entry.entry_id))
        self._fed: Report | None = None
        self._saving = False

    async def async_start(self) -> None:
        """Restore the stored state, then follow the readings and the options."""
        self.demand.restore(await self.store.async_load() or {})
        self.feed()
        entry = self.entry
        entry.async_on_unload(self.coordinator.async_add_listener(self.feed))
        entry.async_on_unload(entry.add_update_listener(self._async_options_updated))
        entry.async_on_unload(lambda: self.store.async_save(self.demand.as_dict()))

    @callback
    def feed(self) -> None:
        """Hand the demand a new reading (once per reading, whoever asks first)."""
        report, coordinator = self.coordinator.data, self.coordinator
        if report is None or report is self._fed or not coordinator.measurements_available:
            return
        self._fed = report
        if (value := report.values.get(REGISTER)) is None:
            return
        power = report.values.get("power_import")
        self.demand.add(dt_util.utcnow(), value, power, dt_util.get_default_time_zone())
        if not self._saving:
            self._saving = True
            self.store.async_delay_save(self._data, SAVE_DELAY)

    def _data(self) -> dict[str, Any]:
        self._saving = False
        return self.demand.as_dict()

    async def _async_options_updated(self, hass: HomeAssistant, entry: ConfigEntry) -> None:  # noqa: ARG002
        self.demand.configure(*demand_settings(entry.options))
        self.coordinator.async_update_listeners()


def _store_key(entry_id: str) -> str:
    return f"{DOMAIN}.demand.{entry_id}"


async def async_remove_demand(hass: HomeAssistant, entry_id: str) -> None:
    """Forget what an entry stored of the demand (the entry is removed)."""
    await Store[dict[str, Any]](hass, STORE_VERSION, _store_key(entry_id)).async_remove()


@dataclass(frozen=True, kw_only=True)
class DemandSensorDescription(SensorEntityDescription):
    """Describes one demand sensor."""

    value_fn: Callable[[Demand], float | datetime | None]
    live: bool = False  # True: unavailable while the readings are


def _kw(
    key: str, value_fn: Callable[[Demand], float | None], *, live: bool = False
) -> DemandSensorDescription:
    return DemandSensorDescription(
        key=key,
        translation_key=key,
        device_class=SensorDeviceClass.POWER,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfPower.KILO_WATT,
        suggested_unit_of_measurement=UnitOfPower.WATT,
        suggested_display_precision=0,
        value_fn=value_fn,
        live=live,
    )


DEMAND_SENSORS: Final[tuple[DemandSensorDescription, ...]] = (
    _kw("demand_current", Demand.current, live=True),
    _kw("demand_projected", Demand.projected, live=True),
    _kw("demand_peak", Demand.peak),
    DemandSensorDescription(
        key="demand_peak_time",
        translation_key="demand_peak_time",
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=Demand.peak_time,
    ),
    _kw("demand_peak_12m", Demand.peak_12m),
)


async def async_setup_demand(
    hass: HomeAssistant, entry: WhatwattConfigEntry, add_entities: AddConfigEntryEntitiesCallback
) -> None:
    """Track the demand of an entry; add its sensors once the import register is read."""
    tracker = entry.runtime_data.demand = DemandTracker(hass, entry)
    await tracker.async_start()
    coordinator, device_id = tracker.coordinator, entry.runtime_data.device.device_id
    registry = er.async_get(hass)
    known = registry.async_get_entity_id("sensor", DOMAIN, f"{device_id}_demand_current")

    added: list[DemandSensor] = []

    @callback
    def _async_add() -> None:
        report = coordinator.data
        if not added and (known or (report is not None and REGISTER in report.values)):
            added.extend(DemandSensor(coordinator, tracker, d) for d in DEMAND_SENSORS)
            add_entities(added)

    entry.async_on_unload(coordinator.async_add_listener(_async_add))
    _async_add()


class DemandSensor(WhatwattEntity[MeasurementCoordinator], SensorEntity):
    """A demand sensor of an entry."""

    entity_description: DemandSensorDescription

    def __init__(
        self,
        coordinator: MeasurementCoordinator,
        tracker: DemandTracker,
        description: DemandSensorDescription,
    ) -> None:
        """Show one value of ``tracker``."""
        super().__init__(coordinator, description)
        self.tracker = tracker

    @property
    def available(self) -> bool:
        """Return True: the peaks stay known; the current window needs fresh readings."""
        return self.coordinator.measurements_available or not self.entity_description.live

    @property
    def native_value(self) -> float | datetime | None:
        """Return the value in kW (or the time of the peak)."""
        return self.entity_description.value_fn(self.tracker.demand)

    def state_signature(self) -> tuple[Any, ...]:
        """Return availability and value."""
        return (self.available, self.native_value)

    @callback
    def _handle_coordinator_update(self) -> None:
        self.tracker.feed()  # the reading first, whichever listener runs first
        super()._handle_coordinator_update()
