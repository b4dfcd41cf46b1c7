"""Sub-meters on the meter's bus (gas, water, heat): devices, sensors, and the options flow."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
import sys
from typing import TYPE_CHECKING, Any, Final

from homeassistant.components.sensor import (
    RestoreSensor,
    SensorDeviceClass,
    SensorEntity,
    SensorExtraStoredData,
    SensorStateClass,
)
from homeassistant.config_entries import ConfigEntryState, ConfigFlowResult, OptionsFlow
from homeassistant.const import EntityCategory, UnitOfEnergy, UnitOfVolume
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr, selector
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.util import dt as dt_util

from .api.demand import MAX_PEAKS, WINDOWS
from .api.submeters import KINDS, SEEN_READINGS, BusWatch, default_kind, kind_of, option_buses
from .api.totals import VOLUME_PREFIX, recorded_number, volume_key
from .const import (
    CONF_DEMAND_PEAKS,
    CONF_DEMAND_WINDOW,
    CONF_SCAN_INTERVAL,
    DEFAULT_SCAN_INTERVAL,
    DOMAIN,
    MAX_SCAN_INTERVAL,
    MIN_SCAN_INTERVAL,
    TRANSPORT_REST,
    transport_of,
)
from .demand import demand_settings
from .entity import (
    WhatwattSensor,
    WhatwattSensorEntityDescription,
    connected_via,
    device_info,
    registered_device,
)

if TYPE_CHECKING and sys.version_info >= (3, 14):
    import probatio as vol  # Home Assistant 2026.x validates with it (as ``voluptuous``)
else:
    import voluptuous as vol

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

    from homeassistant.config_entries import ConfigEntry
    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
    from homeassistant.helpers.typing import StateType

    from .api.models import Report, Volume
    from .coordinator import WhatwattConfigEntry

KIND_UNITS: Final[dict[str, tuple[SensorDeviceClass | None, str | None]]] = {
    "gas": (SensorDeviceClass.GAS, UnitOfVolume.CUBIC_METERS),
    "water": (SensorDeviceClass.WATER, UnitOfVolume.CUBIC_METERS),
    "heat": (SensorDeviceClass.ENERGY, UnitOfEnergy.KILO_WATT_HOUR),
    "other": (None, None),
}
CAPTURE_TIME: Final = "capture_time"
TRANSLATION_KEYS: Final = (*(f"volume_{kind}" for kind in KINDS), f"volume_{CAPTURE_TIME}")


def _identifier(device_id: str | None, bus: int) -> tuple[str, str]:
    return (DOMAIN, f"{device_id}_{volume_key(bus)}")


@callback
def submeter_names(hass: HomeAssistant, entry: ConfigEntry, buses: Iterable[int]) -> str:
    """Return the known sub-meters as the options form lists them (``1: Gas meter …``)."""
    names = []
    for bus in buses:
        device_entry = registered_device(hass, entry.entry_id, _identifier(entry.unique_id, bus))
        name = (device_entry.name_by_user or device_entry.name) if device_entry else None
        names.append(f"{bus}: {name}" if name else str(bus))
    return ", ".join(names)


def _loaded(entry: ConfigEntry) -> SubMeters | None:
    submeters = entry.runtime_data.submeters if entry.state is ConfigEntryState.LOADED else None
    return submeters if isinstance(submeters, SubMeters) else None


def _bus_of(device_entry: dr.DeviceEntry, device_id: str | None) -> int | None:
    prefix = f"{device_id}_{VOLUME_PREFIX}"
    for domain, identifier in device_entry.identifiers:
        suffix = identifier[len(prefix) :]
        if domain == DOMAIN and device_id and identifier.startswith(prefix) and suffix.isdigit():
            return int(suffix)
    return None  # the whatwatt Go, or another one's device


async def async_remove_config_entry_device(
    hass: HomeAssistant, entry: ConfigEntry, device_entry: dr.DeviceEntry
) -> bool:
    """Allow deleting a sub-meter's device by hand unless the last usable reading has it."""
    if (bus := _bus_of(device_entry, entry.unique_id)) is None:
        return False
    if (submeters := _loaded(entry)) is not None:
        if bus in (submeters.buses.read or {}):
            return False
        submeters.forget(bus)
    _drop_options(hass, entry, (bus,))
    return True


