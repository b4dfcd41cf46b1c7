"""Sensor entities of the whatwatt Go integration.

The energy totals (``energy_*``, ``reactive_energy_*``) are restore sensors: Home Assistant keeps
their last native value across restarts, and each total hands its value to the energy guard as
it is added (``MeasurementCoordinator.async_seed_total``), so a glitch in the first reading is
held like any other. A total registered before is added with the first reading even when that
reading lacks it (a negative register is left out): it restores, and its glitch is held too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from homeassistant.components.sensor import (
    DOMAIN as SENSOR_DOMAIN,
    RestoreSensor,
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import (
    SIGNAL_STRENGTH_DECIBELS_MILLIWATT,
    EntityCategory,
    UnitOfApparentPower,
    UnitOfElectricCurrent,
    UnitOfElectricPotential,
    UnitOfEnergy,
    UnitOfPower,
    UnitOfReactivePower,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import entity_registry as er

from .api.totals import ENERGY_KEYS, recorded_number
from .const import DOMAIN
from .coordinator import DeviceCoordinator, MeasurementCoordinator
from .demand import async_setup_demand
from .entity import WhatwattEntity
from .migration import kept_vendor_unit
from .submeter import async_setup_submeters

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
    from homeassistant.helpers.typing import StateType

    from .api.models import Report
    from .coordinator import DeviceState, WhatwattConfigEntry

PARALLEL_UPDATES = 0

# Home Assistant 2025.4 has no reactive-energy device class; later lines do.
REACTIVE_ENERGY_DEVICE_CLASS: SensorDeviceClass | None = getattr(
    SensorDeviceClass, "REACTIVE_ENERGY", None
)
UNIT_KILO_VAR_HOUR = "kvarh"

METER_STATUS_OPTIONS = [
    "not_connected",
    "no_data",
    "recognition",
    "ok",
    "encryption_key",
    "key_required",
    "not_recognized",
]
TARIFF_OPTIONS = ["t1", "t2"]
MQTT_LINK_OPTIONS = ["connected", "disconnected", "disabled"]


@dataclass(frozen=True, kw_only=True)
class WhatwattSensorEntityDescription(SensorEntityDescription):
    """Describes one sensor of the readings (measurement coordinator)."""

    value_fn: Callable[[Report], StateType | datetime]
    exists_fn: Callable[[Report], bool]
    # False: shown while the device answers, even when the readings are stale (diagnostics).
    needs_fresh: bool = True


@dataclass(frozen=True, kw_only=True)
class WhatwattDeviceSensorEntityDescription(SensorEntityDescription):
    """Describes one sensor of the device's health (device coordinator)."""

    value_fn: Callable[[DeviceState], StateType | datetime]
    exists_fn: Callable[[DeviceState], bool]


def _measurement(key: str, *, scale: float = 1.0, **kwargs: Any) -> WhatwattSensorEntityDescription:
    """Describe a sensor for one measurement key of the report."""

    def value(report: Report) -> float | None:
        if (raw := report.values.get(key)) is None:
            return None
        return round(raw * scale, 6) if scale != 1.0 else raw

    def supplied(report: Report) -> bool:
        return key in report.values

    return WhatwattSensorEntityDescription(
        key=key, translation_key=key, value_fn=value, exists_fn=supplied, **kwargs
    )


def _power(key: str) -> WhatwattSensorEntityDescription:
    return _measurement(
        key,
        device_class=SensorDeviceClass.POWER,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfPower.KILO_WATT,
        suggested_unit_of_measurement=UnitOfPower.WATT,
        suggested_display_precision=0,
    )


def _energy(key: str) -> WhatwattSensorEntityDescription:
    return _measurement(
        key,
        device_class=SensorDeviceClass.ENERGY,
        state_class=SensorStateClass.TOTAL_INCREASING,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=3,
    )


