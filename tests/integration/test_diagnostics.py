"""Diagnostics: entry, options, latest raw report and system information, redacted."""

from __future__ import annotations

from typing import TYPE_CHECKING

from syrupy.filters import props

from custom_components.whatwatt.diagnostics import async_get_config_entry_diagnostics

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import MockConfigEntry
    from syrupy.assertion import SnapshotAssertion


async def test_diagnostics(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    snapshot: SnapshotAssertion,
) -> None:
    """Secrets and network identifiers are redacted.

    Called directly: the HTTP view belongs to Home Assistant, and its access tokens do not
    survive the frozen clock of these tests.
    """
    result = await async_get_config_entry_diagnostics(hass, init_integration)
    assert result["entry"]["data"]["host"] == "**REDACTED**"
    assert result["system"]["wifi"]["ssid"] == "**REDACTED**"
    assert result["system"]["wifi"]["mac"] == "**REDACTED**"
    assert result["system"]["ethernet"]["ip"] == "**REDACTED**"
    assert result == snapshot(exclude=props("time_since_boot", "boot_id"))


async def test_diagnostics_password(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
) -> None:
    """A stored password never leaves Home Assistant."""
    hass.config_entries.async_update_entry(
        init_integration, data={**init_integration.data, "password": "secret"}
    )
    result = await async_get_config_entry_diagnostics(hass, init_integration)
    assert result["entry"]["data"]["password"] == "**REDACTED**"
    assert "secret" not in str(result)
