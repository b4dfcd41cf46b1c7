"""Every write to the device: actions, config entities, fix flows and the config flow."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from .api import requests as wire
from .api.errors import WhatwattRequestError
from .api.redact import without_secrets
from .api.states import action_outcome
from .api.template import INTEGRATION_TEMPLATE
from .const import LOGGER
from .errors import translated, validation_error
from .mqtt_setup import home_assistant_broker

if TYPE_CHECKING:
    from collections.abc import Mapping

    from homeassistant.core import HomeAssistant

    from .api.client import WhatwattClient
    from .api.models import MqttSettings, Settings
    from .coordinator import WhatwattConfigEntry

# Seconds between two polls of an action's status (the device answers 429 below one second).
ACTION_POLL_INTERVAL: float = 1.0
# Longest wait for an action to finish: up to 10 s per request on the device, a few requests.
ACTION_TIMEOUT: float = 60.0


def require_client(entry: WhatwattConfigEntry) -> WhatwattClient:
    """Return the REST client, or refuse for an MQTT-only entry (no device address)."""
    client = entry.runtime_data.client
    if client is None:
        raise validation_error("mqtt_no_address", title=entry.title)
    return client


async def async_get_settings(entry: WhatwattConfigEntry) -> dict[str, Any]:
    """Read the device's settings and MQTT settings, secrets removed."""
    client = require_client(entry)
    settings = await client.get_settings()
    mqtt = await client.get_mqtt_settings()
    entry.runtime_data.device.async_keep(settings=settings, mqtt_settings=mqtt)
    return {"settings": without_secrets(settings.raw), "mqtt": without_secrets(mqtt.raw)}


async def async_update_settings(entry: WhatwattConfigEntry, fields: Mapping[str, Any]) -> Settings:
    """PUT the given ``update_settings`` fields and keep the device's answer."""
    settings = await require_client(entry).update_settings(wire.settings_body(fields))
    entry.runtime_data.device.async_keep(settings=settings)
    return settings


async def async_enable_sd_logging(entry: WhatwattConfigEntry) -> Settings:
    """Switch the device's SD-card logging on (its interval stays) and keep the answer."""
    settings = await require_client(entry).update_settings(wire.SD_LOGGING_ON)
    entry.runtime_data.device.async_keep(settings=settings)
    return settings


async def async_provision_mqtt(
    client: WhatwattClient, device_id: str, topic: str, broker: Mapping[str, Any]
) -> MqttSettings:
    """Point a device not yet added at ``broker`` and ``topic`` (the config flow's ``mqtt``)."""
    return await client.update_mqtt_settings(wire.provisioning_body(device_id, topic, broker))


async def async_configure_mqtt(
    hass: HomeAssistant, entry: WhatwattConfigEntry, fields: Mapping[str, Any]
) -> MqttSettings:
    """PUT the given ``configure_mqtt`` fields plus the fill-ins, and keep the device's answer."""
    if wire.URL in fields and wire.url_unreachable_from_device(str(fields[wire.URL])):
        raise validation_error("mqtt_url_unreachable", url=str(fields[wire.URL]))
    client = require_client(entry)
    changes = dict(fields)
    if changes.get(wire.ENABLE) is not False and not {wire.URL, wire.TEMPLATE} <= changes.keys():
        current = await client.get_mqtt_settings()
        if not current.url and wire.URL not in changes:
            broker = home_assistant_broker(hass)
            fill_in = {key: broker[key] for key in (wire.URL, wire.CA_CERTIFICATE) if key in broker}
            changes = fill_in | changes
        if not current.template and wire.TEMPLATE not in changes:
            changes[wire.TEMPLATE] = INTEGRATION_TEMPLATE
    mqtt = await client.update_mqtt_settings(wire.mqtt_body(changes))
    entry.runtime_data.device.async_keep(mqtt_settings=mqtt)
    return mqtt


async def async_reboot(entry: WhatwattConfigEntry) -> None:
    """Ask the device to restart (it is offline for up to a minute afterwards)."""
    client = require_client(entry)
    entry.runtime_data.device.expect_reboot()
    await client.reboot()
    LOGGER.info("%s: reboot requested", entry.title)


async def async_run_action(entry: WhatwattConfigEntry, action_id: str) -> dict[str, Any]:
    """Run one of the device's actions and return the final status of its requests."""
    client = require_client(entry)
    try:
        ids = await client.call_action(action_id)
    except WhatwattRequestError as err:
        if err.status == 404:
            raise validation_error("unknown_action", action_id=action_id) from err
        if err.status == 409:
            raise translated("action_running", action_id=action_id) from err
        raise
    loop = asyncio.get_running_loop()
    deadline = loop.time() + ACTION_TIMEOUT
    while True:
        await asyncio.sleep(ACTION_POLL_INTERVAL)
        statuses = await client.get_action_status(ids)
        if set(ids) <= {status.status_id for status in statuses if not status.running}:
            return action_outcome(action_id, ids, statuses)
        if loop.time() >= deadline:
            raise translated("action_timeout", action_id=action_id)
