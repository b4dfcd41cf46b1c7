"""Parser for one live-stream event of ``GET /api/v1/live`` (flat keys, docs/device-api.md §9)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from .models import Report
from .parse_common import (
    ValueCollector,
    as_uptime,
    decode_object,
    local_date_time,
    ranged,
    wall_clock,
)
from .parse_volume import LIVE_VOLUME_KEYS, parse_volumes

if TYPE_CHECKING:
    from datetime import tzinfo

# Live stream (SSE) flat keys → measurement key (docs/device-api.md §8.1, §9).
LIVE_KEYS: Final[dict[str, str]] = {
    "P_In": "power_import",
    "P_P1_In": "power_import_l1",
    "P_P2_In": "power_import_l2",
    "P_P3_In": "power_import_l3",
    "P_Out": "power_export",
    "P_P1_Out": "power_export_l1",
    "P_P2_Out": "power_export_l2",
    "P_P3_Out": "power_export_l3",
    "rP_In": "reactive_power_import",
    "rP_Out": "reactive_power_export",
    "PF": "power_factor",
    "V_P1": "voltage_l1",
    "V_P2": "voltage_l2",
    "V_P3": "voltage_l3",
    "I_P1": "current_l1",
    "I_P2": "current_l2",
    "I_P3": "current_l3",
    "E_In": "energy_import",
    "E_In_T1": "energy_import_t1",
    "E_In_T2": "energy_import_t2",
    "E_Out": "energy_export",
    "E_Out_T1": "energy_export_t1",
    "E_Out_T2": "energy_export_t2",
    "rE_In": "reactive_energy_import",
    "rE_Out": "reactive_energy_export",
    "P_P_In": "max_demand_import",
}
_LIVE_RANGED: Final = ranged(LIVE_KEYS)


def parse_live_event(data: str | bytes, *, tz: tzinfo | None = None) -> Report:
    """Parse one Server-Sent Event ``data`` line of ``/api/v1/live`` (docs/device-api.md §9).

    ``Date``/``Time`` and the sub-meters' ``Vol[].DT`` are local wall-clock time, read in ``tz``
    (None → UTC); ``Uptime`` is hours.
    """
    event = decode_object(data)
    collect = ValueCollector()
    collect.measure_all(event, _LIVE_RANGED)
    tariff = collect.tariff("T", event.get("T"))
    uptime_hours = collect.number("Uptime", event.get("Uptime"))
    volumes = parse_volumes(event.get("Vol"), LIVE_VOLUME_KEYS, tz=tz, collect=collect, wire="Vol")
    return Report(
        values=collect.values,
        tariff=tariff,
        volumes=volumes,
        timestamp=local_date_time(event.get("Date"), event.get("Time"), tz),
        local_time=wall_clock(event.get("Date"), event.get("Time")),
        uptime=as_uptime(uptime_hours, scale=3600.0),
        rejected=tuple(collect.rejected),
        raw=event,
    )
