"""One-shot energy-register glitch: a report whose energy registers read 0 or garbage.

Field meters (and decoders) now and then deliver one telegram in which a cumulative register reads
0 or nonsense before the next one is normal again. ``EnergyGlitch`` describes one such glitch; the
``energy_glitch`` fault (``faults.Faults``) arms it. Each output path of the device takes it once,
on the next report it delivers that carries meter values:

- ``"report"``: the next ``GET /api/v1/report`` answer (the stored report stays intact, so the
  request after it shows the normal values again);
- ``"live"``: the next event sent on an open ``/api/v1/live`` stream;
- ``"mqtt"``: the next MQTT message published (its energy template variables); a telegram the
  ``report_interval`` cadence skips, or no broker session, leaves it pending.

JSON form (``POST /_sim/faults``)::

    {"energy_glitch": {"kind": "zero" | "garbage", "registers": "all" | ["1_8_0", ...],
                       "value": 1e9, "paths": ["report", "live", "mqtt"]}}

Only ``kind`` is required; ``registers`` defaults to ``"all"``, ``paths`` to all three and
``value`` (used by ``garbage`` only) to ``1e9`` (a negative number is garbage too). Register names
are the device's template variables for energy (``1_8_0``..``8_8_2``); registers the meter does
not send stay absent. Once every named path has taken it the fault reads ``null`` again.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, replace
import math
from typing import TYPE_CHECKING, Any, Final, Literal

if TYPE_CHECKING:
    from collections.abc import Mapping

GlitchKind = Literal["zero", "garbage"]
GlitchPath = Literal["report", "live", "mqtt"]

GLITCH_KINDS: Final[tuple[str, ...]] = ("zero", "garbage")
GLITCH_PATHS: Final[tuple[GlitchPath, ...]] = ("report", "live", "mqtt")
DEFAULT_GARBAGE: Final = 1e9

_BASES: Final[tuple[tuple[str, tuple[str, ...]], ...]] = (
    ("1", ("active", "positive")),
    ("2", ("active", "negative")),
    ("3", ("reactive", "positive")),
    ("4", ("reactive", "negative")),
    ("5", ("reactive", "imported", "inductive")),
    ("6", ("reactive", "imported", "capacitive")),
    ("7", ("reactive", "exported", "inductive")),
    ("8", ("reactive", "exported", "capacitive")),
)

# Energy register (template variable name) → path below ``report.energy``.
ENERGY_REGISTERS: Final[dict[str, tuple[str, ...]]] = {
    f"{code}_8_{n}": (*base, suffix)
    for code, base in _BASES
    for n, suffix in enumerate(("total", "t1", "t2"))
}


@dataclass(frozen=True, slots=True)
class EnergyGlitch:
    """Which registers go wrong, how, and on which paths it is still pending."""

    kind: GlitchKind
    registers: tuple[str, ...] = tuple(ENERGY_REGISTERS)
    value: float = DEFAULT_GARBAGE
    paths: tuple[GlitchPath, ...] = GLITCH_PATHS

    @property
    def reading(self) -> float:
        """Return what a glitched register reads."""
        return 0 if self.kind == "zero" else self.value

    def taken(self, path: GlitchPath) -> EnergyGlitch | None:
        """Return the glitch still pending after ``path`` took it (None: nothing left)."""
        rest = tuple(p for p in self.paths if p != path)
        return replace(self, paths=rest) if rest else None

    def apply(self, report_json: Mapping[str, Any]) -> dict[str, Any]:
        """Return a copy of a full report JSON with the named registers glitched."""
        out = copy.deepcopy(dict(report_json))
        energy = out.get("report", {}).get("energy")
        for name in self.registers:
            node: Any = energy
            *parents, leaf = ENERGY_REGISTERS[name]
            for step in parents:
                node = node.get(step) if isinstance(node, dict) else None
            if isinstance(node, dict) and leaf in node:
                node[leaf] = self.reading
        return out

    def as_dict(self) -> dict[str, Any]:
        """Return the JSON form (``registers`` is ``"all"`` when every register is named)."""
        every = set(self.registers) == set(ENERGY_REGISTERS)
        return {
            "kind": self.kind,
            "registers": "all" if every else list(self.registers),
            "value": self.value,
            "paths": list(self.paths),
        }


def parse_glitch(data: Any) -> EnergyGlitch | None:
    """Return the glitch for its JSON form (None/false: no glitch); raise ValueError if bad."""
    if data is None or data is False:
        return None
    if isinstance(data, EnergyGlitch):
        return data
    if isinstance(data, dict):
        return _from_json(data)
    raise ValueError("energy_glitch must be an object or null")


def _from_json(data: dict[str, Any]) -> EnergyGlitch:
    unknown = set(data) - {"kind", "registers", "value", "paths"}
    if unknown:
        raise ValueError(f"energy_glitch: unknown keys {sorted(unknown)}")
    kind = data.get("kind")
    if kind not in GLITCH_KINDS:
        raise ValueError("energy_glitch.kind must be zero or garbage")
    return EnergyGlitch(
        kind=kind,
        registers=_names(data.get("registers", "all"), ENERGY_REGISTERS, "registers"),
        value=_garbage(data.get("value", DEFAULT_GARBAGE)),
        paths=_names(data.get("paths", list(GLITCH_PATHS)), GLITCH_PATHS, "paths"),
    )


def _names(value: Any, allowed: Mapping[str, Any] | tuple[str, ...], what: str) -> Any:
    if value == "all":
        return tuple(allowed)
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or any(v not in allowed for v in value):
        raise ValueError(f"energy_glitch.{what} must be 'all' or a list of {', '.join(allowed)}")
    return tuple(dict.fromkeys(value))


def _garbage(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError("energy_glitch.value must be a finite number")
    return float(value)
