"""Which hours a run covers and the rows they get (pure; rules: ``docs/architecture.md``)."""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from datetime import datetime, timedelta
import math
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from collections.abc import Collection, Iterable, Mapping, Sequence

HOUR: Final = timedelta(hours=1)
# The longest stretch one run repairs, counted back from now (documented in the README).
MAX_BACKFILL_DAYS: Final = 7
# Absolute tolerance when comparing states and sums (statistic units, e.g. kWh).
TOLERANCE: Final = 1e-6

NO_ANCHOR: Final = "no_anchor"
NOT_CONTINUOUS: Final = "not_continuous"


def floor_hour(moment: datetime) -> datetime:
    """Return the start of the hour ``moment`` lies in."""
    return moment.replace(minute=0, second=0, microsecond=0)


def full_hours(start: datetime, end: datetime) -> list[datetime]:
    """Return the hours that lie entirely within ``start``..``end``."""
    first = floor_hour(start)
    if first < start:
        first += HOUR
    return [first + HOUR * index for index in range((end - first) // HOUR)]


def window_hours(
    start: datetime, end: datetime, now: datetime, keep_days: int | None = None
) -> list[datetime]:
    """Return the full, ended hours of ``start``..``end``, no older than either limit in days."""
    oldest = floor_hour(now) - timedelta(days=MAX_BACKFILL_DAYS)
    if keep_days is not None:
        oldest = max(oldest, now - timedelta(days=keep_days))
    return full_hours(max(start, oldest), min(end, now))


@dataclass(frozen=True, slots=True)
class HourRow:
    """One hourly statistics row as recorded (statistic unit)."""

    start: datetime
    state: float | None
    sum: float | None


@dataclass(frozen=True, slots=True)
class SeriesPlan:
    """The rows to write for one sensor; ``problem`` says why there are none when it is set."""

    rows: tuple[dict[str, Any], ...] = ()
    amount: float = 0.0  # what the written hours add up to (statistic unit)
    problem: str | None = None
    shift: float = 0.0  # what the rows after the window lack (rule 5): they move up by it

    @property
    def hours(self) -> tuple[datetime, ...]:
        """Return the hours written."""
        return tuple(row["start"] for row in self.rows)


def _same(first: float | None, second: float | None) -> bool:
    if first is None or second is None:
        return False
    return math.isclose(first, second, rel_tol=1e-12, abs_tol=1e-9)


def _writable(
    hour: datetime, row: HourRow | None, before: HourRow | None, protected: Collection[datetime]
) -> bool:
    """Return True when rule 1 lets the row of ``hour`` be written."""
    if hour in protected:
        return False
    if row is None:
        return True
    return before is not None and _same(row.state, before.state) and _same(row.sum, before.sum)


class _Rows:
    """The recorded rows of one sensor, by start."""

    def __init__(self, rows: Iterable[HourRow]) -> None:
        self.ordered = sorted(rows, key=lambda row: row.start)
        self.starts = [row.start for row in self.ordered]
        self.by_start = {row.start: row for row in self.ordered}

    def before(self, hour: datetime) -> HourRow | None:
        index = bisect_left(self.starts, hour)
        return self.ordered[index - 1] if index else None

    def after(self, hour: datetime) -> HourRow | None:
        index = bisect_left(self.starts, hour + HOUR)
        return self.ordered[index] if index < len(self.ordered) else None


def importable_hours(
    rows: Iterable[HourRow], hours: Sequence[datetime], protected: Collection[datetime]
) -> list[datetime]:
    """Return the hours of ``hours`` that rule 1 lets be written (and that have an anchor)."""
    recorded = _Rows(rows)
    return [
        hour
        for hour in hours
        if (before := recorded.before(hour)) is not None
        and _writable(hour, recorded.by_start.get(hour), before, protected)
    ]


def _increase(before: float, after: float) -> float:
    """Return a register's increase from ``before`` to ``after`` (a fall counts from zero)."""
    return after - before if after >= before else after


@dataclass(slots=True)
class _Running:
    """The running state and sum while walking the window, and what is written."""

    state: float
    total: float
    written: list[dict[str, Any]]
    amount: float = 0.0
    chained: bool = True  # ``state`` is the card's reading before the next hour's (rule 2)
    own: tuple[float, float] = (0.0, 0.0)  # the last row Home Assistant compiled itself

    def keep(self, row: HourRow) -> bool:
        """Continue from a row that stays as it is (rule 2); False when it breaks rule 4."""
        if row.state is None or row.sum is None or row.sum < self.total - TOLERANCE:
            return False
        self.state, self.total = row.state, row.sum
        self.own, self.chained = (row.state, row.sum), False
        return True

    def write(
        self, hour: datetime, row: HourRow | None, value: float | None, used: float | None
    ) -> None:
        """Write an hour from its closing reading (or carry the running values, rule 2)."""
        if value is None:
            if row is None:
                return
            value, increase = self.state, 0.0
        else:
            chained, self.chained = self.chained, True
            increase = used if used is not None and chained else _increase(self.state, value)
        total = self.total + increase
        if row is None or not (_same(row.state, value) and _same(row.sum, total)):
            self.written.append({"start": hour, "state": value, "sum": total})
            self.amount += increase
        self.state, self.total = value, total

    @property
    def shift(self) -> float:
        """Return what Home Assistant's rows after the window lack (rule 5, zero when none)."""
        state, total = self.own
        shift = self.total - total - _increase(state, self.state)
        return shift if shift > TOLERANCE else 0.0


def _anchor(row: HourRow | None, *, chained: bool = True) -> _Running | None:
    """Return the running values a recorded row starts (None: nothing to continue from)."""
    if row is None or row.state is None or row.sum is None:
        return None
    return _Running(row.state, row.sum, [], chained=chained, own=(row.state, row.sum))


def plan_series(
    rows: Iterable[HourRow],
    hours: Sequence[datetime],
    protected: Collection[datetime],
    closing: Mapping[datetime, float],
    used: Mapping[datetime, float] | None = None,
) -> SeriesPlan:
    """Return one sensor's rows to write from its closing readings and ``used`` (statistic unit)."""
    if not hours:
        return SeriesPlan()
    recorded = _Rows(rows)
    previous = recorded.before(hours[0])  # the recorded row before the hour
    running = _anchor(previous)
    unanchored = False
    for hour in hours:
        row = recorded.by_start.get(hour)
        writable = _writable(hour, row, previous, protected)
        previous = row or previous
        if writable and running is not None:
            running.write(hour, row, closing.get(hour), (used or {}).get(hour))
        elif writable:
            unanchored = unanchored or hour in closing
        elif running is None:
            running = _anchor(row, chained=False)
        elif row is not None and not running.keep(row):
            return SeriesPlan(problem=NOT_CONTINUOUS)
    if running is None or not running.written:
        return SeriesPlan(problem=NO_ANCHOR if unanchored else None)
    after, shift = recorded.after(hours[-1]), running.shift
    if after and after.sum is not None and after.sum + shift < running.total - TOLERANCE:
        return SeriesPlan(problem=NOT_CONTINUOUS)  # rule 4 for the row after the window
    return SeriesPlan(rows=tuple(running.written), amount=running.amount, shift=shift)
