"""Home Assistant's own MQTT broker, as the device would have to reach it (configure_mqtt fill-in).

When the device has no broker yet and the user gives no ``url``, the integration proposes the
*address* of the broker Home Assistant's MQTT integration uses (DESIGN.md section 3). That only
works when the address means the same thing to the device: loopback addresses and the bare
host names of Home Assistant add-ons (``core-mosquitto``) do not, so the user is asked for a
``url`` instead. Home Assistant's broker credentials are never read here: the device gets a
broker user of its own, given by the person (or none, for a broker that allows anonymous
clients). The broker's CA certificate is public and is proposed with the address.
"""

from __future__ import annotations

import ipaddress
import re
from typing import TYPE_CHECKING, Any, Final

from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.const import CONF_PORT
from homeassistant.exceptions import ServiceValidationError

from .const import DOMAIN

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

MQTT_DOMAIN: Final = "mqtt"
# Keys of Home Assistant's MQTT config entry (homeassistant.components.mqtt.const).
CONF_BROKER: Final = "broker"
_CONF_CERTIFICATE: Final = "certificate"
_CONF_TRANSPORT: Final = "transport"
DEFAULT_MQTT_PORT: Final = 1883
DEFAULT_MQTTS_PORT: Final = 8883

# Add-on host names: "core-mosquitto", "local-<slug>", "<8 hex repository hash>-<slug>".
_ADDON_HOST: Final = re.compile(r"^(core|local|[0-9a-f]{8})[-_][a-z0-9_-]+$", re.IGNORECASE)
_LOCAL_NAMES: Final = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


def unreachable_from_device(host: str) -> bool:
    """Return True when ``host`` cannot mean Home Assistant's broker to another machine."""
    name = host.strip().strip("[]").lower().rstrip(".")
    if not name or name in _LOCAL_NAMES or name.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return bool(_ADDON_HOST.match(name))
    return address.is_loopback or address.is_unspecified


def _error(key: str, **placeholders: str) -> ServiceValidationError:
    return ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders=placeholders or None,
    )


def home_assistant_mqtt_entry(hass: HomeAssistant) -> ConfigEntry | None:
    """Return the config entry of Home Assistant's MQTT integration in use, if there is one.

    Disabled entries do not count; of several, a loaded one comes first.
    """
    entries = [
        entry
        for entry in hass.config_entries.async_entries(MQTT_DOMAIN)
        if entry.disabled_by is None
    ]
    entries.sort(key=lambda entry: entry.state is not ConfigEntryState.LOADED)
    return entries[0] if entries else None


def home_assistant_broker(hass: HomeAssistant) -> dict[str, Any]:
    """Return the ``configure_mqtt`` fields that point the device at Home Assistant's broker.

    The result holds ``url`` and, when Home Assistant's broker uses TLS with its own CA,
    ``ca_certificate`` (public). Never a user name or password: Home Assistant's login on its
    broker (with the Mosquitto add-on, its service user) is not the device's to have. Raises a
    translated ServiceValidationError asking for ``url`` when there is no usable broker.
    """
    entry = home_assistant_mqtt_entry(hass)
    if entry is None or not (broker := str(entry.data.get(CONF_BROKER) or "").strip()):
        raise _error("mqtt_broker_unknown")
    data = entry.data
    if unreachable_from_device(broker) or data.get(_CONF_TRANSPORT, "tcp") != "tcp":
        raise _error("mqtt_broker_unreachable", broker=broker)
    certificate = data.get(_CONF_CERTIFICATE)
    tls = bool(certificate)
    port = int(data.get(CONF_PORT) or (DEFAULT_MQTTS_PORT if tls else DEFAULT_MQTT_PORT))
    host = f"[{broker}]" if ":" in broker else broker
    fields: dict[str, Any] = {"url": f"{'mqtts' if tls else 'mqtt'}://{host}:{port}"}
    if isinstance(certificate, str) and "-----BEGIN CERTIFICATE-----" in certificate:
        fields["ca_certificate"] = certificate.strip()
    return fields
