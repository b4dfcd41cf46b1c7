"""Device errors as Home Assistant errors, translated in this one place."""

from __future__ import annotations

from functools import wraps
from typing import TYPE_CHECKING, Any, Final

from homeassistant.exceptions import (
    ConfigEntryAuthFailed,
    HomeAssistantError,
    ServiceValidationError,
)
from homeassistant.helpers.update_coordinator import UpdateFailed

from .api.errors import (
    WhatwattAuthError,
    WhatwattBusyError,
    WhatwattConnectionError,
    WhatwattError,
    WhatwattInvalidResponseError,
    WhatwattLicenseError,
    WhatwattRequestError,
    WhatwattStreamBrokenError,
    WhatwattStreamClosedError,
    WhatwattTimeoutError,
    WhatwattUnavailableError,
)
from .const import DOMAIN

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine

# Form error keys of the flows.
AUTH_ERROR: Final = "invalid_auth"


def _error[E: HomeAssistantError](kind: type[E], key: str, placeholders: dict[str, str]) -> E:
    return kind(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders=placeholders or None,
    )


def translated(key: str, **placeholders: str) -> HomeAssistantError:
    """Return a translated Home Assistant error of this integration."""
    return _error(HomeAssistantError, key, placeholders)


def validation_error(key: str, **placeholders: str) -> ServiceValidationError:
    """Return a translated validation error (the user's input or target is not usable)."""
    return _error(ServiceValidationError, key, placeholders)


def _update_failed(key: str, **placeholders: str) -> UpdateFailed:
    return _error(UpdateFailed, key, placeholders)


def device_reason(err: WhatwattRequestError) -> str:
    """Return the device's own reason for rejecting a request."""
    return err.message or err.error or f"HTTP {err.status}"


def user_error(err: WhatwattError) -> HomeAssistantError:
    """Return the translated error for a device error met while doing what a user asked."""
    if isinstance(err, WhatwattRequestError):
        return translated("device_rejected", reason=device_reason(err), status=str(err.status))
    if isinstance(err, WhatwattTimeoutError):
        return translated("timeout")
    if isinstance(err, WhatwattAuthError):
        return translated("invalid_auth")
    if isinstance(err, WhatwattLicenseError):
        return translated("plus_license_required")
    if isinstance(err, (WhatwattBusyError, WhatwattUnavailableError)):
        return translated("device_busy")
    return translated("communication_error", error=str(err))


def update_error(err: WhatwattError) -> UpdateFailed | ConfigEntryAuthFailed:
    """Return what a coordinator raises for a device error of a periodic read."""
    if isinstance(err, WhatwattAuthError):
        return ConfigEntryAuthFailed(translation_domain=DOMAIN, translation_key="invalid_auth")
    if isinstance(err, WhatwattLicenseError):
        return _update_failed("license_required")
    if isinstance(err, WhatwattTimeoutError):
        return _update_failed("timeout")
    return _update_failed("communication_error", error=str(err))


# How the live stream ended → the translation key of the reason (the first match wins).
_LIVE_ENDS: Final[tuple[tuple[type[WhatwattError], str], ...]] = (
    (WhatwattAuthError, "invalid_auth"),
    (WhatwattStreamClosedError, "live_closed"),  # ended cleanly: a take-over, a restart
    (WhatwattStreamBrokenError, "live_broken"),  # broke off, often mid-event: a reboot, Wi-Fi
    (WhatwattTimeoutError, "timeout"),
    (WhatwattConnectionError, "live_unreachable"),
    (WhatwattLicenseError, "live_not_offered"),
    (WhatwattBusyError, "live_refused"),
    (WhatwattUnavailableError, "live_refused"),
)


def live_error(err: Exception) -> UpdateFailed:
    """Return why the live stream ended or could not open, as the measurements' update error."""
    for error_type, key in _LIVE_ENDS:
        if isinstance(err, error_type):
            return _update_failed(key)
    if isinstance(err, WhatwattRequestError):
        if err.status == 404:
            return _update_failed("live_not_offered")
        return _update_failed("device_rejected", reason=device_reason(err), status=str(err.status))
    text = str(err) if isinstance(err, WhatwattError) else f"unexpected error: {err!r}"
    return _update_failed("communication_error", error=text)


def form_error(err: WhatwattError, *, rejected: str = "cannot_connect") -> str:
    """Return the form error key for a device error met in a flow."""
    if isinstance(err, WhatwattAuthError):
        return AUTH_ERROR
    if isinstance(err, WhatwattTimeoutError):
        return "timeout"
    if isinstance(err, WhatwattInvalidResponseError):
        return "not_whatwatt_device"
    if isinstance(err, WhatwattRequestError):
        return rejected
    return "cannot_connect"


def device_errors[**P, R](
    func: Callable[P, Coroutine[Any, Any, R]],
) -> Callable[P, Coroutine[Any, Any, R]]:
    """Decorate what a user triggers (an action, a config entity's write): errors translated."""

    @wraps(func)
    async def handler(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await func(*args, **kwargs)
        except WhatwattError as err:
            raise user_error(err) from err

    return handler


def switch_error(err: HomeAssistantError) -> HomeAssistantError:
    """Return the MQTT client switch's own error for a failed ``configure_mqtt``."""
    if err.translation_key in {"mqtt_broker_unknown", "mqtt_broker_unreachable"}:
        return validation_error("mqtt_switch_no_broker")  # no broker the device can reach
    error_class: type[HomeAssistantError] = (
        ServiceValidationError if isinstance(err, ServiceValidationError) else HomeAssistantError
    )
    return _error(error_class, "mqtt_switch_failed", {"reason": str(err)})
