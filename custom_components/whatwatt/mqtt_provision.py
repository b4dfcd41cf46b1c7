"""Helpers of the config flow's ``mqtt`` branch.

The broker address a whatwatt Go should use (taken from Home Assistant's MQTT entry), the
partial MQTT settings written to the device over REST, and a bounded wait for the first message
on a topic (which tells the device id). Topic validation is ``service_schemas.topic_error``.
"""

from __future__ import annotations

import asyncio
import secrets
from typing import TYPE_CHECKING, Any, Final

from homeassistant.components import mqtt
from homeassistant.core import callback
from homeassistant.exceptions import ServiceValidationError
import voluptuous as vol

from .api.errors import WhatwattInvalidResponseError
from .api.parse import parse_mqtt_payload
from .api.template import INTEGRATION_TEMPLATE
from .broker import CONF_BROKER, home_assistant_broker, home_assistant_mqtt_entry
from .service_schemas import (
    ATTR_CLIENT_ID,
    ATTR_ENABLE,
    ATTR_PASSWORD,
    ATTR_TEMPLATE,
    ATTR_TOPIC,
    ATTR_USERNAME,
    mqtt_body,
    mqtt_url,
)

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

    from .api.models import Report

# Waiting for the first message: at least this long, or two report intervals and a margin.
FIRST_MESSAGE_TIMEOUT: Final = 65.0
MAX_FIRST_MESSAGE_TIMEOUT: Final = 300.0


def broker_fields(hass: HomeAssistant) -> dict[str, Any] | None:
    """Return url/username/password/ca_certificate of Home Assistant's broker for the device.

    None when the device could not reach it at that address (loopback, add-on host name, no
    MQTT entry): the flow then asks for the address the device should use.
    """
    try:
        return home_assistant_broker(hass)
    except ServiceValidationError:
        return None


def broker_credentials(hass: HomeAssistant) -> dict[str, str]:
    """Return the user name and password of Home Assistant's MQTT entry (when it has them)."""
    if (entry := home_assistant_mqtt_entry(hass)) is None:
        return {}
    return {
        key: str(entry.data[key]) for key in (ATTR_USERNAME, ATTR_PASSWORD) if entry.data.get(key)
    }


def broker_host(hass: HomeAssistant) -> str:
    """Return the broker address of Home Assistant's MQTT entry (for the form's text)."""
    if (entry := home_assistant_mqtt_entry(hass)) is None:
        return ""
    return str(entry.data.get(CONF_BROKER) or "")


def normalize_broker_url(text: str) -> str:
    """Return ``mqtt[s]://host[:port]`` (a bare ``host[:port]`` means mqtt://); ValueError."""
    text = text.strip()
    if "://" not in text:
        text = f"mqtt://{text}"
    try:
        return mqtt_url(text)
    except vol.Invalid as err:
        raise ValueError(text) from err


def client_id(device_id: str) -> str:
    """Return a client id that is unique on the broker (the device's id plus a random tail)."""
    return f"whatwatt-{device_id[-6:].lower()}-{secrets.token_hex(3)}"


def provisioning_body(device_id: str, topic: str, broker: dict[str, Any]) -> dict[str, Any]:
    """Return the partial MQTT settings (PUT body) that point the device at a broker and topic.

    ``broker`` holds ``url`` and optionally ``username``, ``password``, ``ca_certificate``;
    credentials Home Assistant's broker does not use are cleared on the device.
    """
    fields: dict[str, Any] = {
        ATTR_USERNAME: "",
        ATTR_PASSWORD: "",
        **broker,
        ATTR_ENABLE: True,
        ATTR_CLIENT_ID: client_id(device_id),
        ATTR_TOPIC: topic,
        ATTR_TEMPLATE: INTEGRATION_TEMPLATE,
    }
    return mqtt_body(fields)


def as_bytes(payload: str | bytes | bytearray) -> str | bytes:
    """Return an MQTT payload as the parser takes it."""
    return bytes(payload) if isinstance(payload, bytearray) else payload


def first_message_timeout(report_interval: float | None) -> float:
    """Return how long to wait for the first message from a device with this cadence."""
    if not report_interval:
        return FIRST_MESSAGE_TIMEOUT
    return min(max(FIRST_MESSAGE_TIMEOUT, 2 * report_interval + 5), MAX_FIRST_MESSAGE_TIMEOUT)


async def async_wait_for_first_message(
    hass: HomeAssistant, topic: str, device_id: str | None, limit: float
) -> Report | None:
    """Wait at most ``limit`` s for a usable message on ``topic``; None when none came.

    With ``device_id`` known, a message must carry that id or none; without it, a message must
    carry an id (that is what the caller wants to learn). Unparsable messages are skipped.
    """
    found: asyncio.Future[Report] = hass.loop.create_future()

    @callback
    def _message(msg: mqtt.ReceiveMessage) -> None:
        if found.done():
            return
        try:
            report = parse_mqtt_payload(as_bytes(msg.payload))
        except WhatwattInvalidResponseError:
            return
        if device_id is None and report.device_id is None:
            return
        if device_id is not None and report.device_id not in (None, device_id):
            return
        found.set_result(report)

    unsubscribe = await mqtt.async_subscribe(hass, topic, _message, qos=0, encoding=None)
    try:
        async with asyncio.timeout(limit):
            return await found
    except TimeoutError:
        return None
    finally:
        unsubscribe()
