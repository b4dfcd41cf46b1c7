"""The fix flow of "history gap not filled": SD-card logging on (``docs/architecture.md``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant.components.repairs import ConfirmRepairFlow, RepairsFlow
from homeassistant.config_entries import ConfigEntryState
from homeassistant.helpers import issue_registry as ir

from .api.errors import WhatwattError
from .const import DOMAIN
from .device_control import async_enable_sd_logging
from .issues import ISSUE_SD_LOGGING, async_clear_issue

if TYPE_CHECKING:
    import sys

    from homeassistant.core import HomeAssistant

    from .coordinator import WhatwattConfigEntry

    # What a repair flow's steps return: its own result type from 2026.x, the plain flow result
    # on 2025.4 (the Python version stands for the line).
    if sys.version_info >= (3, 14):
        from homeassistant.components.repairs import RepairsFlowResult as FixFlowResult
    else:
        from homeassistant.data_entry_flow import FlowResult as FixFlowResult


class SdLoggingFlow(ConfirmRepairFlow):
    """Confirm (``init`` leads to ``confirm``), then switch the device's SD-card logging on."""

    def __init__(self, entry_id: str) -> None:
        """Fix the issue of the config entry ``entry_id``."""
        self.entry_id = entry_id

    async def async_step_confirm(self, user_input: dict[str, str] | None = None) -> FixFlowResult:
        """Show what will be done; on confirmation write the setting."""
        entry: WhatwattConfigEntry | None = self.hass.config_entries.async_get_entry(self.entry_id)
        loaded = entry is not None and entry.state is ConfigEntryState.LOADED
        if entry is None or not loaded or entry.runtime_data.client is None:
            return self.async_abort(reason="entry_not_loaded")
        errors: dict[str, str] = {}
        if user_input is not None:
            try:
                await async_enable_sd_logging(entry)
            except WhatwattError:
                errors["base"] = "cannot_connect"  # the form says: unreachable or refused
            else:
                async_clear_issue(self.hass, entry, ISSUE_SD_LOGGING)
                return self.async_create_entry(data={})
        found = ir.async_get(self.hass).async_get_issue(DOMAIN, self.issue_id)
        return self.async_show_form(
            step_id="confirm",
            errors=errors,
            description_placeholders=dict(found.translation_placeholders or {})
            if found is not None
            else {"name": entry.title, "start": "", "end": ""},
        )


async def async_create_fix_flow(
    hass: HomeAssistant,  # noqa: ARG001
    issue_id: str,  # noqa: ARG001
    data: dict[str, str | int | float | None] | None,
) -> RepairsFlow:
    """Return the fix flow of an issue of this integration."""
    entry_id = (data or {}).get("entry_id")
    return SdLoggingFlow(entry_id if isinstance(entry_id, str) else "")
