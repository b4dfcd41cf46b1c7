"""Wall-clock helpers: the device prints local time with a misleading ``Z`` suffix.

The simulated device keeps its own clock: real UTC plus ``clock_offset`` seconds (a fault,
see ``faults.Faults``), shown in its local zone (``SimulatorConfig.timezone`` or the
``timezone`` fault). ``parse_zone`` reads a zone the way the fault accepts it: an IANA name
(``Europe/Zurich``), ``UTC``/``Z``, or a fixed UTC offset (``+02:00``, ``-0530``, ``+1``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone, tzinfo
import re
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_OFFSET: Final = re.compile(r"^(?:UTC|GMT)?([+-])(\d{1,2})(?::?(\d{2}))?$")
MAX_CLOCK_OFFSET: Final = 100 * 365 * 86400.0  # seconds either way; keeps dates printable


def load_zone(name: str) -> tzinfo:
    """Return the named zone, or a fixed UTC+1 when the zone database is missing."""
    try:
        return parse_zone(name)
    except ValueError:
        return timezone(timedelta(hours=1), "CET")


def parse_zone(text: str) -> tzinfo:
    """Return the zone for an IANA name, ``UTC``/``Z`` or ``±HH[:MM]``; ValueError otherwise."""
    text = text.strip()
    if text.upper() in ("UTC", "Z", "GMT"):
        return UTC
    match = _OFFSET.match(text.upper())
    if match:
        sign, hours, minutes = match.group(1), int(match.group(2)), int(match.group(3) or 0)
        if hours > 23 or minutes > 59:
            raise ValueError(f"UTC offset out of range: {text!r}")
        delta = timedelta(hours=hours, minutes=minutes)
        return timezone(-delta if sign == "-" else delta)
    try:
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise ValueError(f"unknown time zone {text!r}") from err


def firmware_tuple(firmware: str) -> tuple[int, ...]:
    """Return ``"1.10.3"`` as ``(1, 10, 3)`` (non-numeric parts count as 0)."""
    parts: list[int] = []
    for part in firmware.split("."):
        digits = "".join(ch for ch in part if ch.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)


def has_utc_stamps(firmware: str) -> bool:
    """Return True when the firmware emits ``date_time_local``/``date_time_utc`` (>= 1.10)."""
    return firmware_tuple(firmware) >= (1, 10)


def stamps(moment: datetime, zone: tzinfo, *, full: bool) -> dict[str, str]:
    """Return the ``date_time`` trio for ``moment`` (only ``date_time`` when not ``full``)."""
    local = moment.astimezone(zone).replace(microsecond=0)
    out = {"date_time": local.strftime("%Y-%m-%dT%H:%M:%SZ")}
    if full:
        out["date_time_local"] = local.isoformat()
        out["date_time_utc"] = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return out


def local_from_stamp(text: object, zone: tzinfo) -> datetime | None:
    """Return the local time printed as ``date_time`` (``Z`` quirk), or None if unreadable."""
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text.removesuffix("Z")).replace(tzinfo=zone)
    except ValueError:
        return None


def now_utc() -> datetime:
    """Return the current (real) time, timezone-aware UTC."""
    return datetime.now(UTC)
