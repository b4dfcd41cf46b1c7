"""MQTT set-up: the flow's forms and MQTT branch, Home Assistant's broker, the first message."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
import sys
from typing import TYPE_CHECKING, Any, Final

from homeassistant.components import mqtt
from homeassistant.components.mqtt import const as mqtt_const
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

from .api.client import WhatwattClient
from .api.errors import WhatwattError
from .api.parse_mqtt import first_report
from .api.requests import (
    CONFIGURE_DEVICE,
    PASSWORD,
    URL,
    USERNAME,
    broker_fields,
    topic_form_fields,
    unreachable_from_device,
    without_password,
)
from .api.template import default_topic
from .const import CONF_TOPIC, CONF_TRANSPORT, LOGGER, TRANSPORT_MQTT
from .errors import AUTH_ERROR, form_error, validation_error

if TYPE_CHECKING and sys.version_info >= (3, 14):
    import probatio as vol  # Home Assistant 2026.x validates with it (as ``voluptuous``)
else:
    import voluptuous as vol

if TYPE_CHECKING:
    from homeassistant.core import CALLBACK_TYPE, HomeAssistant

    from .api.models import Report, SystemInfo

# Waiting for the first message: at least this long, or two report intervals and a margin.
FIRST_MESSAGE_TIMEOUT: Final = 65.0
MAX_FIRST_MESSAGE_TIMEOUT: Final = 300.0

PASSWORD_SELECTOR: Final = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))
HOST_SCHEMA: Final = vol.Schema({vol.Required(CONF_HOST): TextSelector()})
PASSWORD_SCHEMA: Final = vol.Schema({vol.Required(CONF_PASSWORD): PASSWORD_SELECTOR})
# Form ``mqtt_topic``: the topic; the device's address and password for REST (optional).
MQTT_SCHEMA: Final = vol.Schema(
    {
        vol.Required(CONF_TOPIC): TextSelector(),
        vol.Optional(CONF_HOST): TextSelector(),
        vol.Optional(CONF_PASSWORD): PASSWORD_SELECTOR,
        vol.Optional(CONFIGURE_DEVICE, default=False): BooleanSelector(),
    }
)
# Form ``mqtt_broker``: the device's broker and its own user there (no autofill of a login).
BROKER_SCHEMA: Final = vol.Schema(
    {
        vol.Required(URL): TextSelector(),
        vol.Optional(USERNAME): TextSelector(TextSelectorConfig(autocomplete="off")),
        vol.Optional(PASSWORD): TextSelector(
            TextSelectorConfig(type=TextSelectorType.PASSWORD, autocomplete="new-password")
        ),
    }
)


def home_assistant_mqtt_entry(hass: HomeAssistant) -> ConfigEntry | None:
    """Return the config entry of Home Assistant's MQTT integration in use, if there is one."""
    entries = hass.config_entries.async_entries(mqtt_const.DOMAIN, include_disabled=False)
    return min(entries, key=lambda entry: entry.state is not ConfigEntryState.LOADED, default=None)


def home_assistant_broker(hass: HomeAssistant) -> dict[str, Any]:
    """Return ``url`` (and the public CA certificate) of Home Assistant's broker, never a login."""
    entry = home_assistant_mqtt_entry(hass)
    if entry is None or not (broker := str(entry.data.get(mqtt_const.CONF_BROKER) or "").strip()):
        raise validation_error("mqtt_broker_unknown")
    data = entry.data
    transport = data.get(mqtt_const.CONF_TRANSPORT, mqtt_const.TRANSPORT_TCP)
    if unreachable_from_device(broker) or transport != mqtt_const.TRANSPORT_TCP:
        raise validation_error("mqtt_broker_unreachable", broker=broker)
    return broker_fields(broker, data.get(CONF_PORT), data.get(mqtt_const.CONF_CERTIFICATE))


def proposed_broker(hass: HomeAssistant) -> dict[str, Any] | None:
    """Return ``home_assistant_broker``, or None when the device could not reach it."""
    try:
        return home_assistant_broker(hass)
    except ServiceValidationError:
        return None


def broker_host(hass: HomeAssistant) -> str:
    """Return the broker address of Home Assistant's MQTT entry (for the form's text)."""
    entry = home_assistant_mqtt_entry(hass)
    return str(entry.data.get(mqtt_const.CONF_BROKER) or "") if entry is not None else ""


