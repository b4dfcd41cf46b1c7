"""Diagnostics: entry, options, latest raw report and system information, redacted."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from syrupy.filters import props

from custom_components.whatwatt.diagnostics import async_get_config_entry_diagnostics

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    import pytest
    from pytest_homeassistant_custom_component.common import MockConfigEntry
    from syrupy.assertion import SnapshotAssertion


async def test_diagnostics(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    snapshot: SnapshotAssertion,
) -> None:
    """Secrets, network identifiers and the meter's serial numbers are redacted.

    Called directly: the HTTP view belongs to Home Assistant, and its access tokens do not
    survive the frozen clock of these tests.
    """
    result = await async_get_config_entry_diagnostics(hass, init_integration)
    assert result["entry"]["data"]["host"] == "**REDACTED**"
    system = result["device"]["system"]
    assert system["wifi"]["ssid"] == "**REDACTED**"
    assert system["wifi"]["mac"] == "**REDACTED**"
    assert system["ethernet"]["ip"] == "**REDACTED**"
    assert system["meter"]["type"] == "**REDACTED**"
    report = result["measurements"]["report"]
    assert report["meter"]["logical_name"] == "**REDACTED**"
    serials = {
        str(value)
        for block in (init_integration.runtime_data.device.data.system.raw["meter"],)
        for key, value in block.items()
        if key in ("id", "type", "logical_name") and value
    }
    assert serials
    assert not [serial for serial in serials if serial in str(result)]
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


async def test_diagnostics_serial_anywhere(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A meter that prints its serial as its model too: the serial is redacted there as well."""
    runtime = init_integration.runtime_data
    system = runtime.device.data.system
    serial = system.raw["meter"]["type"]
    raw = {**system.raw, "meter": {**system.raw["meter"], "model": serial}}
    monkeypatch.setattr(
        runtime.device, "data", replace(runtime.device.data, system=replace(system, raw=raw))
    )
    result = await async_get_config_entry_diagnostics(hass, init_integration)
    assert result["device"]["system"]["meter"]["model"] == "**REDACTED**"
    assert serial not in str(result)
