"""Configuration writes to the device, shared by the actions and the config entities.

Every write is a partial ``PUT`` (never a ``POST``) whose answer is read back as the truth; the
transport then follows it (``WhatwattTransport.async_settings_written`` and
``async_mqtt_settings_written``: REST and live refresh, MQTT re-subscribes or moves its
staleness timeout). Device errors become translated Home Assistant errors that carry the
device's own reason.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Final

from homeassistant.const import CONF_HOST
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError

from .api.errors import (
    WhatwattAuthError,
    WhatwattBusyError,
    WhatwattError,
    WhatwattLicenseError,
    WhatwattRequestError,
    WhatwattTimeoutError,
    WhatwattUnavailableError,
)
from .api.template import INTEGRATION_TEMPLATE
from .broker import home_assistant_broker
from .const import DOMAIN, LOGGER
from .service_schemas import (
    ATTR_CA_CERTIFICATE,
    ATTR_ENABLE,
    ATTR_PASSWORD,
    ATTR_TEMPLATE,
    ATTR_URL,
    ATTR_USERNAME,
    mqtt_body,
    settings_body,
)

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

    from .api.client import WhatwattClient
    from .api.models import ActionStatus, MqttSettings, Settings
    from .coordinator import WhatwattCoordinator

# Seconds between two polls of an action's status (the device answers 429 below one second).
ACTION_POLL_INTERVAL: float = 1.0
# Longest wait for an action to finish: up to 10 s per request on the device, a few requests.
ACTION_TIMEOUT: float = 60.0
# Keys whose values are secrets, wherever they appear in a settings object.
SECRET_KEYS: Final = frozenset(
    {"password", "key", "key_password", "encryption_key", "authentication_key"}
)
_LENGTH_SUFFIX: Final = "_len"


def _error(key: str, **placeholders: str) -> HomeAssistantError:
    return HomeAssistantError(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders=placeholders or None,
    )


def device_reason(err: WhatwattRequestError) -> str:
    """Return the device's own reason for rejecting a request."""
    return err.message or err.error or f"HTTP {err.status}"


@contextmanager
def device_errors() -> Iterator[None]:
    """Turn the client's typed errors into translated Home Assistant errors."""
    try:
        yield
    except WhatwattRequestError as err:
        raise _error("device_rejected", reason=device_reason(err), status=str(err.status)) from err
    except WhatwattTimeoutError as err:
        raise _error("timeout") from err
    except WhatwattAuthError as err:
        raise _error("invalid_auth") from err
    except WhatwattLicenseError as err:
        raise _error("plus_license_required") from err
    except (WhatwattBusyError, WhatwattUnavailableError) as err:
        raise _error("device_busy") from err
    except WhatwattError as err:
        raise _error("communication_error", error=str(err)) from err


def rest_client(coordinator: WhatwattCoordinator) -> WhatwattClient | None:
    """Return the REST client; None for an MQTT-only entry (no device address)."""
    client: WhatwattClient | None = getattr(coordinator, "client", None)
    if client is None or not coordinator.config_entry.data.get(CONF_HOST):
        return None
    return client


def require_client(coordinator: WhatwattCoordinator) -> WhatwattClient:
    """Return the REST client, or refuse for an MQTT-only entry (no device address)."""
    client = rest_client(coordinator)
    entry = coordinator.config_entry
    if client is None:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="mqtt_no_address",
            translation_placeholders={"title": entry.title},
        )
    return client


def without_secrets(data: Mapping[str, Any]) -> dict[str, Any]:
    """Return a settings object with secret values dropped and ``<x>_len`` as ``<x>_set``."""
    result: dict[str, Any] = {}
    for key, value in data.items():
        if key in SECRET_KEYS:
            continue
        if key.endswith(_LENGTH_SUFFIX) and key.removesuffix(_LENGTH_SUFFIX) in SECRET_KEYS:
            result[f"{key.removesuffix(_LENGTH_SUFFIX)}_set"] = bool(value)
        elif isinstance(value, Mapping):
            result[key] = without_secrets(value)
        else:
            result[key] = value
    return result


async def async_read_config(coordinator: WhatwattCoordinator) -> None:
    """Re-read settings and MQTT settings for the config entities (failures: kept as they were).

    Called with every periodic device read; a changed report interval reaches the transport.
    """
    client = rest_client(coordinator)
    if client is None:
        return
    try:
        settings = await client.get_settings()
        mqtt = await client.get_mqtt_settings()
    except WhatwattError as err:
        LOGGER.debug("%s: configuration not read: %s", coordinator.config_entry.title, err)
        return
    coordinator.async_keep_config(settings=settings, mqtt_settings=mqtt)


