"""Fixtures of the outage tests: the recorder before Home Assistant, a meter with an SD card.

The clock is frozen at ``helpers.START`` before Home Assistant starts, so the recorder's database
begins there too; ``mock_recorder_before_hass`` prepares it before the ``hass`` fixture, as
``recorder_mock`` requires.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from .helpers import START, STEP, Outage

if TYPE_CHECKING:
    from freezegun.api import FrozenDateTimeFactory
    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import MockConfigEntry


@pytest.fixture
def early_freeze(freezer: FrozenDateTimeFactory) -> None:
    """Freeze the clock before Home Assistant and its recorder start."""
    freezer.move_to(START)


@pytest.fixture
def mock_recorder_before_hass(early_freeze: None, async_setup_recorder_instance: Any) -> None:
    """Prepare the recorder's database before Home Assistant (``recorder_mock`` tests)."""


@pytest.fixture
async def sim(simulator_factory: Any, sim_options: dict[str, Any]) -> Any:
    """A P1 meter with a card and logging on; one telegram a minute, decoded on request."""
    options = {"auth": "none", "telegram_interval": 0, "seed": 7, "sd_card": True, **sim_options}
    device = await simulator_factory(**options)
    device.state.telegram_interval = STEP
    device.state.settings["services"]["sd"]["enable"] = True
    await device.emit_telegram()
    return device


@pytest.fixture
async def outage(
    recorder_mock: Any,
    hass: HomeAssistant,
    sim: Any,
    freezer: FrozenDateTimeFactory,
    mock_config_entry: MockConfigEntry,
) -> Outage:
    """The entry set up against the simulator, the recorder running."""
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    return Outage(hass, sim, freezer, mock_config_entry)
