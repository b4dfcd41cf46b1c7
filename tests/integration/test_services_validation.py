"""Actions: validation before anything is sent, targets, admin-only writes, broker fill-in."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import ConfigEntryDisabler, ConfigEntryState
from homeassistant.core import Context
from homeassistant.exceptions import ServiceValidationError, Unauthorized
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
import voluptuous as vol

from custom_components.whatwatt.api.requests import topic_error, unreachable_from_device
from custom_components.whatwatt.mqtt_setup import broker_host, home_assistant_broker
from custom_components.whatwatt.services import ATTR_CONFIG_ENTRY_ID, publish_topic

from .services_helpers import call, real_time_sim, writes  # noqa: F401 - real_time_sim: fixture

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"


@pytest.mark.parametrize(
    ("service", "data"),
    [
        ("update_settings", {}),
        ("update_settings", {"name": "x" * 32}),
        ("update_settings", {"report_interval": 0}),
        ("update_settings", {"report_interval": 3601}),
        ("update_settings", {"report_interval": "often"}),
        ("update_settings", {"ntp_server": "bad host!"}),
        ("update_settings", {"ntp_server": "a" * 128}),
        ("update_settings", {"unknown": True}),
        ("configure_mqtt", {}),
        ("configure_mqtt", {"url": "http://broker"}),
        ("configure_mqtt", {"url": "mqtt://"}),
        ("configure_mqtt", {"url": "mqtt://broker:70000"}),
        ("configure_mqtt", {"url": "mqtt://" + "b" * 121}),
        ("configure_mqtt", {"username": "u" * 128}),
        ("configure_mqtt", {"password": "p" * 128}),
        ("configure_mqtt", {"client_id": "c" * 64}),
        ("configure_mqtt", {"topic": ""}),
        ("configure_mqtt", {"topic": "home/+/meter"}),
        ("configure_mqtt", {"topic": "home/#"}),
        ("configure_mqtt", {"topic": "$SYS/x"}),
        ("configure_mqtt", {"topic": "t" * 128}),
        ("configure_mqtt", {"template": ""}),
        ("configure_mqtt", {"template": "x" * 1024}),
        ("configure_mqtt", {"ca_certificate": "not a certificate"}),
        ("run_action", {}),
        ("run_action", {"action_id": "x" * 16}),
        # Absurd values (hostile input): refused like the others, never an OverflowError.
        ("update_settings", {"report_interval": float("inf")}),
        ("update_settings", {"report_interval": float("nan")}),
        ("update_settings", {"report_interval": 10**400}),
        ("update_settings", {"report_interval": 10.5}),
        ("update_settings", {"ntp_server": "1.2.3.999"}),
        ("configure_mqtt", {"url": "mqtt://broker/?x=1"}),
        ("configure_mqtt", {"url": "mqtt://bro\u0000ker"}),
        ("configure_mqtt", {"url": "mqtt://user@broker"}),
        ("configure_mqtt", {"ca_certificate": PEM.replace("MIIB", "A" * 7000)}),
        ("backfill", {"start": "9999-12-31T23:00:00+00:00"}),
        ("backfill", {"start": "2026-01-01T00:00:00+00:00", "end": "0001-01-01T00:00:00"}),
    ],
)
async def test_invalid_fields_send_nothing(
    hass: HomeAssistant,
    sim: Any,
    init_integration: MockConfigEntry,
    service: str,
    data: dict[str, Any],
) -> None:
    """Out-of-range or malformed fields fail before any request reaches the device."""
    sim.requests.clear()
    with pytest.raises(vol.Invalid):
        await call(hass, service, {ATTR_CONFIG_ENTRY_ID: init_integration.entry_id, **data})
    assert sim.requests == []


async def test_limits_accepted(
    hass: HomeAssistant, sim: Any, init_integration: MockConfigEntry
) -> None:
    """The documented maxima themselves are fine."""
    entry_id = init_integration.entry_id
    await call(
        hass,
        "update_settings",
        {ATTR_CONFIG_ENTRY_ID: entry_id, "name": "n" * 31, "report_interval": 3600},
    )
    await call(
        hass,
        "configure_mqtt",
        {
            ATTR_CONFIG_ENTRY_ID: entry_id,
            "url": "mqtts://broker.lan:8883",
            "username": "u" * 127,
            "password": "p" * 127,
            "client_id": "c" * 63,
            "topic": "t" * 127,
            "template": "x" * 1023,
            "ca_certificate": PEM,
        },
    )
    assert sim.state.settings["system"]["name"] == "n" * 31
    assert sim.state.mqtt_settings["publish"]["template"] == "x" * 1023
    assert sim.state.mqtt_settings["client_id"] == "c" * 63


async def test_targets(hass: HomeAssistant, sim: Any, init_integration: MockConfigEntry) -> None:
    """Unknown targets, both targets at once, none at all, an entry not loaded."""
    for service, data in (("get_settings", {}), ("reboot", {}), ("run_action", {"action_id": "a"})):
        with pytest.raises(ServiceValidationError) as err:  # translated, not a schema error
            await call(hass, service, data, response=service == "get_settings")
        assert err.value.translation_key == "target_required"
    with pytest.raises(vol.Invalid):
        await call(
            hass,
            "get_settings",
            {ATTR_CONFIG_ENTRY_ID: init_integration.entry_id, "device_id": "abc"},
            response=True,
        )
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "get_settings", {ATTR_CONFIG_ENTRY_ID: "nope"}, response=True)
    assert err.value.translation_key == "unknown_config_entry"
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "get_settings", {"device_id": "nope"}, response=True)
    assert err.value.translation_key == "unknown_device"
    other = MockConfigEntry(domain="sun", data={})
    other.add_to_hass(hass)
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "reboot", {ATTR_CONFIG_ENTRY_ID: other.entry_id})
    assert err.value.translation_key == "unknown_config_entry"

    await hass.config_entries.async_unload(init_integration.entry_id)
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "reboot", {ATTR_CONFIG_ENTRY_ID: init_integration.entry_id})
    assert err.value.translation_key == "entry_not_loaded"
    assert err.value.translation_placeholders == {"title": "whatwatt Go D4E5F6"}


@pytest.mark.parametrize(
    ("service", "data"),
    [
        ("reboot", {}),
        ("update_settings", {"report_interval": 10}),
        ("configure_mqtt", {"enable": False}),
        ("run_action", {"action_id": "ping"}),
    ],
)
async def test_writes_admin_only(
    hass: HomeAssistant,
    sim: Any,
    init_integration: MockConfigEntry,
    hass_read_only_user: Any,
    hass_admin_user: Any,
    service: str,
    data: dict[str, Any],
) -> None:
    """A non-admin user gets Unauthorized and nothing is sent; an admin may write."""
    sim.requests.clear()
    target = {ATTR_CONFIG_ENTRY_ID: init_integration.entry_id, **data}
    with pytest.raises(Unauthorized):
        await call(hass, service, target, context=Context(user_id=hass_read_only_user.id))
    with pytest.raises(Unauthorized):
        await call(hass, service, target, context=Context(user_id="no-such-user"))
    assert sim.requests == []
    if service != "run_action":
        await call(hass, service, target, context=Context(user_id=hass_admin_user.id))
        assert writes(sim)


@pytest.mark.parametrize(
    ("broker", "expected"),
    [
        ({"broker": "192.0.2.10", "port": 1883}, {"url": "mqtt://192.0.2.10:1883"}),
        (
            {"broker": "mqtt.lan", "port": 1884, "username": "ha", "password": "pw-ha-1"},
            {"url": "mqtt://mqtt.lan:1884"},
        ),
        (
            {"broker": "mqtt.lan", "port": 8883, "certificate": PEM},
            {"url": "mqtts://mqtt.lan:8883", "broker": {"certificate": PEM}},
        ),
    ],
)
async def test_broker_fill_in(
    hass: HomeAssistant,
    sim: Any,
    init_integration: MockConfigEntry,
    broker: dict[str, Any],
    expected: dict[str, Any],
) -> None:
    """No broker on the device and no url: Home Assistant's broker address is written.

    Never its credentials: they are Home Assistant's own (a service user of the add-on).
    """
    MockConfigEntry(domain="mqtt", data=broker).add_to_hass(hass)
    await call(
        hass,
        "configure_mqtt",
        {ATTR_CONFIG_ENTRY_ID: init_integration.entry_id, "enable": True, "topic": "x/y"},
    )
    stored = sim.state.mqtt_settings
    assert stored["enable"] is True
    assert stored["publish"]["topic"] == "x/y"
    for key, value in expected.items():
        assert stored[key] == value, key
    for key in ("username", "password"):
        assert not stored.get(key) or stored[key] != broker.get(key), key


async def test_broker_fill_in_keeps_given_credentials(
    hass: HomeAssistant, sim: Any, init_integration: MockConfigEntry
) -> None:
    MockConfigEntry(
        domain="mqtt", data={"broker": "mqtt.lan", "port": 1883, "username": "ha", "password": "a"}
    ).add_to_hass(hass)
    await call(
        hass,
        "configure_mqtt",
        {ATTR_CONFIG_ENTRY_ID: init_integration.entry_id, "username": "meter", "password": "b"},
    )
    stored = sim.state.mqtt_settings
    assert (stored["url"], stored["username"], stored["password"]) == (
        "mqtt://mqtt.lan:1883",
        "meter",
        "b",
    )


@pytest.mark.parametrize(
    ("mqtt_data", "key"),
    [
        (None, "mqtt_broker_unknown"),
        ({"broker": "127.0.0.1", "port": 1883}, "mqtt_broker_unreachable"),
        ({"broker": "localhost", "port": 1883}, "mqtt_broker_unreachable"),
        ({"broker": "::1", "port": 1883}, "mqtt_broker_unreachable"),
        ({"broker": "core-mosquitto", "port": 1883}, "mqtt_broker_unreachable"),
        ({"broker": "mqtt.lan", "transport": "websockets"}, "mqtt_broker_unreachable"),
    ],
)
async def test_broker_fill_in_refused(
    hass: HomeAssistant,
    sim: Any,
    init_integration: MockConfigEntry,
    mqtt_data: dict[str, Any] | None,
    key: str,
) -> None:
    """A broker the device cannot reach: a translated error asks for url; nothing is written."""
    if mqtt_data is not None:
        MockConfigEntry(domain="mqtt", data=mqtt_data).add_to_hass(hass)
    sim.requests.clear()
    with pytest.raises(ServiceValidationError) as err:
        await call(
            hass,
            "configure_mqtt",
            {ATTR_CONFIG_ENTRY_ID: init_integration.entry_id, "enable": True},
        )
    assert err.value.translation_key == key
    if mqtt_data is not None:
        assert err.value.translation_placeholders == {"broker": mqtt_data["broker"]}
    assert writes(sim) == []
    # Switching the client off never needs a broker.
    await call(
        hass, "configure_mqtt", {ATTR_CONFIG_ENTRY_ID: init_integration.entry_id, "enable": False}
    )
    assert writes(sim) == [("PUT", "/api/v1/mqtt/settings")]


@pytest.mark.parametrize(
    ("host", "unreachable"),
    [
        ("localhost", True),
        ("LOCALHOST.", True),
        ("127.0.0.53", True),
        ("[::1]", True),
        ("0.0.0.0", True),
        ("core-mosquitto", True),
        ("a0d7b954-mosquitto", True),
        ("local-mybroker", True),
        ("", True),
        ("192.168.1.10", False),
        ("mosquitto", False),
        ("homeassistant.local", False),
        ("fd00::10", False),
    ],
)
def test_unreachable_from_device(host: str, unreachable: bool) -> None:
    assert unreachable_from_device(host) is unreachable


def _mqtt_entry(hass: HomeAssistant, broker: str, user: str, **kwargs: Any) -> None:
    """Add an MQTT entry of ``broker`` with ``user`` and the password ``<user>-secret``."""
    data = {"broker": broker, "username": user, "password": f"{user}-secret"}
    MockConfigEntry(domain="mqtt", data=data, **kwargs).add_to_hass(hass)


async def test_broker_url_ipv6(hass: HomeAssistant) -> None:
    """An IPv6 broker is written in brackets; a disabled MQTT entry does not count."""
    MockConfigEntry(
        domain="mqtt", data={"broker": "mqtt.lan"}, disabled_by=ConfigEntryDisabler.USER
    ).add_to_hass(hass)
    MockConfigEntry(domain="mqtt", data={"broker": "fd00::10"}).add_to_hass(hass)
    assert home_assistant_broker(hass) == {"url": "mqtt://[fd00::10]:1883"}


async def test_one_choice_of_mqtt_entry(hass: HomeAssistant) -> None:
    """The broker's address comes from one entry (enabled, loaded first); never its credentials."""
    _mqtt_entry(hass, "192.0.2.1", "old", disabled_by=ConfigEntryDisabler.USER)
    _mqtt_entry(hass, "192.0.2.2", "idle", state=ConfigEntryState.NOT_LOADED)
    _mqtt_entry(hass, "192.0.2.3", "ha", state=ConfigEntryState.LOADED)
    assert home_assistant_broker(hass) == {"url": "mqtt://192.0.2.3:1883"}
    assert broker_host(hass) == "192.0.2.3"


async def test_no_usable_mqtt_entry(hass: HomeAssistant) -> None:
    """Only a disabled MQTT entry: no broker, no credentials, no address."""
    _mqtt_entry(hass, "192.0.2.1", "old", disabled_by=ConfigEntryDisabler.USER)
    with pytest.raises(ServiceValidationError) as err:
        home_assistant_broker(hass)
    assert err.value.translation_key == "mqtt_broker_unknown"
    assert broker_host(hass) == ""


@pytest.mark.parametrize(
    ("topic", "error"),
    [
        ("", "invalid_topic"),
        ("a\0b", "invalid_topic"),
        ("home/+/meter", "topic_wildcard"),
        ("home/#", "topic_wildcard"),
        ("$SYS/x", "topic_reserved"),
        ("t" * 128, "topic_too_long"),
        ("ü" * 64, "topic_too_long"),
        ("ü" * 63, None),
        ("t" * 127, None),
    ],
)
def test_topic_rules_shared(topic: str, error: str | None) -> None:
    """The config flow's topic check and the configure_mqtt schema apply the same rules."""
    assert topic_error(topic) == error
    if error is None:
        assert publish_topic(topic) == topic
    else:
        with pytest.raises(vol.Invalid):
            publish_topic(topic)
