"""Actions (services) of the whatwatt Go integration: their schemas and handlers."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, Final

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import ATTR_DEVICE_ID
from homeassistant.core import SupportsResponse, callback
from homeassistant.exceptions import Unauthorized, UnknownUser
from homeassistant.helpers import config_validation as cv, device_registry as dr

from .api import requests as wire
from .api.redact import without_secrets
from .backfill import async_backfill_action
from .const import DOMAIN
from .device_control import (
    async_configure_mqtt,
    async_get_settings,
    async_reboot,
    async_run_action,
    async_update_settings,
)
from .errors import device_errors, validation_error

if TYPE_CHECKING and sys.version_info >= (3, 14):
    import probatio as vol  # Home Assistant 2026.x validates with it (as ``voluptuous``)
else:
    import voluptuous as vol

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine
    from datetime import datetime

    from homeassistant.core import HomeAssistant, ServiceCall, ServiceResponse

    from .coordinator import WhatwattConfigEntry

    Handler = Callable[[WhatwattConfigEntry, ServiceCall], Coroutine[Any, Any, ServiceResponse]]

ATTR_CONFIG_ENTRY_ID: Final = "config_entry_id"
ATTR_ACTION_ID: Final = "action_id"
ATTR_START: Final = "start"
ATTR_END: Final = "end"


def _text(maximum: int, *, minimum: int = 0) -> Callable[[object], str]:
    return vol.All(cv.string, vol.Length(min=minimum, max=maximum))


def _wire(
    check: Callable[[Any], Any], first: Callable[[Any], Any] = cv.string
) -> Callable[[object], Any]:
    """Return a validator: ``first``, then the device's rule ``check`` (``api.requests``)."""

    def validate(value: object) -> Any:
        try:
            return check(first(value))
        except (TypeError, ValueError, OverflowError) as err:
            raise vol.Invalid(str(err)) from err

    return validate


def _moment(value: object) -> datetime:
    """Validate a date and time the device's SD card can hold (years 2000..2199)."""
    moment: datetime = cv.datetime(value)
    if not 2000 <= moment.year < 2200:
        raise vol.Invalid("the date must lie in the years 2000 to 2199")
    return moment


publish_topic: Final = _wire(wire.check_topic)
# The validator of each field a settings or MQTT settings write may give.
_FIELDS: Final[dict[str, Callable[[Any], Any]]] = {
    wire.NAME: _text(wire.MAX_NAME),
    wire.REPORT_INTERVAL: _wire(wire.check_report_interval, float),
    wire.POWER_SAVE: cv.boolean,
    wire.NTP_SERVER: _wire(wire.check_ntp_server, _text(wire.MAX_NTP_SERVER)),
    wire.BROADCAST: cv.boolean,
    wire.ENABLE: cv.boolean,
    wire.URL: _wire(wire.check_mqtt_url, _text(wire.MAX_URL)),
    wire.USERNAME: _text(wire.MAX_USERNAME),
    wire.PASSWORD: _text(wire.MAX_PASSWORD),
    wire.CLIENT_ID: _text(wire.MAX_CLIENT_ID),
    wire.TOPIC: publish_topic,
    wire.TEMPLATE: _text(wire.MAX_TEMPLATE, minimum=1),
    wire.CA_CERTIFICATE: _wire(wire.check_ca_certificate),
}
_TARGET: Final[dict[vol.Marker, Any]] = {
    vol.Exclusive(ATTR_DEVICE_ID, "target"): cv.string,
    vol.Exclusive(ATTR_CONFIG_ENTRY_ID, "target"): cv.string,
}


def _write_schema(fields: tuple[str, ...]) -> Callable[[object], dict[str, Any]]:
    """Return the schema of a write: its target and at least one of ``fields``."""

    def require_one(data: dict[str, Any]) -> dict[str, Any]:
        if not any(field in data for field in fields):
            raise vol.Invalid(f"give at least one of: {', '.join(fields)}")
        return data

    optional: dict[vol.Marker, Any] = {vol.Optional(field): _FIELDS[field] for field in fields}
    return vol.All(vol.Schema({**_TARGET, **optional}), require_one)


TARGET_SCHEMA: Final = vol.Schema(_TARGET)
UPDATE_SETTINGS_SCHEMA: Final = _write_schema(wire.SETTINGS_FIELDS)
CONFIGURE_MQTT_SCHEMA: Final = _write_schema(wire.MQTT_FIELDS)
RUN_ACTION_SCHEMA: Final = vol.Schema(
    {**_TARGET, vol.Required(ATTR_ACTION_ID): _text(wire.MAX_ACTION_ID, minimum=1)}
)
BACKFILL_SCHEMA: Final = vol.Schema(
    {**_TARGET, vol.Required(ATTR_START): _moment, vol.Optional(ATTR_END): _moment}
)


