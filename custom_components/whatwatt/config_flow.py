"""Config flow and options flow of the whatwatt Go integration.

Set-up starts with the menu ``user``: how the data reaches Home Assistant.

- ``rest`` or ``live``: the device's address (``host``); ``password`` for a protected device.
- ``mqtt`` opens ``mqtt_topic``: the topic (``topic``; optionally ``host``, ``password``,
  ``configure_device``); ``mqtt_broker`` configures the device if asked; ``mqtt_wait`` waits
  for the first message on the topic; ``mqtt_finish`` adds the device.

Discovery: ``zeroconf`` → ``discovery_confirm`` (→ ``password``). ``reauth`` →
``reauth_confirm``. ``reconfigure``: the same menu and branches with the entry's values
suggested. Options (``init``): the polling interval of a REST entry, the kind of each
sub-meter, the demand's window and peaks (every entry). The MQTT forms, checks, broker
proposal and first-message wait: ``mqtt_setup.py``.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, Final

from homeassistant.components import mqtt
from homeassistant.config_entries import (
    SOURCE_REAUTH,
    SOURCE_RECONFIGURE,
    SOURCE_ZEROCONF,
    ConfigEntry,
    ConfigEntryState,
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlow,
)
from homeassistant.const import CONF_HOST, CONF_PASSWORD
from homeassistant.core import callback
from homeassistant.helpers import selector
from homeassistant.helpers.aiohttp_client import async_get_clientsession

from .api.client import WhatwattClient, normalize_host
from .api.errors import WhatwattError
from .api.parse_common import as_device_id
from .api.totals import volume_key
from .const import (
    CONF_SCAN_INTERVAL,
    CONF_TRANSPORT,
    DEFAULT_SCAN_INTERVAL,
    DOMAIN,
    LOGGER,
    MAX_SCAN_INTERVAL,
    MIN_SCAN_INTERVAL,
    TRANSPORT_LIVE,
    TRANSPORT_MQTT,
    TRANSPORT_REST,
    device_title,
)
from .demand import demand_fields, demand_options
from .device_control import async_provision_mqtt
from .errors import AUTH_ERROR, form_error
from .migration import ENTRY_VERSION, async_adopt, learns_device_id
from .mqtt_setup import (
    BROKER_SCHEMA,
    CONF_CONFIGURE_DEVICE,
    MQTT_SCHEMA,
    MqttBranch,
    broker_form_fields,
    broker_host,
    broker_suggestions,
    proposed_broker,
)
from .submeter import KINDS, async_apply_kinds, kind_of, option_buses, submeter_names

if TYPE_CHECKING and sys.version_info >= (3, 14):
    import probatio as vol  # Home Assistant 2026.x validates with it (as ``voluptuous``)
else:
    import voluptuous as vol

if TYPE_CHECKING:
    from collections.abc import Mapping

    from homeassistant.helpers.service_info.mqtt import MqttServiceInfo
    from homeassistant.helpers.service_info.zeroconf import ZeroconfServiceInfo

    from .api.models import SystemInfo

TRANSPORTS: Final = [TRANSPORT_REST, TRANSPORT_MQTT, TRANSPORT_LIVE]

HOST_SCHEMA: Final = vol.Schema({vol.Required(CONF_HOST): selector.TextSelector()})
PASSWORD_SELECTOR: Final = selector.TextSelector(
    selector.TextSelectorConfig(type=selector.TextSelectorType.PASSWORD)
)
PASSWORD_SCHEMA: Final = vol.Schema({vol.Required(CONF_PASSWORD): PASSWORD_SELECTOR})
SCAN_INTERVAL_SELECTOR: Final = selector.NumberSelector(
    selector.NumberSelectorConfig(
        min=MIN_SCAN_INTERVAL,
        max=MAX_SCAN_INTERVAL,
        step=1,
        mode=selector.NumberSelectorMode.BOX,
        unit_of_measurement="s",
    )
)
KIND_SELECTOR: Final = selector.SelectSelector(
    selector.SelectSelectorConfig(
        options=list(KINDS),
        translation_key="volume_kind",
        mode=selector.SelectSelectorMode.DROPDOWN,
    )
)


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

    async def _async_probe(self, client: WhatwattClient) -> tuple[SystemInfo | None, str | None]:
        """Read /api/v1/system: the system information, or a form error key (REST needs Plus)."""
        try:
            system = await client.get_system()
        except WhatwattError as err:
            return None, form_error(err)
        except Exception:  # noqa: BLE001 - anything unexpected becomes a form error
            LOGGER.exception("Unexpected error while probing %s", client.host)
            return None, "unknown"
        rest = self._transport == TRANSPORT_REST and self.source != SOURCE_ZEROCONF
        if rest and not system.is_licensed:
            return None, "license_free"
        return system, None

    async def _async_probe_and_finish(
        self, password: str | None, errors: dict[str, str], *, ask_password: bool = True
    ) -> ConfigFlowResult | None:
        """Add the device at ``self._host``, or ask for its password; else None (``errors``)."""
        assert self._host is not None
        system, error = await self._async_probe(self._client(self._host, password))
        if system is not None:
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
        if self.source == SOURCE_ZEROCONF and not system.is_licensed:
            # REST polling needs Plus; the live stream works on FREE (the form says so).
            self._transport = TRANSPORT_LIVE
        address: dict[str, Any] = {CONF_HOST: self._host}
        if password:
            address[CONF_PASSWORD] = password
        await self._async_claim(system.device_id, updates=address)
        data = {**address, CONF_TRANSPORT: self._transport}
        return self._save(system.device_id, system.name, data)

    async def _async_claim(self, device_id: str, updates: dict[str, Any] | None = None) -> None:
        """Make ``device_id`` the flow's device, or abort.

        Abort when it is added already (its entry takes ``updates``) or, on reconfigure, when it
        is another device than the entry's.
        """
        await self.async_set_unique_id(device_id, raise_on_progress=False)
        if not self._reconfiguring:
            self._abort_if_unique_id_configured(updates=updates)
        elif not learns_device_id(self._get_reconfigure_entry()):
            self._abort_if_unique_id_mismatch(reason="wrong_device")

    def _save(self, device_id: str, name: str | None, data: dict[str, Any]) -> ConfigFlowResult:
        """Create the claimed device's entry, or store ``data`` on the reconfigured entry."""
        if not self._reconfiguring:
            return self.async_create_entry(
                title=device_title(name, device_id),
                data=data,
                options=options_for_transport(self._transport, {}),
            )
        entry = self._get_reconfigure_entry()
        # An entry taken over from the vendor's integration learns its device now.
        if learns_device_id(entry) and not async_adopt(self.hass, entry, device_id):
            return self.async_abort(reason="vendor_device_taken")
        return self.async_update_reload_and_abort(
            entry, data=data, options=options_for_transport(self._transport, entry.options)
        )

    async def async_step_user(
        self,
        user_input: dict[str, Any] | None = None,  # noqa: ARG002
    ) -> ConfigFlowResult:
        """Let the user choose how the data reaches Home Assistant."""
        return self.async_show_menu(step_id="user", menu_options=TRANSPORTS)

    async def async_step_rest(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask for the address of a device to poll over REST."""
        return await self._async_step_address(TRANSPORT_REST, user_input)

    async def async_step_live(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask for the address of a device to follow through its live stream."""
        return await self._async_step_address(TRANSPORT_LIVE, user_input)

    async def _async_step_address(
        self, transport: str, user_input: dict[str, Any] | None
    ) -> ConfigFlowResult:
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
        stored_host = self._stored(CONF_HOST)
        return self.async_show_form(
            step_id=transport,
            data_schema=self.add_suggested_values_to_schema(
                HOST_SCHEMA, user_input or ({CONF_HOST: stored_host} if stored_host else None)
            ),
            errors=errors,
        )

    async def async_step_password(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the password of a protected device."""
        return await self._async_step_password("password", user_input, {})

    async def _async_step_password(
        self, step_id: str, user_input: dict[str, Any] | None, placeholders: dict[str, str]
    ) -> ConfigFlowResult:
        """Try a password on the device at ``self._host`` (``password``, ``reauth_confirm``)."""
        assert self._host is not None
        errors: dict[str, str] = {}
        if user_input is not None:
            password = user_input[CONF_PASSWORD]
            result = await self._async_probe_and_finish(password, errors, ask_password=False)
            if result is not None:
                return result
        return self.async_show_form(
            step_id=step_id,
            data_schema=PASSWORD_SCHEMA,
            errors=errors,
            description_placeholders={**placeholders, "host": self._host},
        )

    async def async_step_mqtt(
        self,
        discovery_info: MqttServiceInfo | None = None,  # noqa: ARG002
    ) -> ConfigFlowResult:
        """Open the MQTT branch: the menu's option ``mqtt`` (there is no MQTT discovery)."""
        return await self.async_step_mqtt_topic()

    async def async_step_mqtt_topic(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the topic (and optionally the device's address); then configure or wait."""
        self._transport = TRANSPORT_MQTT
        if not await mqtt.async_wait_for_mqtt_client(self.hass):
            return self.async_abort(reason="mqtt_not_configured")
        errors, self._mqtt.errors = self._mqtt.errors or {}, None
        if user_input is not None:
            stored_password = self._stored(CONF_PASSWORD)
            errors = await self._mqtt.async_check(
                self.hass, user_input, stored_password, self._async_probe
            )
            if not errors:
                if self._mqtt.system is not None:  # abort early for an added or wrong device
                    await self._async_claim(self._mqtt.system.device_id)
                if user_input.get(CONF_CONFIGURE_DEVICE):
                    return await self.async_step_mqtt_broker()
                return await self.async_step_mqtt_wait()
        entry = self._get_reconfigure_entry() if self._reconfiguring else None
        return self.async_show_form(
            step_id="mqtt_topic",
            data_schema=self.add_suggested_values_to_schema(
                MQTT_SCHEMA, self._mqtt.suggestions(entry)
            ),
            errors=errors,
        )

    async def async_step_mqtt_broker(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the broker the device should use and its own user there; then configure it.

        Home Assistant's broker address is proposed; its login is never used (``mqtt_setup``).
        """
        host, system = self._mqtt.host, self._mqtt.system
        assert host is not None
        assert system is not None
        proposed = proposed_broker(self.hass) or {}
        errors: dict[str, str] = {}
        if user_input is not None:
            broker, errors = broker_form_fields(user_input, proposed)
            if not errors:
                client = self._client(host, self._mqtt.password)
                try:
                    await async_provision_mqtt(client, system.device_id, self._mqtt.topic, broker)
                except WhatwattError as err:
                    errors["base"] = form_error(err, rejected="provisioning_rejected")
                else:
                    return await self.async_step_mqtt_wait()
        return self.async_show_form(
            step_id="mqtt_broker",
            data_schema=self.add_suggested_values_to_schema(
                BROKER_SCHEMA, broker_suggestions(user_input, proposed)
            ),
            errors=errors,
            description_placeholders={"broker": broker_host(self.hass) or "-"},
        )

    async def async_step_mqtt_wait(
        self,
        user_input: dict[str, Any] | None = None,  # noqa: ARG002
    ) -> ConfigFlowResult:
        """Wait (bounded) for the first message on the topic; none leads back to the form."""
        task = self._mqtt.start_wait(self.hass)
        if not task.done():
            return self.async_show_progress(
                step_id="mqtt_wait",
                progress_action="mqtt_wait",
                progress_task=task,
                description_placeholders={"topic": self._mqtt.topic},
            )
        if not self._mqtt.end_wait():
            return self.async_show_progress_done(next_step_id="mqtt_topic")
        return self.async_show_progress_done(next_step_id="mqtt_finish")

    async def async_step_mqtt_finish(
        self,
        user_input: dict[str, Any] | None = None,  # noqa: ARG002
    ) -> ConfigFlowResult:
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
        host = normalize_host(f"{host}:{discovery_info.port}" if discovery_info.port else host)
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
        if user_input is not None and (result := await self._async_probe_and_finish(None, errors)):
            return result
        self._set_confirm_only()
        return self.async_show_form(
            step_id="discovery_confirm",
            errors=errors,
            description_placeholders={
                "name": self.context["title_placeholders"]["name"],
                "host": self._host,
            },
        )

    async def async_step_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        """Start re-authentication when the password stopped working."""
        self._host = entry_data[CONF_HOST]
        self._transport = transport_of(self._get_reauth_entry())
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the new password."""
        name = self._get_reauth_entry().title
        return await self._async_step_password("reauth_confirm", user_input, {"name": name})

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


class WhatwattOptionsFlow(OptionsFlow):
    """Change how often the device is polled, what its sub-meters measure, the demand."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Show and store the options; a loaded entry applies them at once, without a restart.

        ``scan_interval`` for a REST entry; ``volume_<bus>`` for each known sub-meter; the
        demand's window and peaks (``demand.py``: applied by the entry's update listener).
        """
        entry = self.config_entry
        rest = transport_of(entry) == TRANSPORT_REST
        buses = option_buses(entry.options)
        loaded = entry.state is ConfigEntryState.LOADED
        if user_input is not None:
            options = dict(entry.options)
            if rest:
                interval = int(user_input[CONF_SCAN_INTERVAL])
                options[CONF_SCAN_INTERVAL] = interval
                if loaded:
                    measurements = entry.runtime_data.measurements
                    measurements.set_scan_interval(interval)
                    await measurements.async_request_refresh()
            kinds = {bus: str(user_input[volume_key(bus)]) for bus in buses}
            options.update({volume_key(bus): kind for bus, kind in kinds.items()})
            options.update(demand_options(user_input))
            if loaded and kinds:
                await async_apply_kinds(self.hass, entry, kinds)
            return self.async_create_entry(data=options)
        fields: dict[Any, Any] = {}
        if rest:
            interval = entry.options.get(CONF_SCAN_INTERVAL, DEFAULT_SCAN_INTERVAL)
            fields[vol.Required(CONF_SCAN_INTERVAL, default=interval)] = SCAN_INTERVAL_SELECTOR
        for bus in buses:
            kind = vol.Required(volume_key(bus), default=kind_of(entry.options, bus))
            fields[kind] = KIND_SELECTOR
        fields.update(demand_fields(entry.options))
        return self.async_show_form(
            step_id="init",
            data_schema=vol.Schema(fields),
            description_placeholders={"submeters": submeter_names(self.hass, entry, buses)},
        )


def transport_of(entry: ConfigEntry) -> str:
    """Return the transport of an entry."""
    return str(entry.data.get(CONF_TRANSPORT, TRANSPORT_REST))


def options_for_transport(transport: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """Return the options an entry keeps with ``transport`` (the polling interval is REST's)."""
    kept = {key: value for key, value in options.items() if key != CONF_SCAN_INTERVAL}
    if transport == TRANSPORT_REST:
        kept[CONF_SCAN_INTERVAL] = options.get(CONF_SCAN_INTERVAL, DEFAULT_SCAN_INTERVAL)
    return kept
