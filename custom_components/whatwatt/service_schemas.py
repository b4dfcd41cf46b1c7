"""Action (service) names, fields and schemas; the device's documented limits are checked here.

Every check happens before anything is sent (device README §11, §12.1). The helpers at the end
turn the validated fields of a call into the partial PUT bodies the device expects: only the
keys the user gave.
"""

from __future__ import annotations

import ipaddress
import re
from typing import TYPE_CHECKING, Any, Final

from homeassistant.const import ATTR_DEVICE_ID
from homeassistant.helpers import config_validation as cv

from .compat import vol

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

ATTR_CONFIG_ENTRY_ID: Final = "config_entry_id"

SERVICE_REBOOT: Final = "reboot"
SERVICE_UPDATE_SETTINGS: Final = "update_settings"
SERVICE_CONFIGURE_MQTT: Final = "configure_mqtt"
SERVICE_GET_SETTINGS: Final = "get_settings"
SERVICE_RUN_ACTION: Final = "run_action"
SERVICE_BACKFILL: Final = "backfill"

# update_settings
ATTR_NAME: Final = "name"
ATTR_REPORT_INTERVAL: Final = "report_interval"
ATTR_POWER_SAVE: Final = "power_save"
ATTR_NTP_SERVER: Final = "ntp_server"
ATTR_BROADCAST: Final = "broadcast"
SETTINGS_FIELDS: Final = (
    ATTR_NAME,
    ATTR_REPORT_INTERVAL,
    ATTR_POWER_SAVE,
    ATTR_NTP_SERVER,
    ATTR_BROADCAST,
)

# configure_mqtt
ATTR_ENABLE: Final = "enable"
ATTR_URL: Final = "url"
ATTR_USERNAME: Final = "username"
ATTR_PASSWORD: Final = "password"  # noqa: S105 - a field name
ATTR_CLIENT_ID: Final = "client_id"
ATTR_TOPIC: Final = "topic"
ATTR_TEMPLATE: Final = "template"
ATTR_CA_CERTIFICATE: Final = "ca_certificate"
MQTT_FIELDS: Final = (
    ATTR_ENABLE,
    ATTR_URL,
    ATTR_USERNAME,
    ATTR_PASSWORD,
    ATTR_CLIENT_ID,
    ATTR_TOPIC,
    ATTR_TEMPLATE,
    ATTR_CA_CERTIFICATE,
)

# run_action
ATTR_ACTION_ID: Final = "action_id"

# backfill
ATTR_START: Final = "start"
ATTR_END: Final = "end"

MIN_REPORT_INTERVAL: Final = 1
MAX_REPORT_INTERVAL: Final = 3600
MAX_NAME: Final = 31
MAX_NTP_SERVER: Final = 127
MAX_URL: Final = 127
MAX_USERNAME: Final = 127
MAX_PASSWORD: Final = 127
MAX_CLIENT_ID: Final = 63
MAX_TOPIC: Final = 127
MAX_TEMPLATE: Final = 1023
MAX_ACTION_ID: Final = 15

_LABEL = re.compile(r"^(?!-)[A-Za-z0-9_-]{1,63}(?<!-)$")
_MQTT_URL = re.compile(r"^mqtts?://(\[[0-9A-Fa-f:.]+\]|[^\s/:@\[\]]+)(?::(\d{1,5}))?/?$")
_PEM_CERTIFICATE = "-----BEGIN CERTIFICATE-----"


def _text(maximum: int, *, minimum: int = 0) -> Callable[[object], str]:
    return vol.All(cv.string, vol.Length(min=minimum, max=maximum))


def ntp_server(value: Any) -> str:
    """Validate an NTP server: empty (no custom server), an IP address or a host name."""
    text = vol.All(cv.string, vol.Length(max=MAX_NTP_SERVER))(value).strip()
    if not text:
        return ""
    try:
        ipaddress.ip_address(text)
    except ValueError:
        if not all(_LABEL.match(label) for label in text.removesuffix(".").split(".")):
            raise vol.Invalid("ntp_server must be a host name or an IP address") from None
    return str(text)


def mqtt_url(value: Any) -> str:
    """Validate a broker URL: ``mqtt://host[:port]`` or ``mqtts://host[:port]``."""
    text = vol.All(cv.string, vol.Length(min=1, max=MAX_URL))(value).strip()
    match = _MQTT_URL.match(text)
    if not match or (match.group(2) is not None and not 1 <= int(match.group(2)) <= 65535):
        raise vol.Invalid("url must look like mqtt://host[:port] or mqtts://host[:port]")
    return str(text)


def topic_error(topic: str) -> str | None:
    """Return the error key for a publish topic the device cannot use, else None.

    A topic is 1..127 bytes of UTF-8 (the device keeps no more, device README §12.1), has no
    wildcard (``+``, ``#``) and no NUL, and is not reserved for the broker (``$``).
    """
    if not topic or "\0" in topic:
        return "invalid_topic"
    if "+" in topic or "#" in topic:
        return "topic_wildcard"
    if topic.startswith("$"):
        return "topic_reserved"
    if len(topic.encode("utf-8")) > MAX_TOPIC:
        return "topic_too_long"
    return None


