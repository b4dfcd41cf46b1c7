"""Config flow of the whatwatt Go integration: set-up, discovery, reauth, reconfigure."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.components import mqtt
from homeassistant.config_entries import (
    SOURCE_REAUTH,
    SOURCE_RECONFIGURE,
    SOURCE_USER,
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
from .api.parse_common import as_device_id
from .api.requests import CONFIGURE_DEVICE, URL, broker_form_fields, without_password
from .const import (
    CONF_TRANSPORT,
    DOMAIN,
    TRANSPORT_LIVE,
    TRANSPORT_MQTT,
    TRANSPORT_REST,
    TRANSPORTS,
    device_title,
    options_for_transport,
    transport_of,
)
from .device_control import async_provision_mqtt
from .errors import AUTH_ERROR, form_error
from .migration import ENTRY_VERSION, async_adopt, learns_device_id
from .mqtt_setup import (
    BROKER_SCHEMA,
    HOST_SCHEMA,
    MQTT_SCHEMA,
    PASSWORD_SCHEMA,
    MqttBranch,
    async_read_system,
    broker_host,
    proposed_broker,
)
from .submeter import WhatwattOptionsFlow

if TYPE_CHECKING:
    from collections.abc import Mapping
    import sys

    from homeassistant.helpers.service_info.mqtt import MqttServiceInfo
    from homeassistant.helpers.service_info.zeroconf import ZeroconfServiceInfo

    from .api.models import SystemInfo

    if sys.version_info >= (3, 14):
        import probatio as vol  # Home Assistant 2026.x validates with it (as ``voluptuous``)
    else:
        import voluptuous as vol

type StepInput = dict[str, Any] | None  # what a form step is given (None: show the form)


class WhatwattConfigFlow(ConfigFlow, domain=DOMAIN):
    """Add a whatwatt Go, re-authenticate it, or change how its data arrives."""

    VERSION = ENTRY_VERSION  # 2: the vendor's entries (version 1) are taken over

    def __init__(self) -> None:
        """Start with nothing known."""
        self._host: str | None = None
        self._transport = TRANSPORT_REST
        self._mqtt = MqttBranch()

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ConfigEntry) -> WhatwattOptionsFlow:  # noqa: ARG004
        """Return the options flow."""
        return WhatwattOptionsFlow()

    @callback
    def async_remove(self) -> None:
        """End the first-message wait (task and subscription) with the flow."""
        self._mqtt.cancel_wait()

    def _entry(self) -> ConfigEntry | None:
        """Return the reconfigured entry (None in other flows)."""
        return self._get_reconfigure_entry() if self.source == SOURCE_RECONFIGURE else None

    def _stored(self, key: str) -> Any:
        """Return a value of the reconfigured entry's data (None in other flows)."""
        return entry.data.get(key) if (entry := self._entry()) is not None else None

    def _form(
        self,
        step_id: str,
        schema: vol.Schema,
        suggested: Mapping[str, Any] | None,
        errors: dict[str, str],
        placeholders: dict[str, str] | None = None,
    ) -> ConfigFlowResult:
        """Show a form with ``suggested`` values, ``errors`` and ``placeholders``."""
        return self.async_show_form(
            step_id=step_id,
            data_schema=self.add_suggested_values_to_schema(schema, suggested),
            errors=errors,
            description_placeholders=placeholders,
        )

    def _other_device(self, device_id: str | None) -> bool:
        """Return True when reconfigure reached another device than the entry's."""
        if (entry := self._entry()) is None or device_id is None:
            return False
        return not learns_device_id(entry) and entry.unique_id != device_id

    def _license_menu(self) -> ConfigFlowResult:
        """Offer the live stream (FREE allows neither REST nor MQTT) or the transport menu."""
        back = "reconfigure" if self._entry() is not None else "user"
        return self.async_show_menu(step_id="license_free", menu_options=[TRANSPORT_LIVE, back])

    async def _async_probe_and_finish(
        self, password: str | None, errors: dict[str, str], *, ask_password: bool = True
    ) -> ConfigFlowResult | None:
        """Add the device at ``self._host``, or ask for its password; else None (``errors``)."""
        assert self._host is not None
        client = WhatwattClient(async_get_clientsession(self.hass), self._host, password)
        system, error = await async_read_system(client)
        if system is not None and self._other_device(system.device_id):
            error = "wrong_device"
        elif system is not None:
            asked = self.source in (SOURCE_USER, SOURCE_RECONFIGURE)
            if asked and self._transport == TRANSPORT_REST and not system.is_licensed:
                return self._license_menu()
            return await self._async_finish(system, password)
        assert error is not None
        if error == AUTH_ERROR and ask_password:
            return await self.async_step_password()
        errors["base"] = error
        return None

    async def _async_finish(self, system: SystemInfo, password: str | None) -> ConfigFlowResult:
        """Add the device at ``self._host`` (REST, live), update its entry or its password."""
        assert self._host is not None
        if self.source == SOURCE_REAUTH:
            await self.async_set_unique_id(system.device_id)
            self._abort_if_unique_id_mismatch(reason="wrong_device")
            return self.async_update_reload_and_abort(
                self._get_reauth_entry(), data_updates={CONF_PASSWORD: password}
            )
        if self.source == SOURCE_ZEROCONF and not system.is_licensed:  # REST polling needs Plus
            self._transport = TRANSPORT_LIVE
        address = {CONF_HOST: self._host} | ({CONF_PASSWORD: password} if password else {})
        await self._async_claim(system.device_id, updates=address)
        data = {**address, CONF_TRANSPORT: self._transport}
        return self._save(system.device_id, system.name, data)

    async def _async_claim(
        self, device_id: str, updates: dict[str, Any] | None = None, *, discovered: bool = False
    ) -> None:
        """Make ``device_id`` the flow's device; abort when it is added already."""
        await self.async_set_unique_id(device_id, raise_on_progress=discovered)
        if self._entry() is not None:
            return
        known = self.hass.config_entries.async_entry_for_domain_unique_id(DOMAIN, device_id)
        if known is not None and CONF_HOST not in known.data:
            updates = None  # an MQTT-only entry gets its address through reconfigure only
        error = "already_configured" if updates else "already_configured_kept"
        self._abort_if_unique_id_configured(updates=updates, error=error)

    def _save(self, device_id: str, name: str | None, data: dict[str, Any]) -> ConfigFlowResult:
        """Create the claimed device's entry, or store ``data`` on the reconfigured entry."""
        if (entry := self._entry()) is None:
            return self.async_create_entry(
                title=device_title(name, device_id),
                data=data,
                options=options_for_transport(self._transport, {}),
            )
        if learns_device_id(entry) and not async_adopt(self.hass, entry, device_id):
            return self.async_abort(reason="vendor_device_taken")
        return self.async_update_reload_and_abort(
            entry, data=data, options=options_for_transport(self._transport, entry.options)
        )

    async def async_step_user(self, user_input: StepInput = None) -> ConfigFlowResult:  # noqa: ARG002
        """Let the user choose how the data reaches Home Assistant."""
        return self.async_show_menu(step_id="user", menu_options=list(TRANSPORTS))

    async def async_step_rest(self, user_input: StepInput = None) -> ConfigFlowResult:
        """Ask for the address of a device to poll over REST."""
        return await self._async_step_address(TRANSPORT_REST, user_input)

    async def async_step_live(self, user_input: StepInput = None) -> ConfigFlowResult:
        """Ask for the address of a device to follow through its live stream."""
        return await self._async_step_address(TRANSPORT_LIVE, user_input)

    async def _async_step_address(self, transport: str, user_input: StepInput) -> ConfigFlowResult:
        """Validate an address and probe the device behind it (steps ``rest`` and ``live``)."""
        self._transport = transport
        errors: dict[str, str] = {}
        if user_input is not None:
            try:
                self._host = normalize_host(user_input[CONF_HOST])
            except ValueError:
                errors[CONF_HOST] = "invalid_host"
            else:
                password = self._stored(CONF_PASSWORD) or None
                if (result := await self._async_probe_and_finish(password, errors)) is not None:
                    return result
        return self._address_form(errors, user_input)

    def _address_form(
        self, errors: dict[str, str], user_input: StepInput = None
    ) -> ConfigFlowResult:
        """Show the address form: as typed, else the address known (typed or the entry's)."""
        host = self._host or self._stored(CONF_HOST)
        suggested = user_input or ({CONF_HOST: host} if host else None)
        return self._form(self._transport, HOST_SCHEMA, suggested, errors)

    async def async_step_password(
        self, user_input: StepInput = None, step_id: str = "password", name: str | None = None
    ) -> ConfigFlowResult:
        """Ask for the password of a protected device (also as ``reauth_confirm``)."""
        assert self._host is not None
        errors: dict[str, str] = {}
        if user_input is not None:
            password = user_input[CONF_PASSWORD]
            result = await self._async_probe_and_finish(password, errors, ask_password=False)
            if result is not None:
                return result
            if errors.get("base") == "wrong_device":  # the address is to be corrected
                return self._address_form(errors)
        placeholders = {"host": self._host} | ({"name": name} if name is not None else {})
        return self._form(step_id, PASSWORD_SCHEMA, None, errors, placeholders)

    async def async_step_mqtt(
        self,
        discovery_info: MqttServiceInfo | None = None,  # noqa: ARG002
    ) -> ConfigFlowResult:
        """Open the MQTT branch: the menu's option ``mqtt`` (there is no MQTT discovery)."""
        return await self.async_step_mqtt_topic()

    async def async_step_mqtt_topic(self, user_input: StepInput = None) -> ConfigFlowResult:
        """Ask for the topic (and optionally the device's address); then configure or wait."""
        self._transport = TRANSPORT_MQTT
        if not await mqtt.async_wait_for_mqtt_client(self.hass):
            return self.async_abort(reason="mqtt_not_configured")
        errors, self._mqtt.errors = self._mqtt.errors or {}, None
        if user_input is not None:
            errors = await self._mqtt.async_check(
                self.hass, user_input, self._stored(CONF_PASSWORD)
            )
            self._host = self._mqtt.host
            if errors.get("base") == "license_free":
                return self._license_menu()
            device_id = self._mqtt.device_id  # known when the device was read over REST
            if not errors and self._other_device(device_id):
                errors = {"base": "wrong_device"}
            if not errors:
                if device_id is not None:  # abort early for an added device
                    await self._async_claim(device_id)
                if user_input.get(CONFIGURE_DEVICE):
                    return await self.async_step_mqtt_broker()
                return await self.async_step_mqtt_wait()
        return self._form("mqtt_topic", MQTT_SCHEMA, self._mqtt.suggestions(self._entry()), errors)

    async def async_step_mqtt_broker(self, user_input: StepInput = None) -> ConfigFlowResult:
        """Ask for the broker the device should use and its own user there; then configure it."""
        client, device_id = self._mqtt.client, self._mqtt.device_id
        assert client is not None
        assert device_id is not None
        proposed = proposed_broker(self.hass) or {}
        errors: dict[str, str] = {}
        suggested = {URL: proposed[URL]} if proposed else {}
        if user_input is not None:
            suggested = without_password(user_input)
            broker, errors = broker_form_fields(user_input, proposed)
            if not errors:
                try:
                    await async_provision_mqtt(client, device_id, self._mqtt.topic, broker)
                except WhatwattError as err:
                    errors["base"] = form_error(err, rejected="provisioning_rejected")
                else:
                    return await self.async_step_mqtt_wait()
        placeholders = {"broker": broker_host(self.hass) or "-"}
        return self._form("mqtt_broker", BROKER_SCHEMA, suggested, errors, placeholders)

    async def async_step_mqtt_wait(self, user_input: StepInput = None) -> ConfigFlowResult:  # noqa: ARG002
        """Wait (bounded) for the first message on the topic; none leads back to the form."""
        task = self._mqtt.start_wait(self.hass)
        if not task.done():
            return self.async_show_progress(
                step_id="mqtt_wait",
                progress_action="mqtt_wait",
                progress_task=task,
                description_placeholders={"topic": self._mqtt.topic},
            )
        error = self._mqtt.end_wait()
        if error is None and self._other_device(self._mqtt.device_id):
            error = "wrong_device"
        self._mqtt.errors = {"base": error} if error else None  # shown by the form again
        return self.async_show_progress_done(next_step_id="mqtt_topic" if error else "mqtt_finish")

    async def async_step_mqtt_finish(self, user_input: StepInput = None) -> ConfigFlowResult:  # noqa: ARG002
        """Create the MQTT entry, or update the reconfigured one (the device id is known now)."""
        device_id = self._mqtt.device_id
        assert device_id is not None
        await self._async_claim(device_id)
        name = self._mqtt.system.name if self._mqtt.system is not None else None
        return self._save(device_id, name, self._mqtt.entry_data())

    async def async_step_zeroconf(self, discovery_info: ZeroconfServiceInfo) -> ConfigFlowResult:
        """Handle a whatwatt Go announced over mDNS."""
        device_id = as_device_id(discovery_info.properties.get("id"))
        if device_id is None:  # 12 hexadecimal digits, as every path that learns one
            return self.async_abort(reason="not_whatwatt_device")
        address = discovery_info.ip_address
        host = f"[{address}]" if address.version == 6 else str(address)
        port = f":{discovery_info.port}" if discovery_info.port else ""
        self._host = normalize_host(host + port)
        await self._async_claim(device_id, {CONF_HOST: self._host}, discovered=True)
        self.context["title_placeholders"] = {"name": device_title(None, device_id)}
        return await self.async_step_discovery_confirm()

    async def async_step_discovery_confirm(self, user_input: StepInput = None) -> ConfigFlowResult:
        """Confirm adding a discovered device."""
        assert self._host is not None
        errors: dict[str, str] = {}
        if user_input is not None and (result := await self._async_probe_and_finish(None, errors)):
            return result
        self._set_confirm_only()
        placeholders = {"name": self.context["title_placeholders"]["name"], "host": self._host}
        return self.async_show_form(
            step_id="discovery_confirm", errors=errors, description_placeholders=placeholders
        )

    async def async_step_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        """Start re-authentication when the password stopped working."""
        self._host = entry_data[CONF_HOST]
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(self, user_input: StepInput = None) -> ConfigFlowResult:
        """Ask for the new password."""
        name = self._get_reauth_entry().title
        return await self.async_step_password(user_input, "reauth_confirm", name)

    async def async_step_reconfigure(self, user_input: StepInput = None) -> ConfigFlowResult:  # noqa: ARG002
        """Let the user choose the transport again (the current one to change the address)."""
        entry = self._get_reconfigure_entry()
        return self.async_show_menu(
            step_id=f"reconfigure_{transport_of(entry)}",  # its text names the current transport
            menu_options=list(TRANSPORTS),
            description_placeholders={"name": entry.title},
        )

    # Menus named otherwise than their step (Home Assistant wants a step of each menu's name).
    async_step_reconfigure_rest = async_step_reconfigure_mqtt = async_step_reconfigure
    async_step_reconfigure_live = async_step_reconfigure
    async_step_license_free = async_step_user
