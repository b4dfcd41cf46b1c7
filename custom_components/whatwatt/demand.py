"""Peak demand for capacity tariffs: its tracker and sensors (``api.demand``: the arithmetic)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from homeassistant.components.sensor import SensorDeviceClass
from homeassistant.core import callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from .api.demand import DEFAULT_PEAKS, DEFAULT_WINDOW, MAX_PEAKS, WINDOWS, Demand
from .const import CONF_DEMAND_PEAKS, CONF_DEMAND_WINDOW, DOMAIN
from .coordinator import MeasurementCoordinator
from .entity import KILOWATTS, WhatwattSensorEntity, WhatwattSensorEntityDescription

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from datetime import datetime

    from homeassistant.config_entries import ConfigEntry
    from homeassistant.core import HomeAssistant
    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
    from homeassistant.helpers.typing import StateType

    from .api.models import Report
    from .coordinator import WhatwattConfigEntry

SAVE_DELAY: Final = 300.0
STORE_VERSION: Final = 1
REGISTER: Final = "energy_import"


def demand_settings(options: Mapping[str, Any]) -> tuple[int, int]:
    """Return the window length (minutes) and N of an entry's options."""
    window = int(options.get(CONF_DEMAND_WINDOW, DEFAULT_WINDOW))
    peaks = int(options.get(CONF_DEMAND_PEAKS, DEFAULT_PEAKS))
    return (window if window in WINDOWS else DEFAULT_WINDOW, min(max(peaks, 1), MAX_PEAKS))


class DemandTracker:
    """The demand of one entry: fed with each reading, kept in the entry's ``Store``."""

    def __init__(self, hass: HomeAssistant, entry: WhatwattConfigEntry) -> None:
        """Follow ``entry``'s measurement coordinator (``async_start``)."""
        self.entry = entry
        self.coordinator = entry.runtime_data.measurements
        self.demand = Demand(*demand_settings(entry.options))
        self.store: Store[dict[str, Any]] = Store(hass, STORE_VERSION, _store_key(entry.entry_id))
        self._fed: Report | None = None
        self._saving = False

    async def async_start(self) -> None:
        """Restore the stored state, then follow the readings and the options."""
        self.demand.restore(await self.store.async_load() or {})
        self.feed()
        entry = self.entry
        entry.async_on_unload(self.coordinator.async_add_listener(self.feed))
        entry.async_on_unload(entry.add_update_listener(self._async_options_updated))
        entry.async_on_unload(lambda: self.store.async_save(self.demand.as_dict()))

    @callback
    def feed(self) -> None:
        """Hand the demand a new reading (its listener comes before its sensors')."""
        report, coordinator = self.coordinator.data, self.coordinator
        if report is None or report is self._fed or not coordinator.measurements_available:
            return
        self._fed = report
        if (value := report.values.get(REGISTER)) is None:
            return
        power = report.values.get("power_import")
        self.demand.add(dt_util.utcnow(), value, power, dt_util.get_default_time_zone())
        if not self._saving:
            self._saving = True
            self.store.async_delay_save(self._data, SAVE_DELAY)

    def _data(self) -> dict[str, Any]:
        self._saving = False
        return self.demand.as_dict()

    async def _async_options_updated(self, hass: HomeAssistant, entry: ConfigEntry) -> None:  # noqa: ARG002
        self.demand.configure(*demand_settings(entry.options))
        self.coordinator.async_update_listeners()


def _store_key(entry_id: str) -> str:
    return f"{DOMAIN}.demand.{entry_id}"


async def async_remove_demand(hass: HomeAssistant, entry_id: str) -> None:
    """Forget what an entry stored of the demand (the entry is removed)."""
    await Store[dict[str, Any]](hass, STORE_VERSION, _store_key(entry_id)).async_remove()


type DemandSensorDescription = WhatwattSensorEntityDescription[Demand]


def _kw(
    key: str, value_fn: Callable[[Demand], float | None], *, needs_fresh: bool = False
) -> DemandSensorDescription:
    return WhatwattSensorEntityDescription(
        key=key, translation_key=key, value_fn=value_fn, needs_fresh=needs_fresh, **KILOWATTS
    )


DEMAND_SENSORS: Final[tuple[DemandSensorDescription, ...]] = (
    _kw("demand_current", Demand.current, needs_fresh=True),
    _kw("demand_projected", Demand.projected, needs_fresh=True),
    _kw("demand_peak", Demand.peak),
    WhatwattSensorEntityDescription(
        key="demand_peak_time",
        translation_key="demand_peak_time",
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=Demand.peak_time,
        needs_fresh=False,
    ),
    _kw("demand_peak_12m", Demand.peak_12m),
)


async def async_setup_demand(
    hass: HomeAssistant, entry: WhatwattConfigEntry, add_entities: AddConfigEntryEntitiesCallback
) -> None:
    """Track the demand of an entry; add its sensors once the import register is read."""
    tracker = entry.runtime_data.demand = DemandTracker(hass, entry)
    await tracker.async_start()
    coordinator, device_id = tracker.coordinator, entry.runtime_data.device.device_id
    registry = er.async_get(hass)
    known = registry.async_get_entity_id("sensor", DOMAIN, f"{device_id}_demand_current")

    added: list[DemandSensor] = []

    @callback
    def _async_add() -> None:
        report = coordinator.data
        if not added and (known or (report is not None and REGISTER in report.values)):
            added.extend(DemandSensor(tracker, d) for d in DEMAND_SENSORS)
            add_entities(added)

    entry.async_on_unload(coordinator.async_add_listener(_async_add))
    _async_add()


class DemandSensor(WhatwattSensorEntity[MeasurementCoordinator]):
    """A demand sensor of an entry."""

    entity_description: DemandSensorDescription

    def __init__(self, tracker: DemandTracker, description: DemandSensorDescription) -> None:
        """Show one value of ``tracker``."""
        super().__init__(tracker.coordinator, description)
        self.tracker = tracker

    def state_signature(self) -> tuple[bool, StateType | datetime]:
        """Return availability and the value in kW (or the time of the peak)."""
        description = self.entity_description  # the peaks stay known; the window needs readings
        available = self.coordinator.measurements_available or not description.needs_fresh
        return (available, description.value_fn(self.tracker.demand))
