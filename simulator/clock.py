"""Wall-clock helpers: the device prints local time with a misleading ``Z`` suffix."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def load_zone(name: str) -> tzinfo:
    """Return the named zone, or a fixed UTC+1 when the zone database is missing."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return timezone(timedelta(hours=1), "CET")


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


def now_utc() -> datetime:
    """Return the current time, timezone-aware UTC."""
    return datetime.now(UTC)
