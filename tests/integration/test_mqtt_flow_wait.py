"""Config flow, ``mqtt`` branch: the wait for the first message ends with the flow.

A person who closes the dialog while the flow waits removes the flow
(``hass.config_entries.flow.async_abort``): the wait's subscription is dropped at once, its task
ends, and a message arriving afterwards creates nothing. Home Assistant's MQTT integration runs
on a mocked client (``mqtt_ready``).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import SOURCE_USER
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import (
    async_fire_mqtt_message,
    async_fire_time_changed,
)

from custom_components.whatwatt.const import CONF_TOPIC, DOMAIN, TRANSPORT_MQTT

from .mqtt_helpers import TOPIC, mqtt_entry, mqtt_ready

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

__all__ = ["mqtt_ready"]


def subscribed(mqtt_mock: Any, topic: str) -> bool:
    """Return True while Home Assistant's MQTT client has a subscription on ``topic``."""
    client = getattr(mqtt_mock, "_mock_wraps", None) or mqtt_mock
    return any(subscription.topic == topic for subscription in client.subscriptions)


def wait_tasks() -> list[asyncio.Task[Any]]:
    """Return the first-message waits still running."""
    return [
        task
        for task in asyncio.all_tasks()
        if task.get_name().startswith("whatwatt first message") and not task.done()
    ]


async def start_wait(hass: HomeAssistant, result: dict[str, Any], topic: str) -> dict[str, Any]:
    """Pick MQTT in the menu and submit only ``topic``: the flow waits for a message."""
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": TRANSPORT_MQTT}
    )
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_TOPIC: topic})
    assert result["type"] is FlowResultType.SHOW_PROGRESS
    assert result["step_id"] == "mqtt_wait"
    return result


async def test_removed_flow_drops_subscription(
    hass: HomeAssistant, mqtt_ready: Any, mqtt_client_mock: Any
) -> None:
    """Aborting the waiting flow unsubscribes right away; the broker subscription goes too."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await start_wait(hass, result, TOPIC)
    assert subscribed(mqtt_ready, TOPIC)
    assert len(wait_tasks()) == 1

    hass.config_entries.flow.async_abort(result["flow_id"])
    # Gone at once, before the event loop runs again (not only once the task is cancelled).
    assert not subscribed(mqtt_ready, TOPIC)
    await hass.async_block_till_done()
    assert hass.config_entries.flow.async_progress() == []
    assert wait_tasks() == []

    # Home Assistant's client leaves the topic on the broker once nobody listens.
    mqtt_client_mock.unsubscribe.reset_mock()
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=5))
    await hass.async_block_till_done()
    unsubscribed = [call.args[0] for call in mqtt_client_mock.unsubscribe.call_args_list]
    assert any(
        TOPIC in (topics if isinstance(topics, list) else [topics]) for topics in unsubscribed
    )

    # A message arriving later creates nothing.
    async_fire_mqtt_message(hass, TOPIC, b'{"sys_id": "A1B2C3D4E5F6"}')
    await hass.async_block_till_done()
    assert hass.config_entries.async_entries(DOMAIN) == []


async def test_removed_reconfigure_flow_drops_subscription(
    hass: HomeAssistant, mqtt_ready: Any
) -> None:
    """The same for reconfigure: the entry keeps its topic, the new topic's wait ends."""
    entry = mqtt_entry()
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    result = await start_wait(hass, result, "meters/new")
    assert subscribed(mqtt_ready, "meters/new")
    hass.config_entries.flow.async_abort(result["flow_id"])
    assert not subscribed(mqtt_ready, "meters/new")
    await hass.async_block_till_done()
    assert hass.config_entries.flow.async_progress() == []
    assert entry.data[CONF_TOPIC] == TOPIC


async def test_other_flow_keeps_its_wait(hass: HomeAssistant, mqtt_ready: Any) -> None:
    """Removing one waiting flow leaves another flow's wait on the same topic alone."""
    first = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    first = await start_wait(hass, first, TOPIC)
    second = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    second = await start_wait(hass, second, TOPIC)
    hass.config_entries.flow.async_abort(first["flow_id"])
    assert subscribed(mqtt_ready, TOPIC)
    hass.config_entries.flow.async_abort(second["flow_id"])
    assert not subscribed(mqtt_ready, TOPIC)
    await hass.async_block_till_done()
