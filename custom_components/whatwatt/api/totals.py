"""Guard for the energy registers: a glitch must not look like a meter reset.

A total (``energy_*``, ``reactive_energy_*``) that reads zero or garbage for one report (the device
rebooted and has no telegram yet, a stray publisher on the MQTT topic) would count in Home
Assistant as a reset of a ``total_increasing`` sensor, and the whole register would then be added
to the day's consumption. ``TotalsGuard.check`` therefore compares every energy value of a reading
with the register's last good value:

* **good** — not lower than the last good value and at most ``MAX_JUMP`` (native units, kWh or
  kvarh) above it. It becomes the new last good value. The first value seen for a register is
  taken as it is when there is nothing to compare it with; ``seed`` gives something to compare
  it with: the value Home Assistant last recorded (before a restart), which stands as the last
  good value until a reading is accepted. A seed may come late, after the first reading (the
  entity that restores it is added after that reading): a register whose only value so far is
  that unconfirmed first reading has it judged against the seed exactly as if the seed had come
  first (``late_seed`` also fixes the current reading); a register that already compared a
  reading with its good value ignores seeds.
* **zero** below a positive last good value — never accepted, however often it repeats: a device
  that has no telegram yet reports zeros for as long as that lasts. A replaced meter is accepted
  once its register leaves zero (by the rules below).
* **negative** or non-finite (the parsers never produce the latter) — never accepted, not even as
  a first value: with no last good value to put in its place, the register is left out of the
  reading.
* **jump** (more than ``MAX_JUMP`` above the last good value) or **lower** (backwards) — accepted
  once ``CONFIRM_READINGS`` consecutive readings of the register confirm it: each one follows the
  one before as a good reading would (not lower, within ``CONFIRM_TOLERANCE`` relative, and at
  most ``MAX_JUMP`` above it). So a new meter that starts near zero and counts is followed with
  its third reading, however little it counts; one garbage value or one zero never is. A good
  value, a zero or a negative value ends the series; one that does not follow starts a new one.
  A restart of the whatwatt Go (a new boot id) proves nothing here: the registers live in the
  meter, which does not restart with it, and the first report after a restart is where one-off
  garbage is most likely.

**Meter exchange.** The meter's identity is its id, or else its serial (``meter_identity``: the
report's ``meter.id`` / ``logical_name``, the system's ``meter.id`` / ``type``, the card's ``MID``
/ ``MIDENT``, the MQTT template's meter id), compared per source: the readings (``check``) and the
device reads (``follow_meter``). A new identity where another was known is an exchange at once; a
confirmed lower value of an energy total (above) is one too. Either way every energy total starts
again from the reading of the new meter: a value above zero is taken as it is (seeds no longer
apply); a total that reads zero (the new meter has not counted on it yet), is unusable or is not
in the reading keeps its last good value until its first value above zero, taken as it is. The
identities known are forgotten (the next ones are the new meter's; the old meter's are ignored
from then on, a device read older than the exchange shows them) and ``on_exchange(old id, new
id)`` is called. After a fall the old id is the one known while the readings were good (None
after a restart of Home Assistant, whose first readings were the new meter's already), the new
one the readings' or else the device read's (None where unknown). For Home Assistant the lower
``total_increasing`` state is a new cycle, counted from zero, so no energy is lost: what the
confirmation readings held back is in the new meter's register. Sub-meter counters are not
touched by an exchange.

A value that is not accepted is replaced by the register's last good value; the rest of the report
passes unchanged (``Report.rejected`` is not touched: it lists unusable wire values, and the
replaced value was usable, just not believable). The first glitch of a register is logged as a
warning, further ones only once that register has read good again. Accepted resets are logged at
info level.

The sub-meters' counters (``Report.volumes``, register key ``volume_<bus>``) are guarded by the
same rules, in their own unit: a gas counter reading zero after a reboot is as wrong as an energy
register reading zero. A counter that cannot be believed keeps its last good value; one with no
good value yet is left without a value (its sub-meter stays in the reading).

The check runs on every reading (up to one a second per device): it looks only at the energy keys
and sub-meters present and returns the very same report when nothing had to be replaced.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
import logging
import math
from typing import TYPE_CHECKING, Final

from .models import MEASUREMENT_KEYS

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from .models import MeterInfo, Report, Volume

_LOGGER = logging.getLogger(__name__)

# The energy registers (totals) among the measurement keys.
ENERGY_KEYS: Final[tuple[str, ...]] = tuple(
    key for key in MEASUREMENT_KEYS if key.startswith(("energy_", "reactive_energy_"))
)
# Register key of a sub-meter's counter: ``volume_<bus>``.
VOLUME_PREFIX: Final = "volume_"
# Largest believable rise of a total between two readings (native units: kWh, kvarh, m³ ...).
MAX_JUMP: Final = 1000.0
# Consecutive readings that confirm an unbelievable value (the first of them included).
CONFIRM_READINGS: Final = 3
# How far (relative) a confirming reading may lie below the one before (0.1 %).
CONFIRM_TOLERANCE: Final = 0.001
# Sources of the meter's identity, compared each with itself.
FROM_READINGS: Final = "readings"
FROM_DEVICE: Final = "device"


@dataclass(slots=True)
class _Register:
    """What the guard remembers about one total."""

    good: float | None = None  # None: no good value yet (nothing seen, nothing seeded)
    # The register's only value so far, unconfirmed: a first reading nothing was compared with
    # (taken as good, or left out when unusable). None once a reading was compared with a good
    # value or a seed judged it: a late seed still judges it (``TotalsGuard.seed``).
    first: float | None = None
    warned: bool = False
    candidate: float | None = None
    confirmations: int = 0
    restart: bool = False  # the meter was exchanged: its first value above zero is taken


def meter_identity(meter: MeterInfo | None) -> str | None:
    """Return what identifies the meter: its id, else its serial (None: unknown)."""
    return (meter.meter_id or meter.serial) if meter is not None else None


def _follows(previous: float, value: float) -> bool:
    """Return True when ``value`` continues a confirmation series as a good reading would."""
    return previous - CONFIRM_TOLERANCE * abs(previous) <= value <= previous + MAX_JUMP


def _usable(value: float) -> bool:
    """Return True for a value a register can hold at all (finite, not negative)."""
    return math.isfinite(value) and value >= 0


def volume_key(bus: int) -> str:
    """Return the register (and entity) key of the sub-meter on ``bus``."""
    return f"{VOLUME_PREFIX}{bus}"


def is_volume_key(key: str) -> bool:
    """Return True for a sub-meter counter's key (``volume_<bus>``)."""
    return key.startswith(VOLUME_PREFIX) and key[len(VOLUME_PREFIX) :].isdigit()


