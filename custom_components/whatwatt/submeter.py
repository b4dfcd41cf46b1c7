"""Sub-meters on the meter's bus (gas, water, heat meters): kinds, options, devices, removal.

Each bus the device reports a *volume* entry for (``Report.volumes``) is a device of its own,
connected via the whatwatt Go, named for what it measures and its meter id, the meter id as its
serial number. Its sensors (``submeter_sensor.py``) are the counter ``volume_<bus>`` and the
capture time ``volume_<bus>_capture_time``.

What a sub-meter measures is the person's choice, stored in the entry's options as
``volume_<bus>``: ``gas`` (m³), ``water`` (m³), ``heat`` (kWh) or ``other`` (no unit). When a bus
is first seen its default is stored there: ``gas`` on a P1/DSMR meter (the gas meter of a Dutch
or Belgian smart meter), ``other`` elsewhere. The stored kinds are also the list of known buses
the options form shows, on every transport.

A sub-meter that is no longer in the readings is removed with its device once readings have
arrived without it for ``GONE_AFTER`` (30 days; the time counts from the first such reading and
survives restarts, kept in a small store per entry). Readings that cannot carry sub-meters (an
MQTT template without their fields) and unusable readings (stale, meter link down) prove nothing
and never count. A gone sub-meter's device can also be deleted by hand at once
(``async_remove_config_entry_device``); one still on the bus cannot.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final, Protocol

from homeassistant.components.sensor import DOMAIN as SENSOR_DOMAIN
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr, entity_registry as er, restore_state
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util
from homeassistant.util.hass_dict import HassKey

from .api.totals import VOLUME_PREFIX, is_volume_key, volume_key
from .const import DOMAIN
from .entity import connected_via, registered_device

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from homeassistant.config_entries import ConfigEntry

    from .api.models import MeterInfo
    from .coordinator import DeviceCoordinator

KIND_GAS: Final = "gas"
KIND_WATER: Final = "water"
KIND_HEAT: Final = "heat"
KIND_OTHER: Final = "other"
KINDS: Final = (KIND_GAS, KIND_WATER, KIND_HEAT, KIND_OTHER)

# Readings without a sub-meter for this long remove it (and its device).
GONE_AFTER: Final = timedelta(days=30)

STORE_VERSION: Final = 1


class SubMeterControl(Protocol):
    """What the options flow and device removal ask of a loaded entry's sub-meters."""

    async def async_set_kinds(self, kinds: Mapping[int, str]) -> None:
        """Apply new kinds at once (entity ids and statistics ids stay)."""

    def present(self, bus: int) -> bool:
        """Return True when the last usable reading has the sub-meter on ``bus``."""

    def forget(self, bus: int) -> None:
        """Forget a sub-meter whose device is being deleted (it comes back when seen again)."""


# The sub-meters of each loaded entry (set by the sensor platform).
SUBMETERS: HassKey[dict[str, SubMeterControl]] = HassKey(f"{DOMAIN}_submeters")


# --- options ---------------------------------------------------------------------------------


def option_buses(options: Mapping[str, Any]) -> list[int]:
    """Return the known buses: those with a kind in the options, in order."""
    return sorted(int(key[len(VOLUME_PREFIX) :]) for key in options if is_volume_key(key))


def has_submeters(options: Mapping[str, Any]) -> bool:
    """Return True when the options know at least one sub-meter."""
    return any(is_volume_key(key) for key in options)


def kind_of(options: Mapping[str, Any], bus: int) -> str:
    """Return the stored kind of a bus (``other`` for none or an unknown value)."""
    kind = options.get(volume_key(bus))
    return kind if kind in KINDS else KIND_OTHER


def default_kind(meters: Iterable[MeterInfo | None]) -> str:
    """Return the kind a new sub-meter gets: gas on a P1/DSMR meter, other elsewhere."""
    for meter in meters:
        if meter is None:
            continue
        if (meter.interface or "").upper() == "P1" or (meter.protocol or "").upper() == "DSMR":
            return KIND_GAS
    return KIND_OTHER