def _net_power(report: Report) -> float | None:
    values = report.values
    if (imported := values.get("power_import")) is None or (
        exported := values.get("power_export")
    ) is None:
        return None
    return round(imported - exported, 6)


def _net_supplied(report: Report) -> bool:
    return {"power_import", "power_export"} <= report.values.keys()


def _tariff(report: Report) -> str | None:
    return f"t{report.tariff}" if report.tariff in (1, 2) else None


def meter_status_option(status: str | None) -> str | None:
    """Return the enum option of a meter link status (None: unknown)."""
    if status is None:
        return None
    option = status.strip().lower().replace(" ", "_")
    return option if option in METER_STATUS_OPTIONS else None


def _mqtt_link(state: DeviceState) -> str | None:
    """Return the state of the device's MQTT client (``clouds.mqtc``)."""
    system = state.system
    if system.mqtt_enabled is False:
        return "disabled"
    if system.mqtt_connected is None:
        return None
    return "connected" if system.mqtt_connected else "disconnected"


def _system_value(attr: str) -> Callable[[DeviceState], StateType]:
    def value(state: DeviceState) -> StateType:
        result: StateType = getattr(state.system, attr)
        return result

    return value


def _system_supplied(attr: str) -> Callable[[DeviceState], bool]:
    def supplied(state: DeviceState) -> bool:
        return getattr(state.system, attr) is not None

    return supplied


def _supply_voltage(rail: str) -> WhatwattDeviceSensorEntityDescription:
    attr = f"supply_voltage_{rail}"
    return WhatwattDeviceSensorEntityDescription(
        key=attr,
        translation_key=attr,
        device_class=SensorDeviceClass.VOLTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfElectricPotential.VOLT,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=_system_value(attr),
        exists_fn=_system_supplied(attr),
    )


SENSORS: tuple[WhatwattSensorEntityDescription, ...] = (
    _power("power_import"),
    _power("power_export"),
    WhatwattSensorEntityDescription(
        key="power_net",
        translation_key="power_net",
        device_class=SensorDeviceClass.POWER,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfPower.KILO_WATT,
        suggested_unit_of_measurement=UnitOfPower.WATT,
        suggested_display_precision=0,
        value_fn=_net_power,
        exists_fn=_net_supplied,
    ),
    *(_power(f"power_{way}_l{phase}") for way in ("import", "export") for phase in (1, 2, 3)),
    *(
        _measurement(
            f"reactive_power_{way}",
            scale=1000.0,
            device_class=SensorDeviceClass.REACTIVE_POWER,
            state_class=SensorStateClass.MEASUREMENT,
            native_unit_of_measurement=UnitOfReactivePower.VOLT_AMPERE_REACTIVE,
            suggested_display_precision=0,
        )
        for way in ("import", "export")
    ),
    _measurement(
        "apparent_power",
        scale=1000.0,
        device_class=SensorDeviceClass.APPARENT_POWER,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfApparentPower.VOLT_AMPERE,
        suggested_display_precision=0,
    ),
    _measurement(
        "power_factor",
        device_class=SensorDeviceClass.POWER_FACTOR,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=2,
    ),
    *(
        _measurement(
            f"voltage_l{phase}",
            device_class=SensorDeviceClass.VOLTAGE,
            state_class=SensorStateClass.MEASUREMENT,
            native_unit_of_measurement=UnitOfElectricPotential.VOLT,
        )
        for phase in (1, 2, 3)
    ),
    *(
        _measurement(
            f"current_l{phase}",
            device_class=SensorDeviceClass.CURRENT,
            state_class=SensorStateClass.MEASUREMENT,
            native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
        )
        for phase in (1, 2, 3)
    ),
    *(
        _energy(f"energy_{way}{tariff}")
        for way in ("import", "export")
        for tariff in ("", "_t1", "_t2")
    ),
    *(
        _measurement(
            f"reactive_energy_{way}",
            device_class=REACTIVE_ENERGY_DEVICE_CLASS,
            state_class=SensorStateClass.TOTAL_INCREASING,
            native_unit_of_measurement=UNIT_KILO_VAR_HOUR,
            suggested_display_precision=3,
        )
        for way in ("import", "export")
    ),
    *(_power(f"max_demand_{way}") for way in ("import", "export")),
    WhatwattSensorEntityDescription(
        key="tariff",
        translation_key="tariff",
        device_class=SensorDeviceClass.ENUM,
        options=TARIFF_OPTIONS,
        value_fn=_tariff,
        exists_fn=lambda report: _tariff(report) is not None,
    ),
    WhatwattSensorEntityDescription(
        key="report_time",
        translation_key="report_time",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        # A new state for every reading: off unless the person wants it.
        entity_registry_enabled_default=False,
        value_fn=lambda report: report.timestamp,
        exists_fn=lambda report: report.timestamp is not None,
        needs_fresh=False,
    ),
)

