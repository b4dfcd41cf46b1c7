"""Sensor entities of the whatwatt Go integration."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from homeassistant.components.sensor import (
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

from .entity import WhatwattEntity

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
    from homeassistant.helpers.typing import StateType

    from .coordinator import WhatwattConfigEntry, WhatwattCoordinator, WhatwattData

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


def _always(_: WhatwattData) -> bool:
    return True


@dataclass(frozen=True, kw_only=True)
class WhatwattSensorEntityDescription(SensorEntityDescription):
    """Describes one whatwatt Go sensor."""

    value_fn: Callable[[WhatwattData], StateType | datetime]
    exists_fn: Callable[[WhatwattData], bool] = _always
    available_fn: Callable[[WhatwattData], bool] = _always


def _measurement(key: str, *, scale: float = 1.0, **kwargs: Any) -> WhatwattSensorEntityDescription:
    """Describe a sensor for one measurement key of the report."""

    def value(data: WhatwattData) -> float | None:
        if data.report is None or (raw := data.report.values.get(key)) is None:
            return None
        return round(raw * scale, 6) if scale != 1.0 else raw

    def supplied(data: WhatwattData) -> bool:
        return data.report is not None and key in data.report.values

    def available(data: WhatwattData) -> bool:
        return data.measurements_available and supplied(data)

    return WhatwattSensorEntityDescription(
        key=key,
        translation_key=key,
        value_fn=value,
        exists_fn=supplied,
        available_fn=available,
        **kwargs,
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


def _net_power(data: WhatwattData) -> float | None:
    if data.report is None:
        return None
    values = data.report.values
    if (imported := values.get("power_import")) is None or (
        exported := values.get("power_export")
    ) is None:
        return None
    return round(imported - exported, 6)


def _net_supplied(data: WhatwattData) -> bool:
    return data.report is not None and {"power_import", "power_export"} <= data.report.values.keys()


def _tariff(data: WhatwattData) -> str | None:
    if data.report is None or data.report.tariff not in (1, 2):
        return None
    return f"t{data.report.tariff}"


def _meter_status(data: WhatwattData) -> str | None:
    if data.meter_status is None:
        return None
    status = data.meter_status.strip().lower().replace(" ", "_")
    return status if status in METER_STATUS_OPTIONS else None


def _mqtt_link(data: WhatwattData) -> str | None:
    """Return the state of the device's MQTT client (``clouds.mqtc``)."""
    system = data.system
    if system.mqtt_enabled is False:
        return "disabled"
    if system.mqtt_connected is None:
        return None
    return "connected" if system.mqtt_connected else "disconnected"


def _report_time(data: WhatwattData) -> datetime | None:
    return data.report.timestamp if data.report is not None else None


def _system_value(attr: str) -> Callable[[WhatwattData], StateType]:
    def value(data: WhatwattData) -> StateType:
        result: StateType = getattr(data.system, attr)
        return result

    return value


def _system_supplied(attr: str) -> Callable[[WhatwattData], bool]:
    def supplied(data: WhatwattData) -> bool:
        return getattr(data.system, attr) is not None

    return supplied


def _supply_voltage(rail: str) -> WhatwattSensorEntityDescription:
    attr = f"supply_voltage_{rail}"
    return WhatwattSensorEntityDescription(
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
        available_fn=lambda data: data.measurements_available and _net_supplied(data),
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
        exists_fn=lambda data: _tariff(data) is not None,
        available_fn=lambda data: data.measurements_available and _tariff(data) is not None,
    ),
    WhatwattSensorEntityDescription(
        key="meter_status",
        translation_key="meter_status",
        device_class=SensorDeviceClass.ENUM,
        options=METER_STATUS_OPTIONS,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=_meter_status,
        # An MQTT-only entry fed the vendor's template has no meter status at all.
        exists_fn=lambda data: data.meter_status is not None,
    ),
    WhatwattSensorEntityDescription(
        key="report_time",
        translation_key="report_time",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=_report_time,
        exists_fn=lambda data: _report_time(data) is not None,
        available_fn=lambda data: _report_time(data) is not None,
    ),
    WhatwattSensorEntityDescription(
        key="last_boot",
        translation_key="last_boot",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda data: data.last_boot,
        exists_fn=lambda data: data.last_boot is not None,
    ),
    WhatwattSensorEntityDescription(
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
    WhatwattSensorEntityDescription(
        key="mqtt_link",
        translation_key="mqtt_link",
        device_class=SensorDeviceClass.ENUM,
        options=MQTT_LINK_OPTIONS,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=_mqtt_link,
        exists_fn=lambda data: _mqtt_link(data) is not None,
    ),
    *(_supply_voltage(rail) for rail in ("usb", "mbus", "p1", "scap")),
)


async def async_setup_entry(
    hass: HomeAssistant,  # noqa: ARG001
    entry: WhatwattConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add sensors for what the device supplies now, and later for what appears."""
    coordinator = entry.runtime_data
    known: set[str] = set()

    @callback
    def _async_add_new() -> None:
        data = coordinator.data
        new = [
            description
            for description in SENSORS
            if description.key not in known and description.exists_fn(data)
        ]
        if new:
            known.update(description.key for description in new)
            async_add_entities(WhatwattSensor(coordinator, description) for description in new)

    _async_add_new()
    entry.async_on_unload(coordinator.async_add_listener(_async_add_new))


class WhatwattSensor(WhatwattEntity, SensorEntity):
    """A whatwatt Go sensor."""

    entity_description: WhatwattSensorEntityDescription

    def __init__(
        self,
        coordinator: WhatwattCoordinator,
        description: WhatwattSensorEntityDescription,
    ) -> None:
        """Create the sensor described by ``description``."""
        super().__init__(coordinator, description.key)
        self.entity_description = description

    @property
    def available(self) -> bool:
        """Return True when the device answers and this value may be shown."""
        return super().available and self.entity_description.available_fn(self.coordinator.data)

    @property
    def native_value(self) -> StateType | datetime:
        """Return the value in the native unit."""
        return self.entity_description.value_fn(self.coordinator.data)

    def state_signature(self) -> tuple[Any, ...]:
        """Return availability and value (what the state shows)."""
        return (self.available, self.native_value)
