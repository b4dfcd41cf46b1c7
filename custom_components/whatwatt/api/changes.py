"""How two reads of the device compare: changed settings keys, the same boot or a new one."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from .models import SystemInfo

# A boot time within this many seconds of the known one is the same boot.
_LAST_BOOT_TOLERANCE: Final = 60.0


def _flat(data: Any, prefix: str = "") -> dict[str, Any]:
    """Return a nested settings object as ``{"a.b": value}``."""
    if not isinstance(data, dict):
        return {prefix: data}
    flat: dict[str, Any] = {}
    for key, value in data.items():
        flat.update(_flat(value, f"{prefix}{key}."))
    return {key.rstrip("."): value for key, value in flat.items()}


def changed_keys(before: Any, after: Any) -> tuple[str, ...]:
    """Return the dotted keys whose values differ between two settings objects."""
    old, new = _flat(before), _flat(after)
    return tuple(sorted(key for key in old.keys() | new.keys() if old.get(key) != new.get(key)))


def boot_time(system: SystemInfo, now: datetime, known: datetime | None) -> datetime | None:
    """Return the device's boot time; the known one while the new one is within tolerance."""
    if system.uptime is not None:
        boot = (now - timedelta(seconds=system.uptime)).replace(microsecond=0)
    elif system.last_boot is not None:
        boot = system.last_boot
    else:
        return known
    if known is not None and abs((boot - known).total_seconds()) <= _LAST_BOOT_TOLERANCE:
        return known
    return boot
