"""Property: any update_settings / configure_mqtt call changes exactly what it names.

Hypothesis draws calls (any subset of the fields, any valid values); each runs against the same
simulated device. After every call, every stored setting the call did not name is unchanged
(secrets included), only PUTs were sent, and neither the action's answer nor ``get_settings``
reveals a secret. Hypothesis runs in a worker thread and hands each call to Home Assistant's
event loop, so one Home Assistant and one device serve all examples.
"""

from __future__ import annotations

import asyncio
import copy
from typing import TYPE_CHECKING, Any

from hypothesis import HealthCheck, given, settings, strategies as st
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.whatwatt.api.template import INTEGRATION_TEMPLATE
from custom_components.whatwatt.services import ATTR_CONFIG_ENTRY_ID

from .services_helpers import call, real_time_sim  # noqa: F401 - real_time_sim: fixture

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

EXAMPLES = 60
# Secrets carry a character no other drawn text can contain, so a leak cannot be a coincidence.
MARK = "\u2603"
PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"
HA_BROKER = {"broker": "192.0.2.10", "port": 1883, "username": "ha", "password": f"ha{MARK}pw"}
STORED_SECRETS = {
    ("system", "password"): f"dev{MARK}pw",
    ("mqtt", "password"): f"mq{MARK}pw",
    ("mqtt", "client.key"): f"-----BEGIN PRIVATE KEY-----{MARK}",
    ("mqtt", "client.key_password"): f"kp{MARK}",
}

_plain = st.characters(codec="utf-8", exclude_characters=MARK, exclude_categories=("Cs", "Cc"))


def text(max_size: int, min_size: int = 0) -> st.SearchStrategy[str]:
    return st.text(_plain, min_size=min_size, max_size=max_size)


def secret(max_size: int) -> st.SearchStrategy[str]:
    return text(max_size - 2).map(lambda value: f"{MARK}{value}{MARK}")


hostnames = st.sampled_from(["pool.ntp.org", "time.lan", "ntp-1.example.ch", "192.0.2.5", ""])
SETTINGS_CALLS = st.fixed_dictionaries(
    {},
    optional={
        "name": text(31),
        "report_interval": st.integers(1, 3600),
        "power_save": st.booleans(),
        "ntp_server": hostnames,
        "broadcast": st.booleans(),
    },
).filter(bool)

topics = text(127, min_size=1).filter(
    lambda t: not ({"+", "#", "\0"} & set(t)) and not t.startswith("$") and len(t.encode()) <= 127
)
MQTT_CALLS = st.fixed_dictionaries(
    {},
    optional={
        "enable": st.booleans(),
        "url": st.builds(
            # An address in the network: a loopback one is refused for the device (issue 21).
            lambda tls, port: f"{'mqtts' if tls else 'mqtt'}://192.0.2.20:{port}",
            st.booleans(),
            st.integers(1, 65535),
        ),
        "username": text(127),
        "password": secret(127),
        "client_id": text(63),
        "topic": topics,
        "template": text(200, min_size=1),
        "ca_certificate": st.sampled_from([PEM, ""]),
    },
).filter(bool)


def leaves(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Flatten a settings object to ``{"a.b": value}``."""
    out: dict[str, Any] = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            out.update(leaves(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def expected_settings(before: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
    """The device's settings after the call, by the action's documented meaning."""
    expected = leaves(before)
    paths = {
        "name": "system.name",
        "power_save": "system.power_save",
        "report_interval": "services.report_interval",
        "broadcast": "services.broadcast",
        "ntp_server": "system.custom_ntp_server",
    }
    for field, value in fields.items():
        expected[paths[field]] = value
    if "ntp_server" in fields:
        expected["system.use_custom_ntp_server"] = bool(fields["ntp_server"])
    return expected


def expected_mqtt(before: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
    """The device's MQTT settings after the call, fill-ins included (never HA's credentials)."""
    expected = leaves(before)
    fields = dict(fields)
    if fields.get("enable") is not False:
        if not before["url"] and "url" not in fields:
            fields["url"] = "mqtt://192.0.2.10:1883"
        if not before["publish"]["template"] and "template" not in fields:
            fields["template"] = INTEGRATION_TEMPLATE
    paths = {"topic": "publish.topic", "template": "publish.template"}
    for field, value in fields.items():
        if field == "ca_certificate":
            expected["broker.certificate"] = value or None
        else:
            expected[paths.get(field, field)] = value
    return expected


def secrets_of(sim: Any) -> set[str]:
    """Every secret the device stores now."""
    state = sim.state
    values = {
        state.settings["system"]["password"],
        state.mqtt_settings["password"],
        state.mqtt_settings["client"]["key"],
        state.mqtt_settings["client"]["key_password"],
    }
    return {value for value in values if value}


async def test_writes_change_only_what_they_name(
    hass: HomeAssistant, sim: Any, init_integration: MockConfigEntry
) -> None:
    MockConfigEntry(domain="mqtt", data=HA_BROKER).add_to_hass(hass)
    state = sim.state
    state.settings["system"]["password"] = STORED_SECRETS["system", "password"]
    state.mqtt_settings["password"] = STORED_SECRETS["mqtt", "password"]
    state.mqtt_settings["client"]["key"] = STORED_SECRETS["mqtt", "client.key"]
    state.mqtt_settings["client"]["key_password"] = STORED_SECRETS["mqtt", "client.key_password"]
    target = {ATTR_CONFIG_ENTRY_ID: init_integration.entry_id}
    loop = asyncio.get_running_loop()
    examples: list[str] = []

    async def one_call(service: str, fields: dict[str, Any]) -> None:
        before_settings = copy.deepcopy(state.settings)
        before_mqtt = copy.deepcopy(state.mqtt_settings)
        sim.requests.clear()
        answer = await call(hass, service, {**target, **fields}, response=True)
        everything = await call(hass, "get_settings", target, response=True)
        await hass.async_block_till_done()
        if service == "update_settings":
            assert leaves(state.settings) == expected_settings(before_settings, fields)
            assert state.mqtt_settings == before_mqtt
        else:
            assert leaves(state.mqtt_settings) == expected_mqtt(before_mqtt, fields)
            assert state.settings == before_settings
        assert {r.method for r in sim.requests} <= {"GET", "PUT"}
        for secret_value in secrets_of(sim):
            assert secret_value not in repr(answer)
            assert secret_value not in repr(everything)
        assert MARK not in repr(answer) + repr(everything)
        examples.append(service)

    def run(service: str, fields: dict[str, Any]) -> None:
        asyncio.run_coroutine_threadsafe(one_call(service, fields), loop).result(30)

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(
        st.one_of(
            SETTINGS_CALLS.map(lambda f: ("update_settings", f)),
            MQTT_CALLS.map(lambda f: ("configure_mqtt", f)),
        )
    )
    def property_holds(drawn: tuple[str, dict[str, Any]]) -> None:
        run(*drawn)

    await hass.async_add_executor_job(property_holds)
    assert {"update_settings", "configure_mqtt"} <= set(examples)
