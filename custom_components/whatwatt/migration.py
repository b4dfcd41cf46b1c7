"""Entries of the vendor's integration (same domain, v0.4.0) carry on as entries of this one."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from homeassistant.components.sensor import SensorDeviceClass
from homeassistant.components.sensor.const import UNIT_CONVERTERS
from homeassistant.const import CONF_HOST, Platform
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr, entity_registry as er

from .api.client import normalize_host
from .api.errors import WhatwattError
from .api.parse_mqtt import VENDOR_KEYS
from .const import (
    CONF_TOPIC,
    CONF_TRANSPORT,
    DEFAULT_NAME,
    DOMAIN,
    LOGGER,
    MANUFACTURER,
    TRANSPORT_MQTT,
)
from .issues import ISSUE_VENDOR_DUPLICATE, async_clear_issue, async_raise_issue

if TYPE_CHECKING:
    from homeassistant.config_entries import ConfigEntry

    from .api.client import WhatwattClient
    from .push_mqtt import MqttSource

ENTRY_VERSION: Final = 2
# Data key of an entry taken over from the vendor's integration that waits for its device id.
LEARN_DEVICE_ID: Final = "learn_device_id"
# The vendor's entry data.
VENDOR_TOPIC: Final = "mqtt_topic"
VENDOR_DEVICE_IP: Final = "device_ip"
# The vendor's sensor keys and the keys of this integration's entities they become.
VENDOR_ENTITY_KEYS: Final[dict[str, str]] = {**VENDOR_KEYS, "tariff": "tariff"}
# The vendor's units that this integration's sensors have in var and VA.
VENDOR_UNITS: Final = {
    "kvar": SensorDeviceClass.REACTIVE_POWER,
    "kVA": SensorDeviceClass.APPARENT_POWER,
}


def learns_device_id(entry: ConfigEntry) -> bool:
    """Return True for an entry taken over from the vendor's that does not know its device yet."""
    return bool(entry.data.get(LEARN_DEVICE_ID))


async def async_migrate_entry(hass: HomeAssistant, entry: ConfigEntry) -> bool:
    """Bring an entry to ``ENTRY_VERSION``; False for an entry of a newer version (a downgrade)."""
    if entry.version > ENTRY_VERSION:
        LOGGER.error(
            "%s was written by a newer version of this integration (entry version %s); "
            "install that version again",
            entry.title,
            entry.version,
        )
        return False
    if VENDOR_TOPIC not in entry.data or CONF_TRANSPORT in entry.data:
        # This integration's own version 1: nothing changed.
        hass.config_entries.async_update_entry(entry, version=ENTRY_VERSION)
        return True
    topic = str(entry.data[VENDOR_TOPIC]).strip()
    data = {CONF_TRANSPORT: TRANSPORT_MQTT, CONF_TOPIC: topic, LEARN_DEVICE_ID: True}
    if address := str(entry.data.get(VENDOR_DEVICE_IP) or "").strip():
        try:
            data[CONF_HOST] = normalize_host(address)
        except ValueError:
            LOGGER.warning(
                "%s: the device address %r of the vendor's integration is not usable; "
                "the entry continues MQTT-only (add the address with Reconfigure)",
                entry.title,
                address,
            )
    registry = er.async_get(hass)
    for entity, _key in _vendor_entities(hass, entry):
        if entity.domain == Platform.BUTTON:  # the vendor's ``configuration`` button did nothing
            registry.async_remove(entity.entity_id)
    hass.config_entries.async_update_entry(entry, data=data, version=ENTRY_VERSION)
    LOGGER.info(
        "%s taken over from the vendor's integration: MQTT on %s%s; its entities move over "
        "once the device id is known",
        entry.title,
        topic,
        f" with the device at {data[CONF_HOST]}" if CONF_HOST in data else "",
    )
    return True


def _vendor_entities(hass: HomeAssistant, entry: ConfigEntry) -> list[tuple[er.RegistryEntry, str]]:
    """Return the vendor entities of an entry with their vendor key."""
    prefix = f"{entry.entry_id}_"
    return [
        (entity, entity.unique_id.removeprefix(prefix))
        for entity in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
        if entity.platform == DOMAIN and entity.unique_id.startswith(prefix)
    ]


@callback
def kept_vendor_unit(
    hass: HomeAssistant, unique_id: str, device_class: SensorDeviceClass | None
) -> str | None:
    """Return kvar or kVA for a sensor that keeps the vendor's unit, else None."""
    registry = er.async_get(hass)
    entity_id = registry.async_get_entity_id(Platform.SENSOR, DOMAIN, unique_id)
    entity = registry.async_get(entity_id) if entity_id is not None else None
    unit = entity.unit_of_measurement if entity is not None else None
    if unit is None or device_class is None or VENDOR_UNITS.get(unit) != device_class:
        return None
    converter = UNIT_CONVERTERS.get(device_class)
    return None if converter is not None and unit in converter.VALID_UNITS else unit


