"""Helpers shared by the integration tests: registry checks, fixture types, a steady meter."""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant.const import EntityCategory
from homeassistant.helpers import entity_registry as er

from .conftest import DEVICE_ID

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from homeassistant.core import HomeAssistant

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
