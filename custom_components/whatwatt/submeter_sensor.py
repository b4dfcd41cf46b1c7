"""Sensors of the sub-meters on the meter's bus, and what adds and removes them at run time.

Per bus (``submeter.py``): ``volume_<bus>``, the counter (state class total_increasing; device
class and unit from the kind in the options; a restore sensor, so the energy guard starts from
the last recorded counter), and ``volume_<bus>_capture_time``, when the sub-meter took that
reading (diagnostic timestamp: a DSMR gas meter captures hourly, so it changes rarely and is a
plain entity to automate on, e.g. "gas reading older than two hours").

``SubMeterSensors`` follows the readings. Its listener runs with every reading and returns at
once unless the set of buses or a meter id changed, or a sub-meter is missing; only then does it
add devices and sensors, note missing sub-meters, or remove gone ones. A new kind (options flow)
or a new meter id on a bus re-adds that bus's counter: its entity id (and so its statistics id)
stays, while device class, unit and device name follow.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from homeassistant.components.sensor import (
    RestoreSensor,
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import EntityCategory, UnitOfEnergy, UnitOfVolume
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.util import dt as dt_util

from .api.totals import volume_key
from .const import DOMAIN
from .coordinator import MeasurementCoordinator
from .entity import WhatwattEntity, device_info, registered_device
from .submeter import (
    KIND_GAS,
    KIND_HEAT,
    KIND_OTHER,
    KIND_WATER,
    KINDS,
    SUBMETERS,
    GoneWatch,
    async_drop_options,
    async_remove_devices,
    default_kind,
    kind_of,
    option_buses,
    registry_buses,
    submeter_device_info,
)

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

    from .api.models import Volume
    from .coordinator import DeviceCoordinator, WhatwattConfigEntry

# What each kind measures: device class and native unit of the counter.
KIND_UNITS: Final[dict[str, tuple[SensorDeviceClass | None, str | None]]] = {
    KIND_GAS: (SensorDeviceClass.GAS, UnitOfVolume.CUBIC_METERS),
    KIND_WATER: (SensorDeviceClass.WATER, UnitOfVolume.CUBIC_METERS),
    KIND_HEAT: (SensorDeviceClass.ENERGY, UnitOfEnergy.KILO_WATT_HOUR),
    KIND_OTHER: (None, None),
}
CAPTURE_TIME: Final = "capture_time"
TRANSLATION_KEYS: Final = (*(f"volume_{kind}" for kind in KINDS), f"volume_{CAPTURE_TIME}")


def volume_description(bus: int, kind: str) -> SensorEntityDescription:
    """Describe the counter of the sub-meter on ``bus`` measuring ``kind``."""
    device_class, unit = KIND_UNITS[kind]
    return SensorEntityDescription(
        key=volume_key(bus),
        translation_key=f"volume_{kind}",
        device_class=device_class,
        native_unit_of_measurement=unit,
        state_class=SensorStateClass.TOTAL_INCREASING,
        suggested_display_precision=3,
    )


def capture_time_description(bus: int) -> SensorEntityDescription:
    """Describe the capture time of the sub-meter on ``bus``."""
    return SensorEntityDescription(
        key=f"{volume_key(bus)}_{CAPTURE_TIME}",
        translation_key=f"volume_{CAPTURE_TIME}",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
    )


class SubMeterSensor(WhatwattEntity[MeasurementCoordinator], SensorEntity):
    """A sensor of one sub-meter: available while usable readings carry its bus."""

    def __init__(
        self,
        measurements: MeasurementCoordinator,
        device: DeviceCoordinator,  # noqa: ARG002
        description: SensorEntityDescription,
        bus: int,
        info: dr.DeviceInfo,
    ) -> None:
        """Attach the sensor to the sub-meter's device."""
        super().__init__(measurements, description)
        self.bus = bus
        self._attr_device_info = info

    def _volume(self) -> Volume | None:
        """Return the sub-meter in the latest reading."""
        report = self.coordinator.data
        volumes = report.volumes if report is not None else None
        return volumes.get(self.bus) if volumes else None

    def _value(self, volume: Volume) -> Any:
        raise NotImplementedError

    @property
    def available(self) -> bool:
        """Return True while readings arrive, the meter link is up and the bus is in them."""
        if not self.coordinator.measurements_available:
            return False
        volume = self._volume()
        return volume is not None and self._value(volume) is not None

    @property
    def native_value(self) -> Any:
        """Return the value of the latest reading."""
        volume = self._volume()
        return self._value(volume) if volume is not None else None

    def state_signature(self) -> tuple[Any, ...]:
        """Return availability and value (written only when they change)."""
        return (self.available, self.native_value)


