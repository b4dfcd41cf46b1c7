"""A newcomer's first hour (issue 21): true messages, no dead ends, state that follows writes.

- The MQTT form with a topic-only entry there says the entry was left as it is (not updated).
- A FREE device chosen for REST leads to a menu; its live stream keeps the typed address.
- The device's broker may not be a loopback or add-on name: the flow's ``mqtt_broker`` form and
  ``configure_mqtt`` say why.
- Sub-meters' options list them by bus without a legend; texts of every language are free of it.
- After a write the entities follow the device's answer at once: the MQTT link after switching
  the client off, the device's name in the registry after ``update_settings``.
- At set-up an MQTT entry follows the device's publish topic from the first device read
  (subscribed once, to that topic).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any
from unittest.mock import patch

from homeassistant.components.switch import DOMAIN as SWITCH_DOMAIN
from homeassistant.config_entries import SOURCE_USER
from homeassistant.const import ATTR_ENTITY_ID, CONF_HOST, SERVICE_TURN_OFF
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr
import pytest

from custom_components.whatwatt.api.requests import url_unreachable_from_device
from custom_components.whatwatt.const import CONF_TOPIC, CONF_TRANSPORT, DOMAIN, TRANSPORT_LIVE
from custom_components.whatwatt.services import ATTR_CONFIG_ENTRY_ID

from .mqtt_helpers import DEVICE_ID, TOPIC, mqtt_entry, mqtt_ready, setup_entry
from .services_helpers import call, writes

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import MockConfigEntry

__all__ = ["mqtt_ready"]

SimFactory = Callable[..., Awaitable[Any]]
ROOT = Path(__file__).parents[2] / "custom_components" / "whatwatt"
LINK = "sensor.whatwatt_go_a1b2c3d4e5f6_mqtt_link"
UNREACHABLE = [
    "mqtt://localhost:1883",
    "mqtt://127.0.0.1:1883",
    "mqtt://127.1.2.3",
    "mqtt://[::1]:1883",
    "mqtt://core-mosquitto:1883",
    "mqtt://0.0.0.0",
]


@pytest.fixture
async def device(simulator_factory: SimFactory) -> Any:
    """A simulated Plus device (id A1B2C3D4E5F6) with one telegram decoded."""
    sim = await simulator_factory(auth="none", telegram_interval=0, seed=3, device_id=DEVICE_ID)
    await sim.emit_telegram()
    return sim


async def _mqtt_form(hass: HomeAssistant) -> dict[str, Any]:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    return await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "mqtt"}
    )


async def test_topic_only_entry_is_kept_and_said_so(
    hass: HomeAssistant, mqtt_ready: Any, device: Any
) -> None:
    """Item 1: same topic plus address and "configure": the abort says the entry stayed."""
    entry = mqtt_entry()
    entry.add_to_hass(hass)
    data = dict(entry.data)
    result = await _mqtt_form(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TOPIC: TOPIC, CONF_HOST: device.host, "configure_device": True}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured_kept"
    assert entry.data == data  # still topic-only
    assert not [r for r in device.requests if r.method != "GET"]  # the device untouched
    text = json.loads((ROOT / "strings.json").read_text())["config"]["abort"]
    assert "left as it is" in text["already_configured_kept"]
    assert "updated" not in text["already_configured_kept"]


async def test_rest_free_license_to_live(hass: HomeAssistant, device: Any) -> None:
    """Item 2: from the licence menu the live stream is one step away, the address filled in."""
    device.set_license("free")
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "rest"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: device.host}
    )
    assert result["step_id"] == "license_free"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": TRANSPORT_LIVE}
    )
    assert result["step_id"] == "live"
    key = next(iter(result["data_schema"].schema))
    assert key.description == {"suggested_value": device.host}
    with patch("custom_components.whatwatt.async_setup_entry", return_value=True):
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_HOST: device.host}
        )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_TRANSPORT] == TRANSPORT_LIVE


@pytest.mark.parametrize("url", UNREACHABLE)
def test_loopback_and_addon_urls(url: str) -> None:
    """Item 5: the rule shared by the flow and configure_mqtt."""
    assert url_unreachable_from_device(url)
    assert not url_unreachable_from_device("mqtt://192.168.1.10:1883")
    assert not url_unreachable_from_device("mqtts://broker.example.org")


@pytest.mark.parametrize("url", ["localhost", "mqtt://127.0.0.1:1884", "[::1]", "core-mosquitto"])
async def test_broker_form_refuses_loopback(
    hass: HomeAssistant, mqtt_ready: Any, device: Any, url: str
) -> None:
    """Item 5: the broker form keeps what was typed and says why; a reachable one then works."""
    result = await _mqtt_form(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TOPIC: TOPIC, CONF_HOST: device.host, "configure_device": True}
    )
    assert result["step_id"] == "mqtt_broker"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"url": url})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"url": "broker_unreachable_from_device"}
    key = next(key for key in result["data_schema"].schema if key == "url")
    assert key.description == {"suggested_value": url}
    assert not [r for r in device.requests if r.method != "GET"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"url": "192.0.2.10"}
    )
    assert result["type"] is FlowResultType.SHOW_PROGRESS
    hass.config_entries.flow.async_abort(result["flow_id"])


async def test_configure_mqtt_refuses_loopback(
    hass: HomeAssistant, mqtt_ready: Any, device: Any
) -> None:
    """Item 5: the action refuses such a URL with a translated error; nothing is written."""
    entry = await setup_entry(hass, mqtt_entry(host=device.host))
    device.requests.clear()
    for url in UNREACHABLE:
        with pytest.raises(ServiceValidationError) as err:
            await call(hass, "configure_mqtt", {ATTR_CONFIG_ENTRY_ID: entry.entry_id, "url": url})
        assert err.value.translation_key == "mqtt_url_unreachable"
        assert err.value.translation_placeholders == {"url": url}
    assert writes(device) == []
    await hass.config_entries.async_unload(entry.entry_id)


def test_options_texts_without_leftovers() -> None:
    """Item 3: no "(bus: device)" legend and no empty list marker in any language."""
    for path in [ROOT / "strings.json", *sorted((ROOT / "translations").glob("*.json"))]:
        steps = json.loads(path.read_text(encoding="utf-8"))["options"]["step"]
        assert "{submeters}" not in steps["init"]["description"], path.name
        assert "{submeters}" in steps["submeters"]["description"], path.name
        for step in steps.values():
            assert ": device)" not in step["description"]
            assert ": Gerät)" not in step["description"]


@pytest.mark.parametrize("sim_options", [{"profile": "dlms-water-heat"}])
async def test_options_name_the_submeters(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Item 3: with sub-meters, the form lists them by bus; the polling interval stays."""
    entry = init_integration
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["step_id"] == "submeters"
    assert result["description_placeholders"] == {
        "submeters": "1: Meter 71234567, 2: Meter 55501234"  # kinds not chosen yet
    }
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"scan_interval": 500, "volume_1": "water", "volume_2": "heat"}
    )
    assert result["errors"] == {"scan_interval": "scan_interval_out_of_range"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"scan_interval": 20, "volume_1": "water", "volume_2": "heat"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options["scan_interval"] == 20


@pytest.mark.parametrize(
    "sim_options", [{"mqtt_url": "mqtt://127.0.0.1:9", "mqtt_topic": "whatwatt/D4E5F6"}]
)
async def test_link_follows_switching_off(
    hass: HomeAssistant, sim: Any, init_integration: MockConfigEntry
) -> None:
    """Item 4: MQTT link shows "disabled" as soon as the client is switched off."""
    link = "sensor.whatwatt_go_d4e5f6_mqtt_link"
    assert hass.states.get(link).state in ("connected", "disconnected")
    sim.requests.clear()
    await hass.services.async_call(
        SWITCH_DOMAIN,
        SERVICE_TURN_OFF,
        {ATTR_ENTITY_ID: "switch.whatwatt_go_d4e5f6_mqtt_client"},
        blocking=True,
    )
    assert hass.states.get(link).state == "disabled"
    assert not [r for r in sim.requests if r.path == "/api/v1/system"]  # from the answer


async def test_name_follows_update_settings(
    hass: HomeAssistant, sim: Any, init_integration: MockConfigEntry
) -> None:
    """Item 4: the device page shows the new name at once (the registry follows the answer)."""
    entry = init_integration
    sim.requests.clear()
    await call(hass, "update_settings", {ATTR_CONFIG_ENTRY_ID: entry.entry_id, "name": "Cellar"})
    devices = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    main = next(d for d in devices if d.via_device_id is None)
    assert main.name == "Cellar"
    assert entry.runtime_data.device.data.system.name == "Cellar"
    assert not [r for r in sim.requests if r.path == "/api/v1/system"]  # from the answer


async def test_mqtt_entry_follows_device_topic_at_setup(
    hass: HomeAssistant, mqtt_ready: Any, device: Any
) -> None:
    """Item 4: an entry on an outdated topic listens on the device's one from set-up on.

    Only that topic is subscribed (once): following before the start does not subscribe twice.
    """
    device.state.mqtt_settings["enable"] = True
    device.state.mqtt_settings["publish"]["topic"] = "meters/moved"
    mqtt_ready.async_subscribe.reset_mock()
    entry = await setup_entry(hass, mqtt_entry(topic="meters/old", host=device.host))
    assert entry.data[CONF_TOPIC] == "meters/moved"
    assert entry.runtime_data.source.topic == "meters/moved"
    subscribed = [c.args[0] for c in mqtt_ready.async_subscribe.call_args_list]
    assert subscribed.count("meters/moved") == 1
    assert "meters/old" not in subscribed
    await hass.config_entries.async_unload(entry.entry_id)
