"""Actions (services) of the whatwatt Go integration: their schemas and handlers."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, Final

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import ATTR_DEVICE_ID
from homeassistant.core import SupportsResponse, callback
from homeassistant.exceptions import Unauthorized, UnknownUser
from homeassistant.helpers import config_validation as cv, device_registry as dr

from .api.redact import without_secrets
from .api.requests import (
    BROADCAST,
    CA_CERTIFICATE,
    CLIENT_ID,
    ENABLE,
    MAX_ACTION_ID,
    MAX_CLIENT_ID,
    MAX_NAME,
    MAX_NTP_SERVER,
    MAX_PASSWORD,
    MAX_TEMPLATE,
    MAX_URL,
    MAX_USERNAME,
    MQTT_FIELDS,
    NAME,
    NTP_SERVER,
    PASSWORD,
    POWER_SAVE,
    REPORT_INTERVAL,
    SETTINGS_FIELDS,
    TEMPLATE,
    TOPIC,
    TOPIC_MESSAGES,
    URL,
    USERNAME,
    check_ca_certificate,
    check_mqtt_url,
    check_ntp_server,
    check_report_interval,
    topic_error,
)
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

    from homeassistant.core import Context, HomeAssistant, ServiceCall, ServiceResponse

    from .coordinator import WhatwattConfigEntry

    Handler = Callable[[WhatwattConfigEntry, ServiceCall], Coroutine[Any, Any, ServiceResponse]]

ATTR_CONFIG_ENTRY_ID: Final = "config_entry_id"
ATTR_ACTION_ID: Final = "action_id"
ATTR_START: Final = "start"
ATTR_END: Final = "end"


def _text(maximum: int, *, minimum: int = 0) -> Callable[[object], str]:
    return vol.All(cv.string, vol.Length(min=minimum, max=maximum))


def _checked(check: Callable[[str], str], maximum: int | None) -> Callable[[object], str]:
    """Return a validator of a text of at most ``maximum`` characters that ``check`` accepts."""

    def validate(value: object) -> str:
        text = cv.string(value) if maximum is None else _text(maximum)(value)
        try:
            return check(text)
        except ValueError as err:
            raise vol.Invalid(str(err)) from err

    return validate


def _report_interval(value: object) -> int:
    """Validate a report interval: whole seconds within the device's range."""
    try:
        return check_report_interval(float(value))  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError) as err:
        raise vol.Invalid(str(err)) from err


def _moment(value: object) -> datetime:
    """Validate a date and time the device's SD card can hold (years 2000..2199)."""
    moment: datetime = cv.datetime(value)
    if not 2000 <= moment.year < 2200:
        raise vol.Invalid("the date must lie in the years 2000 to 2199")
    return moment


def publish_topic(value: object) -> str:
    """Validate a publish topic (the rules of ``api.requests.topic_error``)."""
    text = str(cv.string(value))
    if (error := topic_error(text)) is not None:
        raise vol.Invalid(TOPIC_MESSAGES[error])
    return text


def _require_one(*fields: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def check(data: dict[str, Any]) -> dict[str, Any]:
        if not any(field in data for field in fields):
            raise vol.Invalid(f"give at least one of: {', '.join(fields)}")
        return data

    return check


_TARGET: Final[dict[vol.Marker, Any]] = {
    vol.Exclusive(ATTR_DEVICE_ID, "target"): cv.string,
    vol.Exclusive(ATTR_CONFIG_ENTRY_ID, "target"): cv.string,
}
TARGET_SCHEMA: Final = vol.Schema(_TARGET)
UPDATE_SETTINGS_SCHEMA: Final = vol.All(
    vol.Schema(
        {
            **_TARGET,
            vol.Optional(NAME): _text(MAX_NAME),
            vol.Optional(REPORT_INTERVAL): _report_interval,
            vol.Optional(POWER_SAVE): cv.boolean,
            vol.Optional(NTP_SERVER): _checked(check_ntp_server, MAX_NTP_SERVER),
            vol.Optional(BROADCAST): cv.boolean,
        }
    ),
    _require_one(*SETTINGS_FIELDS),
)
CONFIGURE_MQTT_SCHEMA: Final = vol.All(
    vol.Schema(
        {
            **_TARGET,
            vol.Optional(ENABLE): cv.boolean,
            vol.Optional(URL): _checked(check_mqtt_url, MAX_URL),
            vol.Optional(USERNAME): _text(MAX_USERNAME),
            vol.Optional(PASSWORD): _text(MAX_PASSWORD),
            vol.Optional(CLIENT_ID): _text(MAX_CLIENT_ID),
            vol.Optional(TOPIC): publish_topic,
            vol.Optional(TEMPLATE): _text(MAX_TEMPLATE, minimum=1),
            vol.Optional(CA_CERTIFICATE): _checked(check_ca_certificate, None),
        }
    ),
    _require_one(*MQTT_FIELDS),
)
RUN_ACTION_SCHEMA: Final = vol.Schema(
    {**_TARGET, vol.Required(ATTR_ACTION_ID): _text(MAX_ACTION_ID, minimum=1)}
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


async def async_require_admin(hass: HomeAssistant, context: Context | None) -> None:
    """Refuse (Unauthorized) unless the context is an admin's or the system's own."""
    if context is None or not context.user_id:
        return
    user = await hass.auth.async_get_user(context.user_id)
    if user is None:
        raise UnknownUser(context=context)
    if not user.is_admin:
        raise Unauthorized(context=context)


def _given(call: ServiceCall, fields: tuple[str, ...]) -> dict[str, Any]:
    return {key: call.data[key] for key in fields if key in call.data}


async def _reboot(entry: WhatwattConfigEntry, _: ServiceCall) -> ServiceResponse:
    await async_reboot(entry)
    return None


async def _update_settings(entry: WhatwattConfigEntry, call: ServiceCall) -> ServiceResponse:
    settings = await async_update_settings(entry, _given(call, SETTINGS_FIELDS))
    return {"settings": without_secrets(settings.raw)}


async def _configure_mqtt(entry: WhatwattConfigEntry, call: ServiceCall) -> ServiceResponse:
    mqtt = await async_configure_mqtt(call.hass, entry, _given(call, MQTT_FIELDS))
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
        if admin:
            await async_require_admin(hass, call.context)
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
