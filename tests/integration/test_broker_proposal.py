"""What the flow proposes for the device's broker: Home Assistant's broker ADDRESS, never its login.

``mqtt_setup.home_assistant_broker`` reads Home Assistant's MQTT entry for ``url`` (and the public
CA certificate of a TLS broker); ``api.requests.broker_form_fields`` turns the ``mqtt_broker`` form
into ``configure_mqtt`` fields.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.whatwatt import mqtt_setup
from custom_components.whatwatt.api.requests import broker_form_fields
from custom_components.whatwatt.mqtt_setup import home_assistant_broker

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"
HA_LOGIN = {"username": "homeassistant", "password": "ha-service-secret"}


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"broker": "192.0.2.3", "port": 1884, **HA_LOGIN}, {"url": "mqtt://192.0.2.3:1884"}),
        (
            {"broker": "mqtt.lan", "port": 8883, "certificate": PEM, **HA_LOGIN},
            {"url": "mqtts://mqtt.lan:8883", "ca_certificate": PEM},
        ),
    ],
)
async def test_only_the_address_is_proposed(
    hass: HomeAssistant, data: dict[str, Any], expected: dict[str, Any]
) -> None:
    """Home Assistant's broker user and password are never read for the device."""
    MockConfigEntry(domain="mqtt", data=data).add_to_hass(hass)
    assert home_assistant_broker(hass) == expected
    assert mqtt_setup.proposed_broker(hass) == expected
    assert not hasattr(mqtt_setup, "broker_credentials")


async def test_nothing_proposed_for_an_add_on_broker(hass: HomeAssistant) -> None:
    """``core-mosquitto`` means nothing to the device: no proposal, only the text names it."""
    MockConfigEntry(domain="mqtt", data={"broker": "core-mosquitto", **HA_LOGIN}).add_to_hass(hass)
    assert mqtt_setup.proposed_broker(hass) is None
    assert mqtt_setup.broker_host(hass) == "core-mosquitto"


@pytest.mark.parametrize(
    ("form", "fields", "errors"),
    [
        ({"url": "192.0.2.3"}, {"url": "mqtt://192.0.2.3"}, {}),
        (
            {"url": "mqtts://mqtt.lan:8883", "username": " meter ", "password": " p w "},
            {
                "url": "mqtts://mqtt.lan:8883",
                "username": "meter",
                "password": " p w ",
                "ca_certificate": PEM,
            },
            {},
        ),
        # Another broker: the certificate of Home Assistant's is not sent along.
        ({"url": "mqtts://other.lan:8883"}, {"url": "mqtts://other.lan:8883"}, {}),
        ({"url": "http://x", "username": "", "password": ""}, {}, {"url": "invalid_broker_url"}),
        (
            {"url": "mqtt://x", "username": "u" * 127, "password": "p" * 128},
            {"url": "mqtt://x", "username": "u" * 127},
            {"password": "too_long"},
        ),
    ],
)
def test_broker_form_fields(
    form: dict[str, Any], fields: dict[str, Any], errors: dict[str, str]
) -> None:
    proposed = {"url": "mqtts://mqtt.lan:8883", "ca_certificate": PEM}
    assert broker_form_fields(form, proposed) == (fields, errors)
