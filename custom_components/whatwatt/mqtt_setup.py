"""MQTT set-up: the config flow's MQTT forms and branch, Home Assistant's broker, the first message.

The ``mqtt_topic`` form (``MQTT_SCHEMA``, ``check_topic_form``) takes the topic the device
publishes to and, optionally, its address for REST. The ``mqtt_broker`` form (``BROKER_SCHEMA``,
``broker_form_fields``) asks for the broker the device should use. There the integration
proposes the *address* of the broker Home Assistant's MQTT integration uses (also the
``configure_mqtt`` fill-in). That only works when the address means the same thing to the
device: loopback addresses and the host names of Home Assistant add-ons (``core-mosquitto``) do
not (``api.requests.unreachable_from_device``), so the person is asked for a ``url`` instead.
Home Assistant's broker credentials are never read here: the device gets a broker user of its
own, given by the person (or none, for a broker that allows anonymous clients). The broker's CA
certificate is public and is proposed with the address.

``FirstMessageWait`` waits, bounded, for the first usable message on a topic (which tells the
device id). ``MqttBranch`` is what the flow's MQTT branch has learnt, and owns the wait so that
it ends with the flow.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
import sys
from typing import TYPE_CHECKING, Any, Final

from homeassistant.components import mqtt
from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.const import CONF_HOST, CONF_PASSWORD, CONF_PORT
from homeassistant.core import callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.selector import (
    BooleanSelector,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)

from .api.client import WhatwattClient, normalize_host
from .api.errors import WhatwattError, WhatwattInvalidResponseError
from .api.parse_mqtt import parse_mqtt_payload
from .api.requests import (
    CA_CERTIFICATE,
    MAX_PASSWORD,
    MAX_USERNAME,
    PASSWORD,
    PEM_CERTIFICATE,
    URL,
    USERNAME,
    normalize_broker_url,
    topic_error,
    unreachable_from_device,
)
from .api.template import default_topic
from .const import CONF_TOPIC, CONF_TRANSPORT, TRANSPORT_MQTT
from .errors import AUTH_ERROR, validation_error

if TYPE_CHECKING and sys.version_info >= (3, 14):
    import probatio as vol  # Home Assistant 2026.x validates with it (as ``voluptuous``)
else:
    import voluptuous as vol

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Mapping

    from homeassistant.core import CALLBACK_TYPE, HomeAssistant

    from .api.models import Report, SystemInfo

MQTT_DOMAIN: Final = "mqtt"
# Keys of Home Assistant's MQTT config entry (homeassistant.components.mqtt.const).
CONF_BROKER: Final = "broker"
_CONF_CERTIFICATE: Final = "certificate"
_CONF_TRANSPORT: Final = "transport"
DEFAULT_MQTT_PORT: Final = 1883
DEFAULT_MQTTS_PORT: Final = 8883

# The config flow's REST probe: the device's system information, or a form error key.
type Probe = Callable[[WhatwattClient], Awaitable[tuple[SystemInfo | None, str | None]]]

# Waiting for the first message: at least this long, or two report intervals and a margin.
FIRST_MESSAGE_TIMEOUT: Final = 65.0
MAX_FIRST_MESSAGE_TIMEOUT: Final = 300.0

CONF_CONFIGURE_DEVICE: Final = "configure_device"
# Form ``mqtt_topic``: the topic; the device's address and password for REST (optional).
MQTT_SCHEMA: Final = vol.Schema(
    {
        vol.Required(CONF_TOPIC): TextSelector(),
        vol.Optional(CONF_HOST): TextSelector(),
        vol.Optional(CONF_PASSWORD): TextSelector(
            TextSelectorConfig(type=TextSelectorType.PASSWORD)
        ),
        vol.Optional(CONF_CONFIGURE_DEVICE, default=False): BooleanSelector(),
    }
)
# Form ``mqtt_broker``: fields of the ``configure_mqtt`` action. ``username``/``password`` are
# the device's own user on the broker (never Home Assistant's); both optional.
BROKER_SCHEMA: Final = vol.Schema(
    {
        vol.Required(URL): TextSelector(),
        # No autofill: a browser would offer the person's Home Assistant login here.
        vol.Optional(USERNAME): TextSelector(TextSelectorConfig(autocomplete="off")),
        vol.Optional(PASSWORD): TextSelector(
            TextSelectorConfig(type=TextSelectorType.PASSWORD, autocomplete="new-password")
        ),
    }
)
BROKER_LIMITS: Final = {USERNAME: MAX_USERNAME, PASSWORD: MAX_PASSWORD}


def check_topic_form(form: Mapping[str, Any]) -> tuple[str, str | None, dict[str, str]]:
    """Return the ``mqtt_topic`` form's topic, the device's address (None: none), field errors.

    The device must be able to publish to the topic; configuring it needs its address.
    """
    topic = str(form[CONF_TOPIC]).strip()
    if error := topic_error(topic):
        return topic, None, {CONF_TOPIC: error}
    address = str(form.get(CONF_HOST) or "").strip()
    if not address:
        if form.get(CONF_CONFIGURE_DEVICE):
            return topic, None, {CONF_HOST: "host_required_to_configure"}
        return topic, None, {}
    try:
        return topic, normalize_host(address), {}
    except ValueError:
        return topic, None, {CONF_HOST: "invalid_host"}


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


def broker_suggestions(
    user_input: Mapping[str, Any] | None, proposed: Mapping[str, Any]
) -> dict[str, Any]:
    """Return what the ``mqtt_broker`` form suggests: the form as given, else the proposal."""
    if user_input is not None:
        return {key: value for key, value in user_input.items() if key != PASSWORD}
    return {URL: proposed.get(URL)} if proposed else {}


def broker_form_fields(
    user_input: Mapping[str, Any], proposed: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    """Return the ``configure_mqtt`` fields of the ``mqtt_broker`` form, and field errors.

    ``url`` as given (normalized); the device's own broker user name and password when given
    (none clears them on the device); the CA certificate of Home Assistant's broker when the
    address is the ``proposed`` one (``proposed_broker``).
    """
    fields: dict[str, Any] = {}
    errors: dict[str, str] = {}
    try:
        fields[URL] = normalize_broker_url(str(user_input[URL]))
    except ValueError:
        errors[URL] = "invalid_broker_url"
    for key, limit in BROKER_LIMITS.items():
        value = str(user_input.get(key) or "")
        if key == USERNAME:
            value = value.strip()
        if len(value) > limit:
            errors[key] = "too_long"
        elif value:
            fields[key] = value
    if CA_CERTIFICATE in proposed and fields.get(URL) == proposed.get(URL):
        fields[CA_CERTIFICATE] = proposed[CA_CERTIFICATE]
    return fields, errors


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


@dataclass(slots=True)
class MqttBranch:
    """What the config flow's MQTT branch knows: its form, the device, the first-message wait.

    ``form`` is the ``mqtt_topic`` form as last given (suggested again after a failed wait,
    whose error ``errors`` carries to the form). Given an address, the device was probed over
    REST: ``host``, ``password``, ``system`` and its report ``interval``. ``device_id`` is
    known from REST or from the first message. The flow ends the ``wait`` when it is removed.
    """

    form: dict[str, Any] | None = None
    errors: dict[str, str] | None = None
    topic: str = ""
    host: str | None = None
    password: str | None = None
    system: SystemInfo | None = None
    interval: float | None = None
    device_id: str | None = None
    wait: FirstMessageWait | None = None

    async def async_check(
        self, hass: HomeAssistant, form: dict[str, Any], stored_password: str | None, probe: Probe
    ) -> dict[str, str]:
        """Check the ``mqtt_topic`` form and keep it; return the form's errors.

        With an address, ``probe`` (the flow's REST probe) reads the device, with the form's
        password or else ``stored_password`` (a reconfigured entry's). Publishing over MQTT
        needs a Plus licence; the device's report interval sets the first-message wait.
        """
        self.form = form
        topic, host, errors = check_topic_form(form)
        if errors:
            return errors
        # A new try: what an earlier one learnt goes.
        self.topic = topic
        self.host = self.password = self.system = self.interval = None
        if host is None:
            return {}
        password = form.get(CONF_PASSWORD) or stored_password or None
        client = WhatwattClient(async_get_clientsession(hass), host, password)
        system, error = await probe(client)
        if error == AUTH_ERROR:
            return {CONF_PASSWORD: AUTH_ERROR if password else "password_required"}
        if system is None:
            return {"base": error or "unknown"}
        if not system.is_licensed:
            return {"base": "mqtt_license_free"}
        self.host, self.password, self.system = host, password, system
        try:
            settings = await client.get_settings()
        except WhatwattError:
            return {}
        if settings.report_interval:
            self.interval = float(settings.report_interval)
        return {}

    def suggestions(self, entry: ConfigEntry | None) -> dict[str, Any]:
        """Return what the ``mqtt_topic`` form suggests (never a password).

        The form as last given; else the reconfigured ``entry``'s topic and address, or the
        default topic of its device.
        """
        if self.form is not None:
            return {key: value for key, value in self.form.items() if key != CONF_PASSWORD}
        if entry is None:
            return {}
        suggested = {
            key: value
            for key in (CONF_TOPIC, CONF_HOST)
            if (value := entry.data.get(key)) is not None
        }
        if CONF_TOPIC not in suggested and entry.unique_id:
            suggested[CONF_TOPIC] = default_topic(entry.unique_id)
        return suggested

    def start_wait(self, hass: HomeAssistant) -> asyncio.Task[Report | None]:
        """Return the task of the first-message wait, starting the wait unless it runs."""
        if self.wait is None:
            known = self.system.device_id if self.system else None
            limit = first_message_timeout(self.interval)
            self.wait = FirstMessageWait(hass, self.topic, known, limit)
        return self.wait.task

    def end_wait(self) -> bool:
        """Take the finished wait's result: True when a message told the device id.

        Without a message, the form shows ``no_message``.
        """
        assert self.wait is not None
        report, self.wait = self.wait.task.result(), None
        if report is None:
            self.errors = {"base": "no_message"}
            return False
        self.device_id = self.system.device_id if self.system is not None else report.device_id
        return True

    @callback
    def cancel_wait(self) -> None:
        """End the first-message wait (task and subscription), if one runs."""
        if self.wait is not None:
            self.wait.cancel()
            self.wait = None

    def entry_data(self) -> dict[str, Any]:
        """Return the data of the MQTT entry (the address and password when given)."""
        data: dict[str, Any] = {CONF_TRANSPORT: TRANSPORT_MQTT, CONF_TOPIC: self.topic}
        if self.host:
            data[CONF_HOST] = self.host
            if self.password:
                data[CONF_PASSWORD] = self.password
        return data
