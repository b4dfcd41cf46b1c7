"""Config flow of the whatwatt Go integration: every step, in the order a person meets them.

Set-up: menu ``user`` → ``rest`` or ``live`` (``host``) → ``password`` for a protected device;
or ``mqtt`` (``topic``; optional ``host``, ``password``, ``configure_device``) → ``mqtt_broker``
to configure the device (broker address proposed from Home Assistant's MQTT entry; the device's
own broker user) → ``mqtt_wait`` (first message on the topic) → ``mqtt_finish``. Discovery:
``zeroconf`` → ``discovery_confirm``. ``reauth`` → ``reauth_confirm``. ``reconfigure``: the same
menu and branches with the entry's values suggested, updating the entry of the same device.
Helpers: ``config_flow_helpers.py`` (schemas, REST probe) and ``mqtt_provision.py`` (broker
proposal, provisioning, first-message wait); options: ``config_flow_options.py``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.components import mqtt
from homeassistant.config_entries import (
    SOURCE_RECONFIGURE,
    SOURCE_ZEROCONF,
    ConfigEntry,
    ConfigFlow,
    ConfigFlowResult,
)
from homeassistant.const import CONF_HOST, CONF_PASSWORD
from homeassistant.core import callback
from homeassistant.helpers.aiohttp_client import async_get_clientsession

from .api.client import WhatwattClient, normalize_host
from .api.errors import WhatwattError
from .api.requests import topic_error
from .api.template import default_topic
from .config_flow_helpers import (
    BROKER_SCHEMA,
    CONF_BROKER_URL,
    CONF_CONFIGURE_DEVICE,
    HOST_SCHEMA,
    MQTT_SCHEMA,
    PASSWORD_SCHEMA,
    async_probe,
    broker_form_fields,
    discovered_host,
    options_for_transport,
    transport_of,
)
from .config_flow_options import WhatwattOptionsFlow, offers_options
from .const import (
    CONF_TOPIC,
    CONF_TRANSPORT,
    DOMAIN,
    TRANSPORT_LIVE,
    TRANSPORT_MQTT,
    TRANSPORT_REST,
    device_title,
)
from .device_control import async_provision_mqtt
from .errors import AUTH_ERROR, form_error
from .migration import ENTRY_VERSION, async_adopt, learns_device_id
from .mqtt_setup import FirstMessageWait, broker_host, first_message_timeout, proposed_broker

if TYPE_CHECKING:
    from collections.abc import Mapping

    from homeassistant.helpers.service_info.zeroconf import ZeroconfServiceInfo

    from .api.models import SystemInfo

TRANSPORTS = [TRANSPORT_REST, TRANSPORT_MQTT, TRANSPORT_LIVE]


class WhatwattConfigFlow(ConfigFlow, domain=DOMAIN):
    """Add a whatwatt Go, re-authenticate it, or change how its data arrives."""

    VERSION = ENTRY_VERSION  # 2: the vendor's entries (version 1) are taken over

    def __init__(self) -> None:
        """Start with nothing known."""
        self._host: str | None = None
        self._transport = TRANSPORT_REST
        # The ``mqtt`` branch: its form, the device probed over REST (when an address is
        # given), the device id (from REST or the first message) and the running wait.
        self._mqtt_topic = ""
        self._mqtt_password: str | None = None
        self._mqtt_system: SystemInfo | None = None
        self._mqtt_interval: float | None = None
        self._mqtt_device_id: str | None = None
        self._mqtt_input: dict[str, Any] | None = None
        self._mqtt_errors: dict[str, str] | None = None
        self._mqtt_wait: FirstMessageWait | None = None

    @classmethod
    @callback
    def async_supports_options_flow(cls, config_entry: ConfigEntry) -> bool:
        """Offer options: REST polling, and the kind of each sub-meter (every transport)."""
        return offers_options(config_entry)

    @staticmethod
    @callback
    def async_get_options_flow(
        config_entry: ConfigEntry,  # noqa: ARG004
    ) -> WhatwattOptionsFlow:
        """Return the options flow."""
        return WhatwattOptionsFlow()

    @callback
    def async_remove(self) -> None:
        """End the first-message wait (task and subscription) with the flow."""
        if self._mqtt_wait is not None:
            self._mqtt_wait.cancel()
            self._mqtt_wait = None

    # --- shared by the steps -------------------------------------------------------------

    @property
    def _reconfiguring(self) -> bool:
        """Return True in a reconfigure flow."""
        return self.source == SOURCE_RECONFIGURE

    def _stored(self, key: str) -> Any:
        """Return a value of the reconfigured entry's data (None in other flows)."""
        if not self._reconfiguring:
            return None
        return self._get_reconfigure_entry().data.get(key)

    def _client(self, host: str, password: str | None) -> WhatwattClient:
        return WhatwattClient(async_get_clientsession(self.hass), host, password)

    async def _async_probe(
        self, host: str, password: str | None
    ) -> tuple[SystemInfo | None, str | None]:
        """Read /api/v1/system; REST polling needs Plus (discovery falls back to live)."""
        licence_required = self._transport == TRANSPORT_REST and self.source != SOURCE_ZEROCONF
        return await async_probe(self._client(host, password), licence_required=licence_required)

    async def _async_finish(self, system: SystemInfo, password: str | None) -> ConfigFlowResult:
        """Create the entry, update the known one with the new address, or reconfigure."""
        assert self._host is not None
        if self.source == SOURCE_ZEROCONF and not system.is_licensed:
            # REST polling needs Plus; the live stream works on FREE (the form says so).
            self._transport = TRANSPORT_LIVE
        data: dict[str, Any] = {CONF_HOST: self._host}
        if password:
            data[CONF_PASSWORD] = password
        if self._reconfiguring:
            return await self._async_reconfigure_entry(
                system.device_id, {**data, CONF_TRANSPORT: self._transport}
            )
        await self.async_set_unique_id(system.device_id, raise_on_progress=False)
        self._abort_if_unique_id_configured(updates=data)
        data[CONF_TRANSPORT] = self._transport
        return self.async_create_entry(
            title=device_title(system.name, system.device_id),
            data=data,
            options=options_for_transport(self._transport, {}),
        )

    async def _async_reconfigure_entry(
        self, device_id: str, data: dict[str, Any]
    ) -> ConfigFlowResult:
        """Store the new data on the entry of the same device and reload it."""
        entry = self._get_reconfigure_entry()
        if learns_device_id(entry) and not async_adopt(self.hass, entry, device_id):
            return self.async_abort(reason="vendor_device_taken")
        await self.async_set_unique_id(device_id, raise_on_progress=False)
        self._abort_if_unique_id_mismatch(reason="wrong_device")
        return self.async_update_reload_and_abort(
            entry, data=data, options=options_for_transport(self._transport, entry.options)
        )

    # --- set-up: menu, REST and live ------------------------------------------------------

    async def async_step_user(
        self,
        user_input: dict[str, Any] | None = None,  # noqa: ARG002
    ) -> ConfigFlowResult:
        """Let the user choose how the data reaches Home Assistant."""
        return self.async_show_menu(step_id="user", menu_options=TRANSPORTS)

    async def async_step_rest(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask for the address of a device to poll over REST."""
        self._transport = TRANSPORT_REST
        return await self._async_step_address(TRANSPORT_REST, user_input)

    async def async_step_live(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask for the address of a device to follow through its live stream."""
        self._transport = TRANSPORT_LIVE
        return await self._async_step_address(TRANSPORT_LIVE, user_input)

    async def _async_step_address(
        self, step_id: str, user_input: dict[str, Any] | None
    ) -> ConfigFlowResult:
        """Validate an address and probe the device behind it (steps ``rest`` and ``live``)."""
        errors: dict[str, str] = {}
        if user_input is not None:
            try:
                host = normalize_host(user_input[CONF_HOST])
            except ValueError:
                errors[CONF_HOST] = "invalid_host"
            else:
                self._host = host
                password = self._stored(CONF_PASSWORD) or None
                system, error = await self._async_probe(host, password)
                if error == AUTH_ERROR:
                    return await self.async_step_password()
                if system is not None:
                    return await self._async_finish(system, password)
                assert error is not None
                errors["base"] = error
        stored_host = self._stored(CONF_HOST)
        return self.async_show_form(
            step_id=step_id,
            data_schema=self.add_suggested_values_to_schema(
                HOST_SCHEMA, user_input or ({CONF_HOST: stored_host} if stored_host else None)
            ),
            errors=errors,
        )

    async def async_step_password(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the password of a protected device."""
        assert self._host is not None
        errors: dict[str, str] = {}
        if user_input is not None:
            password = user_input[CONF_PASSWORD]
            system, error = await self._async_probe(self._host, password)
            if system is not None:
                return await self._async_finish(system, password)
            assert error is not None
            errors["base"] = error
        return self.async_show_form(
            step_id="password",
            data_schema=PASSWORD_SCHEMA,
            errors=errors,
            description_placeholders={"host": self._host},
        )

    # --- set-up: MQTT ---------------------------------------------------------------------

    async def async_step_mqtt(  # type: ignore[override]  # the menu option, not MQTT discovery
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the topic (and optionally the device's address)."""
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
        if (
            CONF_TOPIC not in suggested
            and self._reconfiguring
            and (device_id := self._get_reconfigure_entry().unique_id)
        ):
            suggested[CONF_TOPIC] = default_topic(device_id)
        return self.async_show_form(
            step_id="mqtt",
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

    async def _async_mqtt_check(self, user_input: dict[str, Any]) -> dict[str, str]:
        """Validate the form; probe the device when an address is given."""
        topic = str(user_input[CONF_TOPIC]).strip()
        if error := topic_error(topic):
            return {CONF_TOPIC: error}
        self._mqtt_topic = topic
        self._host = self._mqtt_password = self._mqtt_system = self._mqtt_interval = None
        host_text = str(user_input.get(CONF_HOST) or "").strip()
        password = user_input.get(CONF_PASSWORD) or self._stored(CONF_PASSWORD) or None
        if not host_text:
            if user_input.get(CONF_CONFIGURE_DEVICE):
                return {CONF_HOST: "host_required_to_configure"}
            return {}
        try:
            host = normalize_host(host_text)
        except ValueError:
            return {CONF_HOST: "invalid_host"}
        system, error = await self._async_probe(host, password)
        if error == AUTH_ERROR:
            return {CONF_PASSWORD: AUTH_ERROR if password else "password_required"}
        if system is None:
            return {"base": error or "unknown"}
        if not system.is_licensed:
            return {"base": "mqtt_license_free"}
        self._host, self._mqtt_password, self._mqtt_system = host, password, system
        try:
            settings = await self._client(host, password).get_settings()
        except WhatwattError:
            settings = None
        if settings is not None and settings.report_interval:
            self._mqtt_interval = float(settings.report_interval)
        return {}

    async def _async_mqtt_next(self, user_input: dict[str, Any]) -> ConfigFlowResult:
        """After a valid form: ask for the broker to configure, or wait for the first message."""
        if self._mqtt_system is not None:
            await self.async_set_unique_id(self._mqtt_system.device_id, raise_on_progress=False)
            if self._reconfiguring:
                if not learns_device_id(self._get_reconfigure_entry()):
                    self._abort_if_unique_id_mismatch(reason="wrong_device")
            else:
                self._abort_if_unique_id_configured()
        if user_input.get(CONF_CONFIGURE_DEVICE):
            return await self.async_step_mqtt_broker()
        return await self.async_step_mqtt_wait()

    async def async_step_mqtt_broker(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the broker the device should use and its own user there; then configure it.

        Home Assistant's broker address is proposed when the device can reach it there; Home
        Assistant's broker credentials are never used (the user name and password are the
        person's, optional for a broker that allows anonymous clients).
        """
        assert self._mqtt_system is not None
        proposed = proposed_broker(self.hass) or {}
        errors: dict[str, str] = {}
        if user_input is not None:
            broker, errors = broker_form_fields(user_input, proposed)
            if not errors:
                assert self._host is not None
                client = self._client(self._host, self._mqtt_password)
                device_id = self._mqtt_system.device_id
                try:
                    await async_provision_mqtt(client, device_id, self._mqtt_topic, broker)
                except WhatwattError as err:
                    errors["base"] = form_error(err, rejected="provisioning_rejected")
                else:
                    return await self.async_step_mqtt_wait()
        suggested = {CONF_BROKER_URL: proposed.get(CONF_BROKER_URL)} if proposed else {}
        if user_input is not None:
            suggested = {key: value for key, value in user_input.items() if key != CONF_PASSWORD}
        return self.async_show_form(
            step_id="mqtt_broker",
            data_schema=self.add_suggested_values_to_schema(BROKER_SCHEMA, suggested),
            errors=errors,
            description_placeholders={"broker": broker_host(self.hass) or "-"},
        )

    async def async_step_mqtt_wait(
        self,
        user_input: dict[str, Any] | None = None,  # noqa: ARG002
    ) -> ConfigFlowResult:
        """Wait (bounded) for the first message on the topic."""
        if self._mqtt_wait is None:
            known = self._mqtt_system.device_id if self._mqtt_system else None
            self._mqtt_wait = FirstMessageWait(
                self.hass, self._mqtt_topic, known, first_message_timeout(self._mqtt_interval)
            )
        task = self._mqtt_wait.task
        if not task.done():
            return self.async_show_progress(
                step_id="mqtt_wait",
                progress_action="mqtt_wait",
                progress_task=task,
                description_placeholders={"topic": self._mqtt_topic},
            )
        self._mqtt_wait = None
        report = task.result()
        if report is None:
            self._mqtt_errors = {"base": "no_message"}
            return self.async_show_progress_done(next_step_id="mqtt")
        if self._mqtt_system is not None:
            self._mqtt_device_id = self._mqtt_system.device_id
        else:
            self._mqtt_device_id = report.device_id
        return self.async_show_progress_done(next_step_id="mqtt_finish")

    async def async_step_mqtt_finish(
        self,
        user_input: dict[str, Any] | None = None,  # noqa: ARG002
    ) -> ConfigFlowResult:
        """Create the MQTT entry, or update the reconfigured one (the device id is known now)."""
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

    # --- discovery (zeroconf) -------------------------------------------------------------

    async def async_step_zeroconf(self, discovery_info: ZeroconfServiceInfo) -> ConfigFlowResult:
        """Handle a whatwatt Go announced over mDNS."""
        device_id = str(discovery_info.properties.get("id") or "").strip().upper()
        if not device_id:
            return self.async_abort(reason="not_whatwatt_device")
        host = discovered_host(discovery_info)
        await self.async_set_unique_id(device_id)
        known = self.hass.config_entries.async_entry_for_domain_unique_id(DOMAIN, device_id)
        # An MQTT-only entry stays so: its address is added by the user through reconfigure.
        moved = known is None or CONF_HOST in known.data
        self._abort_if_unique_id_configured(updates={CONF_HOST: host} if moved else None)
        self._host = host
        self._transport = TRANSPORT_REST
        self.context["title_placeholders"] = {"name": device_title(None, device_id)}
        return await self.async_step_discovery_confirm()

    async def async_step_discovery_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Confirm adding a discovered device."""
        assert self._host is not None
        errors: dict[str, str] = {}
        if user_input is not None:
            system, error = await self._async_probe(self._host, None)
            if error == AUTH_ERROR:
                return await self.async_step_password()
            if system is not None:
                return await self._async_finish(system, None)
            assert error is not None
            errors["base"] = error
        self._set_confirm_only()
        return self.async_show_form(
            step_id="discovery_confirm",
            errors=errors,
            description_placeholders={
                "name": self.context["title_placeholders"]["name"],
                "host": self._host,
            },
        )

    # --- reauth and reconfigure -----------------------------------------------------------

    async def async_step_reauth(
        self,
        entry_data: Mapping[str, Any],  # noqa: ARG002
    ) -> ConfigFlowResult:
        """Start re-authentication when the password stopped working."""
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the new password."""
        entry = self._get_reauth_entry()
        self._transport = transport_of(entry)
        errors: dict[str, str] = {}
        if user_input is not None:
            password = user_input[CONF_PASSWORD]
            system, error = await self._async_probe(entry.data[CONF_HOST], password)
            if system is not None:
                await self.async_set_unique_id(system.device_id)
                self._abort_if_unique_id_mismatch(reason="wrong_device")
                return self.async_update_reload_and_abort(
                    entry, data_updates={CONF_PASSWORD: password}
                )
            assert error is not None
            errors["base"] = error
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=PASSWORD_SCHEMA,
            errors=errors,
            description_placeholders={"name": entry.title, "host": entry.data[CONF_HOST]},
        )

    async def async_step_reconfigure(
        self,
        user_input: dict[str, Any] | None = None,  # noqa: ARG002
    ) -> ConfigFlowResult:
        """Let the user choose the transport again (the current one to change the address).

        The chosen branch validates like set-up (address, password, licence, topic, first
        message) with the entry's values suggested and its stored password tried first.
        """
        entry = self._get_reconfigure_entry()
        return self.async_show_menu(
            step_id="reconfigure",
            menu_options=TRANSPORTS,
            # The menu's title gets no placeholders on older frontends: name it in the text.
            description_placeholders={"name": entry.title, "current": transport_of(entry)},
        )
