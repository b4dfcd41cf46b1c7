"""Coming from the vendor's integration: entry, device and entities carry on (MQTT mocked).

The install is built as the vendor's v0.4.0 leaves it (``vendor_helpers``); the vendor's payload
arrives through Home Assistant's MQTT integration (``async_fire_mqtt_message``). Statistics and
the Energy dashboard are in ``test_vendor_statistics.py``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
import json
from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import ATTR_FRIENDLY_NAME, ATTR_UNIT_OF_MEASUREMENT, STATE_UNAVAILABLE
from homeassistant.helpers import (
    area_registry as ar,
    device_registry as dr,
    entity_registry as er,
    issue_registry as ir,
)
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_mqtt_message,
    async_fire_time_changed,
)

from custom_components.whatwatt.api.parse_mqtt import VENDOR_KEYS
from custom_components.whatwatt.const import (
    CONF_TOPIC,
    CONF_TRANSPORT,
    DOMAIN,
    MANUFACTURER,
    TRANSPORT_MQTT,
)
from custom_components.whatwatt.issues import ISSUE_VENDOR_DUPLICATE
from custom_components.whatwatt.migration import LEARN_DEVICE_ID, VENDOR_ENTITY_KEYS

from .conftest import DEVICE_ID, host_of
from .mqtt_helpers import mqtt_ready
from .vendor_helpers import (
    VENDOR_SENSORS,
    VENDOR_TOPIC,
    add_vendor_install,
    restart,
    vendor_entry,
    vendor_payload,
)

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

__all__ = ["mqtt_ready"]

SimFactory = Callable[..., Awaitable[Any]]


async def _reconfigure_rest(hass: HomeAssistant, entry: MockConfigEntry, sim: Any) -> Any:
    """Reconfigure ``entry`` to REST polling of ``sim``; return the flow's result."""
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "rest"}
    )
    return await hass.config_entries.flow.async_configure(result["flow_id"], {"host": host_of(sim)})