_TOPIC_MESSAGES: Final = {
    "invalid_topic": "topic must not be empty or contain NUL",
    "topic_wildcard": "topic must not contain the wildcards + or #",
    "topic_reserved": "topic must not start with $",
    "topic_too_long": f"topic must fit in {MAX_TOPIC} bytes",
}


def publish_topic(value: Any) -> str:
    """Validate a publish topic (the rules of ``topic_error``)."""
    text = str(cv.string(value))
    if (error := topic_error(text)) is not None:
        raise vol.Invalid(_TOPIC_MESSAGES[error])
    return text


def ca_certificate(value: Any) -> str:
    """Validate a PEM CA certificate; an empty text removes the stored one."""
    text = cv.string(value).strip()
    if text and _PEM_CERTIFICATE not in text:
        raise vol.Invalid("ca_certificate must be a PEM certificate (-----BEGIN CERTIFICATE-----)")
    return str(text)


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
_HAS_TARGET = cv.has_at_least_one_key(ATTR_DEVICE_ID, ATTR_CONFIG_ENTRY_ID)

TARGET_SCHEMA: Final = vol.All(vol.Schema(_TARGET), _HAS_TARGET)

UPDATE_SETTINGS_SCHEMA: Final = vol.All(
    vol.Schema(
        {
            **_TARGET,
            vol.Optional(ATTR_NAME): _text(MAX_NAME),
            vol.Optional(ATTR_REPORT_INTERVAL): vol.All(
                vol.Coerce(int), vol.Range(min=MIN_REPORT_INTERVAL, max=MAX_REPORT_INTERVAL)
            ),
            vol.Optional(ATTR_POWER_SAVE): cv.boolean,
            vol.Optional(ATTR_NTP_SERVER): ntp_server,
            vol.Optional(ATTR_BROADCAST): cv.boolean,
        }
    ),
    _HAS_TARGET,
    _require_one(*SETTINGS_FIELDS),
)

CONFIGURE_MQTT_SCHEMA: Final = vol.All(
    vol.Schema(
        {
            **_TARGET,
            vol.Optional(ATTR_ENABLE): cv.boolean,
            vol.Optional(ATTR_URL): mqtt_url,
            vol.Optional(ATTR_USERNAME): _text(MAX_USERNAME),
            vol.Optional(ATTR_PASSWORD): _text(MAX_PASSWORD),
            vol.Optional(ATTR_CLIENT_ID): _text(MAX_CLIENT_ID),
            vol.Optional(ATTR_TOPIC): publish_topic,
            vol.Optional(ATTR_TEMPLATE): _text(MAX_TEMPLATE, minimum=1),
            vol.Optional(ATTR_CA_CERTIFICATE): ca_certificate,
        }
    ),
    _HAS_TARGET,
    _require_one(*MQTT_FIELDS),
)

RUN_ACTION_SCHEMA: Final = vol.All(
    vol.Schema({**_TARGET, vol.Required(ATTR_ACTION_ID): _text(MAX_ACTION_ID, minimum=1)}),
    _HAS_TARGET,
)

BACKFILL_SCHEMA: Final = vol.All(
    vol.Schema(
        {**_TARGET, vol.Required(ATTR_START): cv.datetime, vol.Optional(ATTR_END): cv.datetime}
    ),
    _HAS_TARGET,
)


def settings_body(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Return the partial ``PUT /api/v1/settings`` body for the given fields only."""
    system: dict[str, Any] = {}
    services: dict[str, Any] = {}
    if ATTR_NAME in fields:
        system["name"] = fields[ATTR_NAME]
    if ATTR_POWER_SAVE in fields:
        system["power_save"] = fields[ATTR_POWER_SAVE]
    if ATTR_NTP_SERVER in fields:
        # One field for the user: a server means "use it", an empty text means "none".
        system["custom_ntp_server"] = fields[ATTR_NTP_SERVER]
        system["use_custom_ntp_server"] = bool(fields[ATTR_NTP_SERVER])
    if ATTR_REPORT_INTERVAL in fields:
        services["report_interval"] = fields[ATTR_REPORT_INTERVAL]
    if ATTR_BROADCAST in fields:
        services["broadcast"] = fields[ATTR_BROADCAST]
    body: dict[str, Any] = {}
    if system:
        body["system"] = system
    if services:
        body["services"] = services
    return body


def mqtt_body(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Return the partial ``PUT /api/v1/mqtt/settings`` body for the given fields only."""
    body: dict[str, Any] = {
        key: fields[key]
        for key in (ATTR_ENABLE, ATTR_URL, ATTR_USERNAME, ATTR_PASSWORD, ATTR_CLIENT_ID)
        if key in fields
    }
    publish = {key: fields[key] for key in (ATTR_TOPIC, ATTR_TEMPLATE) if key in fields}
    if publish:
        body["publish"] = publish
    if ATTR_CA_CERTIFICATE in fields:
        # An empty certificate deletes the stored one (the device takes null for that).
        body["broker"] = {"certificate": fields[ATTR_CA_CERTIFICATE] or None}
    return body
