"""Config flow of the whatwatt Go integration."""

from __future__ import annotations

from ipaddress import IPv6Address
from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import (
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
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
import voluptuous as vol

from .api.client import WhatwattClient, normalize_host
from .api.errors import (
    WhatwattAuthError,
    WhatwattConnectionError,
    WhatwattError,
    WhatwattInvalidResponseError,
    WhatwattTimeoutError,
)
from .config_flow_mqtt import MqttFlowMixin
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

if TYPE_CHECKING:
    from collections.abc import Mapping

    from homeassistant.helpers.service_info.zeroconf import ZeroconfServiceInfo

    from .api.models import SystemInfo

HOST_SCHEMA = vol.Schema({vol.Required(CONF_HOST): TextSelector()})
PASSWORD_SELECTOR = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))
PASSWORD_SCHEMA = vol.Schema({vol.Required(CONF_PASSWORD): PASSWORD_SELECTOR})
AUTH_ERROR = "invalid_auth"


def _transport_of(entry: ConfigEntry) -> str:
    """Return the transport of an entry."""
    return str(entry.data.get(CONF_TRANSPORT, TRANSPORT_REST))


def _discovered_host(discovery_info: ZeroconfServiceInfo) -> str:
    """Return host[:port] for a discovered device (port 80 is left out)."""
    address = discovery_info.ip_address
    host = f"[{address}]" if isinstance(address, IPv6Address) else str(address)
    if discovery_info.port and discovery_info.port != 80:
        host = f"{host}:{discovery_info.port}"
    return normalize_host(host)


class WhatwattConfigFlow(MqttFlowMixin, ConfigFlow, domain=DOMAIN):
    """Add a whatwatt Go."""

    VERSION = 1

    def __init__(self) -> None:
        """Start with nothing known."""
        self._host: str | None = None
        self._transport = TRANSPORT_REST

    @classmethod
    @callback
    def async_supports_options_flow(cls, config_entry: ConfigEntry) -> bool:
        """Offer options (the polling interval) to REST entries only."""
        return _transport_of(config_entry) == TRANSPORT_REST

    @staticmethod
    @callback
    def async_get_options_flow(
        config_entry: ConfigEntry,  # noqa: ARG004
    ) -> WhatwattOptionsFlow:
        """Return the options flow."""
        return WhatwattOptionsFlow()

    async def _async_probe(
        self, host: str, password: str | None
    ) -> tuple[SystemInfo | None, str | None]:
        """Read /api/v1/system; return the system information or an error key."""
        client = WhatwattClient(async_get_clientsession(self.hass), host, password)
        try:
            system = await client.get_system()
        except WhatwattAuthError:
            return None, AUTH_ERROR
        except WhatwattTimeoutError:
            return None, "timeout"
        except WhatwattConnectionError:
            return None, "cannot_connect"
        except WhatwattInvalidResponseError:
            return None, "not_whatwatt_device"
        except WhatwattError:
            return None, "cannot_connect"
        except Exception:  # noqa: BLE001 - anything unexpected becomes a form error
            LOGGER.exception("Unexpected error while probing %s", host)
            return None, "unknown"
        if (
            self._transport == TRANSPORT_REST
            and not system.is_licensed
            and self.source != SOURCE_ZEROCONF  # discovery falls back to live (_async_finish)
        ):
            return None, "license_free"
        return system, None

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
        options = (
            {CONF_SCAN_INTERVAL: DEFAULT_SCAN_INTERVAL} if self._transport == TRANSPORT_REST else {}
        )
        return self.async_create_entry(
            title=device_title(system.name, system.device_id), data=data, options=options
        )

    async def async_step_user(
        self,
        user_input: dict[str, Any] | None = None,  # noqa: ARG002
    ) -> ConfigFlowResult:
        """Let the user choose how the data reaches Home Assistant."""
        return self.async_show_menu(
            step_id="user", menu_options=[TRANSPORT_REST, TRANSPORT_MQTT, TRANSPORT_LIVE]
        )

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
        """Validate an address and probe the device behind it."""
        errors: dict[str, str] = {}
        if user_input is not None:
            try:
                host = normalize_host(user_input[CONF_HOST])
            except ValueError:
                errors[CONF_HOST] = "invalid_host"
            else:
                self._host = host
                password = self._stored_password
                system, error = await self._async_probe(host, password)
                if error == AUTH_ERROR:
                    return await self.async_step_password()
                if system is not None:
                    return await self._async_finish(system, password)
                assert error is not None
                errors["base"] = error
        return self.async_show_form(
            step_id=step_id,
            data_schema=self.add_suggested_values_to_schema(
                HOST_SCHEMA, user_input or self._stored_host_input()
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

    async def async_step_zeroconf(self, discovery_info: ZeroconfServiceInfo) -> ConfigFlowResult:
        """Handle a whatwatt Go announced over mDNS."""
        device_id = str(discovery_info.properties.get("id") or "").strip().upper()
        if not device_id:
            return self.async_abort(reason="not_whatwatt_device")
        host = _discovered_host(discovery_info)
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
        self._transport = entry.data.get(CONF_TRANSPORT, TRANSPORT_REST)
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


class WhatwattOptionsFlow(OptionsFlow):
    """Change how often the device is polled."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Show and store the options."""
        entry = self.config_entry
        if _transport_of(entry) != TRANSPORT_REST:
            # Push transports have no polling interval; never turn them into polling.
            return self.async_abort(reason="no_options")
        if user_input is not None:
            interval = int(user_input[CONF_SCAN_INTERVAL])
            if entry.state is ConfigEntryState.LOADED:
                coordinator = entry.runtime_data
                coordinator.set_scan_interval(interval)
                await coordinator.async_request_refresh()
            return self.async_create_entry(data={CONF_SCAN_INTERVAL: interval})
        schema = vol.Schema(
            {
                vol.Required(
                    CONF_SCAN_INTERVAL,
                    default=entry.options.get(CONF_SCAN_INTERVAL, DEFAULT_SCAN_INTERVAL),
                ): NumberSelector(
                    NumberSelectorConfig(
                        min=MIN_SCAN_INTERVAL,
                        max=MAX_SCAN_INTERVAL,
                        step=1,
                        mode=NumberSelectorMode.BOX,
                        unit_of_measurement="s",
                    )
                ),
            }
        )
        return self.async_show_form(step_id="init", data_schema=schema)
