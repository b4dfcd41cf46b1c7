"""Sub-meters on the simulated meter's bus: gas, water and heat meters (docs/device-api.md §8.2).

A sub-meter does not report live: like a DSMR gas meter it *captures* its counter once per
``period`` (an hour by default, on the full hour) and the whatwatt Go repeats that captured value,
with its capture time, in every report until the next capture. The counter rises slowly, by
``rate`` units per hour (with a little noise), so a test that moves the clock on by an hour sees
a new capture time and a slightly higher counter.

Profiles (``SimulatorConfig.profile``): ``p1-gas`` is ``p1-single`` with a gas meter on bus 1;
``dlms-water-heat`` is ``dlms-three`` with a water meter on bus 1 and a heat meter on bus 2.
Sub-meters can be added and removed at run time (``Simulator.meter.submeters``,
``add_submeter``, ``remove_submeter``): one appearing later, one going for good.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from datetime import tzinfo
    import random

# Profile → (meter profile it builds on, its sub-meters: bus, meter id, start value, rate/hour).
SUBMETER_PROFILES: Final[dict[str, tuple[str, tuple[tuple[int, str, float, float], ...]]]] = {
    "p1-gas": ("p1-single", ((1, "G0035001234567819", 4321.123, 0.12),)),
    "dlms-water-heat": (
        "dlms-three",
        ((1, "71234567", 812.345, 0.02), (2, "55501234", 16234.5, 1.5)),
    ),
}


def base_profile(profile: str) -> str:
    """Return the meter profile a profile builds on (itself for a plain meter profile)."""
    found = SUBMETER_PROFILES.get(profile)
    return found[0] if found is not None else profile


@dataclass
class SubMeter:
    """One simulated sub-meter: its last capture and how fast its counter rises."""

    bus: int
    meter_id: str
    cumulative: float
    rate: float  # units per hour
    period: float = 3600.0  # seconds between two captures
    captured: datetime | None = None  # the last capture (UTC); None: not captured yet

    def capture(self, now: datetime, rng: random.Random) -> None:
        """Take the captures due by ``now`` (UTC): the last full ``period`` before it."""
        seconds = int(now.timestamp() // self.period * self.period)
        moment = datetime.fromtimestamp(seconds, UTC)
        if self.captured is None:
            self.captured = moment
        elif moment > self.captured:
            hours = (moment - self.captured) / timedelta(hours=1)
            self.cumulative = round(self.cumulative + self.rate * hours * rng.uniform(0.5, 1.5), 3)
            self.captured = moment

    def entry(self, zone: tzinfo) -> dict[str, Any]:
        """Return the report's ``volume[]`` entry (``date_time`` local, as the device prints it)."""
        assert self.captured is not None
        local = self.captured.astimezone(zone)
        return {
            "bus": self.bus,
            "meter_id": self.meter_id,
            "date_time": local.strftime("%Y-%m-%dT%H:%M:%S"),
            "cumulative": self.cumulative,
        }


def profile_submeters(profile: str) -> list[SubMeter]:
    """Return the sub-meters a profile starts with (none for a plain meter profile)."""
    found = SUBMETER_PROFILES.get(profile)
    if found is None:
        return []
    return [SubMeter(bus, meter_id, start, rate) for bus, meter_id, start, rate in found[1]]


def volume_entries(
    submeters: list[SubMeter], now: datetime, zone: tzinfo, rng: random.Random
) -> list[dict[str, Any]]:
    """Capture what is due and return the report's ``volume[]`` (ordered by bus)."""
    entries = []
    for meter in sorted(submeters, key=lambda meter: meter.bus):
        meter.capture(now, rng)
        entries.append(meter.entry(zone))
    return entries


def live_volumes(body: dict[str, Any]) -> list[dict[str, Any]] | None:
    """Return the live stream's ``Vol`` for a report body (None: no sub-meters)."""
    volumes = body.get("volume")
    if not isinstance(volumes, list) or not volumes:
        return None
    return [
        {"Bus": e["bus"], "M_ID": e["meter_id"], "DT": e["date_time"], "Cum": e["cumulative"]}
        for e in volumes
        if isinstance(e, dict)
    ]


def template_time(local: Any, zone: tzinfo) -> str | None:
    """Return a ``volume[]`` entry's local ``date_time`` as the template's ``vol[n].date_time``.

    The template variable is UTC (``Z``), the REST report's local time.
    """
    if not isinstance(local, str):
        return None
    try:
        moment = datetime.fromisoformat(local.removesuffix("Z"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    try:
        return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    except OverflowError:  # a hostile time at the edge of the calendar (``simulator.hostile``)
        return None