async def async_read_system(client: WhatwattClient) -> tuple[SystemInfo | None, str | None]:
    """Read /api/v1/system: the system information, or a form error key (REST needs Plus)."""
    try:
        system = await client.get_system()
    except WhatwattError as err:
        return None, form_error(err)
    except Exception:  # noqa: BLE001 - anything unexpected becomes a form error
        LOGGER.exception("Unexpected error while probing %s", client.host)
        return None, "unknown"
    return system, None


class FirstMessageWait:
    """Wait at most ``limit`` s for a usable message on ``topic``; ``task`` gives it or None."""

    def __init__(
        self, hass: HomeAssistant, topic: str, device_id: str | None, limit: float
    ) -> None:
        """Subscribe and start waiting (the subscription is made before this returns)."""
        self._device_id = device_id
        self._found: asyncio.Future[Report] = hass.loop.create_future()
        self._unsubscribe: CALLBACK_TYPE | None = None
        self._cancelled = False
        self.task: asyncio.Task[Report | None] = hass.async_create_task(
            self._async_wait(hass, topic, limit), name=f"whatwatt first message on {topic}"
        )

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
        if (report := first_report(msg.payload, self._device_id)) is not None:
            self._found.set_result(report)

    async def _async_wait(self, hass: HomeAssistant, topic: str, limit: float) -> Report | None:
        unsubscribe = await mqtt.async_subscribe(hass, topic, self._message, qos=0, encoding=None)
        if self._cancelled:  # cancelled while subscribing
            unsubscribe()
            return None
        self._unsubscribe = unsubscribe
        try:
            async with asyncio.timeout(limit):
                return await self._found
        except TimeoutError:
            return None
        finally:
            self._release()


@dataclass(slots=True)
class MqttBranch:
    """What the config flow's MQTT branch knows: its form, the device, the first-message wait."""

    form: dict[str, Any] | None = None
    errors: dict[str, str] | None = None
    topic: str = ""
    host: str | None = None
    password: str | None = None
    client: WhatwattClient | None = None  # the device's, once read over REST
    system: SystemInfo | None = None
    interval: float | None = None
    device_id: str | None = None
    wait: FirstMessageWait | None = None

    async def async_check(
        self, hass: HomeAssistant, form: dict[str, Any], stored_password: str | None
    ) -> dict[str, str]:
        """Check the ``mqtt_topic`` form and keep it; return the form's errors."""
        self.form = form
        topic, host, errors = topic_form_fields(form)
        if errors:
            return errors
        # A new try: what an earlier one learnt goes.
        self.topic = topic
        self.host = self.password = self.client = self.system = self.interval = None
        self.device_id = None
        if host is None:
            return {}
        password = form.get(CONF_PASSWORD) or stored_password or None
        client = WhatwattClient(async_get_clientsession(hass), host, password)
        system, error = await async_read_system(client)
        if error == AUTH_ERROR:
            return {CONF_PASSWORD: AUTH_ERROR if password else "password_required"}
        if system is None:
            return {"base": error or "unknown"}
        self.host, self.password, self.client = host, password, client
        if not system.is_licensed:  # the flow offers the live stream at this address
            return {"base": "license_free"}
        self.system, self.device_id = system, system.device_id
        with contextlib.suppress(WhatwattError):  # else the wait is the shortest
            self.interval = (await client.get_settings()).report_interval
        return {}

    def suggestions(self, entry: ConfigEntry | None) -> dict[str, Any]:
        """Return what the ``mqtt_topic`` form suggests: as last given, else the entry's."""
        if self.form is not None:
            return without_password(self.form)
        if entry is None:
            return {}
        data = entry.data
        suggested = {key: data[key] for key in (CONF_TOPIC, CONF_HOST) if data.get(key) is not None}
        if CONF_TOPIC not in suggested and entry.unique_id:
            suggested[CONF_TOPIC] = default_topic(entry.unique_id)
        return suggested

    def start_wait(self, hass: HomeAssistant) -> asyncio.Task[Report | None]:
        """Return the task of the first-message wait, starting the wait unless it runs."""
        if self.wait is None:
            limit = FIRST_MESSAGE_TIMEOUT  # or two report intervals and a margin, bounded
            if self.interval:
                limit = min(max(limit, 2 * self.interval + 5), MAX_FIRST_MESSAGE_TIMEOUT)
            self.wait = FirstMessageWait(hass, self.topic, self.device_id, limit)
        return self.wait.task

    def end_wait(self) -> str | None:
        """Take the finished wait's result: the form error ``no_message``, or None (device id)."""
        assert self.wait is not None
        report, self.wait = self.wait.task.result(), None
        if report is None:
            return "no_message"
        self.device_id = self.device_id or report.device_id
        return None

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
