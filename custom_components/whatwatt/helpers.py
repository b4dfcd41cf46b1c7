"""Device errors as Home Assistant errors, translated in this one place.

``update_error`` serves the coordinators (a refused password starts re-authentication; any other
device error makes the entities unavailable). ``device_errors`` (actions) and
``whatwatt_exception_handler`` (config entities, admins only) serve what a user triggers: the
client's typed errors become translated ``HomeAssistantError``s carrying the device's reason.
"""

from __future__ import annotations

from functools import wraps
from typing import TYPE_CHECKING, Any, Concatenate, Protocol

from homeassistant.exceptions import (
    ConfigEntryAuthFailed,
    HomeAssistantError,
    Unauthorized,
    UnknownUser,
)
from homeassistant.helpers.update_coordinator import UpdateFailed

from .api.errors import (
    WhatwattAuthError,
    WhatwattBusyError,
    WhatwattError,
    WhatwattLicenseError,
    WhatwattRequestError,
    WhatwattTimeoutError,
    WhatwattUnavailableError,
)
from .const import DOMAIN

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine

    from homeassistant.core import Context, HomeAssistant


def translated(key: str, **placeholders: str) -> HomeAssistantError:
    """Return a translated Home Assistant error of this integration."""
    return HomeAssistantError(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders=placeholders or None,
    )


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
        return UpdateFailed(translation_domain=DOMAIN, translation_key="license_required")
    if isinstance(err, WhatwattTimeoutError):
        return UpdateFailed(translation_domain=DOMAIN, translation_key="timeout")
    return UpdateFailed(
        translation_domain=DOMAIN,
        translation_key="communication_error",
        translation_placeholders={"error": str(err)},
    )


async def async_require_admin(hass: HomeAssistant, context: Context | None) -> None:
    """Refuse (Unauthorized) unless the context is an admin's or the system's own."""
    if context is None or not context.user_id:
        return
    user = await hass.auth.async_get_user(context.user_id)
    if user is None:
        raise UnknownUser(context=context)
    if not user.is_admin:
        raise Unauthorized(context=context)


def device_errors[**P, R](
    func: Callable[P, Coroutine[Any, Any, R]],
) -> Callable[P, Coroutine[Any, Any, R]]:
    """Decorate what a user triggers (an action): device errors become translated errors."""

    @wraps(func)
    async def handler(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await func(*args, **kwargs)
        except WhatwattError as err:
            raise user_error(err) from err

    return handler


class _EntityLike(Protocol):
    hass: HomeAssistant
    _context: Context | None


def whatwatt_exception_handler[E: _EntityLike, **P](
    func: Callable[Concatenate[E, P], Coroutine[Any, Any, None]],
) -> Callable[Concatenate[E, P], Coroutine[Any, Any, None]]:
    """Decorate a config entity's write: admins only, device errors translated."""

    @wraps(func)
    async def handler(entity: E, /, *args: P.args, **kwargs: P.kwargs) -> None:
        await async_require_admin(entity.hass, entity._context)  # noqa: SLF001
        try:
            await func(entity, *args, **kwargs)
        except WhatwattError as err:
            raise user_error(err) from err

    return handler
