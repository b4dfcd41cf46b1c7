"""The device's UTC offset, learnt from its clock as readings arrive.

The device prints some times as local wall-clock time only (the live stream's ``Date``/``Time``,
old firmware's REST ``date_time``, ``last_reboot``) and never says its zone. ``DeviceZone`` is a
``tzinfo`` whose offset is the difference between the device's clock and the real time, rounded
to 15 minutes. It follows a daylight-saving change (or a zone change) with the first reading
after it, but not the drift of a clock without NTP: the offset moves only when the clock is more
than ``SWITCH_AFTER`` away from it. A clock further off UTC than 14 hours counts as unset (UTC).

Only the device's *current* time may be observed (``device.date/time`` of ``/api/v1/system``,
``system.date_time`` of a REST report, a live event's time); a reading's own time (a REST
report's ``report.date_time``) can be old. Nothing here decides freshness.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from typing import Final

QUARTER: Final = timedelta(minutes=15)
SWITCH_AFTER: Final = timedelta(minutes=22, seconds=30)
MAX_OFFSET: Final = timedelta(hours=14)
_ZERO: Final = timedelta(0)


class DeviceZone(tzinfo):
    """A fixed offset that follows the device's clock (``observe``); UTC until known."""

    def __init__(self) -> None:
        """Start with no offset known (UTC)."""
        super().__init__()
        self.offset: timedelta | None = None

    def observe(self, local_now: datetime, now: datetime | None = None) -> bool:
        """Learn from the device's current wall-clock time; return True when the offset moved."""
        now = now or datetime.now(UTC)
        raw = local_now.replace(tzinfo=None) - now.astimezone(UTC).replace(tzinfo=None)
        if self.offset is not None and abs(raw - self.offset) <= SWITCH_AFTER:
            return False
        rounded = round(raw / QUARTER) * QUARTER
        offset = rounded if abs(rounded) <= MAX_OFFSET else None
        if offset == self.offset:
            return False
        self.offset = offset
        return True

    def utcoffset(self, dt: datetime | None) -> timedelta:  # noqa: ARG002
        """Return the offset learnt so far (zero while unknown)."""
        return self.offset if self.offset is not None else _ZERO

    def dst(self, dt: datetime | None) -> timedelta:  # noqa: ARG002
        """Return zero: the offset already includes daylight-saving time."""
        return _ZERO

    def tzname(self, dt: datetime | None) -> str:  # noqa: ARG002
        """Return the offset as ``UTC+hh:mm``."""
        offset = self.utcoffset(None)
        sign = "-" if offset < _ZERO else "+"
        minutes = abs(int(offset.total_seconds())) // 60
        return f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"

    def to_utc(self, local: datetime) -> datetime:
        """Return a naive device wall-clock time as an aware UTC time."""
        return (local.replace(tzinfo=None) - self.utcoffset(None)).replace(tzinfo=UTC)
