"""Sub-meter buses in the readings: when a new one counts (its kind), since when one is missing.

No Home Assistant object: the integration's ``submeter.py`` adds and removes their devices. The
rules: ``docs/architecture.md``, "Sub-meters".
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from .states import is_p1
from .totals import VOLUME_PREFIX, is_volume_key, volume_key

if TYPE_CHECKING:
    from collections.abc import Collection, Iterable, Mapping

    from .models import MeterInfo

# A new bus becomes a device once this many consecutive usable readings carried it ...
SEEN_READINGS: Final = 3
# ... and a whatwatt Go has at most this many (as many as its readings can carry).
MAX_SUBMETERS: Final = 16
GONE_AFTER: Final = timedelta(days=30)
KINDS: Final = ("gas", "water", "heat", "other")


def option_buses(options: Mapping[str, Any]) -> list[int]:
    """Return the known buses: those with a kind in the options, in order."""
    return sorted(int(key[len(VOLUME_PREFIX) :]) for key in options if is_volume_key(key))


def kind_of(options: Mapping[str, Any], bus: int) -> str:
    """Return the stored kind of a bus (``other`` for none or an unknown value)."""
    kind = options.get(volume_key(bus))
    return kind if kind in KINDS else "other"


def default_kind(meters: Iterable[MeterInfo | None]) -> str:
    """Return the kind of a new bus: ``gas`` when a meter is read over P1 (DSMR), else ``other``."""
    return "gas" if any(is_p1(meter) for meter in meters) else "other"


class BusWatch:
    """The buses of an entry's usable readings: new ones sighted, known ones missing since."""

    def __init__(self, seen_readings: int) -> None:
        """Count a new bus once ``seen_readings`` consecutive usable readings carried it."""
        self.seen_readings = seen_readings
        self.missing: dict[int, datetime] = {}  # since when each known bus is missing
        self.read: dict[int, str | None] | None = None  # last usable reading: bus → meter id
        self.sightings: dict[int, int] = {}  # new buses: consecutive usable readings with them

    def follow(
        self, read: dict[int, str | None], known: Collection[int], now: datetime
    ) -> list[int]:
        """Take a usable reading (bus → meter id); return the new buses that count now."""
        self.read = read
        self.sightings = {bus: self.sightings.get(bus, 0) + 1 for bus in read if bus not in known}
        new: list[int] = []
        for bus in self.sightings.copy():
            if self.sightings[bus] >= self.seen_readings and len(known) + len(new) < MAX_SUBMETERS:
                del self.sightings[bus]
                new.append(bus)
        for bus in known:
            if bus in read:
                self.missing.pop(bus, None)
            else:
                self.missing.setdefault(bus, now)
        return new

    def gone(self, now: datetime) -> list[int]:
        """Return the buses missing for ``GONE_AFTER``."""
        return [bus for bus, since in self.missing.items() if now - since >= GONE_AFTER]

    def restore_missing(self, bus: int, since: datetime) -> None:
        """Go on with a missing count kept before (unless a usable reading has the bus)."""
        if bus not in (self.read or {}):
            self.missing[bus] = min(self.missing.get(bus, since), since)