async def async_identify(
    hass: HomeAssistant, entry: ConfigEntry, client: WhatwattClient | None
) -> WhatwattClient | None:
    """Return the REST client an entry may use: for a taken-over entry, learn its device first."""
    if client is None or not learns_device_id(entry):
        return client
    try:
        system = await client.get_system()
    except WhatwattError as err:
        LOGGER.info(
            "%s: device id not readable over REST (%s); waiting for the first message on %s",
            entry.title,
            err,
            entry.data[CONF_TOPIC],
        )
        return None
    try:
        device_topic = (await client.get_mqtt_settings()).topic
    except WhatwattError:
        device_topic = None
    if device_topic and device_topic != entry.data[CONF_TOPIC]:
        # The device publishes elsewhere: an entry listening there has the better claim.
        for other in hass.config_entries.async_entries(DOMAIN):
            topics = (other.data.get(CONF_TOPIC), other.data.get(VENDOR_TOPIC))
            if other.entry_id != entry.entry_id and device_topic in topics:
                _raise_duplicate(hass, entry, other, system.device_id)
                return None
    return client if async_adopt(hass, entry, system.device_id) else None


@callback
def async_learn_from_messages(hass: HomeAssistant, entry: ConfigEntry, source: MqttSource) -> None:
    """Let the first MQTT message that carries a device id tell a taken-over entry its device."""
    if not learns_device_id(entry):
        return
    refused: set[str] = set()

    @callback
    def learn(device_id: str) -> bool:
        if not learns_device_id(entry) or device_id in refused:
            return False  # learnt meanwhile (a reload is due), or another entry's device
        if not async_adopt(hass, entry, device_id):
            refused.add(device_id)
            return False
        if CONF_HOST in entry.data:  # the reload brings REST up for the known device
            hass.config_entries.async_schedule_reload(entry.entry_id)
            return False
        return True

    source.learn_device_id = learn


@callback
def async_adopt(hass: HomeAssistant, entry: ConfigEntry, device_id: str) -> bool:
    """Move the vendor's device and entities to ``device_id``; False when another entry has it."""
    other = hass.config_entries.async_entry_for_domain_unique_id(DOMAIN, device_id)
    if other is not None and other.entry_id != entry.entry_id:
        _raise_duplicate(hass, entry, other, device_id)
        return False
    _merge_device(hass, entry, device_id)
    moved = _move_entities(hass, entry, device_id)
    data = {key: value for key, value in entry.data.items() if key != LEARN_DEVICE_ID}
    hass.config_entries.async_update_entry(entry, unique_id=device_id, data=data)
    async_clear_issue(hass, entry, ISSUE_VENDOR_DUPLICATE)
    LOGGER.info(
        "%s is whatwatt Go %s: %d entities of the vendor's integration carry on",
        entry.title,
        device_id,
        moved,
    )
    return True


@callback
def _merge_device(hass: HomeAssistant, entry: ConfigEntry, device_id: str) -> None:
    """Give the vendor's device this device's identifier (or merge it into the entry's one)."""
    registry = dr.async_get(hass)
    if (vendor := registry.async_get_device({(DOMAIN, entry.entry_id)})) is None:
        return
    name_by_user = vendor.name_by_user or vendor.name
    ours = registry.async_get_device({(DOMAIN, device_id)})
    if ours is None or entry.entry_id not in ours.config_entries:
        try:
            registry.async_update_device(
                vendor.id,
                new_identifiers={(DOMAIN, device_id)},
                manufacturer=MANUFACTURER,
                model=DEFAULT_NAME,
                serial_number=device_id,
                name_by_user=name_by_user,
            )
        except dr.DeviceCollisionError as err:  # another entry's device has the identifier
            LOGGER.warning("%s: device %s not taken over: %s", entry.title, vendor.id, err)
        return
    entities = er.async_get(hass)
    for entity in er.async_entries_for_device(entities, vendor.id, include_disabled_entities=True):
        entities.async_update_entity(entity.entity_id, device_id=ours.id)
    registry.async_update_device(
        ours.id,
        area_id=ours.area_id or vendor.area_id,
        name_by_user=ours.name_by_user or name_by_user,
        labels=set(ours.labels) | set(vendor.labels),
    )
    registry.async_remove_device(vendor.id)


@callback
def _move_entities(hass: HomeAssistant, entry: ConfigEntry, device_id: str) -> int:
    """Give each vendor sensor its unique id here; return how many moved."""
    registry = er.async_get(hass)
    moved = 0
    for entity, key in _vendor_entities(hass, entry):
        if entity.domain != Platform.SENSOR or (ours := VENDOR_ENTITY_KEYS.get(key)) is None:
            continue  # the button went with the entry's migration (async_migrate_entry)
        unique_id = f"{device_id}_{ours}"
        if taken := registry.async_get_entity_id(Platform.SENSOR, DOMAIN, unique_id):
            LOGGER.warning(
                "%s: %s is not moved over, %s already has unique id %s",
                entry.title,
                entity.entity_id,
                taken,
                unique_id,
            )
            continue
        registry.async_update_entity(entity.entity_id, new_unique_id=unique_id)
        moved += 1
    return moved


@callback
def _raise_duplicate(
    hass: HomeAssistant, entry: ConfigEntry, other: ConfigEntry, device_id: str
) -> None:
    """Tell the person that this entry and another one are the same device."""
    topic = str(entry.data.get(CONF_TOPIC))
    LOGGER.warning(
        "%s (topic %s) is whatwatt Go %s, which %s already receives; %s stays as it is",
        entry.title,
        topic,
        device_id,
        other.title,
        entry.title,
    )
    placeholders = {"other": other.title, "topic": topic, "device_id": device_id}
    async_raise_issue(hass, entry, ISSUE_VENDOR_DUPLICATE, placeholders=placeholders)
