"""What the config flow's steps use but is not a step: field names, schemas, the REST probe.

The MQTT branch's broker proposal and first-message wait are in ``mqtt_setup.py``.
"""

from __future__ import annotations

from ipaddress import IPv6Address
from typing import TYPE_CHECKING, Any, Final

from homeassistant.const import CONF_HOST, CONF_PASSWORD, CONF_URL, CONF_USERNAME
from homeassistant.helpers.selector import (
    BooleanSelector,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)

from .api.client import normalize_host
from .api.errors import WhatwattError
from .api.requests import CA_CERTIFICATE, MAX_PASSWORD, MAX_USERNAME, normalize_broker_url
from .compat import vol
from .const import (
    CONF_SCAN_INTERVAL,
    CONF_TOPIC,
    CONF_TRANSPORT,
    DEFAULT_SCAN_INTERVAL,
    LOGGER,
    MAX_SCAN_INTERVAL,
    MIN_SCAN_INTERVAL,
    TRANSPORT_REST,
)
from .errors import form_error

if TYPE_CHECKING:
    from collections.abc import Mapping

    from homeassistant.config_entries import ConfigEntry
    from homeassistant.helpers.service_info.zeroconf import ZeroconfServiceInfo

    from .api.client import WhatwattClient
    from .api.models import SystemInfo

CONF_CONFIGURE_DEVICE: Final = "configure_device"
# Step ``mqtt_broker``: the configure_mqtt action's field names. ``username``/``password`` are
# the device's own user on the broker (never Home Assistant's); both optional.
CONF_BROKER_URL: Final = CONF_URL
CONF_BROKER_USERNAME: Final = CONF_USERNAME
CONF_BROKER_PASSWORD: Final = CONF_PASSWORD
BROKER_LIMITS: Final = {CONF_BROKER_USERNAME: MAX_USERNAME, CONF_BROKER_PASSWORD: MAX_PASSWORD}

PASSWORD_SELECTOR: Final = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))
HOST_SCHEMA: Final = vol.Schema({vol.Required(CONF_HOST): TextSelector()})
PASSWORD_SCHEMA: Final = vol.Schema({vol.Required(CONF_PASSWORD): PASSWORD_SELECTOR})
MQTT_SCHEMA: Final = vol.Schema(
    {
        vol.Required(CONF_TOPIC): TextSelector(),
        vol.Optional(CONF_HOST): TextSelector(),
        vol.Optional(CONF_PASSWORD): PASSWORD_SELECTOR,
        vol.Optional(CONF_CONFIGURE_DEVICE, default=False): BooleanSelector(),
    }
)
BROKER_SCHEMA: Final = vol.Schema(
    {
        vol.Required(CONF_BROKER_URL): TextSelector(),
        # No autofill: a browser would offer the person's Home Assistant login here.
        vol.Optional(CONF_BROKER_USERNAME): TextSelector(TextSelectorConfig(autocomplete="off")),
        vol.Optional(CONF_BROKER_PASSWORD): TextSelector(
            TextSelectorConfig(type=TextSelectorType.PASSWORD, autocomplete="new-password")
        ),
    }
)


def options_schema(scan_interval: int) -> vol.Schema:
    """Return the options form (the polling interval of a REST entry)."""
    return vol.Schema(
        {
            vol.Required(CONF_SCAN_INTERVAL, default=scan_interval): NumberSelector(
                NumberSelectorConfig(
                    min=MIN_SCAN_INTERVAL,
                    max=MAX_SCAN_INTERVAL,
                    step=1,
                    mode=NumberSelectorMode.BOX,
                    unit_of_measurement="s",
                )
            ),
        }
    )


def transport_of(entry: ConfigEntry) -> str:
    """Return the transport of an entry."""
    return str(entry.data.get(CONF_TRANSPORT, TRANSPORT_REST))


def options_for_transport(transport: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """Return the options an entry keeps with ``transport`` (the polling interval is REST's)."""
    kept = {key: value for key, value in options.items() if key != CONF_SCAN_INTERVAL}
    if transport == TRANSPORT_REST:
        kept[CONF_SCAN_INTERVAL] = options.get(CONF_SCAN_INTERVAL, DEFAULT_SCAN_INTERVAL)
    return kept


def discovered_host(discovery_info: ZeroconfServiceInfo) -> str:
    """Return host[:port] for a discovered device (port 80 is left out)."""
    address = discovery_info.ip_address
    host = f"[{address}]" if isinstance(address, IPv6Address) else str(address)
    if discovery_info.port and discovery_info.port != 80:
        host = f"{host}:{discovery_info.port}"
    return normalize_host(host)


def broker_form_fields(
    user_input: Mapping[str, Any], proposed: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    """Return the ``configure_mqtt`` fields of the ``mqtt_broker`` form, and field errors.

    ``url`` as given (normalized); the device's own broker user name and password when given
    (none clears them on the device); the CA certificate of Home Assistant's broker when the
    address is the ``proposed`` one (``mqtt_setup.proposed_broker``).
    """
    fields: dict[str, Any] = {}
    errors: dict[str, str] = {}
    try:
        fields[CONF_BROKER_URL] = normalize_broker_url(str(user_input[CONF_BROKER_URL]))
    except ValueError:
        errors[CONF_BROKER_URL] = "invalid_broker_url"
    for key, limit in BROKER_LIMITS.items():
        value = str(user_input.get(key) or "")
        if key == CONF_BROKER_USERNAME:
            value = value.strip()
        if len(value) > limit:
            errors[key] = "too_long"
        elif value:
            fields[key] = value
    if CA_CERTIFICATE in proposed and fields.get(CONF_BROKER_URL) == proposed.get(CONF_BROKER_URL):
        fields[CA_CERTIFICATE] = proposed[CA_CERTIFICATE]
    return fields, errors


async def async_probe(
    client: WhatwattClient, *, licence_required: bool
) -> tuple[SystemInfo | None, str | None]:
    """Read /api/v1/system; return the system information or a form error key."""
    try:
        system = await client.get_system()
    except WhatwattError as err:
        return None, form_error(err)
    except Exception:  # noqa: BLE001 - anything unexpected becomes a form error
        LOGGER.exception("Unexpected error while probing %s", client.host)
        return None, "unknown"
    if licence_required and not system.is_licensed:
        return None, "license_free"
    return system, None