async def async_get_settings(coordinator: WhatwattCoordinator) -> dict[str, Any]:
    """Read the device's settings and MQTT settings, secrets removed."""
    client = require_client(coordinator)
    with device_errors():
        settings = await client.get_settings()
        mqtt = await client.get_mqtt_settings()
    coordinator.async_keep_config(settings=settings, mqtt_settings=mqtt)
    return {"settings": without_secrets(settings.raw), "mqtt": without_secrets(mqtt.raw)}


async def async_update_settings(
    coordinator: WhatwattCoordinator, fields: Mapping[str, Any]
) -> Settings:
    """PUT the given ``update_settings`` fields, keep the answer, let the transport follow."""
    client = require_client(coordinator)
    with device_errors():
        settings = await client.update_settings(settings_body(fields))
    coordinator.async_keep_config(settings=settings)
    await coordinator.transport.async_settings_written(settings)
    return settings


async def async_configure_mqtt(
    hass: HomeAssistant, coordinator: WhatwattCoordinator, fields: Mapping[str, Any]
) -> MqttSettings:
    """PUT the given ``configure_mqtt`` fields plus the fill-ins, then let the transport follow.

    Fill-ins (unless the call switches the client off): Home Assistant's broker when the
    device has no broker URL and ``url`` is not given; the integration's template when the
    device has no template and ``template`` is not given.
    """
    client = require_client(coordinator)
    changes = dict(fields)
    if changes.get(ATTR_ENABLE) is not False and (
        ATTR_URL not in changes or ATTR_TEMPLATE not in changes
    ):
        with device_errors():
            current = await client.get_mqtt_settings()
        if not current.url and ATTR_URL not in changes:
            broker = home_assistant_broker(hass)
            for key in (ATTR_URL, ATTR_USERNAME, ATTR_PASSWORD, ATTR_CA_CERTIFICATE):
                if key in broker and key not in changes:
                    changes[key] = broker[key]
        if not current.template and ATTR_TEMPLATE not in changes:
            changes[ATTR_TEMPLATE] = INTEGRATION_TEMPLATE
    with device_errors():
        mqtt = await client.update_mqtt_settings(mqtt_body(changes))
    coordinator.async_keep_config(mqtt_settings=mqtt)
    await coordinator.transport.async_mqtt_settings_written(mqtt)
    return mqtt


async def async_reboot(coordinator: WhatwattCoordinator) -> None:
    """Ask the device to restart (it is offline for up to a minute afterwards)."""
    client = require_client(coordinator)
    with device_errors():
        await client.reboot()
    LOGGER.info("%s: reboot requested", coordinator.config_entry.title)


def _succeeded(status: ActionStatus) -> bool:
    """Return True for an HTTP 2xx answer or a Modbus success (code 1)."""
    return status.code == 1 or 200 <= status.code < 300


async def async_run_action(coordinator: WhatwattCoordinator, action_id: str) -> dict[str, Any]:
    """Run one of the device's actions and return the final status of its requests."""
    client = require_client(coordinator)
    try:
        with device_errors():
            ids = await client.call_action(action_id)
    except HomeAssistantError as err:
        cause = err.__cause__
        if isinstance(cause, WhatwattRequestError) and cause.status == 404:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="unknown_action",
                translation_placeholders={"action_id": action_id},
            ) from cause
        if isinstance(cause, WhatwattRequestError) and cause.status == 409:
            raise _error("action_running", action_id=action_id) from cause
        raise
    loop = asyncio.get_running_loop()
    deadline = loop.time() + ACTION_TIMEOUT
    while True:
        await asyncio.sleep(ACTION_POLL_INTERVAL)
        with device_errors():
            statuses = await client.get_action_status(ids)
        done = {status.status_id for status in statuses if not status.running}
        if set(ids) <= done:
            break
        if loop.time() >= deadline:
            raise _error("action_timeout", action_id=action_id)
    requests = [
        {
            "id": status.status_id,
            "code": status.code,
            "exe_time": status.exe_time,
            "success": _succeeded(status),
        }
        for status in statuses
        if status.status_id in ids
    ]
    return {
        "action_id": action_id,
        "success": all(request["success"] for request in requests),
        "requests": requests,
    }
