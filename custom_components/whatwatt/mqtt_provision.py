"""Helpers of the config flow's ``mqtt`` branch.

The broker address a whatwatt Go should use (proposed from Home Assistant's MQTT entry: the
address only, never its credentials), the partial MQTT settings written to the device over REST,
and a bounded wait for the first message on a topic (which tells the device id), owned by the
flow so that it ends with it. Topic validation is ``service_schemas.topic_error``.
"""

from __future__ import annotations

import asyncio
import secrets
from typing import TYPE_CHECKING, Any, Final

from homeassistant.components import mqtt
from homeassistant.core import callback
from homeassistant.exceptions import ServiceValidationError

from .api.errors import (
    WhatwattAuthError,
    WhatwattError,
    WhatwattInvalidResponseError,
    WhatwattRequestError,
    WhatwattTimeoutError,
)
from .api.parse_mqtt import parse_mqtt_payload
from .api.template import INTEGRATION_TEMPLATE
from .broker import CONF_BROKER, home_assistant_broker, home_assistant_mqtt_entry
from .compat import vol
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
    from homeassistant.core import CALLBACK_TYPE, HomeAssistant

    from .api.client import WhatwattClient
    from .api.models import Report

# Waiting for the first message: at least this long, or two report intervals and a margin.
FIRST_MESSAGE_TIMEOUT: Final = 65.0
MAX_FIRST_MESSAGE_TIMEOUT: Final = 300.0


def proposed_broker(hass: HomeAssistant) -> dict[str, Any] | None:
    """Return the ``url`` (and a public ``ca_certificate``) of Home Assistant's broker.

    None when the device could not reach it at that address (loopback, add-on host name, no
    MQTT entry): the flow then proposes nothing. Never credentials (``broker.py``).
    """
    try:
        return home_assistant_broker(hass)
    except ServiceValidationError:
        return None


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

    ``broker`` holds ``url`` and optionally ``username`` and ``password`` (the device's own
    broker user, given by the person) and ``ca_certificate``; credentials not given are cleared
    on the device (a broker that allows anonymous clients).
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


async def async_provision(
    client: WhatwattClient, device_id: str, topic: str, broker: dict[str, Any]
) -> str | None:
    """Write the device's MQTT settings (partial PUT); return a form error key or None."""
    try:
        await client.update_mqtt_settings(provisioning_body(device_id, topic, broker))
    except WhatwattAuthError:
        return "invalid_auth"
    except WhatwattTimeoutError:
        return "timeout"
    except WhatwattRequestError:
        return "provisioning_rejected"
    except WhatwattError:
        return "cannot_connect"
    return None


def as_bytes(payload: str | bytes | bytearray) -> str | bytes:
    """Return an MQTT payload as the parser takes it."""
    return bytes(payload) if isinstance(payload, bytearray) else payload


def first_message_timeout(report_interval: float | None) -> float:
    """Return how long to wait for the first message from a device with this cadence."""
    if not report_interval:
        return FIRST_MESSAGE_TIMEOUT
    return min(max(FIRST_MESSAGE_TIMEOUT, 2 * report_interval + 5), MAX_FIRST_MESSAGE_TIMEOUT)


class FirstMessageWait:
    """Wait at most ``limit`` s for a usable message on ``topic``; ``task`` gives it or None.

    With ``device_id`` known, a message must carry that id or none; without it, a message must
    carry an id (that is what the caller wants to learn). Unparsable messages are skipped. The
    subscription lives as long as the wait: until a message, the time limit, or ``cancel()``
    (which the flow calls when it is removed), whichever comes first.
    """

    def __init__(
        self, hass: HomeAssistant, topic: str, device_id: str | None, limit: float
    ) -> None:
        """Subscribe and start waiting (the subscription is made before this returns)."""
        self._hass = hass
        self._topic = topic
        self._device_id = device_id
        self._limit = limit
        self._found: asyncio.Future[Report] = hass.loop.create_future()
        self._unsubscribe: CALLBACK_TYPE | None = None
        self._cancelled = False
        self.task: asyncio.Task[Report | None] = hass.async_create_task(
            self._async_wait(), name=f"whatwatt first message on {topic}"
        )

    @property
    def subscribed(self) -> bool:
        """Return True while the wait holds its subscription."""
        return self._unsubscribe is not None

    @callback
    def cancel(self) -> None:
        """End the wait now: unsubscribe at once and cancel the task."""
        self._cancelled = True
        self._release()
        self.task.cancel()

    @callback
    def _release(self) -> None:
        if self._unsubscribe is not None:
            unsubscribe, self._unsubscribe = self._unsubscribe, None
            unsubscribe()

    @callback
    def _message(self, msg: mqtt.ReceiveMessage) -> None:
        if self._found.done():
            return
        try:
            report = parse_mqtt_payload(as_bytes(msg.payload))
        except WhatwattInvalidResponseError:
            return
        if self._device_id is None and report.device_id is None:
            return
        if self._device_id is not None and report.device_id not in (None, self._device_id):
            return
        self._found.set_result(report)

    async def _async_wait(self) -> Report | None:
        unsubscribe = await mqtt.async_subscribe(
            self._hass, self._topic, self._message, qos=0, encoding=None
        )
        if self._cancelled:  # cancelled while subscribing
            unsubscribe()
            return None
        self._unsubscribe = unsubscribe
        try:
            async with asyncio.timeout(self._limit):
                return await self._found
        except TimeoutError:
            return None
        finally:
            self._release()
