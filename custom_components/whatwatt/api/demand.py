"""Peak demand arithmetic: window averages of the import register and the month's peaks.

No Home Assistant object: the integration's ``demand.py`` feeds it with readings and keeps its
state. The rules: ``docs/architecture.md``, "Peak demand".
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import tzinfo

WINDOWS: Final = (15, 60)  # minutes
DEFAULT_WINDOW: Final = 15
DEFAULT_PEAKS: Final = 1
MAX_PEAKS: Final = 5
MAX_GAP: Final = 300.0  # seconds between two readings; longer: the windows are incomplete
MAX_KW: Final = 1000.0  # an average above this (kW) is no household's: a register jump


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
        self.length = timedelta(minutes=window)
        self.zone: tzinfo = UTC
        self.last: tuple[datetime, float] | None = None  # the last reading: time, register
        self.power: float | None = None  # kW at the last reading
        self.start: datetime | None = None  # the current window
        self.start_value: float | None = None  # the register at its start (None: unknown)
        self.complete = False
        self.month: str | None = None  # "YYYY-MM" of the current window
        self.days: dict[str, tuple[datetime, float]] = {}  # local day → best window, kW
        self.months: dict[str, float] = {}  # "YYYY-MM" → that month's peak

    def configure(self, window: int, peaks: int) -> None:
        """Apply the options: a new length restarts the month, a new N recomputes its peak."""
        if window != self.window:
            self.window, self.start, self.start_value, self.complete = window, None, None, False
            self.length = timedelta(minutes=window)
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
        if self.start is not None and self.start <= moment < self.start + self.length:
            start = self.start  # still the current window (the usual case)
        else:
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
