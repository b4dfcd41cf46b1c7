"""Actions (services) of the whatwatt Go integration.

Each action targets one device by ``device_id`` or ``config_entry_id``. Writes (``reboot``,
``update_settings``, ``configure_mqtt``, ``run_action``) are admin-only, and so is ``backfill``
(it writes long-term statistics; the work is in ``backfill``); ``get_settings`` is open to every
user. The work itself is in ``device_control``; the schemas in
``service_schemas``; device errors are translated by ``helpers.device_errors``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import ATTR_DEVICE_ID
from homeassistant.core import SupportsResponse, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr

from .backfill import async_backfill_action
from .const import DOMAIN
from .device_control import (
    async_configure_mqtt,
    async_get_settings,
    async_reboot,
    async_run_action,
    async_update_settings,
    without_secrets,
)
from .helpers import async_require_admin, device_errors
from .service_schemas import (
    ATTR_ACTION_ID,
    ATTR_CONFIG_ENTRY_ID,
    ATTR_END,
    ATTR_START,
    BACKFILL_SCHEMA,
    CONFIGURE_MQTT_SCHEMA,
    MQTT_FIELDS,
    RUN_ACTION_SCHEMA,
    SERVICE_BACKFILL,
    SERVICE_CONFIGURE_MQTT,
    SERVICE_GET_SETTINGS,
    SERVICE_REBOOT,
    SERVICE_RUN_ACTION,
    SERVICE_UPDATE_SETTINGS,
    SETTINGS_FIELDS,
    TARGET_SCHEMA,
    UPDATE_SETTINGS_SCHEMA,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine

    from homeassistant.core import HomeAssistant, ServiceCall, ServiceResponse

    from .coordinator import WhatwattConfigEntry

    Handler = Callable[[ServiceCall], Coroutine[Any, Any, ServiceResponse]]


def _invalid(key: str, **placeholders: str) -> ServiceValidationError:
    return ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders=placeholders or None,
    )


def _entry_of(hass: HomeAssistant, call: ServiceCall) -> WhatwattConfigEntry:
    """Return the loaded config entry a call targets (by config entry or device)."""
    entry: WhatwattConfigEntry | None = None
    if entry_id := call.data.get(ATTR_CONFIG_ENTRY_ID):
        entry = hass.config_entries.async_get_entry(entry_id)
        if entry is None or entry.domain != DOMAIN:
            raise _invalid("unknown_config_entry", config_entry_id=entry_id)
    else:
        device_id = call.data[ATTR_DEVICE_ID]
        registry = dr.async_get(hass)
        for candidate in hass.config_entries.async_entries(DOMAIN):
            devices = dr.async_entries_for_config_entry(registry, candidate.entry_id)
            if any(device.id == device_id for device in devices):
                entry = candidate
                break
        if entry is None:
            raise _invalid("unknown_device", device_id=device_id)
    if entry.state is not ConfigEntryState.LOADED:
        raise _invalid("entry_not_loaded", title=entry.title)
    return entry


def _admin_only(hass: HomeAssistant, handler: Handler) -> Handler:
    """Refuse the call (Unauthorized) unless it comes from an admin or from the system."""

    async def check(call: ServiceCall) -> ServiceResponse:
        await async_require_admin(hass, call.context)
        return await handler(call)

    return check


def _given(call: ServiceCall, fields: tuple[str, ...]) -> dict[str, Any]:
    return {key: call.data[key] for key in fields if key in call.data}


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the actions of the integration (once, in ``async_setup``)."""

    @device_errors
    async def reboot(call: ServiceCall) -> ServiceResponse:
        await async_reboot(_entry_of(hass, call))
        return None

    @device_errors
    async def update_settings(call: ServiceCall) -> ServiceResponse:
        entry = _entry_of(hass, call)
        settings = await async_update_settings(entry, _given(call, SETTINGS_FIELDS))
        return {"settings": without_secrets(settings.raw)}

    @device_errors
    async def configure_mqtt(call: ServiceCall) -> ServiceResponse:
        mqtt = await async_configure_mqtt(hass, _entry_of(hass, call), _given(call, MQTT_FIELDS))
        return {"mqtt": without_secrets(mqtt.raw)}

    @device_errors
    async def get_settings(call: ServiceCall) -> ServiceResponse:
        return await async_get_settings(_entry_of(hass, call))

    @device_errors
    async def run_action(call: ServiceCall) -> ServiceResponse:
        return await async_run_action(_entry_of(hass, call), call.data[ATTR_ACTION_ID])

    @device_errors
    async def backfill(call: ServiceCall) -> ServiceResponse:
        entry = _entry_of(hass, call)
        start, end = call.data[ATTR_START], call.data.get(ATTR_END)
        return await async_backfill_action(hass, entry, start, end)

    register = hass.services.async_register
    register(DOMAIN, SERVICE_REBOOT, _admin_only(hass, reboot), schema=TARGET_SCHEMA)
    register(
        DOMAIN,
        SERVICE_UPDATE_SETTINGS,
        _admin_only(hass, update_settings),
        schema=UPDATE_SETTINGS_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    register(
        DOMAIN,
        SERVICE_CONFIGURE_MQTT,
        _admin_only(hass, configure_mqtt),
        schema=CONFIGURE_MQTT_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    register(
        DOMAIN,
        SERVICE_GET_SETTINGS,
        get_settings,
        schema=TARGET_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )
    register(
        DOMAIN,
        SERVICE_RUN_ACTION,
        _admin_only(hass, run_action),
        schema=RUN_ACTION_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    register(
        DOMAIN,
        SERVICE_BACKFILL,
        _admin_only(hass, backfill),
        schema=BACKFILL_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
