"""Options flow of the whatwatt Go integration: the polling interval of a REST entry."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigEntryState, ConfigFlowResult, OptionsFlow

from .config_flow_helpers import options_schema, transport_of
from .const import CONF_SCAN_INTERVAL, DEFAULT_SCAN_INTERVAL, TRANSPORT_REST


class WhatwattOptionsFlow(OptionsFlow):
    """Change how often the device is polled."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Show and store the options; a loaded entry polls at the new interval at once."""
        entry = self.config_entry
        if transport_of(entry) != TRANSPORT_REST:
            # Push transports have no polling interval; never turn them into polling.
            return self.async_abort(reason="no_options")
        if user_input is not None:
            interval = int(user_input[CONF_SCAN_INTERVAL])
            if entry.state is ConfigEntryState.LOADED:
                measurements = entry.runtime_data.measurements
                measurements.set_scan_interval(interval)
                await measurements.async_request_refresh()
            return self.async_create_entry(data={CONF_SCAN_INTERVAL: interval})
        return self.async_show_form(
            step_id="init",
            data_schema=options_schema(
                entry.options.get(CONF_SCAN_INTERVAL, DEFAULT_SCAN_INTERVAL)
            ),
        )
