"""Config flow and options flow of the whatwatt Go integration.

Set-up starts with the menu ``user``: how the data reaches Home Assistant.

- ``rest`` or ``live``: the device's address (``host``), then ``password`` for a protected
  device.
- ``mqtt`` opens ``mqtt_topic``: the topic (``topic``; optionally ``host``, ``password`` and
  ``configure_device``). To configure the device, ``mqtt_broker`` follows (the address of Home
  Assistant's broker proposed, the device's own broker user). Then ``mqtt_wait`` waits for the
  first message on the topic and ``mqtt_finish`` adds the device.

A device announced over mDNS: ``zeroconf`` → ``discovery_confirm`` (→ ``password``). A password
that stopped working: ``reauth`` → ``reauth_confirm``. ``reconfigure`` offers the same menu and
branches with the entry's values suggested, and updates the entry of the same device. The
options (step ``init``): the polling interval of a REST entry, the kind of each sub-meter.

The MQTT branch's forms, broker proposal and first-message wait are in ``mqtt_setup.py``.
"""

from __future__ import annotations

from ipaddress import IPv6Address
from typing import TYPE_CHECKING, Any, Final

from homeassistant.components import mqtt
from homeassistant.config_entries import (
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
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.selector import (
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)

from .api.client import WhatwattClient, normalize_host
from .api.errors import WhatwattError
from .api.requests import URL
from .api.totals import volume_key
from .compat import vol
from .const import (
    CONF_SCAN_INTERVAL,
    CONF_TOPIC,
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
from .device_control import async_provision_mqtt
from .errors import AUTH_ERROR, form_error
from .migration import ENTRY_VERSION, async_adopt, learns_device_id
from .mqtt_setup import (
    BROKER_SCHEMA,
    CONF_CONFIGURE_DEVICE,
    MQTT_SCHEMA,
    MqttBranch,
    async_report_interval,
    broker_form_fields,
    broker_host,
    check_topic_form,
    proposed_broker,
    topic_form_suggestions,
)
from .submeter import (
    KINDS,
    async_apply_kinds,
    has_submeters,
    kind_of,
    option_buses,
    submeter_names,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

    from homeassistant.helpers.service_info.mqtt import MqttServiceInfo
    from homeassistant.helpers.service_info.zeroconf import ZeroconfServiceInfo

    from .api.models import SystemInfo

TRANSPORTS: Final = [TRANSPORT_REST, TRANSPORT_MQTT, TRANSPORT_LIVE]

HOST_SCHEMA: Final = vol.Schema({vol.Required(CONF_HOST): TextSelector()})
PASSWORD_SCHEMA: Final = vol.Schema(
    {vol.Required(CONF_PASSWORD): TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))}
)
SCAN_INTERVAL_SELECTOR: Final = NumberSelector(
    NumberSelectorConfig(
        min=MIN_SCAN_INTERVAL,
        max=MAX_SCAN_INTERVAL,
        step=1,
        mode=NumberSelectorMode.BOX,
        unit_of_measurement="s",
    )
)
KIND_SELECTOR: Final = SelectSelector(
    SelectSelectorConfig(
        options=list(KINDS), translation_key="volume_kind", mode=SelectSelectorMode.DROPDOWN
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

    @classmethod
    @callback
    def async_supports_options_flow(cls, config_entry: ConfigEntry) -> bool:
        """Offer options when there is something to set: REST polling, or a known sub-meter."""
        return transport_of(config_entry) == TRANSPORT_REST or has_submeters(config_entry.options)

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
        self._mqtt.cancel_wait()

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
        """Read /api/v1/system; return the system information or a form error key.

        REST polling needs Plus (discovery falls back to the live stream).
        """
        client = self._client(host, password)
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

    async def _async_finish(self, system: SystemInfo, password: str | None) -> ConfigFlowResult:
        """Add the device at ``self._host`` (REST, live), or update its entry."""
        assert self._host is not None
        if self.source == SOURCE_ZEROCONF and not system.is_licensed:
            # REST polling needs Plus; the live stream works on FREE (the form says so).
            self._transport = TRANSPORT_LIVE
        address: dict[str, Any] = {CONF_HOST: self._host}
        if password:
            address[CONF_PASSWORD] = password
        data = {**address, CONF_TRANSPORT: self._transport}
        return await self._async_save(system.device_id, system.name, data, address)

    async def _async_save(
        self,
        device_id: str,
        name: str | None,
        data: dict[str, Any],
        updates: dict[str, Any] | None = None,
    ) -> ConfigFlowResult:
        """Create the entry, or store ``data`` on the reconfigured entry and reload it.

        A known device's entry only takes ``updates`` (its new address) and the flow ends.
        """
        if not self._reconfiguring:
            await self.async_set_unique_id(device_id, raise_on_progress=False)
            self._abort_if_unique_id_configured(updates=updates)
            return self.async_create_entry(
                title=device_title(name, device_id),
                data=data,
                options=options_for_transport(self._transport, {}),
            )
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
                system, error = await self._async_probe(self._host, password)
                if error == AUTH_ERROR:
                    return await self.async_step_password()
                if system is not None:
                    return await self._async_finish(system, password)
                assert error is not None
                errors["base"] = error
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

    async def async_step_mqtt(
        self,
        discovery_info: MqttServiceInfo | None = None,  # noqa: ARG002
    ) -> ConfigFlowResult:
        """Open the MQTT branch: the menu's option ``mqtt`` (there is no MQTT discovery)."""
        return await self.async_step_mqtt_topic()

    async def async_step_mqtt_topic(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the topic (and optionally the device's address)."""
        self._transport = TRANSPORT_MQTT
        if not await mqtt.async_wait_for_mqtt_client(self.hass):
            return self.async_abort(reason="mqtt_not_configured")
        errors, self._mqtt.errors = self._mqtt.errors or {}, None
        if user_input is not None:
            self._mqtt.form = user_input
            errors = await self._async_mqtt_check(user_input)
            if not errors:
                return await self._async_mqtt_next(user_input)
        given = self._mqtt.form or {key: self._stored(key) for key in (CONF_TOPIC, CONF_HOST)}
        device_id = self._get_reconfigure_entry().unique_id if self._reconfiguring else None
        return self.async_show_form(
            step_id="mqtt_topic",
            data_schema=self.add_suggested_values_to_schema(
                MQTT_SCHEMA, topic_form_suggestions(given, device_id)
            ),
            errors=errors,
        )

    async def _async_mqtt_check(self, user_input: dict[str, Any]) -> dict[str, str]:
        """Validate the form; probe the device when an address is given."""
        topic, host, errors = check_topic_form(user_input)
        if errors:
            return errors
        self._mqtt = MqttBranch(form=user_input, topic=topic)  # what an earlier try learnt goes
        if host is None:
            return {}
        password = user_input.get(CONF_PASSWORD) or self._stored(CONF_PASSWORD) or None
        system, error = await self._async_probe(host, password)
        if error == AUTH_ERROR:
            return {CONF_PASSWORD: AUTH_ERROR if password else "password_required"}
        if system is None:
            return {"base": error or "unknown"}
        if not system.is_licensed:
            return {"base": "mqtt_license_free"}
        self._mqtt.host, self._mqtt.password, self._mqtt.system = host, password, system
        self._mqtt.interval = await async_report_interval(self._client(host, password))
        return {}

    async def _async_mqtt_next(self, user_input: dict[str, Any]) -> ConfigFlowResult:
        """After a valid form: ask for the broker to configure, or wait for the first message."""
        if self._mqtt.system is not None:
            await self.async_set_unique_id(self._mqtt.system.device_id, raise_on_progress=False)
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
        host, system = self._mqtt.host, self._mqtt.system
        assert host is not None
        assert system is not None
        proposed = proposed_broker(self.hass) or {}
        suggested = {URL: proposed.get(URL)} if proposed else {}
        errors: dict[str, str] = {}
        if user_input is not None:
            suggested = {key: value for key, value in user_input.items() if key != CONF_PASSWORD}
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
            data_schema=self.add_suggested_values_to_schema(BROKER_SCHEMA, suggested),
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
        self._mqtt.wait = None
        report = task.result()
        if report is None:
            self._mqtt.errors = {"base": "no_message"}
            return self.async_show_progress_done(next_step_id="mqtt_topic")
        system = self._mqtt.system
        self._mqtt.device_id = system.device_id if system is not None else report.device_id
        return self.async_show_progress_done(next_step_id="mqtt_finish")

    async def async_step_mqtt_finish(
        self,
        user_input: dict[str, Any] | None = None,  # noqa: ARG002
    ) -> ConfigFlowResult:
        """Create the MQTT entry, or update the reconfigured one (the device id is known now)."""
        assert self._mqtt.device_id is not None
        name = self._mqtt.system.name if self._mqtt.system is not None else None
        return await self._async_save(self._mqtt.device_id, name, self._mqtt.entry_data())

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


class WhatwattOptionsFlow(OptionsFlow):
    """Change how often the device is polled, and what its sub-meters measure."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Show and store the options; a loaded entry applies them at once, without a restart.

        ``scan_interval`` for a REST entry; ``volume_<bus>`` (gas, water, heat, other) for each
        known sub-meter, on every transport (``submeter.py``).
        """
        entry = self.config_entry
        rest = transport_of(entry) == TRANSPORT_REST
        buses = option_buses(entry.options)
        if not rest and not buses:
            # A push entry without sub-meters: no polling interval, nothing else to set.
            return self.async_abort(reason="no_options")
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
            if loaded and kinds:
                await async_apply_kinds(self.hass, entry, kinds)
            return self.async_create_entry(data=options)
        fields: dict[Any, Any] = {}
        if rest:
            interval = entry.options.get(CONF_SCAN_INTERVAL, DEFAULT_SCAN_INTERVAL)
            fields[vol.Required(CONF_SCAN_INTERVAL, default=interval)] = SCAN_INTERVAL_SELECTOR
        for bus in buses:
            fields[vol.Required(volume_key(bus), default=kind_of(entry.options, bus))] = (
                KIND_SELECTOR
            )
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


def discovered_host(discovery_info: ZeroconfServiceInfo) -> str:
    """Return host[:port] for a discovered device (port 80 is left out)."""
    address = discovery_info.ip_address
    host = f"[{address}]" if isinstance(address, IPv6Address) else str(address)
    if discovery_info.port and discovery_info.port != 80:
        host = f"{host}:{discovery_info.port}"
    return normalize_host(host)