@callback
def _drop_options(hass: HomeAssistant, entry: ConfigEntry, buses: Iterable[int]) -> None:
    dropped = {volume_key(bus) for bus in buses}
    if dropped & entry.options.keys():
        options = {key: value for key, value in entry.options.items() if key not in dropped}
        hass.config_entries.async_update_entry(entry, options=options)


def _of_bus(
    bus: int, pick: Callable[[Volume], StateType | datetime]
) -> Callable[[Report], StateType | datetime]:
    """Return the ``value_fn`` picking a value of the sub-meter on ``bus`` from a reading."""

    def value(report: Report) -> StateType | datetime:
        volume = report.volumes.get(bus) if report.volumes else None
        return pick(volume) if volume is not None else None

    return value


def volume_description(bus: int, kind: str) -> WhatwattSensorEntityDescription[Report]:
    """Describe the counter of the sub-meter on ``bus`` measuring ``kind``."""
    device_class, unit = KIND_UNITS[kind]
    return WhatwattSensorEntityDescription(
        key=volume_key(bus),
        translation_key=f"volume_{kind}",
        device_class=device_class,
        native_unit_of_measurement=unit,
        state_class=SensorStateClass.TOTAL_INCREASING,
        suggested_display_precision=3,
        value_fn=_of_bus(bus, lambda volume: volume.cumulative),
    )


def capture_time_description(bus: int) -> WhatwattSensorEntityDescription[Report]:
    """Describe the capture time of the sub-meter on ``bus`` (diagnostic)."""
    return WhatwattSensorEntityDescription(
        key=f"{volume_key(bus)}_{CAPTURE_TIME}",
        translation_key=f"volume_{CAPTURE_TIME}",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=_of_bus(bus, lambda volume: volume.captured),
    )


@dataclass
class CounterStoredData(SensorExtraStoredData):
    """What a counter restores: value and unit, and when its sub-meter went missing."""

    missing_since: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        """Return the data as stored."""
        since = self.missing_since.isoformat() if self.missing_since is not None else None
        return {**super().as_dict(), "missing_since": since}


class SubMeterCounter(WhatwattSensor, RestoreSensor):
    """The counter ``volume_<bus>``: restores its value (a seed) and ``missing_since``."""

    def __init__(self, submeters: SubMeters, bus: int, kind: str, meter_id: str | None) -> None:
        """Describe the counter by kind; its device is named for kind and meter id."""
        self.submeters, self.bus, self.kind, self.meter_id = submeters, bus, kind, meter_id
        super().__init__(submeters.measurements, volume_description(bus, kind), self.info())
        self.recorded: float | None = None  # the last value known: saved while it is missing

    def info(self) -> DeviceInfo:
        """Describe the sub-meter's device (connected via the whatwatt Go)."""
        device = self.submeters.device
        info = DeviceInfo(
            identifiers={_identifier(device.device_id, self.bus)},
            translation_key=f"{self.kind}_meter",
            translation_placeholders={"meter_id": self.meter_id or str(self.bus)},
            **connected_via(device),
        )
        if self.meter_id:
            info["serial_number"] = self.meter_id
        return info

    def state_signature(self) -> tuple[Any, ...]:
        """Return availability and value, remembering the value (at the add, with readings)."""
        signature = super().state_signature()
        if signature[1] is not None:
            self.recorded = signature[1]
        return signature

    @property
    def extra_restore_state_data(self) -> CounterStoredData:
        """Return the value (the last one known while missing) and when it went missing."""
        value = self.native_value if self.native_value is not None else self.recorded
        since = self.submeters.buses.missing.get(self.bus)
        return CounterStoredData(value, self.native_unit_of_measurement, since)

    async def async_added_to_hass(self) -> None:
        """Seed the guard with the counter last recorded; go on with a missing count."""
        extra = await self.async_get_last_extra_data()
        stored = extra.as_dict() if extra is not None else {}
        if (value := recorded_number(stored.get("native_value"))) is not None:
            self.recorded = value
            self.coordinator.async_seed_total(self.entity_description.key, value)
        if isinstance(since := stored.get("missing_since"), str):
            self.submeters.buses.restore_missing(self.bus, datetime.fromisoformat(since))
        await super().async_added_to_hass()


