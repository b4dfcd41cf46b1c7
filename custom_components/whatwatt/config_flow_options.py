"""Options flow of the whatwatt Go integration.

The polling interval of a REST entry (``scan_interval``), and on every transport what each known
sub-meter measures (``volume_<bus>``: gas, water, heat, other; ``submeter.py``). A loaded entry
applies both at once, without a restart.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import ConfigEntryState, ConfigFlowResult, OptionsFlow
from homeassistant.helpers.selector import (
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
)

from .api.totals import volume_key
from .compat import vol
from .config_flow_helpers import options_schema, transport_of
from .const import CONF_SCAN_INTERVAL, DEFAULT_SCAN_INTERVAL, TRANSPORT_REST
from .submeter import (
    KINDS,
    async_apply_kinds,
    has_submeters,
    kind_of,
    option_buses,
    submeter_names,
)

if TYPE_CHECKING:
    from homeassistant.config_entries import ConfigEntry

KIND_SELECTOR = SelectSelector(
    SelectSelectorConfig(
        options=list(KINDS), translation_key="volume_kind", mode=SelectSelectorMode.DROPDOWN
    )
)


def offers_options(entry: ConfigEntry) -> bool:
    """Return True when there is something to set: REST polling, or a known sub-meter."""
    return transport_of(entry) == TRANSPORT_REST or has_submeters(entry.options)


class WhatwattOptionsFlow(OptionsFlow):
    """Change how often the device is polled, and what its sub-meters measure."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Show and store the options; a loaded entry applies them at once."""
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
            fields.update(options_schema(interval).schema)
        for bus in buses:
            key = volume_key(bus)
            fields[vol.Required(key, default=kind_of(entry.options, bus))] = KIND_SELECTOR
        return self.async_show_form(
            step_id="init",
            data_schema=vol.Schema(fields),
            description_placeholders={"submeters": submeter_names(self.hass, entry, buses)},
        )
