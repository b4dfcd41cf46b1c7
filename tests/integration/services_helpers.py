"""Helpers of the action and config-entity tests: a simulator on the real clock, calls, writes.

The shared ``sim`` fixture freezes time (deterministic report stamps). Writes, reboots and
action polling wait on the real clock, so these tests import ``real_time_sim`` instead: a
fixture also named ``sim`` that does not freeze time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from custom_components.whatwatt.const import DOMAIN

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from homeassistant.core import Context, HomeAssistant


@pytest.fixture(name="sim")
async def real_time_sim(
    simulator_factory: Callable[..., Awaitable[Any]], sim_options: dict[str, Any]
) -> Any:
    """Start a simulated device on the real clock with one meter telegram decoded.

    Its MQTT publisher is stopped: these tests write broker addresses of the documentation
    range (192.0.2.x) that the device must not dial. The broker round trip is tested in
    ``test_services_mqtt_broker.py``.
    """
    options = {
        "auth": "none",
        "telegram_interval": 0,
        "seed": 7,
        "reboot_downtime": 0.05,
        **sim_options,
    }
    device = await simulator_factory(**options)
    await device.publisher.stop()
    await device.emit_telegram()
    return device


def writes(sim: Any) -> list[tuple[str, str]]:
    """Return (method, path) of every write the device served."""
    return [(r.method, r.path) for r in sim.requests if r.method in ("PUT", "POST", "DELETE")]


async def call(
    hass: HomeAssistant,
    service: str,
    data: dict[str, Any],
    *,
    response: bool = False,
    context: Context | None = None,
) -> Any:
    """Call one of the integration's actions and wait for it."""
    return await hass.services.async_call(
        DOMAIN, service, data, blocking=True, return_response=response, context=context
    )