class SubMeterCounterSensor(SubMeterSensor, RestoreSensor):
    """The counter ``volume_<bus>``: Home Assistant keeps its last value (``restored_volumes``)."""

    def _value(self, volume: Volume) -> float | None:
        return volume.cumulative


class SubMeterCaptureTimeSensor(SubMeterSensor):
    """When the sub-meter captured its counter."""

    def _value(self, volume: Volume) -> datetime | None:
        return volume.captured


class SubMeterSensors:
    """Add, re-add and remove the sub-meters' devices and sensors as the readings show them."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: WhatwattConfigEntry,
        add_entities: AddConfigEntryEntitiesCallback,
    ) -> None:
        """Bind to a loaded entry's coordinators (``async_start`` before use)."""
        self._hass = hass
        self._entry = entry
        self._device = entry.runtime_data.device
        self._measurements = entry.runtime_data.measurements
        self._add = add_entities
        self._kinds = {bus: kind_of(entry.options, bus) for bus in option_buses(entry.options)}
        self._counters: dict[int, SubMeterCounterSensor] = {}
        self._meter_ids: dict[int, str | None] = {}
        self._known: set[int] = set()
        self._present: frozenset[int] = frozenset()
        self._signature: tuple[tuple[int, str | None], ...] | None = None
        self.gone = GoneWatch(hass, entry.entry_id)

    async def async_start(self) -> None:
        """Load the missing times, then follow every reading."""
        await self.gone.async_load()
        self._known = registry_buses(self._hass, self._entry) | set(self.gone.missing)
        controls = self._hass.data.setdefault(SUBMETERS, {})
        entry_id = self._entry.entry_id
        controls[entry_id] = self

        @callback
        def _forget_control() -> None:
            controls.pop(entry_id, None)

        self._entry.async_on_unload(_forget_control)
        self._entry.async_on_unload(self._measurements.async_add_listener(self._async_on_reading))
        self._async_on_reading()

    # -- SubMeterControl ---------------------------------------------------------------------

    def present(self, bus: int) -> bool:
        """Return True when the last usable reading has the sub-meter on ``bus``."""
        return bus in self._present

    def forget(self, bus: int) -> None:
        """Forget a sub-meter whose device is deleted by hand."""
        self._known.discard(bus)
        self._counters.pop(bus, None)
        self._meter_ids.pop(bus, None)
        self._kinds.pop(bus, None)
        self._signature = None
        self.gone.drop((bus,))

    async def async_set_kinds(self, kinds: Mapping[int, str]) -> None:
        """Apply new kinds: each changed bus's counter is re-added with its new class and unit."""
        for bus, kind in kinds.items():
            if kind not in KINDS or self._kinds.get(bus) == kind:
                continue
            self._kinds[bus] = kind
            if bus in self._counters:
                await self._async_readd(bus)

    # -- the readings ------------------------------------------------------------------------

    @callback
    def _async_on_reading(self) -> None:
        """Follow a reading (runs with every one: returns at once when nothing changed)."""
        measurements = self._measurements
        report = measurements.data
        if report is None or report.volumes is None or not measurements.measurements_available:
            return  # a reading that cannot tell which sub-meters there are
        volumes = report.volumes
        signature = tuple((bus, volume.meter_id) for bus, volume in volumes.items())
        if signature != self._signature:
            self._signature = signature
            self._async_follow(volumes)
        if self.gone.missing and (gone := self.gone.gone(dt_util.utcnow())):
            self._async_remove(gone)

    @callback
    def _async_follow(self, volumes: Mapping[int, Volume]) -> None:
        """Add new sub-meters, follow new meter ids, note the missing ones."""
        self._present = frozenset(volumes)
        new: list[SensorEntity] = []
        defaults: dict[int, str] = {}
        for bus, volume in volumes.items():
            if bus not in self._counters:
                if bus not in self._kinds:
                    self._kinds[bus] = defaults[bus] = self._default_kind()
                new.extend(self._create(bus, volume.meter_id))
            elif volume.meter_id != self._meter_ids.get(bus):
                self._meter_ids[bus] = volume.meter_id
                self._entry.async_create_background_task(
                    self._hass, self._async_readd(bus), f"whatwatt sub-meter {bus}"
                )
        self._known |= self._present
        self.gone.follow(self._present, self._known, dt_util.utcnow())
        if defaults:
            options = {**self._entry.options}
            options.update({volume_key(bus): kind for bus, kind in defaults.items()})
            self._hass.config_entries.async_update_entry(self._entry, options=options)
        if new:
            self._add(new)

    def _default_kind(self) -> str:
        """Return the kind of a sub-meter seen for the first time (from the meter's interface)."""
        report = self._measurements.data
        return default_kind(
            (report.meter if report is not None else None, self._device.data.system.meter)
        )

    def _create(self, bus: int, meter_id: str | None) -> list[SensorEntity]:
        """Return the sensors of a new sub-meter."""
        self._ensure_hub()  # its device connects via the whatwatt Go's
        self._meter_ids[bus] = meter_id
        counter = self._counter(bus)
        info = self._info(bus)
        capture = SubMeterCaptureTimeSensor(
            self._measurements, self._device, capture_time_description(bus), bus, info
        )
        return [counter, capture]

    def _info(self, bus: int) -> dr.DeviceInfo:
        return submeter_device_info(
            self._device, bus, self._meter_ids.get(bus), self._kinds.get(bus, KIND_OTHER)
        )

    def _counter(self, bus: int) -> SubMeterCounterSensor:
        kind = self._kinds.get(bus, KIND_OTHER)
        counter = SubMeterCounterSensor(
            self._measurements, self._device, volume_description(bus, kind), bus, self._info(bus)
        )
        self._counters[bus] = counter
        return counter

    def _ensure_hub(self) -> None:
        """Make sure the whatwatt Go's device exists before devices connect via it."""
        hub = (DOMAIN, self._device.device_id)
        if registered_device(self._hass, self._entry.entry_id, hub) is None:
            dr.async_get(self._hass).async_get_or_create(
                config_entry_id=self._entry.entry_id, **device_info(self._device)
            )

    async def _async_readd(self, bus: int) -> None:
        """Re-add a bus's counter: same entity id, new device class, unit and device name."""
        old = self._counters.get(bus)
        if old is None:
            return
        if old.hass is not None and old.platform is not None:
            await old.async_remove()
        if self._counters.get(bus) is old:  # not removed or re-added meanwhile
            self._add([self._counter(bus)])

    @callback
    def _async_remove(self, buses: list[int]) -> None:
        """Remove sub-meters gone for ``GONE_AFTER``, with their devices and kinds."""
        async_remove_devices(self._hass, self._entry, buses)
        for bus in buses:
            self.forget(bus)
        async_drop_options(self._hass, self._entry, buses)


async def async_setup_submeter_sensors(
    hass: HomeAssistant,
    entry: WhatwattConfigEntry,
    add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Follow the readings' sub-meters on the sensor platform of an entry."""
    await SubMeterSensors(hass, entry, add_entities).async_start()
