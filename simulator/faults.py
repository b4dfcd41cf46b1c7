"""Injectable faults of the simulated device (settable in-process or via POST /_sim/faults).

Set one in a test with ``sim.faults.<name> = value`` or ``sim.faults.update({...})``, or over
HTTP with ``POST /_sim/faults`` and a JSON object of the same names (``GET /_sim/faults`` shows
them all); ``sim.faults.clear()`` switches every one back to its default.

Connection and answer faults: ``refuse``, ``offline``, ``delay``, ``status_503``,
``status_429``, ``malformed``, ``wrong_password``. Meter: ``meter_not_connected``,
``energy_glitch``. Clock: ``clock_offset``, ``timezone``, ``old_time_stamps``. Untrusted bytes:
``hostile`` (``simulator.hostile``: extreme times, overflowing and non-finite values, nested
JSON, huge bodies, endless or unfinished live events, stray sub-meters, absurd intervals and
uptimes). See ``Faults`` for each one's meaning.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
import math
from typing import TYPE_CHECKING, Any, Final

from .clock import MAX_CLOCK_OFFSET, parse_zone
from .glitch import EnergyGlitch, GlitchPath, parse_glitch
from .hostile import Hostile, parse_hostile

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

FAULT_NAMES: tuple[str, ...] = (
    "refuse",
    "offline",
    "wrong_password",
    "delay",
    "status_503",
    "status_429",
    "malformed",
    "meter_not_connected",
    "clock_offset",
    "timezone",
    "old_time_stamps",
    "energy_glitch",
    "hostile",
)


def _bool(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise ValueError(f"{name} must be a boolean")


def _delay(_name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ValueError("delay must be a non-negative number")
    return float(value)


def _clock_offset(_name: str, value: Any) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or abs(value) > MAX_CLOCK_OFFSET
    ):
        raise ValueError("clock_offset must be a number of seconds (negative: behind)")
    return float(value)


def _timezone(_name: str, value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        parse_zone(value)  # raises ValueError for an unknown zone
        return value.strip()
    raise ValueError("timezone must be a zone name, a UTC offset such as +02:00, or null")


def _glitch(_name: str, value: Any) -> EnergyGlitch | None:
    return parse_glitch(value)


def _hostile(_name: str, value: Any) -> Hostile | None:
    return parse_hostile(value)


_CHECKS: Final[dict[str, Callable[[str, Any], Any]]] = {
    "delay": _delay,
    "clock_offset": _clock_offset,
    "timezone": _timezone,
    "energy_glitch": _glitch,
    "hostile": _hostile,
}


def check_fault(name: str, value: Any) -> Any:
    """Return ``value`` as fault ``name`` stores it; raise ValueError on bad names or values."""
    if name not in FAULT_NAMES:
        raise ValueError(f"unknown fault {name!r}")
    check = _CHECKS.get(name)
    return check(name, value) if check is not None else _bool(name, value)


@dataclass
class Faults:
    """Fault switches; assigning one checks the value and notifies the owning simulator at once.

    ``refuse``: the listening socket is closed (connection refused) and open connections
    are dropped. ``offline``: the device is off the network: as ``refuse``, and its MQTT client
    disconnects too (it connects again when the fault ends). ``wrong_password``: the device
    takes every password for a wrong one, as after a change of its password: every API request
    is answered 401 with a fresh challenge (never ``stale``); an open live stream stays open,
    like one authorised before the change. ``delay``: seconds to wait before answering.
    ``status_503``/``status_429``: answer every API request with that status. ``malformed``:
    200 answers carry invalid JSON. ``meter_not_connected``: the meter link is down (no report,
    no live events).

    ``clock_offset``: seconds the device's clock runs ahead of real time (negative: behind).
    Everything the device prints as a time follows it (report/system ``date_time*``,
    ``device.date``/``time``/``last_reboot``, ``meter.date``/``time``, live ``Date``/``Time``,
    the MQTT ``timestamp`` and ``*.date_time*`` variables); ``report.id``, intervals, uptime and
    the MQTT cadence do not. ``timezone``: the device's local zone, switchable while streams are
    open: an IANA name (``"Europe/Zurich"``), ``"UTC"`` or a fixed offset (``"+02:00"``);
    ``None`` is ``SimulatorConfig.timezone``. Reports decoded after the switch carry the new
    local time. ``old_time_stamps``: print times like firmware before 1.10, whatever
    ``firmware`` says: only ``date_time`` (local time with a trailing ``Z``) in the report and
    system blocks, no ``*_local``/``*_utc`` template variables (left verbatim in a template).
    Switching it on strips them from the stored report at once; a report decoded while it was
    on keeps its old-style stamps until the next telegram.

    ``energy_glitch``: an ``EnergyGlitch`` (or its JSON object, see ``simulator.glitch``) that
    makes the named energy registers read 0 or garbage in exactly one report on each named path
    (next REST report answer, next live event, next MQTT message); it reads ``None`` again once
    every path has taken it.

    ``hostile``: a ``Hostile`` (or its JSON form: a list of kinds, or an object with ``kinds``
    and the tunables ``interval``, ``uptime``, ``body_bytes``; see ``simulator.hostile``) that
    makes every answer, live event and MQTT message sent while it is on untrustworthy in the
    named ways; ``None`` (or an empty list) switches it off.
    """

    refuse: bool = False
    offline: bool = False
    wrong_password: bool = False
    delay: float = 0.0
    status_503: bool = False
    status_429: bool = False
    malformed: bool = False
    meter_not_connected: bool = False
    clock_offset: float = 0.0
    timezone: str | None = None
    old_time_stamps: bool = False
    energy_glitch: EnergyGlitch | None = None
    hostile: Hostile | None = None
    _listeners: list[Callable[[str], None]] = field(default_factory=list, repr=False, compare=False)

    def __setattr__(self, name: str, value: Any) -> None:
        """Set a fault (checked) and tell listeners which one changed."""
        if name in FAULT_NAMES:
            value = check_fault(name, value)
        changed = name in FAULT_NAMES and getattr(self, name, None) != value
        object.__setattr__(self, name, value)
        if changed:
            for listener in list(getattr(self, "_listeners", ())):
                listener(name)

    def add_listener(self, listener: Callable[[str], None]) -> Callable[[], None]:
        """Call ``listener(name)`` whenever a fault changes; return an unsubscribe function."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def as_dict(self) -> dict[str, Any]:
        """Return the current fault switches as JSON-able data."""
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name in FAULT_NAMES}
        glitch = self.energy_glitch
        out["energy_glitch"] = glitch.as_dict() if glitch is not None else None
        out["hostile"] = self.hostile.as_dict() if self.hostile is not None else None
        return out

    def update(self, data: Mapping[str, Any]) -> None:
        """Apply a JSON object of fault switches; raise ValueError on bad names or types."""
        checked = {key: check_fault(key, value) for key, value in data.items()}
        for key, value in checked.items():
            setattr(self, key, value)

    def clear(self) -> None:
        """Switch every fault off (back to its default)."""
        self.update({f.name: f.default for f in fields(self) if f.name in FAULT_NAMES})

    def take_glitch(self, path: GlitchPath) -> EnergyGlitch | None:
        """Return the energy glitch pending for ``path`` and mark it taken there (else None)."""
        glitch = self.energy_glitch
        if glitch is None or path not in glitch.paths:
            return None
        self.energy_glitch = glitch.taken(path)
        return glitch