def recorded_number(value: object) -> float | None:
    """Return a value Home Assistant recorded as a number to seed with (None: not a number)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def _what(key: str) -> str:
    """Return what a register is, for the log."""
    return "sub-meter counter" if is_volume_key(key) else "energy total"


def _why(value: float) -> str:
    """Return why an unusable value (or a zero) is never accepted, for the log."""
    if value == 0:
        return "reads zero"
    return "is negative" if value < 0 else "is not a finite number"


def _replaced(
    report: Report,
    fixed: dict[str, float] | None,
    dropped: list[str] | None,
    volumes: dict[int, Volume] | None,
) -> Report:
    """Return ``report`` with fixed and dropped totals and checked sub-meters."""
    checked = {**report.values, **(fixed or {})}
    for key in dropped or ():
        del checked[key]
    if volumes is None:
        return replace(report, values=checked)
    return replace(report, values=checked, volumes=volumes)


class TotalsGuard:
    """Keep the energy totals of one device's readings from going to zero, backwards or wild."""

    def __init__(
        self,
        name: str | None = None,
        on_exchange: Callable[[str | None, str | None], None] | None = None,
    ) -> None:
        """Name the device for the log (the report's device id is used when None).

        ``on_exchange(old id, new id)`` is called for every meter exchange found.
        """
        self.name = name
        self.on_exchange = on_exchange
        self._registers: dict[str, _Register] = {}
        self._meters: dict[str, str] = {}  # source → the meter's identity last seen there
        self._gone: set[str] = set()  # identities of exchanged meters (a stale read shows them)
        self._good_meter: str | None = None  # the identity known when all totals last were good
        self._fell = False  # a lower energy total was just confirmed (an exchange)

    def last_good(self, key: str) -> float | None:
        """Return the last good value of a register, None before the first one."""
        register = self._registers.get(key)
        return register.good if register is not None else None

    def seed(self, key: str, value: float) -> bool:
        """Start register ``key`` from ``value``, the total Home Assistant last recorded.

        The seeded value is the register's last good value until a reading is accepted, so a
        glitch in the very first reading (after a restart of Home Assistant) is held like any
        other. A late seed (readings began) is judged as if it had come first: when the
        register's only value is an unconfirmed first reading the seed would have held (zero,
        lower, a jump beyond ``MAX_JUMP``), the seed becomes the good value, that reading counts
        as the first of a confirmation series and the glitch is logged as usual; a first value
        left out (negative) gives way to the seed; one the seed would have let pass stands.

        Return True when ``value`` is now the register's last good value. Ignored (False) for a
        key that is no energy total or sub-meter counter, a negative or non-finite value, and a
        register that compared a reading with a good value, or was seeded before (a reading
        outranks a recorded value, the first seed stands).
        """
        return self._seed(key, value, None)

    def late_seed(self, report: Report, key: str, value: float) -> Report:
        """Seed register ``key`` after ``report``, the current reading, was checked.

        Return ``report`` as checking it would have returned it had the seed come first: the
        register's value in it (an energy value, present or left out; the counter of a sub-meter
        in it) replaced by the seed when the seed holds it; the very same report otherwise.
        """
        register = self._registers.get(key)
        first = register.first if register is not None else None
        left_out = register is not None and first is not None and register.good is None
        if not self._seed(key, value, report) or first is None:
            return report
        if not is_volume_key(key):
            if key not in report.values and not left_out:
                return report
            return replace(report, values={**report.values, key: float(value)})
        bus = int(key[len(VOLUME_PREFIX) :])
        volumes = report.volumes or {}
        volume = volumes.get(bus)
        if volume is None or (volume.cumulative is None and not left_out):
            return report
        return replace(report, volumes={**volumes, bus: replace(volume, cumulative=float(value))})

    def _seed(self, key: str, value: float, report: Report | None) -> bool:
        """Seed a register (``seed``); ``report`` names the device in the log."""
        if (key not in ENERGY_KEYS and not is_volume_key(key)) or not _usable(value):
            return False
        register = self._registers.setdefault(key, _Register())
        if register.good is None:  # nothing read yet, or only a left-out first value
            register.good, register.first = float(value), None
            return True
        if register.first is None:  # a reading was compared with a good value, or seeded
            return False
        first, register.good = register.first, float(value)
        return self._check_one(key, first, register.good, register, report) is not None

    def check(self, report: Report) -> Report:
        """Return ``report`` with unbelievable totals replaced by their last good values."""
        self._follow(meter_identity(report.meter), FROM_READINGS, report)
        self._fell = False
        fixed, dropped = self._check_energy(report)
        if self._fell:
            self._fall_exchange(report)
            fixed, dropped = self._check_energy(report)
        elif not self._confirming():
            self._good_meter = self._meters.get(FROM_READINGS) or self._meters.get(FROM_DEVICE)
        volumes = self._check_volumes(report, report.volumes) if report.volumes else None
        if fixed is None and dropped is None and volumes is None:
            return report
        return _replaced(report, fixed, dropped, volumes)

    def _confirming(self) -> bool:
        """Return True while an energy total's unbelievable value waits for confirmation."""
        registers = self._registers
        for key in ENERGY_KEYS:
            if (register := registers.get(key)) is not None and register.candidate is not None:
                return True
        return False

    def follow_meter(self, meter: MeterInfo | None) -> None:
        """Follow the meter's identity as a device read shows it (an exchange when it changed)."""
        self._follow(meter_identity(meter), FROM_DEVICE, None)

    def _follow(self, identity: str | None, source: str, report: Report | None) -> None:
        """Note the meter's identity from ``source``; a new one where one was known: exchange."""
        if identity is None or identity in self._gone:
            return
        known = self._meters.get(source)
        self._meters[source] = identity
        if known is not None and known != identity:
            why = f"meter {known} became {identity}"
            self._exchange(known, (source, identity), report, why)

    def _fall_exchange(self, report: Report) -> None:
        """Exchange the meter for a confirmed fall: name the old and new meter where known."""
        old, device = self._good_meter, self._meters.get(FROM_DEVICE)
        current = meter_identity(report.meter)  # unchanged, or it had been an exchange at once
        new = (FROM_READINGS, current) if current is not None else None
        if new is None and device is not None and device != old:
            new = (FROM_DEVICE, device)  # read since Home Assistant started: the new meter's
        self._exchange(old, new, report, f"{CONFIRM_READINGS} readings agree")

    def _exchange(
        self, old: str | None, new: tuple[str, str] | None, report: Report | None, why: str
    ) -> None:
        """Start every energy total again from ``report`` (None: from the next reading).

        ``new``: the source and identity that showed the new meter (None: not known yet).
        """
        _LOGGER.info(
            "The meter of %s was exchanged: its energy totals start again (a reset; %s)",
            self._who(report),
            why,
        )
        values = report.values if report is not None else {}
        for key in ENERGY_KEYS:
            register, value = self._registers.pop(key, None), values.get(key)
            if value is not None and _usable(value) and value > 0:  # beyond any seed
                self._registers[key] = _Register(good=value)
            elif register is not None and register.good is not None:  # waits for the new meter
                self._registers[key] = _Register(good=register.good, warned=True, restart=True)
        identity = new[1] if new is not None else None
        self._gone.update(known for known in self._meters.values() if known != identity)
        self._meters = dict([new]) if new is not None else {}
        self._good_meter = identity
        if self.on_exchange is not None:
            self.on_exchange(old, identity)

    def _check_energy(self, report: Report) -> tuple[dict[str, float] | None, list[str] | None]:
        """Check the energy totals of one reading; return the values fixed and those dropped."""
        fixed: dict[str, float] | None = None
        dropped: list[str] | None = None
        values, registers = report.values, self._registers
        for key in ENERGY_KEYS:
            if (value := values.get(key)) is None:
                continue
            register = registers.get(key)
            if (  # the usual reading, at once: believable, nothing pending or to log
                register is not None
                and (last := register.good) is not None
                and last <= value <= last + MAX_JUMP
                and register.candidate is None
                and not (register.warned or register.restart)
            ):
                register.good = value
                register.first = None
                continue
            if register is None:
                register = self._registers[key] = _Register()
            last = register.good
            if last is None:  # the first value: nothing to compare it with
                if not self._first(key, value, register, report):
                    dropped = [*(dropped or ()), key]
                continue
            kept = self._check_one(key, value, last, register, report)
            if kept is not None:
                fixed = {**(fixed or {}), key: kept}
        return fixed, dropped

    def _check_volumes(
        self, report: Report, volumes: Mapping[int, Volume]
    ) -> dict[int, Volume] | None:
        """Return the sub-meters with unbelievable counters replaced; None: all stand."""
        changed: dict[int, Volume] | None = None
        for bus, volume in volumes.items():
            value = volume.cumulative
            if value is None:
                continue
            key = volume_key(bus)
            register = self._registers.get(key)
            if register is None:
                register = self._registers[key] = _Register()
            use: float | None
            if register.good is None:  # the first value: nothing to compare it with
                if self._first(key, value, register, report):
                    continue
                use = None  # unusable, and no good value to put in its place
            elif (use := self._check_one(key, value, register.good, register, report)) is None:
                continue
            if changed is None:
                changed = dict(volumes)
            changed[bus] = replace(volume, cumulative=use)
        return changed

    def _first(self, key: str, value: float, register: _Register, report: Report) -> bool:
        """Take a register's first value as it is; False (logged) when it is unusable."""
        register.first = value
        if _usable(value):
            self._accept(key, value, register, report)
            return True
        self._glitch(key, value, register, report, _why(value))
        return False

    def _check_one(
        self, key: str, value: float, last: float, register: _Register, report: Report | None
    ) -> float | None:
        """Judge one value against ``last``; return the value to use instead, None: it stands."""
        register.first = None
        if register.restart and value > 0 and _usable(value):
            register.restart = False
            self._accept(key, value, register, report)
            return None
        if last <= value <= last + MAX_JUMP:
            self._accept(key, value, register, report)
            return None
        if value == 0 or not _usable(value):
            register.candidate, register.confirmations = None, 0
            self._glitch(key, value, register, report, _why(value))
            return last
        candidate = register.candidate
        if candidate is not None and _follows(candidate, value):
            register.confirmations += 1
        else:
            register.confirmations = 1
        register.candidate = value
        if register.confirmations >= CONFIRM_READINGS:
            if value < last and not is_volume_key(key):
                self._fell = True  # the meter was exchanged: ``check`` starts every total again
                return None
            self._reset(key, value, register, report, f"{CONFIRM_READINGS} readings agree")
            return None
        reason = "went backwards" if value < last else f"jumped by more than {MAX_JUMP:g}"
        self._glitch(key, value, register, report, reason)
        return last

    def _who(self, report: Report | None) -> str:
        """Return the device's name for the log."""
        return self.name or (report.device_id if report is not None else None) or "whatwatt device"

    def _accept(self, key: str, value: float, register: _Register, report: Report | None) -> None:
        """Take ``value`` as the register's new last good value."""
        register.good = value
        register.candidate, register.confirmations = None, 0
        if register.warned:
            register.warned = False
            _LOGGER.debug(
                "%s %s of %s reads good again", _what(key).capitalize(), key, self._who(report)
            )

    def _reset(
        self, key: str, value: float, register: _Register, report: Report | None, why: str
    ) -> None:
        """Accept a lower or much higher value as a real change of the meter's register."""
        _LOGGER.info(
            "%s %s of %s changed from %s to %s, accepted as a meter reset (%s)",
            _what(key).capitalize(),
            key,
            self._who(report),
            register.good,
            value,
            why,
        )
        self._accept(key, value, register, report)

    def _glitch(
        self, key: str, value: float, register: _Register, report: Report | None, why: str
    ) -> None:
        """Log a replaced (or left out) value, once until the register reads good again."""
        if register.warned:
            return
        register.warned = True
        kept = (
            f"last good value {register.good} is kept"
            if register.good is not None
            else "no good value yet, left out of the reading"
        )
        _LOGGER.warning(
            "Ignoring %s %s = %s of %s: it %s (%s; not logged again until it reads good)",
            _what(key),
            key,
            value,
            self._who(report),
            why,
            kept,
        )
