"""Guard for the energy registers: a glitch must not look like a meter reset.

A total (``energy_*``, ``reactive_energy_*``) that reads zero or garbage for one report (the device
rebooted and has no telegram yet, a stray publisher on the MQTT topic) would count in Home
Assistant as a reset of a ``total_increasing`` sensor, and the whole register would then be added
to the day's consumption. ``TotalsGuard.check`` therefore compares every energy value of a reading
with the register's last good value:

* **good** — not lower than the last good value and at most ``MAX_JUMP`` (native units, kWh or
  kvarh) above it. It becomes the new last good value. The first value seen for a register is
  taken as it is: there is nothing to compare it with.
* **zero** below a positive last good value — never accepted, however often it repeats: a device
  that has no telegram yet reports zeros for as long as that lasts. A replaced meter is accepted
  once its register leaves zero (by the rules below).
* **lower** (backwards) — accepted as a real meter reset when the device booted since the last good
  value was taken (the reading's ``boot_id``, or the last one seen when a reading carries none,
  differs from the one current at the last good value; both must be known); otherwise it needs
  confirmation.
* **jump** (more than ``MAX_JUMP`` above the last good value) or a lower value without a new boot —
  accepted once ``CONFIRM_READINGS`` consecutive readings of the register agree (each within
  ``CONFIRM_TOLERANCE``, relative, of the one before), so a persistent change wins after a few
  readings. A good value or a zero ends the series; a disagreeing value starts a new one.
* a non-finite value (the parsers never produce one) is treated like a zero, and never taken as
  a first value.

A value that is not accepted is replaced by the register's last good value; the rest of the report
passes unchanged (``Report.rejected`` is not touched: it lists unusable wire values, and the
replaced value was usable, just not believable). The first glitch of a register is logged as a
warning, further ones only once that register has read good again. Accepted resets are logged at
info level.

The check runs on every reading (up to one a second per device): it looks only at the energy keys
present and returns the very same report when nothing had to be replaced.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
import logging
import math
from typing import TYPE_CHECKING, Final

from .models import MEASUREMENT_KEYS

if TYPE_CHECKING:
    from .models import Report

_LOGGER = logging.getLogger(__name__)

# The energy registers (totals) among the measurement keys.
ENERGY_KEYS: Final[tuple[str, ...]] = tuple(
    key for key in MEASUREMENT_KEYS if key.startswith(("energy_", "reactive_energy_"))
)
# Largest believable rise of a total between two readings (kWh / kvarh).
MAX_JUMP: Final = 1000.0
# Consecutive agreeing readings that make an unbelievable value believable.
CONFIRM_READINGS: Final = 3
# Relative difference within which two consecutive readings agree (0.1 %).
CONFIRM_TOLERANCE: Final = 0.001


@dataclass(slots=True)
class _Register:
    """What the guard remembers about one total."""

    good: float
    good_boot: str | None
    warned: bool = False
    candidate: float | None = None
    confirmations: int = 0


class TotalsGuard:
    """Keep the energy totals of one device's readings monotonic within one boot."""

    def __init__(self, name: str | None = None) -> None:
        """Name the device for the log (the report's device id is used when None)."""
        self.name = name
        self._boot_id: str | None = None
        self._registers: dict[str, _Register] = {}

    def last_good(self, key: str) -> float | None:
        """Return the last good value of a register, None before the first one."""
        register = self._registers.get(key)
        return register.good if register is not None else None

    def check(self, report: Report) -> Report:
        """Return ``report`` with unbelievable totals replaced by their last good values."""
        if report.boot_id is not None:
            self._boot_id = report.boot_id
        values = report.values
        fixed: dict[str, float] | None = None
        for key in ENERGY_KEYS:
            value = values.get(key)
            if value is None:
                continue
            register = self._registers.get(key)
            if register is None:
                if math.isfinite(value):
                    self._registers[key] = _Register(value, self._boot_id)
                continue
            kept = self._check_one(key, value, register, report)
            if kept is not None:
                if fixed is None:
                    fixed = {}
                fixed[key] = kept
        if fixed is None:
            return report
        return replace(report, values={**values, **fixed})

    def _check_one(
        self, key: str, value: float, register: _Register, report: Report
    ) -> float | None:
        """Judge one value; return the value to use instead, or None when ``value`` stands."""
        last = register.good
        if last <= value <= last + MAX_JUMP:
            self._accept(key, value, register, report)
            return None
        if value == 0 or not math.isfinite(value):
            register.candidate, register.confirmations = None, 0
            why = "reads zero" if value == 0 else "is not a finite number"
            self._glitch(key, value, register, report, why)
            return last
        if value < last and self._booted_since(register):
            self._reset(key, value, register, report, "the device restarted")
            return None
        candidate = register.candidate
        if candidate is not None and abs(value - candidate) <= CONFIRM_TOLERANCE * abs(candidate):
            register.confirmations += 1
        else:
            register.confirmations = 1
        register.candidate = value
        if register.confirmations >= CONFIRM_READINGS:
            self._reset(key, value, register, report, f"{CONFIRM_READINGS} readings agree")
            return None
        reason = "went backwards" if value < last else f"jumped by more than {MAX_JUMP:g}"
        self._glitch(key, value, register, report, reason)
        return last

    def _booted_since(self, register: _Register) -> bool:
        """Return True when a new boot id was seen since the register's last good value."""
        return (
            self._boot_id is not None
            and register.good_boot is not None
            and self._boot_id != register.good_boot
        )

    def _who(self, report: Report) -> str:
        """Return the device's name for the log."""
        return self.name or report.device_id or "whatwatt device"

    def _accept(self, key: str, value: float, register: _Register, report: Report) -> None:
        """Take ``value`` as the register's new last good value."""
        register.good, register.good_boot = value, self._boot_id
        register.candidate, register.confirmations = None, 0
        if register.warned:
            register.warned = False
            _LOGGER.debug("Energy total %s of %s reads good again", key, self._who(report))

    def _reset(self, key: str, value: float, register: _Register, report: Report, why: str) -> None:
        """Accept a lower or much higher value as a real change of the meter's register."""
        _LOGGER.info(
            "Energy total %s of %s changed from %s to %s, accepted as a meter reset (%s)",
            key,
            self._who(report),
            register.good,
            value,
            why,
        )
        self._accept(key, value, register, report)

    def _glitch(
        self, key: str, value: float, register: _Register, report: Report, why: str
    ) -> None:
        """Log a replaced value, once until the register reads good again."""
        if register.warned:
            return
        register.warned = True
        _LOGGER.warning(
            "Ignoring energy total %s = %s of %s: it %s (last good value %s is kept; not logged "
            "again until it reads good)",
            key,
            value,
            self._who(report),
            why,
            register.good,
        )
