"""Helpers shared by the integration tests: registry checks, fixture types, a steady meter."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.const import CONF_PASSWORD, EntityCategory
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import async_fire_mqtt_message

from .conftest import DEVICE_ID
from .mqtt_helpers import setup_ha_mqtt

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import MockConfigEntry

    # ``await poll()``: one scan interval passes (the ``poll`` fixture).
    Poll = Callable[..., Awaitable[None]]


def assert_config_entity(hass: HomeAssistant, entity_id: str, key: str) -> None:
    """The entity is registered as a config entity of the device, unique by ``key``."""
    entity = er.async_get(hass).async_get(entity_id)
    assert entity is not None
    assert entity.unique_id == f"{DEVICE_ID}_{key}"
    assert entity.entity_category is EntityCategory.CONFIG


class Midpoint:
    """The simulated meter's random source with every draw in the middle of its range.

    ``sim.meter.rng = Midpoint()``: the power holds from one telegram to the next.
    """

    def uniform(self, low: float, high: float) -> float:
        return (low + high) / 2


def suggested(result: dict[str, Any]) -> dict[str, Any]:
    """Return the values a form suggests, by field."""
    return {
        str(key): key.description["suggested_value"]
        for key in result["data_schema"].schema
        if key.description and "suggested_value" in key.description
    }


async def deliver(hass: HomeAssistant, flow_id: str, topic: str, message: bytes) -> dict[str, Any]:
    """Fire one message while the flow waits, then collect the flow's next result."""
    async_fire_mqtt_message(hass, topic, message)
    await hass.async_block_till_done()
    return await hass.config_entries.flow.async_configure(flow_id)


async def wrong_then_right(hass: HomeAssistant, result: dict[str, Any]) -> dict[str, Any]:
    """A wrong password is refused on the form; the right one (``secret``) goes on."""
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_PASSWORD: "wrong"}
    )
    assert result["errors"] == {"base": "invalid_auth"}
    return await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_PASSWORD: "secret"}
    )


async def free_licence_menu(
    hass: HomeAssistant, result: dict[str, Any], user_input: dict[str, Any], back: str
) -> dict[str, Any]:
    """Submit a FREE device's address: a menu offers live, or ``back`` to the step before."""
    result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input)
    assert result["type"] is FlowResultType.MENU
    assert result["step_id"] == "license_free"
    assert result["menu_options"] == ["live", back]
    return result


async def publishing_sim(
    hass: HomeAssistant,
    mosquitto: Any,
    simulator_factory: Callable[..., Awaitable[Any]],
    template: str,
) -> tuple[MockConfigEntry, Any]:
    """Set up Home Assistant's MQTT on the broker and a simulator publishing every telegram
    with ``template`` once its link is up; return the broker's entry and the simulator."""
    broker_entry = await setup_ha_mqtt(hass, mosquitto.port)
    sim = await simulator_factory(
        auth="none",
        telegram_interval=0,
        seed=11,
        mqtt_url=mosquitto.url,
        mqtt_template=template,
        report_interval=1,
    )
    # Publish on every telegram (the device's minimum is 1 s; the test need not wait that long).
    sim.state.settings["services"]["report_interval"] = 0
    await sim.emit_telegram()
    await sim.publisher.wait_link(connected=True)
    return broker_entry, sim
