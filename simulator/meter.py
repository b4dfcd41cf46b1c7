"""Meter profiles: plausible, evolving readings in the shape of ``GET /api/v1/report``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import pairwise
import random
from typing import TYPE_CHECKING, Any

from .submeters import SubMeter, live_volumes, volume_entries

if TYPE_CHECKING:
    from datetime import tzinfo

METER_INFO: dict[str, dict[str, str]] = {
    "p1-single": {
        "interface": "P1",
        "protocol": "DSMR",
        "protocol_version": "5.0",
        "id": "",
        "model": "",
        "logical_name": "ISK5102ME382400012345",
        "vendor": "Iskraemeco",
        "prefix": "ISK",
    },
    "dlms-three": {
        "interface": "MBUS",
        "protocol": "DLMS",
        "protocol_version": "",
        "id": "",
        "model": "",
        "logical_name": "LGZ1030012345678",
        "vendor": "Landis+Gyr",
        "prefix": "LGZ",
    },
}

NOMINAL_INTERVAL: dict[str, float] = {"p1-single": 1.0, "dlms-three": 5.02}


def _r(value: float, digits: int = 3) -> float:
    return round(value, digits)


@dataclass
class LoadSteps:
    """A demand profile: import power in steps, so that window averages are easy to assert.

    ``steps`` holds (moment, kW) in time order: the power holds from each moment to the next
    (``base_kw`` before the first). While a meter follows it (``MeterModel.load``), the random
    walk is off, nothing is exported and the import register advances between two telegrams by
    the exact integral of the steps, however far apart the telegrams are.
    """

    steps: list[tuple[datetime, float]] = field(default_factory=list)
    base_kw: float = 0.0

    def hold(self, moment: datetime, kw: float) -> None:
        """Import ``kw`` from ``moment`` on (later steps are dropped)."""
        self.steps = [step for step in self.steps if step[0] < moment] + [(moment, kw)]

    def power_at(self, moment: datetime) -> float:
        """Return the import power (kW) at ``moment``."""
        power = self.base_kw
        for start, kw in self.steps:
            if start > moment:
                break
            power = kw
        return power

    def energy(self, start: datetime, end: datetime) -> float:
        """Return the energy (kWh) imported from ``start`` to ``end``."""
        edges = sorted({start, end, *(t for t, _ in self.steps if start < t < end)})
        return sum(self.power_at(a) * (b - a).total_seconds() / 3600 for a, b in pairwise(edges))


@dataclass
class MeterModel:
    """State of one simulated meter; ``next_report`` advances it by one telegram."""

    profile: str
    rng: random.Random = field(default_factory=random.Random)
    net_kw: float = 0.8
    import_kw: float = 0.8
    export_kw: float = 0.0
    energy_in: list[float] = field(default_factory=lambda: [3010.1, 2110.356])
    energy_out: list[float] = field(default_factory=lambda: [500.0, 312.004])
    reactive_in: float = 950.2
    reactive_out: float = 120.7
    max_in: float = 5.1
    max_out: float = 1.0
    # The sub-meters on the bus (gas, water, heat): in every report as ``volume[]``.
    submeters: list[SubMeter] = field(default_factory=list)
    # A demand profile to follow instead of the random walk (None: the walk).
    load: LoadSteps | None = None
    last_telegram: datetime | None = None

    def __post_init__(self) -> None:
        """Reject unknown profiles."""
        if self.profile not in METER_INFO:
            raise ValueError(f"unknown meter profile {self.profile!r}")

    @property
    def info(self) -> dict[str, str]:
        """Return the meter identity block of the report (without ``status``)."""
        return dict(METER_INFO[self.profile])

    def add_submeter(
        self, bus: int, meter_id: str, cumulative: float = 100.0, rate: float = 0.1
    ) -> SubMeter:
        """Put a sub-meter on the bus (it is in the next report); return it."""
        self.remove_submeter(bus)
        meter = SubMeter(bus, meter_id, cumulative, rate)
        self.submeters.append(meter)
        return meter

    def remove_submeter(self, bus: int) -> None:
        """Take the sub-meter on ``bus`` off the bus (gone from the next report)."""
        self.submeters[:] = [meter for meter in self.submeters if meter.bus != bus]

    def exchange(self, start: float = 0.0) -> None:
        """Put a new meter in: every register from zero (import tariff 1 from ``start`` kWh)."""
        self.energy_in = [start, 0.0]
        self.energy_out = [0.0, 0.0]
        self.reactive_in = self.reactive_out = 0.0
        self.max_in = self.max_out = 0.0

    def tariff_at(self, local: datetime) -> int:
        """Return the active tariff: 2 (normal) on weekdays 07-21 h, else 1 (low)."""
        return 2 if local.weekday() < 5 and 7 <= local.hour < 21 else 1

    def _step(self, interval: float) -> None:
        self.net_kw = min(max(self.net_kw + self.rng.uniform(-0.2, 0.2), -1.5), 9.0)
        self.import_kw = _r(max(self.net_kw, 0.0))
        self.export_kw = _r(max(-self.net_kw, 0.0))
        del interval
        self.max_in = max(self.max_in, self.import_kw)
        self.max_out = max(self.max_out, self.export_kw)

    def next_report(self, interval: float, local: datetime, zone: tzinfo) -> dict[str, Any]:
        """Advance one telegram of ``interval`` seconds and return the ``report`` block body.

        The caller adds ``id``, ``interval`` and the time stamps.
        """
        hours = interval / 3600.0
        if self.load is None:
            self._step(interval)
            energy = (self.import_kw * hours, self.export_kw * hours)
        else:
            self.net_kw = self.import_kw = _r(self.load.power_at(local))
            self.export_kw = 0.0
            before = self.last_telegram  # in UTC: local times subtract by the wall clock
            energy = (self.load.energy(before, local.astimezone(UTC)) if before else 0.0, 0.0)
        self.last_telegram = local.astimezone(UTC)
        p1 = self.profile == "p1-single"
        body = self._p1(energy, local) if p1 else self._dlms(energy, hours)
        if self.submeters:
            body["volume"] = volume_entries(self.submeters, local.astimezone(UTC), zone, self.rng)
        return body

    def _p1(self, energy: tuple[float, float], local: datetime) -> dict[str, Any]:
        tariff = self.tariff_at(local)
        idx = tariff - 1
        self.energy_in[idx] += energy[0]
        self.energy_out[idx] += energy[1]
        voltage = _r(self.rng.uniform(228.0, 234.0), 1)
        net = max(self.import_kw, self.export_kw)
        return {
            "tariff": tariff,
            "instantaneous_power": {
                "active": {
                    "positive": {"total": _r(self.import_kw), "l1": _r(self.import_kw)},
                    "negative": {"total": _r(self.export_kw), "l1": _r(self.export_kw)},
                }
            },
            "voltage": {"l1": voltage},
            "current": {"l1": _r(net * 1000.0 / voltage, 2)},
            "energy": {
                "active": {
                    "positive": {
                        "total": _r(sum(self.energy_in)),
                        "t1": _r(self.energy_in[0]),
                        "t2": _r(self.energy_in[1]),
                    },
                    "negative": {
                        "total": _r(sum(self.energy_out)),
                        "t1": _r(self.energy_out[0]),
                        "t2": _r(self.energy_out[1]),
                    },
                }
            },
            "conv_factor": 1,
        }

    def _dlms(self, energy: tuple[float, float], hours: float) -> dict[str, Any]:
        self.energy_in[0] += energy[0]
        self.energy_out[0] += energy[1]
        q_in = _r(self.import_kw * 0.1)
        q_out = 0.0
        self.reactive_in += q_in * hours
        self.reactive_out += q_out * hours
        shares = [self.rng.uniform(0.3, 0.37) for _ in range(3)]
        scale = 1.0 / sum(shares)
        p_in = [_r(self.import_kw * s * scale) for s in shares]
        p_out = [_r(self.export_kw / 3.0)] * 3
        volts = [_r(self.rng.uniform(228.0, 234.0), 1) for _ in range(3)]
        amps = [_r(max(p_in[i], p_out[i]) * 1000.0 / volts[i], 2) for i in range(3)]
        apparent = _r((self.import_kw**2 + q_in**2) ** 0.5)
        pf = _r(self.import_kw / apparent, 2) if apparent else 1.0
        e_in_total = self.energy_in[0] + self.energy_in[1]
        e_out_total = self.energy_out[0] + self.energy_out[1]
        return {
            "instantaneous_power": {
                "active": {
                    "positive": {
                        "total": _r(sum(p_in)),
                        "l1": p_in[0],
                        "l2": p_in[1],
                        "l3": p_in[2],
                    },
                    "negative": {
                        "total": _r(sum(p_out)),
                        "l1": p_out[0],
                        "l2": p_out[1],
                        "l3": p_out[2],
                    },
                },
                "reactive": {
                    "positive": {
                        "total": q_in,
                        "l1": _r(q_in / 3),
                        "l2": _r(q_in / 3),
                        "l3": _r(q_in / 3),
                    },
                    "negative": {"total": q_out, "l1": 0.0, "l2": 0.0, "l3": 0.0},
                },
                "apparent": {"total": apparent},
            },
            "voltage": {"l1": volts[0], "l2": volts[1], "l3": volts[2]},
            "current": {"l1": amps[0], "l2": amps[1], "l3": amps[2]},
            "energy": {
                "active": {
                    "positive": {"total": _r(e_in_total)},
                    "negative": {"total": _r(e_out_total)},
                },
                "reactive": {
                    "positive": {"total": _r(self.reactive_in)},
                    "negative": {"total": _r(self.reactive_out)},
                },
            },
            "max_demand": {
                "active": {
                    "positive": {"total": _r(self.max_in)},
                    "negative": {"total": _r(self.max_out)},
                }
            },
            "power_factor": pf,
            "conv_factor": 1,
        }


# Flat SSE keys (README section 8.1/9) mapped to report paths.
LIVE_KEYS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("P_In", ("instantaneous_power", "active", "positive", "total")),
    ("P_P1_In", ("instantaneous_power", "active", "positive", "l1")),
    ("P_P2_In", ("instantaneous_power", "active", "positive", "l2")),
    ("P_P3_In", ("instantaneous_power", "active", "positive", "l3")),
    ("P_Out", ("instantaneous_power", "active", "negative", "total")),
    ("P_P1_Out", ("instantaneous_power", "active", "negative", "l1")),
    ("P_P2_Out", ("instantaneous_power", "active", "negative", "l2")),
    ("P_P3_Out", ("instantaneous_power", "active", "negative", "l3")),
    ("rP_In", ("instantaneous_power", "reactive", "positive", "total")),
    ("rP_P1_In", ("instantaneous_power", "reactive", "positive", "l1")),
    ("rP_P2_In", ("instantaneous_power", "reactive", "positive", "l2")),
    ("rP_P3_In", ("instantaneous_power", "reactive", "positive", "l3")),
    ("rP_Out", ("instantaneous_power", "reactive", "negative", "total")),
    ("rP_P1_Out", ("instantaneous_power", "reactive", "negative", "l1")),
    ("rP_P2_Out", ("instantaneous_power", "reactive", "negative", "l2")),
    ("rP_P3_Out", ("instantaneous_power", "reactive", "negative", "l3")),
    ("PF", ("power_factor",)),
    ("V_P1", ("voltage", "l1")),
    ("V_P2", ("voltage", "l2")),
    ("V_P3", ("voltage", "l3")),
    ("I_P1", ("current", "l1")),
    ("I_P2", ("current", "l2")),
    ("I_P3", ("current", "l3")),
    ("E_In", ("energy", "active", "positive", "total")),
    ("E_In_T1", ("energy", "active", "positive", "t1")),
    ("E_In_T2", ("energy", "active", "positive", "t2")),
    ("E_Out", ("energy", "active", "negative", "total")),
    ("E_Out_T1", ("energy", "active", "negative", "t1")),
    ("E_Out_T2", ("energy", "active", "negative", "t2")),
    ("rE_In", ("energy", "reactive", "positive", "total")),
    ("rE_Out", ("energy", "reactive", "negative", "total")),
    ("P_P_In", ("max_demand", "active", "positive", "total")),
    ("P_P_In_T1", ("max_demand", "active", "positive", "t1")),
    ("P_P_In_T2", ("max_demand", "active", "positive", "t2")),
    ("T", ("tariff",)),
)


def dig(data: Any, path: tuple[str, ...]) -> Any:
    """Walk ``path`` through nested dicts; return None when a step is missing."""
    for step in path:
        if not isinstance(data, dict) or step not in data:
            return None
        data = data[step]
    return data


def live_event(report_json: dict[str, Any], uptime_s: float, local: datetime) -> dict[str, Any]:
    """Return the flat SSE payload for one full report JSON (keys omitted when unavailable)."""
    body = report_json.get("report", {})
    out: dict[str, Any] = {}
    for key, path in LIVE_KEYS:
        value = dig(body, path)
        if value is not None:
            out[key] = value
    if (volumes := live_volumes(body)) is not None:
        out["Vol"] = volumes
    out["Date"] = local.strftime("%Y-%m-%d")
    out["Time"] = local.strftime("%H:%M:%S")
    out["Uptime"] = round(uptime_s / 3600.0, 4)
    return out
