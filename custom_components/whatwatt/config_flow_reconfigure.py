"""Reconfigure in the config flow: pick the transport again, then the same steps as set-up.

Step ``reconfigure`` is the same menu as ``user`` (``rest``, ``mqtt``, ``live``); the chosen
branch validates like set-up (address, password, licence, topic, first message) with the entry's
values suggested and its stored password tried first. Its last step calls
``_async_reconfigure_entry``: the device must be the entry's (else ``wrong_device``); the entry
keeps its unique id, gets the new data and reloads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import SOURCE_RECONFIGURE, ConfigFlow, ConfigFlowResult
from homeassistant.const import CONF_HOST, CONF_PASSWORD

from .const import (
    CONF_SCAN_INTERVAL,
    CONF_TRANSPORT,
    DEFAULT_SCAN_INTERVAL,
    TRANSPORT_LIVE,
    TRANSPORT_MQTT,
    TRANSPORT_REST,
)

if TYPE_CHECKING:
    from collections.abc import Mapping


def options_for_transport(transport: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """Return the options an entry keeps with ``transport`` (the polling interval is REST's)."""
    kept = {key: value for key, value in options.items() if key != CONF_SCAN_INTERVAL}
    if transport == TRANSPORT_REST:
        kept[CONF_SCAN_INTERVAL] = options.get(CONF_SCAN_INTERVAL, DEFAULT_SCAN_INTERVAL)
    return kept


class ReconfigureFlowMixin(ConfigFlow):
    """The ``reconfigure`` menu and the shared end of its branches."""

    _transport: str

    @property
    def _reconfiguring(self) -> bool:
        """Return True in a reconfigure flow."""
        return self.source == SOURCE_RECONFIGURE

    def _stored(self, key: str) -> Any:
        """Return a value of the reconfigured entry's data (None in other flows)."""
        if not self._reconfiguring:
            return None
        return self._get_reconfigure_entry().data.get(key)

    @property
    def _stored_password(self) -> str | None:
        """Return the password to try before asking (the entry's, when reconfiguring)."""
        return self._stored(CONF_PASSWORD) or None

    def _stored_host_input(self) -> dict[str, Any] | None:
        """Return the entry's address as the suggested form input (reconfigure only)."""
        host = self._stored(CONF_HOST)
        return {CONF_HOST: host} if host else None

    async def async_step_reconfigure(
        self,
        user_input: dict[str, Any] | None = None,  # noqa: ARG002
    ) -> ConfigFlowResult:
        """Let the user choose the transport again (the current one to change the address)."""
        entry = self._get_reconfigure_entry()
        return self.async_show_menu(
            step_id="reconfigure",
            menu_options=[TRANSPORT_REST, TRANSPORT_MQTT, TRANSPORT_LIVE],
            # The menu's title gets no placeholders on older frontends: name it in the text.
            description_placeholders={
                "name": entry.title,
                "current": entry.data.get(CONF_TRANSPORT, TRANSPORT_REST),
            },
        )

    async def _async_reconfigure_entry(
        self, device_id: str, data: dict[str, Any]
    ) -> ConfigFlowResult:
        """Store the new data on the entry of the same device and reload it."""
        entry = self._get_reconfigure_entry()
        await self.async_set_unique_id(device_id, raise_on_progress=False)
        self._abort_if_unique_id_mismatch(reason="wrong_device")
        return self.async_update_reload_and_abort(
            entry,
            data=data,
            options=options_for_transport(self._transport, entry.options),
        )