class SubMeters:
    """Add, re-add and remove a loaded entry's sub-meters as the readings show them."""

    def __init__(
        self, hass: HomeAssistant, entry: WhatwattConfigEntry, add: AddConfigEntryEntitiesCallback
    ) -> None:
        """Bind to the entry's coordinators (``async_start`` follows the readings)."""
        self.hass, self.entry, self._add = hass, entry, add
        self.device, self.measurements = entry.runtime_data.device, entry.runtime_data.measurements
        self.counters: dict[int, SubMeterCounter] = {}
        self.buses = BusWatch(SEEN_READINGS if self.measurements.publishes else 1)

    @callback
    def async_start(self) -> None:
        """Add the sensors of the sub-meters in the registry, then follow every reading."""
        registry = dr.async_get(self.hass)
        for device_entry in dr.async_entries_for_config_entry(registry, self.entry.entry_id):
            if (bus := _bus_of(device_entry, self.device.device_id)) is not None:
                kind = kind_of(self.entry.options, bus)
                self._add(self._create(bus, kind, device_entry.serial_number))
        self.entry.async_on_unload(self.measurements.async_add_listener(self._async_on_reading))
        self._async_on_reading()

    def forget(self, bus: int) -> None:
        """Forget a sub-meter whose device goes (it comes back when it is read again)."""
        self.counters.pop(bus, None)
        self.buses.missing.pop(bus, None)

    @callback
    def _async_on_reading(self) -> None:
        """Follow a usable reading (runs with every one: returns soon when nothing changed)."""
        report = self.measurements.data
        if report is None or report.volumes is None or not self.measurements.measurements_available:
            return  # a reading that cannot tell which sub-meters there are
        now = dt_util.utcnow()
        read = {bus: volume.meter_id for bus, volume in report.volumes.items()}
        if read != self.buses.read or self.buses.sightings:
            self._async_follow(read, now)
        if gone := self.buses.gone(now):
            self._async_remove(gone)

    @callback
    def _async_follow(self, read: dict[int, str | None], now: datetime) -> None:
        """Add new sub-meters, rename for new meter ids, start and end the missing counts."""
        options, defaults = self.entry.options, dict[str, str]()
        for bus, meter_id in read.items():
            if (counter := self.counters.get(bus)) is not None and meter_id != counter.meter_id:
                counter.meter_id = meter_id  # a new meter on the bus: its device follows
                dr.async_get(self.hass).async_get_or_create(
                    config_entry_id=self.entry.entry_id, **counter.info()
                )
        for bus in self.buses.follow(read, self.counters.keys(), now):
            if (key := volume_key(bus)) not in options:
                defaults[key] = self._default_kind()
            self._add(self._create(bus, defaults.get(key) or kind_of(options, bus), read[bus]))
        if defaults:
            self.hass.config_entries.async_update_entry(self.entry, options={**options, **defaults})

    def _default_kind(self) -> str:
        report = self.measurements.data
        return default_kind((report.meter if report else None, self.device.data.system.meter))

    def _create(self, bus: int, kind: str, meter_id: str | None) -> list[SensorEntity]:
        """Return the sensors of a sub-meter (its device connects via the whatwatt Go's)."""
        dr.async_get(self.hass).async_get_or_create(
            config_entry_id=self.entry.entry_id, **device_info(self.device)
        )
        counter = self.counters[bus] = SubMeterCounter(self, bus, kind, meter_id)
        capture = WhatwattSensor(self.measurements, capture_time_description(bus), counter.info())
        return [counter, capture]

    async def async_apply_kinds(self, kinds: Mapping[int, str]) -> None:
        """Re-add each counter whose kind changed: the same entity id, its device renamed."""
        for bus, kind in kinds.items():
            old = self.counters.get(bus)
            if old is None or kind not in KINDS or kind == old.kind:
                continue
            if old.hass is not None and old.platform is not None:
                await old.async_remove()
            if self.counters.get(bus) is old:  # not removed or re-added meanwhile
                new = self.counters[bus] = SubMeterCounter(self, bus, kind, old.meter_id)
                new.recorded = old.recorded
                self._add([new])

    @callback
    def _async_remove(self, buses: list[int]) -> None:
        """Remove sub-meters gone for ``GONE_AFTER``: devices (entities go with them), kinds."""
        registry, entry_id = dr.async_get(self.hass), self.entry.entry_id
        for bus in buses:
            self.forget(bus)
            identifier = _identifier(self.device.device_id, bus)
            if (device_entry := registered_device(self.hass, entry_id, identifier)) is not None:
                registry.async_update_device(device_entry.id, remove_config_entry_id=entry_id)
        _drop_options(self.hass, self.entry, buses)


