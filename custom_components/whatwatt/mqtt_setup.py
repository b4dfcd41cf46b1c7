"""MQTT set-up: Home Assistant's broker as the device would reach it, and the first message.

When the device has no broker yet, the integration proposes the *address* of the broker Home
Assistant's MQTT integration uses (the ``configure_mqtt`` fill-in and the config flow's
``mqtt_broker`` step). That only works when the address means the same thing to the device:
loopback addresses and the host names of Home Assistant add-ons (``core-mosquitto``) do not
(``api.requests.unreachable_from_device``), so the person is asked for a ``url`` instead. Home
Assistant's broker credentials are never read here: the device gets a broker user of its own,
given by the person (or none, for a broker that allows anonymous clients). The broker's CA
certificate is public and is proposed with the address.

``FirstMessageWait`` waits, bounded, for the first usable message on a topic (which tells the
device id); the config flow owns it so that it ends with the flow.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, Final

from homeassistant.components import mqtt
from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.const import CONF_PORT
from homeassistant.core import callback
from homeassistant.exceptions import ServiceValidationError

from .api.errors import WhatwattInvalidResponseError
from .api.parse_mqtt import parse_mqtt_payload
from .api.requests import CA_CERTIFICATE, PEM_CERTIFICATE, URL, unreachable_from_device
from .errors import validation_error

if TYPE_CHECKING:
    from homeassistant.core import CALLBACK_TYPE, HomeAssistant

    from .api.models import Report

MQTT_DOMAIN: Final = "mqtt"
# Keys of Home Assistant's MQTT config entry (homeassistant.components.mqtt.const).
CONF_BROKER: Final = "broker"
_CONF_CERTIFICATE: Final = "certificate"
_CONF_TRANSPORT: Final = "transport"
DEFAULT_MQTT_PORT: Final = 1883
DEFAULT_MQTTS_PORT: Final = 8883

# Waiting for the first message: at least this long, or two report intervals and a margin.
FIRST_MESSAGE_TIMEOUT: Final = 65.0
MAX_FIRST_MESSAGE_TIMEOUT: Final = 300.0


def home_assistant_mqtt_entry(hass: HomeAssistant) -> ConfigEntry | None:
    """Return the config entry of Home Assistant's MQTT integration in use, if there is one.

    Disabled entries do not count; of several, a loaded one comes first.
    """
    entries = [
        entry
        for entry in hass.config_entries.async_entries(MQTT_DOMAIN)
        if entry.disabled_by is None
    ]
    entries.sort(key=lambda entry: entry.state is not ConfigEntryState.LOADED)
    return entries[0] if entries else None


def home_assistant_broker(hass: HomeAssistant) -> dict[str, Any]:
    """Return the ``configure_mqtt`` fields that point the device at Home Assistant's broker.

    The result holds ``url`` and, when Home Assistant's broker uses TLS with its own CA,
    ``ca_certificate`` (public). Never a user name or password: Home Assistant's login on its
    broker (with the Mosquitto add-on, its service user) is not the device's to have. Raises a
    translated ServiceValidationError asking for ``url`` when there is no usable broker.
    """
    entry = home_assistant_mqtt_entry(hass)
    if entry is None or not (broker := str(entry.data.get(CONF_BROKER) or "").strip()):
        raise validation_error("mqtt_broker_unknown")
    data = entry.data
    if unreachable_from_device(broker) or data.get(_CONF_TRANSPORT, "tcp") != "tcp":
        raise validation_error("mqtt_broker_unreachable", broker=broker)
    certificate = data.get(_CONF_CERTIFICATE)
    tls = bool(certificate)
    port = int(data.get(CONF_PORT) or (DEFAULT_MQTTS_PORT if tls else DEFAULT_MQTT_PORT))
    host = f"[{broker}]" if ":" in broker else broker
    fields: dict[str, Any] = {URL: f"{'mqtts' if tls else 'mqtt'}://{host}:{port}"}
    if isinstance(certificate, str) and PEM_CERTIFICATE in certificate:
        fields[CA_CERTIFICATE] = certificate.strip()
    return fields


def proposed_broker(hass: HomeAssistant) -> dict[str, Any] | None:
    """Return ``home_assistant_broker``, or None when the device could not reach it."""
    try:
        return home_assistant_broker(hass)
    except ServiceValidationError:
        return None


def broker_host(hass: HomeAssistant) -> str:
    """Return the broker address of Home Assistant's MQTT entry (for the form's text)."""
    if (entry := home_assistant_mqtt_entry(hass)) is None:
        return ""
    return str(entry.data.get(CONF_BROKER) or "")


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