def without_buses(options: Mapping[str, Any], buses: Iterable[int]) -> dict[str, Any]:
    """Return the options without the kinds of ``buses``."""
    dropped = {volume_key(bus) for bus in buses}
    return {key: value for key, value in options.items() if key not in dropped}


@callback
def async_drop_options(hass: HomeAssistant, entry: ConfigEntry, buses: Iterable[int]) -> None:
    """Remove the kinds of sub-meters that are gone from the entry's options."""
    options = without_buses(entry.options, buses)
    if options != entry.options:
        hass.config_entries.async_update_entry(entry, options=options)


# --- devices ---------------------------------------------------------------------------------


def submeter_identifier(device_id: str, bus: int) -> tuple[str, str]:
    """Return the device registry identifier of the sub-meter on ``bus``."""
    return (DOMAIN, f"{device_id}_{volume_key(bus)}")


def bus_of(device_entry: dr.DeviceEntry, device_id: str | None) -> int | None:
    """Return the bus of a sub-meter device of this whatwatt Go, None for any other device."""
    prefix = f"{device_id}_{VOLUME_PREFIX}"
    for domain, identifier in device_entry.identifiers:
        suffix = identifier[len(prefix) :]
        if domain == DOMAIN and device_id and identifier.startswith(prefix) and suffix.isdigit():
            return int(suffix)
    return None


def submeter_device_info(
    device: DeviceCoordinator, bus: int, meter_id: str | None, kind: str
) -> DeviceInfo:
    """Describe the sub-meter on ``bus``: named for what it measures and its meter id."""
    info = DeviceInfo(
        identifiers={submeter_identifier(device.device_id, bus)},
        translation_key=f"{kind}_meter",
        translation_placeholders={"meter_id": meter_id or str(bus)},
        **connected_via(device),
    )
    if meter_id:
        info["serial_number"] = meter_id
    return info


@callback
def registry_buses(hass: HomeAssistant, entry: ConfigEntry) -> set[int]:
    """Return the buses that have a sub-meter device of this entry in the device registry."""
    registry = dr.async_get(hass)
    return {
        bus
        for device_entry in dr.async_entries_for_config_entry(registry, entry.entry_id)
        if (bus := bus_of(device_entry, entry.unique_id)) is not None
    }


@callback
def async_remove_devices(hass: HomeAssistant, entry: ConfigEntry, buses: Iterable[int]) -> None:
    """Remove the sub-meter devices of ``buses`` from this entry (their entities go with them)."""
    registry = dr.async_get(hass)
    for bus in buses:
        identifier = submeter_identifier(entry.unique_id or "", bus)
        if (device_entry := registered_device(hass, entry.entry_id, identifier)) is not None:
            registry.async_update_device(device_entry.id, remove_config_entry_id=entry.entry_id)


@callback
def submeter_names(hass: HomeAssistant, entry: ConfigEntry, buses: Iterable[int]) -> str:
    """Return the known sub-meters as the options form lists them (``bus 1: Gas meter …``)."""
    names = []
    for bus in buses:
        identifier = submeter_identifier(entry.unique_id or "", bus)
        device_entry = registered_device(hass, entry.entry_id, identifier)
        name = (device_entry.name_by_user or device_entry.name) if device_entry else None
        names.append(f"{bus}: {name}" if name else str(bus))
    return ", ".join(names) or "—"


async def async_remove_config_entry_device(
    hass: HomeAssistant, entry: ConfigEntry, device_entry: dr.DeviceEntry
) -> bool:
    """Allow deleting a sub-meter's device by hand once it is no longer on the bus.

    The whatwatt Go itself and a sub-meter in the current readings cannot be deleted.
    """
    bus = bus_of(device_entry, entry.unique_id)
    if bus is None:
        return False
    control = hass.data.get(SUBMETERS, {}).get(entry.entry_id)
    if control is not None:
        if control.present(bus):
            return False
        control.forget(bus)
    async_drop_options(hass, entry, (bus,))
    return True


