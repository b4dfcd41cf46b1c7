"""Base entity of the whatwatt Go integration."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final, cast

from homeassistant.const import CONF_HOST
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .const import DEFAULT_NAME, DOMAIN, MANUFACTURER, device_title
from .coordinator import DeviceCoordinator, MeasurementCoordinator

if TYPE_CHECKING:
    from collections.abc import Callable

    from homeassistant.helpers.entity import EntityDescription
    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

    from .coordinator import WhatwattConfigEntry


def device_info(device: DeviceCoordinator) -> DeviceInfo:
    """Describe the whatwatt Go of an entry (the device coordinator keeps it up to date).

    The model is the product name for every entry (an MQTT-only entry never learns more); the
    device's own hardware string (``WW_Go_1.2``) is its hardware version.
    """
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


# Home Assistant 2026.9+ links a device to its hub by the hub's registry id (``via_device``,
# the hub's identifier, is deprecated there and removed in 2027.8).
_VIA_DEVICE_ID: Final = "via_device_id" in DeviceInfo.__optional_keys__


@callback
def registered_device(
    hass: HomeAssistant, entry_id: str, identifier: tuple[str, str]
) -> dr.DeviceEntry | None:
    """Return the device of an entry with this identifier, with the running line's lookup.

    Later lines deprecate ``async_get_device`` (identifiers are unique per config entry only)
    for ``async_get_device_by_identifier``, which 2025.4 does not have.
    """
    registry = dr.async_get(hass)
    if (by_identifier := getattr(registry, "async_get_device_by_identifier", None)) is not None:
        return cast("dr.DeviceEntry | None", by_identifier(identifier, entry_id))
    return registry.async_get_device(identifiers={identifier})


def connected_via(device: DeviceCoordinator) -> DeviceInfo:
    """Return the part of a DeviceInfo that connects a device via the whatwatt Go of an entry.

    The one place that names the link: ``via_device_id`` (the hub's registry id) where the line
    has it, else ``via_device`` (the hub's identifier; works on every supported line, deprecated
    from 2026.9). Once 2026.9 is the minimum, the first branch is all that is left. Each key is
    in the ``DeviceInfo`` of some lines only, hence the casts.
    """
    hub = (DOMAIN, device.device_id)
    if _VIA_DEVICE_ID and (
        found := registered_device(device.hass, device.config_entry.entry_id, hub)
    ):
        return cast("DeviceInfo", {"via_device_id": found.id})
    return cast("DeviceInfo", {"via_device": hub})


class WhatwattEntity[C: DeviceCoordinator | MeasurementCoordinator](CoordinatorEntity[C]):
    """A whatwatt Go entity that writes its state only when something it shows changed."""

    _attr_has_entity_name = True
    _written: tuple[Any, ...] | None = None

    def __init__(self, coordinator: C, description: EntityDescription) -> None:
        """Attach the entity to the entry's device and give it its contract unique id."""
        super().__init__(coordinator)
        device = coordinator.config_entry.runtime_data.device
        self.entity_description = description
        self._attr_unique_id = f"{device.device_id}_{description.key}"
        self._attr_device_info = device_info(device)

    def state_signature(self) -> tuple[Any, ...]:
        """Return what this entity shows (availability first); written only when it changes."""
        return (self.available,)

    async def async_added_to_hass(self) -> None:
        """Remember the state written when the entity is added."""
        await super().async_added_to_hass()
        self._written = self.state_signature()

    @callback
    def _handle_coordinator_update(self) -> None:
        """Write the state only when its value or availability changed."""
        signature = self.state_signature()
        if signature == self._written:
            return
        self._written = signature
        self.async_write_ha_state()


def device_platform[D: EntityDescription](
    entity_class: Callable[[DeviceCoordinator, D], WhatwattEntity[DeviceCoordinator]],
    description: D,
) -> Callable[[HomeAssistant, WhatwattConfigEntry, AddConfigEntryEntitiesCallback], Any]:
    """Return a platform's ``async_setup_entry`` adding one entity of the device coordinator.

    The entity exists only when the device's address is known (not for MQTT-only entries):
    it reads or writes the device over REST.
    """

    async def async_setup_entry(
        hass: HomeAssistant,  # noqa: ARG001
        entry: WhatwattConfigEntry,
        async_add_entities: AddConfigEntryEntitiesCallback,
    ) -> None:
        runtime = entry.runtime_data
        if runtime.client is not None:
            async_add_entities([entity_class(runtime.device, description)])

    return async_setup_entry
