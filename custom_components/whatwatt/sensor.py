"""Sensors of the readings and of the device's health (rules: ``docs/architecture.md``)."""

from __future__ import annotations

from dataclasses import replace
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
    UnitOfReactivePower,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import entity_registry as er

from .api.states import (
    METER_STATUS_OPTIONS,
    MQTT_LINK_OPTIONS,
    TARIFF_OPTIONS,
    meter_status_option,
    mqtt_link,
    net_power,
    tariff_option,
)
from .api.totals import ENERGY_KEYS, recorded_number
from .const import DOMAIN
from .coordinator import DeviceCoordinator, MeasurementCoordinator
from .demand import async_setup_demand
from .entity import (
    KILOWATTS,
    WhatwattEntity,
    WhatwattSensor,
    WhatwattSensorEntity,
    WhatwattSensorEntityDescription,
)
from .migration import kept_vendor_unit
from .submeter import SubMeters

if TYPE_CHECKING:
    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

    from .api.models import DeviceState, Report
    from .coordinator import WhatwattConfigEntry

PARALLEL_UPDATES = 0

# Home Assistant 2025.4 has no reactive-energy device class; later lines do.
REACTIVE_ENERGY_DEVICE_CLASS: SensorDeviceClass | None = getattr(
    SensorDeviceClass, "REACTIVE_ENERGY", None
)
UNIT_KILO_VAR_HOUR = "kvarh"

type ReadingDescription = WhatwattSensorEntityDescription[Report]
type HealthDescription = WhatwattSensorEntityDescription[DeviceState]


def _measurement(
    key: str,
    *,
    scale: float = 1.0,
    state_class: SensorStateClass = SensorStateClass.MEASUREMENT,
    **kwargs: Any,
) -> ReadingDescription:
    """Describe a sensor for one measurement key of the report."""

    def value(report: Report) -> float | None:
        return report.values.get(key)

    def scaled(report: Report) -> float | None:
        return round(raw * scale, 6) if (raw := report.values.get(key)) is not None else None

    return WhatwattSensorEntityDescription(
        key=key,
        translation_key=key,
        state_class=state_class,
        value_fn=value if scale == 1.0 else scaled,
        measurements=(key,),
        **kwargs,
    )


def _power(key: str) -> ReadingDescription:
    return _measurement(key, **KILOWATTS)


def _volt_amperes(key: str, device_class: SensorDeviceClass, unit: str) -> ReadingDescription:
    """Describe a power the device reports in kvar or kVA, shown in var or VA."""
    return _measurement(
        key,
        scale=1000.0,
        device_class=device_class,
        native_unit_of_measurement=unit,
        suggested_display_precision=0,
    )


def _total(key: str, device_class: SensorDeviceClass | None, unit: str) -> ReadingDescription:
    return _measurement(
        key,
        device_class=device_class,
        state_class=SensorStateClass.TOTAL_INCREASING,
        native_unit_of_measurement=unit,
        suggested_display_precision=3,
    )


def _system(attr: str, **kwargs: Any) -> HealthDescription:
    """Describe a diagnostic sensor, disabled by default, of one ``SystemInfo`` measurement."""
    return WhatwattSensorEntityDescription(
        key=attr,
        translation_key=attr,
        state_class=SensorStateClass.MEASUREMENT,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=lambda state: getattr(state.system, attr),
        **kwargs,
    )


PHASES = (1, 2, 3)
WAYS = ("import", "export")


def _phases(prefix: str, device_class: SensorDeviceClass, unit: str) -> list[ReadingDescription]:
    return [
        _measurement(
            f"{prefix}_l{phase}", device_class=device_class, native_unit_of_measurement=unit
        )
        for phase in PHASES
    ]


SENSORS: tuple[ReadingDescription, ...] = (
    _power("power_import"),
    _power("power_export"),
    replace(_power("power_net"), value_fn=net_power, measurements=("power_import", "power_export")),
    *(_power(f"power_{way}_l{phase}") for way in WAYS for phase in PHASES),
    *(
        _volt_amperes(
            f"reactive_power_{way}",
            SensorDeviceClass.REACTIVE_POWER,
            UnitOfReactivePower.VOLT_AMPERE_REACTIVE,
        )
        for way in WAYS
    ),
    _volt_amperes(
        "apparent_power", SensorDeviceClass.APPARENT_POWER, UnitOfApparentPower.VOLT_AMPERE
    ),
    _measurement(
        "power_factor",
        device_class=SensorDeviceClass.POWER_FACTOR,
        suggested_display_precision=2,
    ),
    *_phases("voltage", SensorDeviceClass.VOLTAGE, UnitOfElectricPotential.VOLT),
    *_phases("current", SensorDeviceClass.CURRENT, UnitOfElectricCurrent.AMPERE),
    *(
        _total(f"energy_{way}{tariff}", SensorDeviceClass.ENERGY, UnitOfEnergy.KILO_WATT_HOUR)
        for way in WAYS
        for tariff in ("", "_t1", "_t2")
    ),
    *(
        _total(f"reactive_energy_{way}", REACTIVE_ENERGY_DEVICE_CLASS, UNIT_KILO_VAR_HOUR)
        for way in WAYS
    ),
    *(_power(f"max_demand_{way}") for way in WAYS),
    WhatwattSensorEntityDescription(
        key="tariff",
        translation_key="tariff",
        device_class=SensorDeviceClass.ENUM,
        options=TARIFF_OPTIONS,
        value_fn=tariff_option,
    ),
    WhatwattSensorEntityDescription(
        key="report_time",
        translation_key="report_time",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        # A new state for every reading: off unless the person wants it.
        entity_registry_enabled_default=False,
        value_fn=lambda report: report.timestamp,
        needs_fresh=False,
    ),
)

