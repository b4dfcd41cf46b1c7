"""Base entity of the whatwatt Go integration."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, cast

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import CONF_HOST, UnitOfPower
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .const import DEFAULT_NAME, DOMAIN, MANUFACTURER, device_title
from .coordinator import DeviceCoordinator, MeasurementCoordinator, Measurements

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from homeassistant.helpers.entity import EntityDescription
    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
    from homeassistant.helpers.typing import StateType

    from .api.models import Report
    from .coordinator import WhatwattConfigEntry


def device_info(device: DeviceCoordinator) -> DeviceInfo:
    """Describe the whatwatt Go of an entry (the device coordinator keeps it up to date)."""
    system = device.data.system
    info = DeviceInfo(
        identifiers={(DOMAIN, device.device_id)},
        manufacturer=MANUFACTURER,
        model=DEFAULT_NAME,
        hw_version=system.model or None,
        name=device_title(system.name, device.device_id),
        serial_number=device.device_id,
        sw_version=system.firmware,
    )
    if host := device.config_entry.data.get(CONF_HOST):
        info["configuration_url"] = f"http://{host}"
    return info


@callback
def async_follow_registry(device: DeviceCoordinator) -> None:
    """Follow name, firmware and hardware in the device registry (a late first read too).

    Its listener runs after each new state is in, and keeps the reads scheduled without entities.
    """
    shown: tuple[str | None, ...] | None = None

    @callback
    def update() -> None:
        nonlocal shown
        if device.data is None or device.data.fetched is None:
            return
        system = device.data.system
        if (shows := (system.name, system.model, system.firmware)) == shown:
            return
        shown = shows
        registry = dr.async_get(device.hass)
        identifier = (DOMAIN, device.device_id)  # unique per entry only: look among its devices
        entry_devices = dr.async_entries_for_config_entry(registry, device.config_entry.entry_id)
        if found := next((d for d in entry_devices if identifier in d.identifiers), None):
            registry.async_update_device(
                found.id,
                name=device_title(system.name, device.device_id),
                model=DEFAULT_NAME,
                hw_version=system.model or None,
                sw_version=system.firmware,
            )

    device.config_entry.async_on_unload(device.async_add_listener(update))


# Home Assistant 2026.9+ links a device to its hub by the hub's registry id.
_VIA_DEVICE_ID: Final = "via_device_id" in DeviceInfo.__optional_keys__


@callback
def registered_device(
    hass: HomeAssistant, entry_id: str, identifier: tuple[str, str]
) -> dr.DeviceEntry | None:
    """Return the device of an entry with this identifier, with the running line's lookup."""
    registry = dr.async_get(hass)
    if (by_identifier := getattr(registry, "async_get_device_by_identifier", None)) is not None:
        return cast("dr.DeviceEntry | None", by_identifier(identifier, entry_id))
    return registry.async_get_device(identifiers={identifier})


def connected_via(device: DeviceCoordinator) -> DeviceInfo:
    """Return the part of a DeviceInfo that connects a device via the whatwatt Go of an entry."""
    hub = (DOMAIN, device.device_id)
    if _VIA_DEVICE_ID and (
        found := registered_device(device.hass, device.config_entry.entry_id, hub)
    ):
        return cast("DeviceInfo", {"via_device_id": found.id})
    return cast("DeviceInfo", {"via_device": hub})


class WhatwattEntity[C: DeviceCoordinator | MeasurementCoordinator](CoordinatorEntity[C]):
    """A whatwatt Go entity that writes its state only when something it shows changed."""

    _attr_has_entity_name = True
    _shown: tuple[Any, ...] | None = None  # availability and value last written or checked

    def __init__(
        self, coordinator: C, description: EntityDescription, info: DeviceInfo | None = None
    ) -> None:
        """Attach the entity to its device (the entry's unless ``info`` says) with its unique id."""
        super().__init__(coordinator)
        device = coordinator.config_entry.runtime_data.device
        self.entity_description = description
        self._attr_unique_id = f"{device.device_id}_{description.key}"
        self._attr_device_info = info or device_info(device)

    def state_signature(self) -> tuple[Any, ...]:
        """Return what this entity shows (availability first); written only when it changes."""
        return (self.available, self.state)

    @callback
    def async_write_ha_state(self) -> None:
        """Write the state, remembering what it shows."""
        self._shown = self.state_signature()
        super().async_write_ha_state()

    @callback
    def _handle_coordinator_update(self) -> None:
        """Write the state only when its value or availability changed."""
        if (signature := self.state_signature()) != self._shown:
            self._shown = signature
            super().async_write_ha_state()