# The energy totals: restore sensors, their last values seed the energy guard.
TOTALS: tuple[WhatwattSensorEntityDescription, ...] = tuple(
    description for description in SENSORS if description.key in ENERGY_KEYS
)

DEVICE_SENSORS: tuple[WhatwattDeviceSensorEntityDescription, ...] = (
    WhatwattDeviceSensorEntityDescription(
        key="last_boot",
        translation_key="last_boot",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda state: state.last_boot,
        exists_fn=lambda state: state.last_boot is not None,
    ),
    WhatwattDeviceSensorEntityDescription(
        key="wifi_rssi",
        translation_key="wifi_rssi",
        device_class=SensorDeviceClass.SIGNAL_STRENGTH,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=SIGNAL_STRENGTH_DECIBELS_MILLIWATT,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=_system_value("wifi_rssi"),
        exists_fn=_system_supplied("wifi_rssi"),
    ),
    WhatwattDeviceSensorEntityDescription(
        key="mqtt_link",
        translation_key="mqtt_link",
        device_class=SensorDeviceClass.ENUM,
        options=MQTT_LINK_OPTIONS,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=_mqtt_link,
        exists_fn=lambda state: _mqtt_link(state) is not None,
    ),
    *(_supply_voltage(rail) for rail in ("usb", "mbus", "p1", "scap")),
)

METER_STATUS = SensorEntityDescription(
    key="meter_status",
    translation_key="meter_status",
    device_class=SensorDeviceClass.ENUM,
    options=METER_STATUS_OPTIONS,
    entity_category=EntityCategory.DIAGNOSTIC,
)


def _in_kept_unit(
    hass: HomeAssistant, device: DeviceCoordinator, description: WhatwattSensorEntityDescription
) -> WhatwattSensorEntityDescription:
    """Return ``description``, in the vendor's unit where the sensor keeps it (``migration``)."""
    unique_id = f"{device.device_id}_{description.key}"
    if (unit := kept_vendor_unit(hass, unique_id, description.device_class)) is None:
        return description
    # The device reports kvar and kVA: its value as it comes, without the device class of var/VA.
    return _measurement(
        description.key,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=unit,
        suggested_display_precision=3,
    )