SCAN_INTERVAL_SELECTOR: Final = selector.NumberSelector(
    # No min/max: the form's error says what is wrong (a bound alone only colours the field).
    selector.NumberSelectorConfig(
        step=1, mode=selector.NumberSelectorMode.BOX, unit_of_measurement="s"
    )
)
KIND_SELECTOR: Final = selector.SelectSelector(
    selector.SelectSelectorConfig(
        options=list(KINDS),
        translation_key="volume_kind",
        mode=selector.SelectSelectorMode.DROPDOWN,
    )
)
WINDOW_SELECTOR: Final = selector.SelectSelector(
    selector.SelectSelectorConfig(
        options=[selector.SelectOptionDict(value=str(m), label=f"{m} min") for m in WINDOWS],
        mode=selector.SelectSelectorMode.LIST,
    )
)
PEAKS_SELECTOR: Final = selector.NumberSelector(
    selector.NumberSelectorConfig(min=1, max=MAX_PEAKS, mode=selector.NumberSelectorMode.BOX)
)


class WhatwattOptionsFlow(OptionsFlow):
    """Change how often the device is polled, what its sub-meters measure, the demand."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Show and store the options; a loaded entry applies them at once, without a restart."""
        entry = self.config_entry
        rest = transport_of(entry) == TRANSPORT_REST
        buses = option_buses(entry.options)
        errors: dict[str, str] = {}
        if user_input is not None:
            interval = int(user_input.get(CONF_SCAN_INTERVAL, DEFAULT_SCAN_INTERVAL))
            if rest and not MIN_SCAN_INTERVAL <= interval <= MAX_SCAN_INTERVAL:
                errors[CONF_SCAN_INTERVAL] = "scan_interval_out_of_range"
            else:
                return await self._async_store(user_input, rest=rest, buses=buses)
        fields: dict[Any, Any] = {}
        if rest:
            interval = entry.options.get(CONF_SCAN_INTERVAL, DEFAULT_SCAN_INTERVAL)
            fields[vol.Required(CONF_SCAN_INTERVAL, default=interval)] = SCAN_INTERVAL_SELECTOR
        for bus in buses:
            kind = vol.Required(volume_key(bus), default=kind_of(entry.options, bus))
            fields[kind] = KIND_SELECTOR
        window, peaks = demand_settings(entry.options)
        fields[vol.Required(CONF_DEMAND_WINDOW, default=str(window))] = WINDOW_SELECTOR
        fields[vol.Required(CONF_DEMAND_PEAKS, default=peaks)] = PEAKS_SELECTOR
        placeholders = {"submeters": submeter_names(self.hass, entry, buses)} if buses else None
        return self.async_show_form(
            step_id="submeters" if buses else "init",
            data_schema=self.add_suggested_values_to_schema(vol.Schema(fields), user_input),
            errors=errors,
            description_placeholders=placeholders,
        )

    async_step_submeters = async_step_init

    async def _async_store(
        self, user_input: dict[str, Any], *, rest: bool, buses: list[int]
    ) -> ConfigFlowResult:
        """Store the options and apply them to a loaded entry."""
        entry = self.config_entry
        loaded = entry.state is ConfigEntryState.LOADED
        options = dict(entry.options)
        if rest:
            interval = int(user_input[CONF_SCAN_INTERVAL])
            options[CONF_SCAN_INTERVAL] = interval
            if loaded:
                measurements = entry.runtime_data.measurements
                measurements.set_scan_interval(interval)
                await measurements.async_request_refresh()
        kinds = {bus: str(user_input[volume_key(bus)]) for bus in buses}
        options.update({volume_key(bus): kind for bus, kind in kinds.items()})
        window, peaks = demand_settings(user_input)
        options.update({CONF_DEMAND_WINDOW: window, CONF_DEMAND_PEAKS: peaks})
        if (submeters := _loaded(entry)) is not None:
            await submeters.async_apply_kinds(kinds)
        return self.async_create_entry(data=options)
