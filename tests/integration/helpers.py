"""Helpers shared by the integration tests: registry checks, fixture types, a steady meter."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.const import EntityCategory
from homeassistant.helpers import entity_registry as er

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