async def async_setup_entry(
    hass: HomeAssistant,
    entry: WhatwattConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add sensors for what the device supplies now, and later for what appears."""
    runtime = entry.runtime_data
    device, measurements = runtime.device, runtime.measurements
    known: set[str] = set()
    pending = list(SENSORS)  # not created yet (looked at with every reading: kept short)
    registry = er.async_get(hass)
    recorded = {  # totals registered before: added at once, they restore for the guard
        d.key
        for d in TOTALS
        if registry.async_get_entity_id(SENSOR_DOMAIN, DOMAIN, f"{device.device_id}_{d.key}")
    }

    @callback
    def _async_add_readings() -> None:
        report = measurements.data
        if report is None:
            return
        new: list[SensorEntity] = []
        for description in [d for d in pending if d.exists_fn(report) or d.key in recorded]:
            pending.remove(description)
            sensor = WhatwattTotalSensor if description.key in ENERGY_KEYS else WhatwattSensor
            new.append(sensor(measurements, _in_kept_unit(hass, device, description)))
        if METER_STATUS.key not in known and measurements.meter_status is not None:
            new.append(WhatwattMeterStatusSensor(measurements, METER_STATUS))
        if new:
            known.update(entity.entity_description.key for entity in new)
            async_add_entities(new)

    @callback
    def _async_add_health() -> None:
        new = [
            WhatwattDeviceSensor(device, description)
            for description in DEVICE_SENSORS
            if description.key not in known and description.exists_fn(device.data)
        ]
        if new:
            known.update(entity.entity_description.key for entity in new)
            async_add_entities(new)
        _async_add_readings()  # a meter status known from the device read alone

    _async_add_health()
    entry.async_on_unload(measurements.async_add_listener(_async_add_readings))
    entry.async_on_unload(device.async_add_listener(_async_add_health))
    async_setup_submeters(hass, entry, async_add_entities)  # gas, water, heat
    await async_setup_demand(hass, entry, async_add_entities)  # capacity tariffs


class WhatwattSensor(WhatwattEntity[MeasurementCoordinator], SensorEntity):
    """A sensor of the meter's readings."""

    entity_description: WhatwattSensorEntityDescription

    @property
    def available(self) -> bool:
        """Return True while readings arrive and this value is in them."""
        coordinator = self.coordinator
        if self.entity_description.needs_fresh:
            if not coordinator.measurements_available:
                return False
        elif not coordinator.last_update_success:
            return False
        return self.entity_description.exists_fn(coordinator.data)

    @property
    def native_value(self) -> StateType | datetime:
        """Return the value in the native unit."""
        return self.entity_description.value_fn(self.coordinator.data)

    def state_signature(self) -> tuple[Any, ...]:
        """Return availability and value (what the state shows)."""
        return (self.available, self.native_value)

    @callback
    def _handle_coordinator_update(self) -> None:
        """Write the state only when value or availability changed (runs with every reading)."""
        coordinator, description = self.coordinator, self.entity_description
        report = coordinator.data
        ready = coordinator.measurements_available if description.needs_fresh else True
        signature = (
            ready and coordinator.last_update_success and description.exists_fn(report),
            description.value_fn(report),
        )
        if signature != self._written:
            self._written = signature
            self.async_write_ha_state()


class WhatwattTotalSensor(WhatwattSensor, RestoreSensor):
    """An energy total: Home Assistant keeps its last native value, which seeds the guard."""

    async def async_added_to_hass(self) -> None:
        """Hand the total last recorded in the native unit to the guard before the first state."""
        last = await self.async_get_last_sensor_data()
        unit = self.entity_description.native_unit_of_measurement
        value = recorded_number(last.native_value) if last is not None else None
        if value is not None and last is not None and last.native_unit_of_measurement == unit:
            self.coordinator.async_seed_total(self.entity_description.key, value)
        await super().async_added_to_hass()


class WhatwattMeterStatusSensor(WhatwattEntity[MeasurementCoordinator], SensorEntity):
    """The meter link status, from the readings and the device reads."""

    @property
    def native_value(self) -> str | None:
        """Return the status as an enum option."""
        return meter_status_option(self.coordinator.meter_status)

    def state_signature(self) -> tuple[Any, ...]:
        """Return availability and value."""
        return (self.available, self.native_value)


class WhatwattDeviceSensor(WhatwattEntity[DeviceCoordinator], SensorEntity):
    """A sensor of the device's health."""

    entity_description: WhatwattDeviceSensorEntityDescription

    @property
    def native_value(self) -> StateType | datetime:
        """Return the value in the native unit."""
        return self.entity_description.value_fn(self.coordinator.data)

    def state_signature(self) -> tuple[Any, ...]:
        """Return availability and value."""
        return (self.available, self.native_value)
