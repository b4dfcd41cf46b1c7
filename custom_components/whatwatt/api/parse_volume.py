"""Sub-meter entries (gas, water, heat meters on the meter's bus), read the same way on every wire.

The device reports each sub-meter as a *volume* entry: the REST report's ``report.volume[]``
(``bus``, ``meter_id``, ``date_time`` local, ``cumulative``), the live stream's ``Vol[]``
(``Bus``, ``M_ID``, ``DT`` local, ``Cum``), and the template variables ``vol[n].bus``,
``vol[n].meter_id``, ``vol[n].date_time`` (UTC), ``vol[n].cumulative``, which the integration's
own template carries as ``Vol[]`` in the live stream's shape, every value quoted (docs/device-api.md
§8.2, §9, §12.4).

An entry without a usable bus number is an empty slot, not an error: the template has a fixed
number of slots, and the device renders a slot it has no sub-meter for as ``"null"`` or leaves
the placeholder verbatim. A present but unusable bus or counter (wrong type, text that is no
number) is listed in ``Report.rejected`` as ``<wire>[<index>].<key>``. A time without an offset
(a trailing ``Z`` included, the device's quirk for local times) is read in ``tz``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING, Any, Final, NamedTuple

from .models import REGISTER_RANGE, Volume
from .parse_common import as_text, coerce_number, to_utc

if TYPE_CHECKING:
    from .parse_common import ValueCollector


class VolumeKeys(NamedTuple):
    """The key names of one wire shape's volume entries."""

    bus: str
    meter_id: str
    time: str
    cumulative: str


REST_VOLUME_KEYS: Final = VolumeKeys("bus", "meter_id", "date_time", "cumulative")
LIVE_VOLUME_KEYS: Final = VolumeKeys("Bus", "M_ID", "DT", "Cum")

# Entries read from one reading; more are ignored (a bus carries a handful of sub-meters).
MAX_VOLUMES: Final = 16
# Bus numbers: the M-Bus primary addresses (0..250) cover every device a bus can carry.
MAX_BUS: Final = 250


def _blank(value: Any) -> bool:
    """Return True for "no value": null, empty, ``"null"`` or an unrendered placeholder."""
    if value is None:
        return True
    if isinstance(value, str):
        text = value.strip()
        return not text or text == "null" or "${" in text
    return False


def _number(value: Any) -> tuple[float | None, bool]:
    """Return ``(number, usable)``: a blank value is ``(None, True)``, garbage ``(None, False)``."""
    if _blank(value):
        return None, True
    try:
        return coerce_number(value), True
    except ValueError:
        return None, False


def capture_time(value: Any, tz: tzinfo | None) -> datetime | None:
    """Return a sub-meter's capture time as aware UTC; a time without offset is read in ``tz``."""
    text = as_text(value)
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.removesuffix("Z").removesuffix("z"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz or UTC)
    return to_utc(moment)


def parse_volumes(
    entries: Any,
    keys: VolumeKeys,
    *,
    tz: tzinfo | None,
    collect: ValueCollector,
    wire: str,
) -> dict[int, Volume]:
    """Return the sub-meters of one reading by bus (the last entry of a bus wins)."""
    if entries is None:
        return {}
    if not isinstance(entries, list):
        collect.rejected.append(wire)
        return {}
    volumes: dict[int, Volume] = {}
    for index, entry in enumerate(entries[:MAX_VOLUMES]):
        if (
            entry.__class__ is dict
            and (bus := entry.get(keys.bus)).__class__ is str
            and "${" in bus
        ):
            continue  # a slot the device has no sub-meter for (the usual case: kept quick)
        if (volume := _volume(entry, keys, tz, collect, f"{wire}[{index}]")) is not None:
            volumes[volume.bus] = volume
    return volumes


def _volume(
    entry: Any, keys: VolumeKeys, tz: tzinfo | None, collect: ValueCollector, where: str
) -> Volume | None:
    """Return one entry's sub-meter; None for an empty slot or an unusable bus (rejected)."""
    if not isinstance(entry, Mapping):
        if entry is not None:
            collect.rejected.append(where)
        return None
    number, usable = _number(entry.get(keys.bus))
    if number is None or not number.is_integer() or not 0 <= number <= MAX_BUS:
        if not usable or number is not None:
            collect.rejected.append(f"{where}.{keys.bus}")
        return None
    cumulative, usable = _number(entry.get(keys.cumulative))
    if cumulative is not None and not REGISTER_RANGE[0] <= cumulative <= REGISTER_RANGE[1]:
        cumulative, usable = None, False
    if not usable:
        collect.rejected.append(f"{where}.{keys.cumulative}")
    return Volume(
        bus=int(number),
        meter_id=as_text(entry.get(keys.meter_id)),
        cumulative=cumulative,
        captured=capture_time(entry.get(keys.time), tz),
    )
