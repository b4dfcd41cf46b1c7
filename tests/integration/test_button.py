"""The restart button: a config entity that reboots the device."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.components.button import DOMAIN as BUTTON_DOMAIN, SERVICE_PRESS
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.exceptions import HomeAssistantError
import pytest

from .helpers import assert_config_entity
from .services_helpers import real_time_sim, writes  # noqa: F401 - real_time_sim: fixture

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import MockConfigEntry

BUTTON = "button.whatwatt_go_d4e5f6_restart"


async def press(hass: HomeAssistant) -> None:
    await hass.services.async_call(
        BUTTON_DOMAIN, SERVICE_PRESS, {ATTR_ENTITY_ID: BUTTON}, blocking=True
    )


async def test_restart_button(
    hass: HomeAssistant, sim: Any, init_integration: MockConfigEntry
) -> None:
    assert_config_entity(hass, BUTTON, "reboot")
    assert hass.states.get(BUTTON).attributes["device_class"] == "restart"

    boots = sim.boots
    await press(hass)
    assert writes(sim) == [("POST", "/api/v1/reboot")]
    await sim.wait_up()
    assert sim.boots == boots + 1


async def test_restart_button_offline(
    hass: HomeAssistant, sim: Any, init_integration: MockConfigEntry
) -> None:
    sim.faults.refuse = True
    with pytest.raises(HomeAssistantError) as err:
        await press(hass)
    assert err.value.translation_key == "communication_error"
    sim.faults.refuse = False