async def _load(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Set up the integration (every entry of it) unless it is already; ``entry`` must load."""
    if entry.state is ConfigEntryState.NOT_LOADED:
        assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED


async def _send(hass: HomeAssistant, message: str, topic: str = VENDOR_TOPIC) -> None:
    async_fire_mqtt_message(hass, topic, message)
    await hass.async_block_till_done()


def _value(hass: HomeAssistant, entity_id: str) -> float:
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    return float(state.state)


def _entities_of(hass: HomeAssistant, entry: MockConfigEntry) -> list[er.RegistryEntry]:
    return er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)


def assert_moved(hass: HomeAssistant, entry: MockConfigEntry, entity_ids: dict[str, str]) -> None:
    """Every vendor sensor kept its entity id and has ``<device id>_<our key>``; no duplicates."""
    registry = er.async_get(hass)
    for key, entity_id in entity_ids.items():
        entity = registry.async_get(entity_id)
        assert entity is not None, entity_id
        assert entity.unique_id == f"{DEVICE_ID}_{VENDOR_ENTITY_KEYS[key]}"
        assert entity.config_entry_id == entry.entry_id
    entities = _entities_of(hass, entry)
    unique_ids = [entity.unique_id for entity in entities]
    assert len(unique_ids) == len(set(unique_ids))
    assert not [uid for uid in unique_ids if uid.startswith(entry.entry_id)]
    assert not [entity.entity_id for entity in entities if entity.entity_id.endswith("_2")]


def _personalised_install(hass: HomeAssistant) -> tuple[MockConfigEntry, dict[str, str], str, str]:
    """Return the vendor's install as the person left it: an area, a name, an own entity id.

    Also returns the vendor's device id and the area's id.
    """
    entry = vendor_entry()
    entity_ids = add_vendor_install(hass, entry)
    registry, devices = er.async_get(hass), dr.async_get(hass)
    area = ar.async_get(hass).async_create("Utility room")
    (vendor_device,) = dr.async_entries_for_config_entry(devices, entry.entry_id)
    assert vendor_device.identifiers == {(DOMAIN, entry.entry_id)}
    devices.async_update_device(vendor_device.id, area_id=area.id)
    registry.async_update_entity(entity_ids["energy_in"], name="Grid import")
    registry.async_update_entity(entity_ids["power_in"], new_entity_id="sensor.house_power")
    entity_ids["power_in"] = "sensor.house_power"
    return entry, entity_ids, vendor_device.id, area.id


def _assert_values_carry_on(hass: HomeAssistant, entity_ids: dict[str, str]) -> None:
    """The first message's values, in the units and with the names the entities had."""
    assert _value(hass, "sensor.house_power") == pytest.approx(1.204)  # kW, as before
    assert hass.states.get("sensor.house_power").attributes[ATTR_UNIT_OF_MEASUREMENT] == "kW"
    assert _value(hass, entity_ids["energy_in"]) == pytest.approx(5120.456)
    assert _value(hass, entity_ids["voltage_l2"]) == pytest.approx(229.8)
    assert _value(hass, entity_ids["power_factor"]) == pytest.approx(0.99)
    assert hass.states.get(entity_ids["tariff"]).state == "t1"
    reactive = hass.states.get(entity_ids["reactive_power_in"])
    # Still kvar: converted from var where Home Assistant converts it, else kept (migration.py).
    assert reactive.attributes[ATTR_UNIT_OF_MEASUREMENT] == "kvar"
    assert float(reactive.state) == pytest.approx(0.12)
    # The renamed entity keeps its name; the others take the device's (kept) name.
    assert hass.states.get(entity_ids["energy_in"]).attributes[ATTR_FRIENDLY_NAME] == "Grid import"
    assert (
        hass.states.get(entity_ids["voltage_l1"])
        .attributes[ATTR_FRIENDLY_NAME]
        .startswith("whatwatt ")
    )


async def test_mqtt_only_install_carries_on(hass: HomeAssistant, mqtt_ready: Any) -> None:
    """Entry, device, names and entity ids carry on; the first message tells the device id."""
    entry, entity_ids, vendor_device_id, area_id = _personalised_install(hass)
    registry, devices = er.async_get(hass), dr.async_get(hass)
    restart(hass)

    await _load(hass, entry)
    assert entry.version == 2
    assert entry.unique_id == VENDOR_TOPIC  # the device id is not known yet
    assert dict(entry.data) == {
        CONF_TRANSPORT: TRANSPORT_MQTT,
        CONF_TOPIC: VENDOR_TOPIC,
        LEARN_DEVICE_ID: True,
    }
    assert registry.async_get_entity_id("button", DOMAIN, f"{entry.entry_id}_configuration") is None
    assert len(_entities_of(hass, entry)) == 27  # untouched until the device id is known
    assert hass.states.get(entity_ids["energy_in"]).state == STATE_UNAVAILABLE

    await _send(hass, vendor_payload())
    assert entry.unique_id == DEVICE_ID
    assert LEARN_DEVICE_ID not in entry.data
    assert_moved(hass, entry, entity_ids)
    device = devices.async_get(vendor_device_id)  # the same device entry, now this device's
    assert device is not None
    assert device.identifiers == {(DOMAIN, DEVICE_ID)}
    assert device.area_id == area_id
    assert device.name_by_user == "whatwatt"  # the name typed into the vendor's flow
    assert (device.manufacturer, device.model, device.serial_number) == (
        MANUFACTURER,
        "whatwatt Go",
        DEVICE_ID,
    )
    assert dr.async_entries_for_config_entry(devices, entry.entry_id) == [device]
    _assert_values_carry_on(hass, entity_ids)

    await _send(hass, vendor_payload(power_in="2.5", energy_in="5121"))
    assert _value(hass, "sensor.house_power") == pytest.approx(2.5)
    assert _value(hass, entity_ids["energy_in"]) == pytest.approx(5121)


async def test_device_merged_into_the_entry_s_own(hass: HomeAssistant, mqtt_ready: Any) -> None:
    """The entry has a device of that id already: the vendor's merges into it (area, name)."""
    entry = vendor_entry()
    entity_ids = add_vendor_install(hass, entry)
    devices = dr.async_get(hass)
    (vendor_device,) = dr.async_entries_for_config_entry(devices, entry.entry_id)
    area = ar.async_get(hass).async_create("Cellar")
    devices.async_update_device(vendor_device.id, area_id=area.id, name_by_user="Meter")
    ours = devices.async_get_or_create(
        config_entry_id=entry.entry_id, identifiers={(DOMAIN, DEVICE_ID)}, name="whatwatt Go"
    )
    restart(hass)
    await _load(hass, entry)
    await _send(hass, vendor_payload())
    assert dr.async_entries_for_config_entry(devices, entry.entry_id) == [
        devices.async_get(ours.id)
    ]
    merged = devices.async_get(ours.id)
    assert (merged.area_id, merged.name_by_user) == (area.id, "Meter")
    for entity_id in entity_ids.values():
        assert er.async_get(hass).async_get(entity_id).device_id == ours.id
    assert_moved(hass, entry, entity_ids)


async def test_without_device_and_with_a_taken_unique_id(
    hass: HomeAssistant, mqtt_ready: Any
) -> None:
    """No vendor device left, one unique id already in use: the rest moves, that one stays."""
    entry = vendor_entry()
    entity_ids = add_vendor_install(hass, entry)
    devices = dr.async_get(hass)
    (vendor_device,) = dr.async_entries_for_config_entry(devices, entry.entry_id)
    registry = er.async_get(hass)
    for entity_id in entity_ids.values():  # the person removed the device, kept the entities
        registry.async_update_entity(entity_id, device_id=None)
    devices.async_remove_device(vendor_device.id)
    stray = registry.async_get_or_create("sensor", DOMAIN, f"{DEVICE_ID}_energy_import")
    restart(hass)
    await _load(hass, entry)
    await _send(hass, vendor_payload())
    assert entry.unique_id == DEVICE_ID
    assert registry.async_get(entity_ids["energy_in"]).unique_id == f"{entry.entry_id}_energy_in"
    assert registry.async_get(stray.entity_id).unique_id == f"{DEVICE_ID}_energy_import"
    assert registry.async_get(entity_ids["energy_out"]).unique_id == f"{DEVICE_ID}_energy_export"
    assert _value(hass, entity_ids["energy_out"]) == pytest.approx(812.004)


async def test_topic_never_delivers(hass: HomeAssistant, mqtt_ready: Any, freezer: Any) -> None:
    """Silence: the entry stays loaded, its entities stay (unavailable), nothing is created."""
    entry = vendor_entry()
    entity_ids = add_vendor_install(hass, entry)
    restart(hass)
    await _load(hass, entry)
    for _ in range(3):
        freezer.tick(timedelta(minutes=10))
        async_fire_time_changed(hass, dt_util.utcnow())
        await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert len(_entities_of(hass, entry)) == 27
    for key, entity_id in entity_ids.items():
        assert er.async_get(hass).async_get(entity_id).unique_id == f"{entry.entry_id}_{key}"
        assert hass.states.get(entity_id).state == STATE_UNAVAILABLE
    # A message without a device id, a reload: still waiting, still nothing lost.
    await _send(hass, json.dumps({"power_in": "1.0"}))
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert entry.data[LEARN_DEVICE_ID] is True
    assert len(_entities_of(hass, entry)) == 27
    assert not ir.async_get(hass).issues


async def test_address_known(
    hass: HomeAssistant, mqtt_ready: Any, simulator_factory: SimFactory
) -> None:
    """With ``device_ip``: the device id comes over REST at set-up, and REST works as usual."""
    sim = await simulator_factory(auth="none", telegram_interval=0, seed=3)
    await sim.emit_telegram()
    entry = vendor_entry(device_ip=host_of(sim))
    entity_ids = add_vendor_install(hass, entry)
    restart(hass)
    await _load(hass, entry)
    assert entry.unique_id == DEVICE_ID
    assert dict(entry.data) == {
        CONF_TRANSPORT: TRANSPORT_MQTT,
        CONF_TOPIC: VENDOR_TOPIC,
        "host": host_of(sim),
    }
    assert entry.runtime_data.client is not None
    registry = er.async_get(hass)
    for key, entity_id in entity_ids.items():
        assert registry.async_get(entity_id).unique_id == f"{DEVICE_ID}_{VENDOR_ENTITY_KEYS[key]}"
    # The REST baseline before any message, the restart button (actions work).
    assert hass.states.get(entity_ids["energy_in"]).state != STATE_UNAVAILABLE
    assert registry.async_get_entity_id("button", DOMAIN, f"{DEVICE_ID}_reboot") is not None
    assert registry.async_get_entity_id("button", DOMAIN, f"{entry.entry_id}_configuration") is None
    await _send(hass, vendor_payload(power_in="2.5"), topic=entry.runtime_data.source.topic)
    assert _value(hass, entity_ids["power_in"]) == pytest.approx(2.5)


async def test_address_unreachable(hass: HomeAssistant, mqtt_ready: Any) -> None:
    """REST does not answer: the first message tells the id and a reload brings REST in."""
    entry = vendor_entry(device_ip="127.0.0.1:9")
    entity_ids = add_vendor_install(hass, entry)
    restart(hass)
    await _load(hass, entry)
    assert entry.runtime_data.client is None  # MQTT-only while the device id is unknown
    await _send(hass, vendor_payload())
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.state is ConfigEntryState.LOADED
    assert entry.unique_id == DEVICE_ID
    assert entry.runtime_data.client is not None
    assert_moved(hass, entry, entity_ids)
    await _send(hass, vendor_payload())
    assert _value(hass, entity_ids["energy_in"]) == pytest.approx(5120.456)


async def test_second_entry_same_device(hass: HomeAssistant, mqtt_ready: Any) -> None:
    """Two vendor entries hear one device: the first keeps it, the second stays as it was."""
    first, second = vendor_entry(), vendor_entry(topic="home/whatwatt-old")
    first_ids = add_vendor_install(hass, first)
    second_ids = add_vendor_install(hass, second)
    assert second_ids["energy_in"] == "sensor.whatwatt_energy_in_2"
    restart(hass)
    await _load(hass, first)
    await _load(hass, second)
    await _send(hass, vendor_payload())
    assert first.unique_id == DEVICE_ID
    assert_moved(hass, first, first_ids)
    for _ in range(2):
        await _send(hass, vendor_payload(), topic="home/whatwatt-old")
    assert second.state is ConfigEntryState.LOADED
    assert second.unique_id == "home/whatwatt-old"
    for key, entity_id in second_ids.items():
        assert er.async_get(hass).async_get(entity_id).unique_id == f"{second.entry_id}_{key}"
        assert hass.states.get(entity_id).state == STATE_UNAVAILABLE
    issue = ir.async_get(hass).async_get_issue(
        DOMAIN, f"{ISSUE_VENDOR_DUPLICATE}_{second.entry_id}"
    )
    assert issue is not None
    assert issue.translation_placeholders == {
        "name": "whatwatt",
        "other": "whatwatt",
        "topic": "home/whatwatt-old",
        "device_id": DEVICE_ID,
    }
    assert await hass.config_entries.async_remove(second.entry_id)
    await hass.async_block_till_done()
    assert not ir.async_get(hass).issues


async def test_second_entry_rest_prefers_the_publish_topic(
    hass: HomeAssistant, mqtt_ready: Any, simulator_factory: SimFactory
) -> None:
    """Both know the address: the entry on the topic the device publishes to takes the device."""
    sim = await simulator_factory(auth="none", telegram_interval=0)
    await sim.emit_telegram()
    sim.state.mqtt_settings["publish"]["topic"] = "home/new"  # set on its web page
    old, new = vendor_entry(device_ip=host_of(sim)), vendor_entry("home/new", host_of(sim))
    old_ids = add_vendor_install(hass, old)
    new_ids = add_vendor_install(hass, new)
    restart(hass)
    await _load(hass, old)  # both set up at once, as at start-up, in whichever order
    await _load(hass, new)
    assert new.unique_id == DEVICE_ID
    assert old.unique_id == VENDOR_TOPIC
    assert old.runtime_data.client is None
    registry = er.async_get(hass)
    assert registry.async_get(new_ids["energy_in"]).unique_id == f"{DEVICE_ID}_energy_import"
    assert registry.async_get(old_ids["energy_in"]).unique_id == f"{old.entry_id}_energy_in"
    assert ir.async_get(hass).async_get_issue(DOMAIN, f"{ISSUE_VENDOR_DUPLICATE}_{old.entry_id}")


async def test_reconfigure_while_waiting(
    hass: HomeAssistant, mqtt_ready: Any, simulator_factory: SimFactory
) -> None:
    """A taken-over entry that never heard its device can be pointed at it with Reconfigure."""
    sim = await simulator_factory(auth="none", telegram_interval=0)
    await sim.emit_telegram()
    entry = vendor_entry()
    entity_ids = add_vendor_install(hass, entry)
    await _load(hass, entry)
    result = await _reconfigure_rest(hass, entry, sim)
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert entry.unique_id == DEVICE_ID
    assert entry.data[CONF_TRANSPORT] == "rest"
    assert entry.state is ConfigEntryState.LOADED
    assert er.async_get(hass).async_get(entity_ids["energy_in"]).unique_id == (
        f"{DEVICE_ID}_energy_import"
    )
    assert _value(hass, entity_ids["energy_in"]) > 0


async def test_reconfigure_to_a_taken_device(
    hass: HomeAssistant, mqtt_ready: Any, simulator_factory: SimFactory
) -> None:
    """Reconfigure to a device another entry has: refused, nothing moves."""
    sim = await simulator_factory(auth="none", telegram_interval=0)
    MockConfigEntry(
        domain=DOMAIN,
        version=2,
        unique_id=DEVICE_ID,
        data={CONF_TRANSPORT: TRANSPORT_MQTT, CONF_TOPIC: "whatwatt/x"},
    ).add_to_hass(hass)
    entry = vendor_entry()
    entity_ids = add_vendor_install(hass, entry)
    await _load(hass, entry)
    result = await _reconfigure_rest(hass, entry, sim)
    assert result["reason"] == "vendor_device_taken"
    assert entry.unique_id == VENDOR_TOPIC
    assert er.async_get(hass).async_get(entity_ids["energy_in"]).unique_id == (
        f"{entry.entry_id}_energy_in"
    )


async def test_unusable_address(hass: HomeAssistant, mqtt_ready: Any) -> None:
    """A ``device_ip`` that is no address is dropped: the entry continues MQTT-only."""
    entry = vendor_entry(device_ip="http://192.168.1.5/")
    add_vendor_install(hass, entry)
    await _load(hass, entry)
    assert "host" not in entry.data
    assert entry.data[LEARN_DEVICE_ID] is True


async def test_own_entries(hass: HomeAssistant) -> None:
    """This integration's own version-1 entries only get the new version; newer ones refuse."""
    own = MockConfigEntry(
        domain=DOMAIN,
        version=1,
        unique_id=DEVICE_ID,
        data={CONF_TRANSPORT: TRANSPORT_MQTT, CONF_TOPIC: "whatwatt/x", "host": "192.0.2.1"},
    )
    own.add_to_hass(hass)
    newer = MockConfigEntry(domain=DOMAIN, version=3, unique_id="B1B2C3D4E5F6", data={})
    newer.add_to_hass(hass)
    data = dict(own.data)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("homeassistant.components.mqtt.async_wait_for_mqtt_client", _no_mqtt)
        await hass.config_entries.async_setup(own.entry_id)
        await hass.async_block_till_done()
    assert own.version == 2
    assert dict(own.data) == data
    assert newer.state is ConfigEntryState.MIGRATION_ERROR


async def _no_mqtt(hass: HomeAssistant) -> bool:
    return False


def test_every_vendor_sensor_has_a_key() -> None:
    """The mapping covers the vendor's 27 sensors, each onto a key of this integration."""
    assert {sensor.key for sensor in VENDOR_SENSORS} == set(VENDOR_ENTITY_KEYS)
    assert set(VENDOR_ENTITY_KEYS.values()) == {*VENDOR_KEYS.values(), "tariff"}
