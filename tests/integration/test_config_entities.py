"""Config entities follow REST, measurements follow the feed; writes follow entity permissions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.auth.const import GROUP_ID_READ_ONLY, GROUP_ID_USER
from homeassistant.auth.permissions.const import POLICY_CONTROL
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import Context
from homeassistant.exceptions import Unauthorized
import pytest
from pytest_homeassistant_custom_component.common import async_fire_mqtt_message

from .conftest import advance
from .live_helpers import setup_live, shows, state, tick, wait_for
from .mqtt_helpers import TOPIC, mqtt_entry, payload, sensor_state, setup_entry

if TYPE_CHECKING:
    from freezegun.api import FrozenDateTimeFactory
    from homeassistant.auth.models import User
    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import MockConfigEntry

BUTTON = "button.whatwatt_go_d4e5f6_restart"
NUMBER = "number.whatwatt_go_d4e5f6_report_interval"
SWITCH = "switch.whatwatt_go_d4e5f6_mqtt_client"
CONFIG_ENTITIES = (BUTTON, NUMBER, SWITCH)


def config_states(hass: HomeAssistant) -> set[str]:
    """Return the states of the config entities."""
    states = [hass.states.get(entity_id) for entity_id in CONFIG_ENTITIES]
    assert all(states), CONFIG_ENTITIES
    return {found.state for found in states if found is not None}


async def test_live_feed_fails_rest_answers(
    hass: HomeAssistant, sim: Any, freezer: FrozenDateTimeFactory
) -> None:
    """The stream is refused but REST answers: measurements go, Restart and the rest stay."""
    entry = await setup_live(hass, sim)
    await shows(hass, await sim.emit_telegram())
    sim.live.refuse_status = 503
    sim.live.drop()
    await wait_for(hass, lambda: state(hass, "power_import") == STATE_UNAVAILABLE)
    assert STATE_UNAVAILABLE not in config_states(hass)
    # Still so after the periodic device read, with the stream refused all along.
    for _ in range(10):
        await tick(hass, freezer, 30)
    await hass.async_block_till_done()
    assert state(hass, "power_import") == STATE_UNAVAILABLE
    assert STATE_UNAVAILABLE not in config_states(hass)
    assert entry.runtime_data.device.last_update_success
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_rest_fails_feed_flows(
    hass: HomeAssistant, mqtt_ready: Any, plus_device: Any, freezer: FrozenDateTimeFactory
) -> None:
    """MQTT flows but REST stops answering: config entities go, measurements stay."""
    entry = await setup_entry(hass, mqtt_entry(host=plus_device.host))
    assert STATE_UNAVAILABLE not in config_states(hass)
    plus_device.faults.refuse = True

    async def publish_for(seconds: int) -> None:
        for _ in range(seconds // 30):
            await plus_device.emit_telegram()
            async_fire_mqtt_message(hass, TOPIC, payload(plus_device))
            await advance(hass, freezer, 30)

    await publish_for(300)  # the periodic device read fails
    assert config_states(hass) == {STATE_UNAVAILABLE}
    assert sensor_state(hass, "power_import") not in (None, STATE_UNAVAILABLE)
    plus_device.faults.refuse = False
    await publish_for(300)
    assert STATE_UNAVAILABLE not in config_states(hass)
    assert await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.parametrize(
    ("domain", "service", "entity_id", "data"),
    [
        ("button", "press", BUTTON, {}),
        ("number", "set_value", NUMBER, {"value": 20}),
        ("switch", "turn_off", SWITCH, {}),
    ],
)
async def test_config_entities_follow_entity_permissions(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    sim: Any,
    hass_admin_user: User,  # the owner: the users made here are not
    domain: str,
    service: str,
    entity_id: str,
    data: dict[str, Any],
) -> None:
    """Config entities follow Home Assistant's own entity permissions, as in core.

    A user who may only read entities is refused by Home Assistant before anything is sent;
    a user who may control the entity (no admin) writes the device's configuration.
    """

    async def use_as(user: User) -> None:
        await hass.services.async_call(
            domain,
            service,
            {"entity_id": entity_id, **data},
            blocking=True,
            context=Context(user_id=user.id),
        )

    reader = await hass.auth.async_create_user("Guest", group_ids=[GROUP_ID_READ_ONLY])
    assert not reader.permissions.check_entity(entity_id, POLICY_CONTROL)
    sim.requests.clear()
    with pytest.raises(Unauthorized):
        await use_as(reader)
    assert not [r for r in sim.requests if r.method in ("PUT", "POST")]
    user = await hass.auth.async_create_user("Resident", group_ids=[GROUP_ID_USER])
    assert not user.is_admin
    assert user.permissions.check_entity(entity_id, POLICY_CONTROL)
    sim.config.reboot_downtime = 0
    await use_as(user)
    assert [r for r in sim.requests if r.method in ("PUT", "POST")]