async def async_apply_kinds(
    hass: HomeAssistant, entry: ConfigEntry, kinds: Mapping[int, str]
) -> None:
    """Hand new kinds to a loaded entry's sub-meters (nothing to do when it is not loaded)."""
    control = hass.data.get(SUBMETERS, {}).get(entry.entry_id)
    if control is not None:
        await control.async_set_kinds(kinds)


# --- restored counters -----------------------------------------------------------------------


@callback
def restored_volumes(hass: HomeAssistant, device_id: str) -> dict[str, float]:
    """Return the counter Home Assistant last recorded for each sub-meter of a device.

    The counterpart of ``sensor.restored_totals`` for the guard: read before the first reading,
    from the entity registry (unique id ``<device id>_volume_<bus>``) and the restore-state
    cache. The counter is the device's number whatever its unit, so any number counts.
    """
    prefix = f"{device_id}_"
    last_states = restore_state.async_get(hass).last_states
    counters: dict[str, float] = {}
    for entity in er.async_get(hass).entities.values():
        if entity.platform != DOMAIN or entity.domain != SENSOR_DOMAIN:
            continue
        key = entity.unique_id.removeprefix(prefix)
        if key == entity.unique_id or not is_volume_key(key):
            continue
        stored = last_states.get(entity.entity_id)
        if stored is None or stored.extra_data is None:
            continue
        value = stored.extra_data.as_dict().get("native_value")
        if isinstance(value, int | float) and not isinstance(value, bool):
            counters[key] = float(value)
    return counters


# --- gone sub-meters -------------------------------------------------------------------------


def _store(hass: HomeAssistant, entry_id: str) -> Store[dict[str, Any]]:
    return Store(hass, STORE_VERSION, f"{DOMAIN}.submeters.{entry_id}")


class GoneWatch:
    """When each known sub-meter was first missing from a usable reading (kept in a store)."""

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        """Bind the watch to its entry's store (``async_load`` before use)."""
        self._hass = hass
        self._store = _store(hass, entry_id)
        self.missing: dict[int, datetime] = {}
        self._due: datetime | None = None

    async def async_load(self) -> None:
        """Read the times kept from the last run."""
        data = await self._store.async_load() or {}
        for bus, text in (data.get("missing_since") or {}).items():
            moment = dt_util.parse_datetime(str(text))
            if str(bus).isdigit() and moment is not None:
                self.missing[int(bus)] = moment
        self._plan()

    def _plan(self) -> None:
        self._due = min(self.missing.values()) + GONE_AFTER if self.missing else None

    @callback
    def _save(self) -> None:
        data = {"missing_since": {str(bus): t.isoformat() for bus, t in self.missing.items()}}
        self._hass.async_create_task(self._store.async_save(data), "whatwatt sub-meter store")

    @callback
    def follow(self, present: Iterable[int], known: Iterable[int], now: datetime) -> None:
        """Note the buses of a usable reading: the known ones missing from it start counting."""
        present = set(present)
        missing = {bus: self.missing.get(bus, now) for bus in known if bus not in present}
        if missing != self.missing:
            self.missing = missing
            self._plan()
            self._save()

    @callback
    def gone(self, now: datetime) -> list[int]:
        """Return the buses missing for ``GONE_AFTER`` by ``now`` (cheap while none is due)."""
        if self._due is None or now < self._due:
            return []
        return [bus for bus, since in self.missing.items() if now - since >= GONE_AFTER]

    @callback
    def drop(self, buses: Iterable[int]) -> None:
        """Stop watching ``buses`` (removed, or deleted by hand)."""
        changed = False
        for bus in buses:
            changed = self.missing.pop(bus, None) is not None or changed
        if changed:
            self._plan()
            self._save()


async def async_remove_store(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Remove an entry's sub-meter store (the entry is deleted)."""
    await _store(hass, entry.entry_id).async_remove()