def _entry_of(hass: HomeAssistant, call: ServiceCall) -> WhatwattConfigEntry:
    """Return the loaded config entry a call targets (by config entry or device)."""
    entry: WhatwattConfigEntry | None = None
    if entry_id := call.data.get(ATTR_CONFIG_ENTRY_ID):
        entry = hass.config_entries.async_get_entry(entry_id)
        if entry is None or entry.domain != DOMAIN:
            raise validation_error("unknown_config_entry", config_entry_id=entry_id)
    elif not (device_id := call.data.get(ATTR_DEVICE_ID)):
        raise validation_error("target_required")
    else:
        device = dr.async_get(hass).async_get(device_id)
        owners = device.config_entries if device is not None else set()
        entries = hass.config_entries.async_entries(DOMAIN)
        entry = next((each for each in entries if each.entry_id in owners), None)
        if entry is None:
            raise validation_error("unknown_device", device_id=device_id)
    if entry.state is not ConfigEntryState.LOADED:
        raise validation_error("entry_not_loaded", title=entry.title)
    return entry


def _given(call: ServiceCall, fields: tuple[str, ...]) -> dict[str, Any]:
    return {key: call.data[key] for key in fields if key in call.data}


async def _reboot(entry: WhatwattConfigEntry, _: ServiceCall) -> ServiceResponse:
    await async_reboot(entry)
    return None


async def _update_settings(entry: WhatwattConfigEntry, call: ServiceCall) -> ServiceResponse:
    settings = await async_update_settings(entry, _given(call, wire.SETTINGS_FIELDS))
    return {"settings": without_secrets(settings.raw)}


async def _configure_mqtt(entry: WhatwattConfigEntry, call: ServiceCall) -> ServiceResponse:
    mqtt = await async_configure_mqtt(call.hass, entry, _given(call, wire.MQTT_FIELDS))
    return {"mqtt": without_secrets(mqtt.raw)}


async def _get_settings(entry: WhatwattConfigEntry, _: ServiceCall) -> ServiceResponse:
    return await async_get_settings(entry)


async def _run_action(entry: WhatwattConfigEntry, call: ServiceCall) -> ServiceResponse:
    return await async_run_action(entry, call.data[ATTR_ACTION_ID])


async def _backfill(entry: WhatwattConfigEntry, call: ServiceCall) -> ServiceResponse:
    start, end = call.data[ATTR_START], call.data.get(ATTR_END)
    return await async_backfill_action(call.hass, entry, start, end)


# name: (handler, schema, response, admin only)
_ACTIONS: Final[dict[str, tuple[Handler, Any, SupportsResponse, bool]]] = {
    "reboot": (_reboot, TARGET_SCHEMA, SupportsResponse.NONE, True),
    "update_settings": (_update_settings, UPDATE_SETTINGS_SCHEMA, SupportsResponse.OPTIONAL, True),
    "configure_mqtt": (_configure_mqtt, CONFIGURE_MQTT_SCHEMA, SupportsResponse.OPTIONAL, True),
    "get_settings": (_get_settings, TARGET_SCHEMA, SupportsResponse.ONLY, False),
    "run_action": (_run_action, RUN_ACTION_SCHEMA, SupportsResponse.OPTIONAL, True),
    "backfill": (_backfill, BACKFILL_SCHEMA, SupportsResponse.OPTIONAL, True),
}


def _bound(hass: HomeAssistant, handler: Handler, *, admin: bool) -> Callable[..., Any]:
    """Return the registered handler: admins only where ``admin``, device errors translated."""

    @device_errors
    async def run(call: ServiceCall) -> ServiceResponse:
        if admin and call.context.user_id:
            user = await hass.auth.async_get_user(call.context.user_id)
            if user is None:
                raise UnknownUser(context=call.context)
            if not user.is_admin:
                raise Unauthorized(context=call.context)
        return await handler(_entry_of(hass, call), call)

    return run


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the actions of the integration (once, in ``async_setup``)."""
    for name, (handler, schema, response, admin) in _ACTIONS.items():
        hass.services.async_register(
            DOMAIN,
            name,
            _bound(hass, handler, admin=admin),
            schema=schema,
            supports_response=response,
        )