# The energy totals: restore sensors, their last values seed the energy guard.
TOTALS: tuple[ReadingDescription, ...] = tuple(
    description for description in SENSORS if description.key in ENERGY_KEYS
)

DEVICE_SENSORS: tuple[HealthDescription, ...] = (
    WhatwattSensorEntityDescription(
        key="last_boot",
        translation_key="last_boot",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda state: state.last_boot,
    ),
    _system(
        "wifi_rssi",
        device_class=SensorDeviceClass.SIGNAL_STRENGTH,
        native_unit_of_measurement=SIGNAL_STRENGTH_DECIBELS_MILLIWATT,
    ),
    WhatwattSensorEntityDescription(
        key="mqtt_link",
        translation_key="mqtt_link",
        device_class=SensorDeviceClass.ENUM,
        options=MQTT_LINK_OPTIONS,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda state: mqtt_link(state.system),
    ),
    *(
        _system(
            f"supply_voltage_{rail}",
            device_class=SensorDeviceClass.VOLTAGE,
            native_unit_of_measurement=UnitOfElectricPotential.VOLT,
        )
        for rail in ("usb", "mbus", "p1", "scap")
    ),
)

METER_STATUS = SensorEntityDescription(
    key="meter_status",
    translation_key="meter_status",
    device_class=SensorDeviceClass.ENUM,
    options=METER_STATUS_OPTIONS,
    entity_category=EntityCategory.DIAGNOSTIC,
)


def _in_kept_unit(
    hass: HomeAssistant, device: DeviceCoordinator, description: ReadingDescription
) -> ReadingDescription:
    """Return ``description``, in the vendor's unit where the sensor keeps it (``migration``)."""
    unique_id = f"{device.device_id}_{description.key}"
    if (unit := kept_vendor_unit(hass, unique_id, description.device_class)) is None:
        return description
    # The device reports kvar and kVA: its value as it comes, without the device class of var/VA.
    return _measurement(
        description.key, native_unit_of_measurement=unit, suggested_display_precision=3
    )


async def async_setup_entry(
    hass: HomeAssistant,
    entry: WhatwattConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add sensors for what the device supplies now, and later for what appears."""
    runtime = entry.runtime_data
    device, measurements = runtime.device, runtime.measurements
    # Not created yet (looked at with every reading: kept short).
    readings, health, status = list(SENSORS), list(DEVICE_SENSORS), [METER_STATUS]
    registry = er.async_get(hass)
    recorded = {  # totals registered before: added at once, they restore for the guard
        d.key
        for d in TOTALS
        if registry.async_get_entity_id(SENSOR_DOMAIN, DOMAIN, f"{device.device_id}_{d.key}")
    }

    looked_at: list[Any] = [None, None]  # the device state and the reading's shape last seen

    @callback
    def _async_add() -> None:
        new: list[SensorEntity] = []
        if health and device.data is not looked_at[0]:
            looked_at[0] = device.data
            for supplied in [d for d in health if d.exists_fn(device.data)]:
                health.remove(supplied)
                new.append(WhatwattSensorEntity(device, supplied))
        report = measurements.data
        # What a reading supplies follows from its shape: looked at again only when it changes.
        shape = report and (report.values.keys(), report.tariff is None, report.timestamp is None)
        if report is not None and shape != looked_at[1]:
            looked_at[1] = shape
            for description in [d for d in readings if d.exists_fn(report) or d.key in recorded]:
                readings.remove(description)
                sensor = WhatwattTotalSensor if description.key in ENERGY_KEYS else WhatwattSensor
                new.append(sensor(measurements, _in_kept_unit(hass, device, description)))
            if status and measurements.meter_status is not None:  # known from a device read too
                new.append(WhatwattMeterStatusSensor(measurements, status.pop()))
        if new:
            async_add_entities(new)

    _async_add()
    entry.async_on_unload(measurements.async_add_listener(_async_add))
    entry.async_on_unload(device.async_add_listener(_async_add))
    submeters = runtime.submeters = SubMeters(hass, entry, async_add_entities)
    submeters.async_start()  # gas, water, heat
    await async_setup_demand(hass, entry, async_add_entities)  # capacity tariffs


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

    def state_signature(self) -> tuple[bool, str | None]:
        """Return availability and value (not the sensor's state: it runs with every reading)."""
        return (self.available, self.native_value)
