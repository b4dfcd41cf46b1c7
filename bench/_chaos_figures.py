"""The figures of ``bench.chaos_soak``: recovery times, entries not recovered, readings lost.

*Recovery* of an entry from a fault: seconds from the moment the fault ended (the device back
on the network, the broker listening, the password right, the stream accepted, the reload done)
to the first reading its ``power_import`` sensor shows after that moment.

*Readings lost outside faults*: every reading a device delivered (an MQTT message published, a
live event sent on an open stream, a report a ``GET /api/v1/report`` was answered with) at a
moment outside the entry's disturbed windows must show on its power sensor: the sensor shows
that value at some moment from 0.5 s before the reading to ``grace`` after it (3 s; REST: the
scan interval + 3 s, a poll reads it later). A disturbed window runs from ``grace`` before a
fault that hit the entry began until 2 s after the entry recovered (or was released unrecovered);
a broker restart disturbs every MQTT entry. Only readings from the start of the faults' phase
(every entry set up and showing readings) to ``grace`` before the end count: at set-up an MQTT
entry subscribes a moment after its first value (read over REST when it has the address).
"""

from __future__ import annotations

from collections import defaultdict
import math
from typing import TYPE_CHECKING, Final

from bench._chaos_faults import KINDS, RELEASE_AFTER
from bench._harness import percentile

if TYPE_CHECKING:
    from bench._chaos_faults import Fault, SoakMeter

RECOVERED_WITHIN: Final = 120.0
TRANSPORT_NAMES: Final = {
    "rest": "REST",
    "mqtt": "MQTT only",
    "mqtt+host": "MQTT + address",
    "live": "live",
}


def column(kind: str) -> str:
    """Return the table column of a fault kind (both wrong-password kinds share one)."""
    return kind.split(" (")[0]


COLUMNS: Final = list(dict.fromkeys(column(kind) for kind in KINDS))


def recovery_table(faults: list[Fault]) -> list[str]:
    """Return the Markdown table of recovery times: p50 / max in seconds (number of cases)."""
    cells: dict[tuple[str, str], list[float]] = defaultdict(list)
    for fault in faults:
        for meter in fault.targets:
            seconds = fault.recovery(meter)
            cells[meter.transport, column(fault.kind)].append(
                math.inf if seconds is None else seconds
            )
    lines = [
        "| transport | " + " | ".join(COLUMNS) + " |",
        "|---|" + "---|" * len(COLUMNS),
    ]
    for transport, name in TRANSPORT_NAMES.items():
        row = [_cell(cells.get((transport, kind), [])) for kind in COLUMNS]
        lines.append(f"| {name} | " + " | ".join(row) + " |")
    return lines


def _cell(values: list[float]) -> str:
    if not values:
        return "—"
    return f"{_seconds(percentile(values, 0.5))} / {_seconds(max(values))} ({len(values)})"


def _seconds(value: float) -> str:
    return "never" if math.isinf(value) else f"{value:.1f}"


def not_recovered(faults: list[Fault]) -> list[str]:
    """Return the entries that showed no reading within 120 s of a fault's end."""
    late: list[str] = []
    for fault in faults:
        for meter in fault.targets:
            seconds = fault.recovery(meter)
            if seconds is None or seconds > RECOVERED_WITHIN:
                shown = "no reading" if seconds is None else f"first reading after {seconds:.0f} s"
                late.append(f"#{fault.number} {fault.kind} on {meter.device_id}: {shown}")
    return late


def grace(meter: SoakMeter) -> float:
    """Return how long after a reading its value may take to show."""
    return meter.interval + 3.0 if meter.kind == "rest" else 3.0


def disturbed(meter: SoakMeter, faults: list[Fault]) -> list[tuple[float, float]]:
    """Return the windows in which the meter's readings may be lost (faults that hit it)."""
    windows = []
    for fault in faults:
        if any(target.device_id == meter.device_id for target in fault.targets):
            healed = fault.recovered.get(meter.device_id, fault.end + RELEASE_AFTER)
            windows.append((fault.start - grace(meter), healed + 2.0))
    return windows


def _watts(value: str) -> int | None:
    try:
        number = float(value)
    except ValueError:
        return None
    return round(number) if math.isfinite(number) else None


def _shown(meter: SoakMeter, start: float, end: float, watts: int) -> bool:
    """Return True when the sensor showed ``watts`` at some moment between start and end."""
    before = None
    for when, value in meter.states:
        if when <= start:
            before = value
        elif when <= end:
            if _watts(value) == watts:
                return True
        else:
            break
    return before is not None and _watts(before) == watts


def lost_readings(
    meter: SoakMeter, sent: list[list[float]], faults: list[Fault], span: tuple[float, float]
) -> tuple[int, list[str]]:
    """Return (readings checked, readings lost) of one device outside its disturbed windows.

    ``span``: the start of the faults' phase and the end of the soak (monotonic seconds).
    """
    windows = disturbed(meter, faults)
    wait = grace(meter)
    since, until = span
    checked, lost = 0, []
    for moment, _, power in sent:
        if moment < since or moment + wait > until:
            continue
        if any(start <= moment <= end for start, end in windows):
            continue
        checked += 1
        watts = round(power * 1000)
        if not _shown(meter, moment - 0.5, moment + wait, watts):
            lost.append(_lost_text(meter, faults, moment, watts))
    return checked, lost


def _lost_text(meter: SoakMeter, faults: list[Fault], moment: float, watts: int) -> str:
    """Describe a lost reading: when, the faults that hit the entry, the states around it."""
    origin = min((fault.start for fault in faults), default=moment)
    near = [
        f"#{f.number} {f.kind} {f.start - origin:+.1f}..{f.end - origin:+.1f} s, recovered "
        f"{f.recovered.get(meter.device_id, math.nan) - origin:+.1f} s"
        for f in faults
        if any(target is meter for target in f.targets)
    ]
    states = [
        f"{when - origin:+.1f} s {value}"
        for when, value in meter.states
        if moment - 5.0 <= when <= moment + 10.0
    ]
    return (
        f"{meter.device_id} ({meter.transport}): {watts} W at {moment - origin:+.1f} s "
        f"(from the first fault); its faults: {'; '.join(near) or 'none'}; states around it: "
        + ", ".join(states)
    )
