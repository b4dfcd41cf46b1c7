"""Actions against the simulator over REST: what is written, what is read back, what is returned."""

from __future__ import annotations

import json
from pathlib import Path
import re
import time
from typing import TYPE_CHECKING, Any

from homeassistant.const import ATTR_DEVICE_ID
from homeassistant.core import Context
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import config_validation as cv
import pytest
import voluptuous as vol
import yaml

from custom_components.whatwatt import device_control
from custom_components.whatwatt.api.template import INTEGRATION_TEMPLATE
from custom_components.whatwatt.const import DOMAIN
from custom_components.whatwatt.errors import device_errors
from custom_components.whatwatt.services import ATTR_CONFIG_ENTRY_ID

from .conftest import device_of
from .services_helpers import call, real_time_sim, writes  # noqa: F401 - real_time_sim: fixture

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import MockConfigEntry

SECRET_PASSWORD = "pw-device-9f3k"


async def test_services_registered(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    assert set(hass.services.async_services_for_domain(DOMAIN)) == {
        "reboot",
        "update_settings",
        "configure_mqtt",
        "get_settings",
        "run_action",
        "backfill",
    }


async def test_update_settings_partial_put(
    hass: HomeAssistant, sim: Any, init_integration: MockConfigEntry
) -> None:
    """Only the given keys go out, in one PUT; the device's answer comes back."""
    before = sim.state.settings
    sim.requests.clear()
    result = await call(
        hass,
        "update_settings",
        {
            ATTR_CONFIG_ENTRY_ID: init_integration.entry_id,
            "name": "Basement",
            "report_interval": 15,
            "ntp_server": "pool.ntp.org",
        },
        response=True,
    )
    assert writes(sim) == [("PUT", "/api/v1/settings")]
    after = sim.state.settings
    assert after["system"]["name"] == "Basement"
    assert after["services"]["report_interval"] == 15
    assert after["system"]["custom_ntp_server"] == "pool.ntp.org"
    assert after["system"]["use_custom_ntp_server"] is True
    # Everything else is as it was.
    for key in ("host_name", "protection", "power_save", "p1_wifi_boost"):
        assert after["system"][key] == before["system"][key]
    assert after["services"]["cloud"] == before["services"]["cloud"]
    assert result["settings"]["system"]["name"] == "Basement"
    assert result["settings"]["services"]["report_interval"] == 15
    assert init_integration.runtime_data.device.data.settings.report_interval == 15


async def test_update_settings_by_device(
    hass: HomeAssistant, sim: Any, init_integration: MockConfigEntry
) -> None:
    device = device_of(hass, init_integration)
    await call(hass, "update_settings", {ATTR_DEVICE_ID: device.id, "broadcast": False})
    assert sim.state.settings["services"]["broadcast"] is False
    await call(hass, "update_settings", {ATTR_DEVICE_ID: device.id, "ntp_server": ""})
    assert sim.state.settings["system"]["use_custom_ntp_server"] is False


async def test_update_settings_kept_at_once(
    hass: HomeAssistant, sim: Any, init_integration: MockConfigEntry
) -> None:
    """The device's answer to a write is the truth: shown at once, not read again."""
    sim.requests.clear()
    await call(
        hass,
        "update_settings",
        {ATTR_CONFIG_ENTRY_ID: init_integration.entry_id, "report_interval": 20},
    )
    await hass.async_block_till_done()
    assert [(r.method, r.path) for r in sim.requests] == [("PUT", "/api/v1/settings")]
    assert hass.states.get("number.whatwatt_go_d4e5f6_report_interval").state == "20"


async def test_get_settings_without_secrets(
    hass: HomeAssistant, sim: Any, init_integration: MockConfigEntry
) -> None:
    sim.state.settings["system"]["password"] = SECRET_PASSWORD
    sim.state.mqtt_settings["password"] = "pw-mqtt-x81"
    sim.state.mqtt_settings["client"]["key"] = "-----BEGIN PRIVATE KEY-----abc"
    sim.state.mqtt_settings["client"]["key_password"] = "pw-key-q7"
    result = await call(
        hass, "get_settings", {ATTR_CONFIG_ENTRY_ID: init_integration.entry_id}, response=True
    )
    text = repr(result)
    for secret in (SECRET_PASSWORD, "pw-mqtt-x81", "PRIVATE KEY", "pw-key-q7"):
        assert secret not in text
    assert result["settings"]["system"]["password_set"] is True
    assert result["mqtt"]["password_set"] is True
    assert result["mqtt"]["client"]["key_set"] is True
    assert "password_len" not in result["settings"]["system"]
    assert result["settings"]["system"]["host_name"] == "whatwatt_D4E5F6"
    assert result["settings"]["services"]["report_interval"] == 30


async def test_get_settings_open_to_users(
    hass: HomeAssistant, init_integration: MockConfigEntry, hass_read_only_user: Any
) -> None:
    result = await call(
        hass,
        "get_settings",
        {ATTR_CONFIG_ENTRY_ID: init_integration.entry_id},
        response=True,
        context=Context(user_id=hass_read_only_user.id),
    )
    assert result["settings"]["system"]["host_name"] == "whatwatt_D4E5F6"


async def test_configure_mqtt_partial_and_template_fill_in(
    hass: HomeAssistant, sim: Any, init_integration: MockConfigEntry
) -> None:
    """Given fields plus the template fill-in (the device has none); secrets stay hidden."""
    sim.requests.clear()
    result = await call(
        hass,
        "configure_mqtt",
        {
            ATTR_CONFIG_ENTRY_ID: init_integration.entry_id,
            "url": "mqtt://192.0.2.10:1883",
            "username": "meter",
            "password": "pw-broker-77",
            "topic": "home/meter",
        },
        response=True,
    )
    assert writes(sim) == [("PUT", "/api/v1/mqtt/settings")]
    stored = sim.state.mqtt_settings
    assert stored["url"] == "mqtt://192.0.2.10:1883"
    assert stored["username"] == "meter"
    assert stored["password"] == "pw-broker-77"
    assert stored["publish"] == {"topic": "home/meter", "template": INTEGRATION_TEMPLATE}
    assert stored["enable"] is False  # not given: untouched
    assert "pw-broker-77" not in repr(result)
    assert result["mqtt"]["password_set"] is True
    assert result["mqtt"]["publish"]["topic"] == "home/meter"


async def test_configure_mqtt_keeps_device_template(
    hass: HomeAssistant, sim: Any, init_integration: MockConfigEntry
) -> None:
    sim.state.mqtt_settings["publish"]["template"] = '{"p":${1_7_0}}'
    sim.state.mqtt_settings["url"] = "mqtt://192.0.2.10"
    sim.requests.clear()
    await call(
        hass, "configure_mqtt", {ATTR_CONFIG_ENTRY_ID: init_integration.entry_id, "enable": True}
    )
    assert sim.state.mqtt_settings["publish"]["template"] == '{"p":${1_7_0}}'
    assert sim.state.mqtt_settings["url"] == "mqtt://192.0.2.10"
    assert sim.state.mqtt_settings["enable"] is True
    # One read for the fill-in check, one PUT.
    assert [(r.method, r.path) for r in sim.requests][:2] == [
        ("GET", "/api/v1/mqtt/settings"),
        ("PUT", "/api/v1/mqtt/settings"),
    ]


async def test_configure_mqtt_tls_certificate(
    hass: HomeAssistant, sim: Any, init_integration: MockConfigEntry
) -> None:
    pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"
    entry_id = init_integration.entry_id
    await call(
        hass,
        "configure_mqtt",
        {ATTR_CONFIG_ENTRY_ID: entry_id, "url": "mqtts://broker.lan:8883", "ca_certificate": pem},
    )
    assert sim.state.mqtt_settings["broker"]["certificate"] == pem
    assert sim.state.mqtt_settings["url"] == "mqtts://broker.lan:8883"
    await call(hass, "configure_mqtt", {ATTR_CONFIG_ENTRY_ID: entry_id, "ca_certificate": ""})
    assert sim.state.mqtt_settings["broker"]["certificate"] is None


async def test_reboot(hass: HomeAssistant, sim: Any, init_integration: MockConfigEntry) -> None:
    boots = sim.boots
    await call(hass, "reboot", {ATTR_CONFIG_ENTRY_ID: init_integration.entry_id})
    assert ("POST", "/api/v1/reboot") in writes(sim)
    await sim.wait_up()
    assert sim.boots == boots + 1


async def _define_actions(sim: Any, target: str) -> None:
    sim.state.actions = {
        "const": {},
        "actions": [
            {"id": "ping", "requests": [{"http": {"url": target, "method": "GET"}}]},
            {"id": "off", "enable": False, "requests": [{"http": {"url": target}}]},
            {"id": "far", "requests": [{"http": {"url": "http://192.0.2.1/x"}}]},
        ],
    }


async def test_run_action(
    hass: HomeAssistant,
    sim: Any,
    init_integration: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The action runs on the device; the final status of each request is returned."""
    monkeypatch.setattr(device_control, "ACTION_POLL_INTERVAL", 0.02)
    await _define_actions(sim, f"{sim.url}/api/v1/system")
    entry_id = init_integration.entry_id
    result = await call(
        hass, "run_action", {ATTR_CONFIG_ENTRY_ID: entry_id, "action_id": "ping"}, response=True
    )
    assert result["action_id"] == "ping"
    assert result["success"] is True
    assert len(result["requests"]) == 1
    assert result["requests"][0]["code"] == 200
    assert result["requests"][0]["success"] is True

    result = await call(
        hass, "run_action", {ATTR_CONFIG_ENTRY_ID: entry_id, "action_id": "far"}, response=True
    )
    assert result["success"] is False
    assert result["requests"][0]["code"] == -17

    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "run_action", {ATTR_CONFIG_ENTRY_ID: entry_id, "action_id": "nope"})
    assert err.value.translation_key == "unknown_action"
    assert err.value.translation_placeholders == {"action_id": "nope"}

    with pytest.raises(HomeAssistantError) as err:
        await call(hass, "run_action", {ATTR_CONFIG_ENTRY_ID: entry_id, "action_id": "off"})
    assert err.value.translation_key == "device_rejected"
    assert err.value.translation_placeholders == {
        "reason": "Action is disabled",
        "status": "400",
    }


async def test_run_action_free_licence(
    hass: HomeAssistant, sim: Any, init_integration: MockConfigEntry
) -> None:
    sim.set_license("free")
    with pytest.raises(HomeAssistantError) as err:
        await call(
            hass,
            "run_action",
            {ATTR_CONFIG_ENTRY_ID: init_integration.entry_id, "action_id": "ping"},
        )
    assert err.value.translation_key == "plus_license_required"


async def test_rejected_write_leaves_device_unchanged(
    hass: HomeAssistant, simulator_factory: Any, sim: Any, init_integration: MockConfigEntry
) -> None:
    """400 (power save with Ethernet up) and 413 (too big): nothing changes, reason shown."""
    sim.state.ethernet_up = True
    before = repr(sim.state.settings)
    with pytest.raises(HomeAssistantError) as err:
        await call(
            hass,
            "update_settings",
            {ATTR_CONFIG_ENTRY_ID: init_integration.entry_id, "power_save": True, "name": "x"},
        )
    assert err.value.translation_key == "device_rejected"
    assert err.value.translation_placeholders == {
        "reason": "system.power_save: not allowed while Ethernet is up",
        "status": "400",
    }
    assert repr(sim.state.settings) == before

    before = repr(sim.state.mqtt_settings)
    huge = "-----BEGIN CERTIFICATE-----\n" + "A" * 9000 + "\n-----END CERTIFICATE-----"
    fields = {"url": "mqtts://192.0.2.10", "template": "{}", "ca_certificate": huge}
    sim.requests.clear()
    # Larger than the device takes: refused before anything is sent ...
    with pytest.raises(vol.Invalid, match="ca_certificate must fit"):
        await call(
            hass, "configure_mqtt", {ATTR_CONFIG_ENTRY_ID: init_integration.entry_id, **fields}
        )
    assert not [r for r in sim.requests if r.method in ("PUT", "POST")]
    # ... and the device's own 413, should a body get through, is shown with its reason.
    with pytest.raises(HomeAssistantError) as err:
        await device_errors(device_control.async_configure_mqtt)(hass, init_integration, fields)
    assert err.value.translation_key == "device_rejected"
    assert err.value.translation_placeholders["status"] == "413"
    assert repr(sim.state.mqtt_settings) == before


async def test_timeout_leaves_device_unchanged(
    hass: HomeAssistant, sim: Any, init_integration: MockConfigEntry
) -> None:
    """A write that times out fails within the client timeout; the device keeps its settings."""
    coordinator = init_integration.runtime_data
    coordinator.client._timeout = 0.2  # the client default is 10 s
    sim.faults.delay = 2.0
    before = repr(sim.state.settings)
    start = time.monotonic()
    with pytest.raises(HomeAssistantError) as err:
        await call(
            hass,
            "update_settings",
            {ATTR_CONFIG_ENTRY_ID: init_integration.entry_id, "report_interval": 99},
        )
    assert time.monotonic() - start < 1.5
    assert err.value.translation_key == "timeout"
    sim.faults.delay = 0
    assert repr(sim.state.settings) == before


async def test_offline_fails_fast(
    hass: HomeAssistant, sim: Any, init_integration: MockConfigEntry
) -> None:
    """A device that is gone fails the action at once (no hang)."""
    sim.faults.refuse = True
    start = time.monotonic()
    for service, data in (
        ("reboot", {}),
        ("update_settings", {"name": "x"}),
        ("configure_mqtt", {"enable": False}),
        ("get_settings", {}),
    ):
        with pytest.raises(HomeAssistantError) as err:
            await call(
                hass,
                service,
                {ATTR_CONFIG_ENTRY_ID: init_integration.entry_id, **data},
                response=service == "get_settings",
            )
        assert err.value.translation_key == "communication_error"
    assert time.monotonic() - start < 10
    sim.faults.refuse = False


def test_texts_match_code() -> None:
    """services.yaml, strings.json and icons.json describe the same actions and fields."""
    root = Path(__file__).parents[2] / "custom_components" / "whatwatt"
    services = yaml.safe_load((root / "services.yaml").read_text())
    # hassfest: every top-level key is an action name (a slug), no helper keys such as ".x".
    assert all(cv.slug(name) == name for name in services)
    described = {name: set(spec["fields"]) for name, spec in services.items()}
    english = json.loads((root / "translations" / "en.json").read_text(encoding="utf-8"))
    assert {name: set(spec["fields"]) for name, spec in english["services"].items()} == described
    icons = json.loads((root / "icons.json").read_text(encoding="utf-8"))
    assert set(icons["services"]) == set(described)
    code = "\n".join(
        (root / name).read_text(encoding="utf-8")
        for name in ("services.py", "device_control.py", "mqtt_setup.py", "errors.py")
    )
    keys = set(re.findall(r'(?:_error|_invalid|translated)\(\s*"([a-z_]+)"', code))
    keys |= set(re.findall(r'translation_key="([a-z_]+)"', code))
    assert len(keys) >= 12
    assert keys <= set(english["exceptions"]), keys - set(english["exceptions"])