# A power the device reports in kW, shown in W.
KILOWATTS: Final[dict[str, Any]] = {
    "device_class": SensorDeviceClass.POWER,
    "state_class": SensorStateClass.MEASUREMENT,
    "native_unit_of_measurement": UnitOfPower.KILO_WATT,
    "suggested_unit_of_measurement": UnitOfPower.WATT,
    "suggested_display_precision": 0,
}


@dataclass(frozen=True, kw_only=True)
class WhatwattSensorEntityDescription[S](SensorEntityDescription):
    """Describes a sensor by the value it picks from its source (None: not supplied)."""

    value_fn: Callable[[S], StateType | datetime]
    # True: unavailable while the readings are (stale, meter link down).
    needs_fresh: bool = True
    # The measurements the value is read from, when only they: updated only when they change.
    measurements: tuple[str, ...] = ()

    def exists_fn(self, source: S) -> bool:
        """Return True when ``source`` supplies the value."""
        return self.value_fn(source) is not None


class WhatwattSensorEntity[C: DeviceCoordinator | MeasurementCoordinator](
    WhatwattEntity[C], SensorEntity
):
    """A sensor showing what its description picks from the coordinator's data."""

    entity_description: WhatwattSensorEntityDescription[Any]

    @property
    def available(self) -> bool:
        """Return the availability shown (picked with the value, once per update)."""
        return bool((self._shown or self.state_signature())[0])

    @property
    def native_value(self) -> StateType | datetime:
        """Return the value shown, in the native unit (picked once per update)."""
        return (self._shown or self.state_signature())[1]  # type: ignore[no-any-return]

    def state_signature(self) -> tuple[bool, Any]:
        """Return availability (the coordinator's last update worked) and value."""
        data = self.coordinator.data
        value = self.entity_description.value_fn(data) if data is not None else None
        return (self.coordinator.last_update_success, value)


class WhatwattSensor(WhatwattSensorEntity[MeasurementCoordinator]):
    """A sensor of the meter's readings."""

    entity_description: WhatwattSensorEntityDescription[Report]

    def __init__(
        self,
        coordinator: MeasurementCoordinator,
        description: WhatwattSensorEntityDescription[Report],
        info: DeviceInfo | None = None,
    ) -> None:
        """Show a value of the readings (told only when it changes, where the description says)."""
        super().__init__(coordinator, description, info)
        if description.measurements:
            self.coordinator_context = Measurements(description.measurements)

    def state_signature(self) -> tuple[bool, Any]:
        """Return availability and value, the value picked once (runs with each update it hears)."""
        coordinator, description = self.coordinator, self.entity_description
        data = coordinator.data
        value = description.value_fn(data) if data is not None else None
        fresh = description.needs_fresh
        ready = coordinator.measurements_available if fresh else coordinator.last_update_success
        return (ready and value is not None, value)


def device_platform[D: EntityDescription](
    entity_class: Callable[[DeviceCoordinator, D], WhatwattEntity[DeviceCoordinator]],
    description: D,
) -> Callable[[HomeAssistant, WhatwattConfigEntry, AddConfigEntryEntitiesCallback], Any]:
    """Return a platform's ``async_setup_entry`` adding one entity of the device coordinator."""

    async def async_setup_entry(
        hass: HomeAssistant,  # noqa: ARG001
        entry: WhatwattConfigEntry,
        async_add_entities: AddConfigEntryEntitiesCallback,
    ) -> None:
        runtime = entry.runtime_data
        if runtime.client is not None:
            async_add_entities([entity_class(runtime.device, description)])

    return async_setup_entry
