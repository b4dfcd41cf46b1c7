"""The one data model every wire shape is parsed into (frozen dataclasses)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

# Measurement keys: the entity keys of the contract (docs/architecture.md, "Contracts").
# Native units are the device's: kW, kvar, kVA, V, A, kWh, kvarh.
MEASUREMENT_KEYS: Final = (
    "power_import",
    "power_export",
    "power_import_l1",
    "power_import_l2",
    "power_import_l3",
    "power_export_l1",
    "power_export_l2",
    "power_export_l3",
    "reactive_power_import",
    "reactive_power_export",
    "apparent_power",
    "power_factor",
    "voltage_l1",
    "voltage_l2",
    "voltage_l3",
    "current_l1",
    "current_l2",
    "current_l3",
    "energy_import",
    "energy_import_t1",
    "energy_import_t2",
    "energy_export",
    "energy_export_t1",
    "energy_export_t2",
    "reactive_energy_import",
    "reactive_energy_export",
    "max_demand_import",
    "max_demand_export",
)


# The physical range of each quantity in its native unit. A value outside it is dropped by the
# parsers (its wire key listed in ``Report.rejected``), like an unusable one. Wide enough for
# any connection a whatwatt Go reads (up to 1 GW), narrow enough that Home Assistant's scaling
# (times 1000 to W, var, VA) and sums (net power) stay finite.
POWER_RANGE: Final = (-1e6, 1e6)  # kW, kvar, kVA
VOLTAGE_RANGE: Final = (0.0, 1e6)  # V
CURRENT_RANGE: Final = (-1e6, 1e6)  # A (some meters sign the current)
POWER_FACTOR_RANGE: Final = (-1.0, 1.0)
# kWh, kvarh; sub-meters' counters in their own unit. A negative total is garbage, but it is the
# energy guard's to hold (``totals.py``: the last good value stands in for it).
REGISTER_RANGE: Final = (-1e12, 1e12)
MEASUREMENT_RANGES: Final[dict[str, tuple[float, float]]] = {
    key: (
        VOLTAGE_RANGE
        if key.startswith("voltage")
        else CURRENT_RANGE
        if key.startswith("current")
        else POWER_FACTOR_RANGE
        if key == "power_factor"
        else REGISTER_RANGE
        if "energy" in key
        else POWER_RANGE
    )
    for key in MEASUREMENT_KEYS
}
# Report intervals: the device's documented range (seconds); a value outside is clamped.
INTERVAL_RANGE: Final = (1.0, 3600.0)
# Uptimes (seconds): at most about 31 years; a longer one is dropped.
MAX_UPTIME: Final = 1e9


@dataclass(frozen=True, slots=True)
class MeterInfo:
    """What the device knows about the meter it reads."""

    status: str | None = None
    interface: str | None = None
    protocol: str | None = None
    protocol_version: str | None = None
    vendor: str | None = None
    model: str | None = None
    meter_id: str | None = None
    serial: str | None = None  # meter.logical_name (report) or meter.type (system)
    report_interval: float | None = None
    tariff: int | None = None


@dataclass(frozen=True, slots=True)
class Volume:
    """One sub-meter on the meter's bus (a gas, water or heat meter): its latest captured reading.

    The unit of ``cumulative`` is the sub-meter's own and is not in the data; what it measures is
    the person's choice (the entry's options).
    """

    bus: int  # as the device numbers it (1-based on the wire)
    meter_id: str | None = None
    cumulative: float | None = None  # None: the entry is there, its counter unusable
    captured: datetime | None = None  # when the sub-meter took the reading, aware (UTC)


@dataclass(frozen=True, slots=True)
class Report:
    """One meter reading, whichever transport delivered it.

    ``values`` maps measurement keys (``MEASUREMENT_KEYS``) to floats; a key is present only
    when the meter supplied that quantity in this reading.
    """

    values: Mapping[str, float] = field(default_factory=dict)
    device_id: str | None = None
    report_id: int | None = None
    interval: float | None = None
    tariff: int | None = None  # 1 or 2; None when unknown (0 or absent on the wire)
    timestamp: datetime | None = None  # time of the meter reading, timezone-aware (UTC)
    meter: MeterInfo | None = None
    boot_id: str | None = None
    uptime: float | None = None  # seconds since device boot
    # The device's wall-clock time when it sent this message, given when the wire has no UTC
    # time (naive): a live event's Date/Time, a REST report's system.date_time.
    local_time: datetime | None = None
    # Sub-meters by bus. None: the wire shape cannot carry them (an MQTT template without the
    # sub-meter fields), so their absence says nothing; an empty mapping: there are none.
    volumes: Mapping[int, Volume] | None = None
    # Keys that were present on the wire but unusable (wrong type, NaN, "null", "${...}"):
    # callers may log them; the rest of the reading is still valid.
    rejected: tuple[str, ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class SystemInfo:
    """``GET /api/v1/system``: identity, firmware, licence and health of the device."""

    device_id: str
    name: str | None = None
    model: str | None = None
    firmware: str | None = None
    build: str | None = None
    license: str | None = None  # FREE, PLUS, PRO
    uptime: float | None = None  # seconds
    last_boot: datetime | None = None
    local_time: datetime | None = None  # the device's clock (device.date/time), naive
    supply_voltage_usb: float | None = None
    supply_voltage_mbus: float | None = None
    supply_voltage_p1: float | None = None
    supply_voltage_scap: float | None = None
    mqtt_enabled: bool | None = None
    mqtt_connected: bool | None = None
    meter: MeterInfo = field(default_factory=MeterInfo)
    wifi_rssi: int | None = None
    wifi_signal: int | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def is_licensed(self) -> bool:
        """Return True for a Plus (or higher) licence, or firmware that predates licences."""
        return self.license is None or self.license.upper() != "FREE"


@dataclass(frozen=True, slots=True)
class Settings:
    """``/api/v1/settings``: the device's system and services settings (secrets hidden)."""

    name: str | None = None
    host_name: str | None = None
    protection: bool | None = None
    password_len: int | None = None
    power_save: bool | None = None
    report_interval: int | None = None
    broadcast: bool | None = None
    ntp_server: str | None = None
    use_custom_ntp_server: bool | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class MqttSettings:
    """``/api/v1/mqtt/settings``: the device's MQTT client (secrets hidden)."""

    enable: bool | None = None
    url: str | None = None
    username: str | None = None
    password_len: int | None = None
    client_id: str | None = None
    topic: str | None = None
    template: str | None = None
    skip_cn_check: bool | None = None
    ca_certificate: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class ActionStatus:
    """One record of ``GET /api/v1/actions/status``."""

    action_id: str
    status_id: int
    code: int
    exe_time: float | None = None

    @property
    def running(self) -> bool:
        """Return True while the request has not finished (code -1 with no time)."""
        return self.code == -1 and not self.exe_time


@dataclass(frozen=True, slots=True)
class DeviceEvent:
    """A configuration change, restart or meter exchange (not made by the entry that finds it)."""

    event_type: str
    attributes: tuple[tuple[str, Any], ...] = ()  # ("changed", the keys) ...


@dataclass(frozen=True, slots=True)
class DeviceState:
    """The device as last read: identity, health, writable configuration."""

    system: SystemInfo
    settings: Settings | None = None
    mqtt_settings: MqttSettings | None = None
    last_boot: datetime | None = None
    fetched: datetime | None = None  # when read over REST; None: the device id only
    events: tuple[DeviceEvent, ...] = field(default=(), compare=False)
