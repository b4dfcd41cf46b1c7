"""An install of the vendor's integration (v0.4.0), built as that integration leaves it.

Config entry version 1 with ``mqtt_topic``, ``device_ip`` and ``name`` (unique id = the topic), one
device ``{("whatwatt", <entry id>)}`` by "whatwatt AG", 27 sensors ``<entry id>_<key>`` with
entity ids ``sensor.whatwatt_<key>`` and the units, device classes and state classes the vendor
gave them, and the button ``<entry id>_configuration``. ``vendor_states`` writes their states
as the vendor's entities did (the recorder records them); ``restart`` empties the state machine
and writes what Home Assistant shows for registered entities at start-up (unavailable, restored).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from homeassistant.const import (
    ATTR_DEVICE_CLASS,
    ATTR_FRIENDLY_NAME,
    ATTR_UNIT_OF_MEASUREMENT,
    EntityCategory,
)
from homeassistant.helpers import device_registry as dr, entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.whatwatt.const import DOMAIN

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

FIXTURES = Path(__file__).parents[1] / "fixtures"
VENDOR_TOPIC = "home/whatwatt"
VENDOR_NAME = "whatwatt"


class VendorSensor(NamedTuple):
    """One sensor of the vendor's integration (its const.SENSOR_TYPES and strings.json)."""

    key: str
    name: str
    unit: str | None
    device_class: str | None
    state_class: str | None


def _sensors() -> tuple[VendorSensor, ...]:
    power = [
        (f"power_{way}{phase}", f"Power {way.title()}{phase.replace('_l', ' L')}")
        for way in ("in", "out")
        for phase in ("", "_l1", "_l2", "_l3")
    ]
    energy = [
        (f"energy_{way}{tariff}", f"Energy {way.title()}{tariff.replace('_t', ' T')}")
        for way in ("in", "out")
        for tariff in ("", "_t1", "_t2")
    ]
    return (
        *(VendorSensor(key, name, "kW", "power", "measurement") for key, name in power),
        *(VendorSensor(key, name, "kWh", "energy", "total_increasing") for key, name in energy),
        *(
            VendorSensor(f"voltage_l{n}", f"Voltage L{n}", "V", "voltage", "measurement")
            for n in (1, 2, 3)
        ),
        *(
            VendorSensor(f"current_l{n}", f"Current L{n}", "A", "current", "measurement")
            for n in (1, 2, 3)
        ),
        VendorSensor("power_factor", "Power Factor", None, "power_factor", "measurement"),
        VendorSensor("apparent_power", "Apparent Power", "kVA", None, "measurement"),
        VendorSensor("reactive_power_in", "Reactive Power In", "kvar", None, "measurement"),
        VendorSensor("reactive_power_out", "Reactive Power Out", "kvar", None, "measurement"),
        VendorSensor("reactive_energy_in", "Reactive Energy In", "kvarh", None, "total_increasing"),
        VendorSensor(
            "reactive_energy_out", "Reactive Energy Out", "kvarh", None, "total_increasing"
        ),
        VendorSensor("tariff", "Tariff", None, None, None),
    )


VENDOR_SENSORS = _sensors()
assert len(VENDOR_SENSORS) == 27


def vendor_payload(full: bool = True, **changes: Any) -> str:
    """Return the vendor template's message (fixture ``mqtt_vendor_full.json``), values changed."""
    name = "mqtt_vendor_full.json" if full else "mqtt_vendor.json"
    data = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    data.update({key: str(value) for key, value in changes.items()})
    return json.dumps(data)


def vendor_entry(
    topic: str = VENDOR_TOPIC, device_ip: str = "", name: str = VENDOR_NAME
) -> MockConfigEntry:
    """Return a config entry exactly as the vendor's config flow created it (not yet added)."""
    return MockConfigEntry(
        domain=DOMAIN,
        version=1,
        title=name,
        unique_id=topic,
        data={"mqtt_topic": topic, "device_ip": device_ip, "name": name},
    )


def add_vendor_install(
    hass: HomeAssistant, entry: MockConfigEntry, *, prefix: str = VENDOR_NAME
) -> dict[str, str]:
    """Add the entry, its device and its entities; return vendor key → entity id."""
    entry.add_to_hass(hass)
    device = dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id,
        identifiers={(DOMAIN, entry.entry_id)},
        manufacturer="whatwatt AG",
        model="whatwatt Go",
        name=entry.data["name"],
    )
    registry = er.async_get(hass)
    entity_ids: dict[str, str] = {}
    for sensor in VENDOR_SENSORS:
        entity_ids[sensor.key] = registry.async_get_or_create(
            "sensor",
            DOMAIN,
            f"{entry.entry_id}_{sensor.key}",
            config_entry=entry,
            device_id=device.id,
            suggested_object_id=f"{prefix}_{sensor.key}",
            capabilities={"state_class": sensor.state_class} if sensor.state_class else None,
            has_entity_name=True,
            original_device_class=sensor.device_class,
            original_name=sensor.name,
            translation_key=sensor.key,
            unit_of_measurement=sensor.unit,
        ).entity_id
    registry.async_get_or_create(
        "button",
        DOMAIN,
        f"{entry.entry_id}_configuration",
        config_entry=entry,
        device_id=device.id,
        suggested_object_id=f"{prefix}_configuration",
        entity_category=EntityCategory.CONFIG,
        has_entity_name=True,
        original_name="Configuration",
        translation_key="configuration",
    )
    return entity_ids


def vendor_states(hass: HomeAssistant, entity_ids: dict[str, str], payload: str) -> None:
    """Write the states the vendor's entities showed for one message (rounded as they did)."""
    message = json.loads(payload)
    for sensor in VENDOR_SENSORS:
        raw = message.get(sensor.key)
        if raw in (None, "null"):
            continue
        value = int(raw) if sensor.key == "tariff" else round(float(raw), 2)
        attributes: dict[str, Any] = {ATTR_FRIENDLY_NAME: f"{VENDOR_NAME} {sensor.name}"}
        if sensor.unit:
            attributes[ATTR_UNIT_OF_MEASUREMENT] = sensor.unit
        if sensor.device_class:
            attributes[ATTR_DEVICE_CLASS] = sensor.device_class
        if sensor.state_class:
            attributes["state_class"] = sensor.state_class
        hass.states.async_set(entity_ids[sensor.key], str(value), attributes)


def restart(hass: HomeAssistant) -> None:
    """Empty the state machine as a restart does; registered entities show unavailable."""
    for entity in er.async_get(hass).entities.values():
        if entity.platform == DOMAIN:
            hass.states.async_remove(entity.entity_id)
            if not entity.disabled:
                entity.write_unavailable_state(hass)
