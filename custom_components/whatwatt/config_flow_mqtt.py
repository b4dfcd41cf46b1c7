"""The ``mqtt`` branch of the config flow (menu choice and MQTT discovery).

One form after the menu choice: ``topic`` (required), and optionally the device's ``host`` and
``password`` plus ``configure_device``. With an address the device is probed over REST (its id
is the unique id); "configure the device for me" writes its MQTT settings (Home Assistant's
broker, a unique client id, the topic and the integration's template) with a partial PUT. The
flow then waits (bounded) for the first message on the topic; without an address that message
tells the device id. MQTT discovery (the manifest's ``mqtt`` topics) starts at the same step.
Reconfigure walks the same steps with the entry's values suggested (an MQTT-only entry adds its
address here) and ends by updating the entry of the same device.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from homeassistant.components import mqtt
from homeassistant.config_entries import SOURCE_RECONFIGURE
from homeassistant.const import CONF_HOST, CONF_PASSWORD
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.selector import (
    BooleanSelector,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
from homeassistant.helpers.service_info.mqtt import MqttServiceInfo
import voluptuous as vol

from .api.client import WhatwattClient, normalize_host
from .api.errors import (
    WhatwattAuthError,
    WhatwattError,
    WhatwattInvalidResponseError,
    WhatwattRequestError,
    WhatwattTimeoutError,
)
from .api.parse import parse_mqtt_payload
from .api.template import default_topic
from .config_flow_reconfigure import ReconfigureFlowMixin
from .const import CONF_TOPIC, CONF_TRANSPORT, TRANSPORT_MQTT, device_title
from .mqtt_provision import (
    as_bytes,
    async_wait_for_first_message,
    broker_credentials,
    broker_fields,
    broker_host,
    first_message_timeout,
    normalize_broker_url,
    provisioning_body,
)
from .service_schemas import topic_error

if TYPE_CHECKING:
    import asyncio

    from homeassistant.config_entries import ConfigFlowResult

    from .api.models import Report, SystemInfo

CONF_CONFIGURE_DEVICE: Final = "configure_device"
CONF_BROKER_URL: Final = "url"
STEP_MQTT: Final = "mqtt"

MQTT_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_TOPIC): TextSelector(),
        vol.Optional(CONF_HOST): TextSelector(),
        vol.Optional(CONF_PASSWORD): TextSelector(
            TextSelectorConfig(type=TextSelectorType.PASSWORD)
        ),
        vol.Optional(CONF_CONFIGURE_DEVICE, default=False): BooleanSelector(),
    }
)
BROKER_SCHEMA = vol.Schema({vol.Required(CONF_BROKER_URL): TextSelector()})


class MqttFlowMixin(ReconfigureFlowMixin):
    """Steps ``mqtt``, ``mqtt_broker``, ``mqtt_wait`` and ``mqtt_finish``."""

    _host: str | None
    _transport: str
    _mqtt_topic: str = ""
    _mqtt_password: str | None = None
    _mqtt_system: SystemInfo | None = None
    _mqtt_interval: float | None = None
    _mqtt_device_id: str | None = None
    _mqtt_discovered_topic: str | None = None
    _mqtt_input: dict[str, Any] | None = None
    _mqtt_errors: dict[str, str] | None = None
    _mqtt_wait_task: asyncio.Task[Report | None] | None = None

    async def _async_probe(
        self, host: str, password: str | None
    ) -> tuple[SystemInfo | None, str | None]:
        """Read /api/v1/system (provided by the config flow)."""
        raise NotImplementedError

    async def async_step_mqtt(
        self, discovery_info: MqttServiceInfo | dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the topic (and optionally the device's address); or handle MQTT discovery."""
        if isinstance(discovery_info, MqttServiceInfo):
            return await self._async_mqtt_discovered(discovery_info)
        user_input = discovery_info
        self._transport = TRANSPORT_MQTT
        if not await mqtt.async_wait_for_mqtt_client(self.hass):
            return self.async_abort(reason="mqtt_not_configured")
        errors, self._mqtt_errors = self._mqtt_errors or {}, None
        if user_input is not None:
            self._mqtt_input = user_input
            errors = await self._async_mqtt_check(user_input)
            if not errors:
                return await self._async_mqtt_next(user_input)
        suggested = {
            key: value
            for key, value in (self._mqtt_input or self._stored_mqtt_input()).items()
            if key != CONF_PASSWORD
        }
        if CONF_TOPIC not in suggested:
            if self._mqtt_discovered_topic:
                suggested[CONF_TOPIC] = self._mqtt_discovered_topic
            elif self.source == SOURCE_RECONFIGURE and (
                device_id := self._get_reconfigure_entry().unique_id
            ):
                suggested[CONF_TOPIC] = default_topic(device_id)
        return self.async_show_form(
            step_id=STEP_MQTT,
            data_schema=self.add_suggested_values_to_schema(MQTT_SCHEMA, suggested),
            errors=errors,
        )

    def _stored_mqtt_input(self) -> dict[str, Any]:
        """Return the reconfigured entry's topic and address as suggestions."""
        return {
            key: value
            for key in (CONF_TOPIC, CONF_HOST)
            if (value := self._stored(key)) is not None
        }

    async def _async_mqtt_discovered(self, info: MqttServiceInfo) -> ConfigFlowResult:
        """Offer the device whose message arrived on the manifest's topic."""
        try:
            report = parse_mqtt_payload(as_bytes(info.payload))
        except WhatwattInvalidResponseError:
            return self.async_abort(reason="invalid_discovery_info")
        if report.device_id is None or topic_error(info.topic):
            return self.async_abort(reason="invalid_discovery_info")
        await self.async_set_unique_id(report.device_id)
        self._abort_if_unique_id_configured()
        self._mqtt_device_id = report.device_id
        self._mqtt_discovered_topic = info.topic
        self.context["title_placeholders"] = {"name": device_title(None, report.device_id)}
        return await self.async_step_mqtt()

    async def _async_mqtt_check(self, user_input: dict[str, Any]) -> dict[str, str]:
        """Validate the form; probe the device when an address is given."""
        topic = str(user_input[CONF_TOPIC]).strip()
        if error := topic_error(topic):
            return {CONF_TOPIC: error}
        self._mqtt_topic = topic
        self._host = self._mqtt_password = self._mqtt_system = self._mqtt_interval = None
        host_text = str(user_input.get(CONF_HOST) or "").strip()
        password = user_input.get(CONF_PASSWORD) or self._stored_password
        if not host_text:
            if user_input.get(CONF_CONFIGURE_DEVICE):
                return {CONF_HOST: "host_required_to_configure"}
            return {}
        try:
            host = normalize_host(host_text)
        except ValueError:
            return {CONF_HOST: "invalid_host"}
        system, error = await self._async_probe(host, password)
        if error == "invalid_auth":
            return {CONF_PASSWORD: "invalid_auth" if password else "password_required"}
        if system is None:
            return {"base": error or "unknown"}
        if not system.is_licensed:
            return {"base": "mqtt_license_free"}
        self._host, self._mqtt_password, self._mqtt_system = host, password, system
        try:
            settings = await self._mqtt_client().get_settings()
        except WhatwattError:
            settings = None
        if settings is not None and settings.report_interval:
            self._mqtt_interval = float(settings.report_interval)
        return {}

    def _mqtt_client(self) -> WhatwattClient:
        assert self._host is not None
        return WhatwattClient(async_get_clientsession(self.hass), self._host, self._mqtt_password)

    async def _async_mqtt_next(self, user_input: dict[str, Any]) -> ConfigFlowResult:
        """After a valid form: configure the device, or wait for its first message."""
        if self._mqtt_system is not None:
            await self.async_set_unique_id(self._mqtt_system.device_id, raise_on_progress=False)
            if self._reconfiguring:
                self._abort_if_unique_id_mismatch(reason="wrong_device")
            else:
                self._abort_if_unique_id_configured()
        if user_input.get(CONF_CONFIGURE_DEVICE):
            broker = broker_fields(self.hass)
            if broker is None:
                return await self.async_step_mqtt_broker()
            if error := await self._async_mqtt_provision(broker):
                return self.async_show_form(
                    step_id=STEP_MQTT,
                    data_schema=self.add_suggested_values_to_schema(
                        MQTT_SCHEMA, {CONF_TOPIC: self._mqtt_topic, CONF_HOST: self._host}
                    ),
                    errors={"base": error},
                )
            return await self.async_step_mqtt_wait()
        if (
            self._mqtt_system is None
            and self._mqtt_device_id is not None
            and self._mqtt_topic == self._mqtt_discovered_topic
        ):
            # Discovered on this very topic: its message already told the device id.
            return await self.async_step_mqtt_finish()
        return await self.async_step_mqtt_wait()

    async def async_step_mqtt_broker(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the broker address the device should use (Home Assistant's is local only)."""
        errors: dict[str, str] = {}
        if user_input is not None:
            try:
                url = normalize_broker_url(str(user_input[CONF_BROKER_URL]))
            except ValueError:
                errors[CONF_BROKER_URL] = "invalid_broker_url"
            else:
                error = await self._async_mqtt_provision(
                    {CONF_BROKER_URL: url, **broker_credentials(self.hass)}
                )
                if error is None:
                    return await self.async_step_mqtt_wait()
                errors["base"] = error
        return self.async_show_form(
            step_id="mqtt_broker",
            data_schema=self.add_suggested_values_to_schema(BROKER_SCHEMA, user_input),
            errors=errors,
            description_placeholders={"broker": broker_host(self.hass) or "-"},
        )

    async def _async_mqtt_provision(self, broker: dict[str, Any]) -> str | None:
        """Write the device's MQTT settings (partial PUT); return an error key or None."""
        assert self._mqtt_system is not None
        body = provisioning_body(self._mqtt_system.device_id, self._mqtt_topic, broker)
        try:
            await self._mqtt_client().update_mqtt_settings(body)
        except WhatwattAuthError:
            return "invalid_auth"
        except WhatwattTimeoutError:
            return "timeout"
        except WhatwattRequestError:
            return "provisioning_rejected"
        except WhatwattError:
            return "cannot_connect"
        return None

    async def async_step_mqtt_wait(
        self,
        user_input: dict[str, Any] | None = None,  # noqa: ARG002
    ) -> ConfigFlowResult:
        """Wait (bounded) for the first message on the topic."""
        if self._mqtt_wait_task is None:
            known = self._mqtt_system.device_id if self._mqtt_system else None
            self._mqtt_wait_task = self.hass.async_create_task(
                async_wait_for_first_message(
                    self.hass,
                    self._mqtt_topic,
                    known,
                    first_message_timeout(self._mqtt_interval),
                )
            )
        if not self._mqtt_wait_task.done():
            return self.async_show_progress(
                step_id="mqtt_wait",
                progress_action="mqtt_wait",
                progress_task=self._mqtt_wait_task,
                description_placeholders={"topic": self._mqtt_topic},
            )
        task, self._mqtt_wait_task = self._mqtt_wait_task, None
        report = task.result()
        if report is None:
            self._mqtt_errors = {"base": "no_message"}
            return self.async_show_progress_done(next_step_id=STEP_MQTT)
        if self._mqtt_system is not None:
            self._mqtt_device_id = self._mqtt_system.device_id
        else:
            self._mqtt_device_id = report.device_id
        return self.async_show_progress_done(next_step_id="mqtt_finish")

    async def async_step_mqtt_finish(
        self,
        user_input: dict[str, Any] | None = None,  # noqa: ARG002
    ) -> ConfigFlowResult:
        """Create the entry (the device id is known now)."""
        device_id = self._mqtt_device_id
        assert device_id is not None
        data: dict[str, Any] = {CONF_TRANSPORT: TRANSPORT_MQTT, CONF_TOPIC: self._mqtt_topic}
        if self._host:
            data[CONF_HOST] = self._host
            if self._mqtt_password:
                data[CONF_PASSWORD] = self._mqtt_password
        if self._reconfiguring:
            return await self._async_reconfigure_entry(device_id, data)
        await self.async_set_unique_id(device_id, raise_on_progress=False)
        self._abort_if_unique_id_configured()
        name = self._mqtt_system.name if self._mqtt_system is not None else None
        return self.async_create_entry(title=device_title(name, device_id), data=data)
