"""What may be written to the device, and the partial ``PUT`` bodies that write it.

The device's documented limits (names and URLs of at most 127 bytes, a report interval of
1..3600 s, ...) are checked by the functions here, which raise ``ValueError`` with a short
English reason; the integration turns that into its own translated error. The body builders
take the fields a caller gave (keyed by the field names below) and return only those keys,
nested the way the device expects: a ``PUT`` merges, so everything not given stays as it is
on the device.
"""

from __future__ import annotations

import ipaddress
import json
import math
import re
import secrets
from typing import TYPE_CHECKING, Any, Final

from .client import normalize_host
from .template import INTEGRATION_TEMPLATE

if TYPE_CHECKING:
    from collections.abc import Mapping

# Field names of a settings write ...
NAME: Final = "name"
REPORT_INTERVAL: Final = "report_interval"
POWER_SAVE: Final = "power_save"
NTP_SERVER: Final = "ntp_server"
BROADCAST: Final = "broadcast"
SETTINGS_FIELDS: Final = (NAME, REPORT_INTERVAL, POWER_SAVE, NTP_SERVER, BROADCAST)
# ... and of an MQTT settings write.
ENABLE: Final = "enable"
URL: Final = "url"
USERNAME: Final = "username"
PASSWORD: Final = "password"  # noqa: S105 - a field name
CLIENT_ID: Final = "client_id"
TOPIC: Final = "topic"
TEMPLATE: Final = "template"
CA_CERTIFICATE: Final = "ca_certificate"
MQTT_FIELDS: Final = (
    ENABLE,
    URL,
    USERNAME,
    PASSWORD,
    CLIENT_ID,
    TOPIC,
    TEMPLATE,
    CA_CERTIFICATE,
)

# The device's limits (characters or bytes it keeps; seconds).
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

MAX_CA_CERTIFICATE: Final = 6144  # bytes as JSON: the device takes a body of 8 KiB at most
BROKER_LIMITS: Final = {USERNAME: MAX_USERNAME, PASSWORD: MAX_PASSWORD}
# The MQTT topic form's fields besides ``topic`` and ``password`` (the entry's data keys too).
HOST: Final = "host"
CONFIGURE_DEVICE: Final = "configure_device"

_LABEL: Final = re.compile(r"^(?!-)[A-Za-z0-9_-]{1,63}(?<!-)$")
# A host name (letters, digits, dot, dash, underscore) or a bracketed IPv6 address; no user
# info, path, query or fragment.
_MQTT_URL: Final = re.compile(r"^mqtts?://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(?::(\d{1,5}))?/?$")
PEM_CERTIFICATE: Final = "-----BEGIN CERTIFICATE-----"
MQTT_PORT: Final = 1883
MQTTS_PORT: Final = 8883

# Broker host names a device cannot reach Home Assistant's broker at: loopback names and the
# host names of Home Assistant add-ons ("core-mosquitto", "local-<slug>", "<8 hex>-<slug>").
_ADDON_HOST: Final = re.compile(r"^(core|local|[0-9a-f]{8})[-_][a-z0-9_-]+$", re.IGNORECASE)
_LOCAL_NAMES: Final = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})

TOPIC_MESSAGES: Final = {
    "invalid_topic": "topic must not be empty or contain NUL",
    "topic_wildcard": "topic must not contain the wildcards + or #",
    "topic_reserved": "topic must not start with $",
    "topic_too_long": f"topic must fit in {MAX_TOPIC} bytes",
}


def topic_error(topic: str) -> str | None:
    """Return the error key for a publish topic the device cannot use, else None.

    A topic is 1..127 bytes of UTF-8 (the device keeps no more), has no wildcard (``+``,
    ``#``) and no NUL, and is not reserved for the broker (``$``).
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


def check_topic(text: str) -> str:
    """Return a publish topic the device can use (``topic_error``); ValueError."""
    if (error := topic_error(text)) is not None:
        raise ValueError(TOPIC_MESSAGES[error])
    return text


def check_ntp_server(text: str) -> str:
    """Return an NTP server (empty: none) if it is an IP address or a host name; ValueError."""
    text = text.strip()
    if not text:
        return ""
    try:
        ipaddress.ip_address(text)
    except ValueError:
        labels = text.removesuffix(".").split(".")
        # A name whose last label is all digits is a mistyped IPv4 address ("1.2.3.999").
        if labels[-1].isdigit() or not all(_LABEL.match(label) for label in labels):
            raise ValueError("ntp_server must be a host name or an IP address") from None
    return text


def check_mqtt_url(text: str) -> str:
    """Return a broker URL ``mqtt[s]://host[:port]`` as given (stripped); ValueError."""
    text = text.strip()
    match = _MQTT_URL.match(text)
    if (
        not match
        or len(text) > MAX_URL
        or (match.group(2) is not None and not 1 <= int(match.group(2)) <= 65535)
    ):
        raise ValueError("url must look like mqtt://host[:port] or mqtts://host[:port]")
    return text


def normalize_broker_url(text: str) -> str:
    """Return ``mqtt[s]://host[:port]`` (a bare ``host[:port]`` means mqtt://); ValueError."""
    text = text.strip()
    return check_mqtt_url(text if "://" in text else f"mqtt://{text}")


def check_ca_certificate(text: str) -> str:
    """Return a PEM CA certificate (empty: remove the stored one); ValueError."""
    text = text.strip()
    if text and PEM_CERTIFICATE not in text:
        raise ValueError("ca_certificate must be a PEM certificate (-----BEGIN CERTIFICATE-----)")
    if len(json.dumps(text)) > MAX_CA_CERTIFICATE:
        raise ValueError(f"ca_certificate must fit in {MAX_CA_CERTIFICATE} bytes")
    return text


def check_report_interval(value: float) -> int:
    """Return a report interval (whole seconds, 1..3600); ValueError for anything else."""
    if not math.isfinite(value) or not value.is_integer():
        raise ValueError("report_interval must be a whole number of seconds")
    if not MIN_REPORT_INTERVAL <= value <= MAX_REPORT_INTERVAL:
        raise ValueError(
            f"report_interval must be {MIN_REPORT_INTERVAL}..{MAX_REPORT_INTERVAL} seconds"
        )
    return int(value)


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


def url_unreachable_from_device(url: str) -> bool:
    """Return True for a broker URL whose host the device cannot reach (``unreachable_...``).

    Loopback names and addresses (``localhost``, 127.0.0.0/8, ``::1``), the unspecified address
    and the host names of Home Assistant add-ons (``core-mosquitto``) mean the device itself or
    nothing to it.
    """
    match = _MQTT_URL.match(url.strip())
    return match is not None and unreachable_from_device(match.group(1))


def broker_fields(host: str, port: int | str | None, certificate: object) -> dict[str, Any]:
    """Return ``url`` (and ``ca_certificate``, a PEM one) of the broker at ``host``.

    A broker with a certificate is ``mqtts://`` (port 8883 unless given), else ``mqtt://`` (1883).
    """
    tls = bool(certificate)
    url_host = f"[{host}]" if ":" in host else host
    url_port = int(port or (MQTTS_PORT if tls else MQTT_PORT))
    fields: dict[str, Any] = {URL: f"{'mqtts' if tls else 'mqtt'}://{url_host}:{url_port}"}
    if isinstance(certificate, str) and PEM_CERTIFICATE in certificate:
        fields[CA_CERTIFICATE] = certificate.strip()
    return fields


def broker_form_fields(
    user_input: Mapping[str, Any], proposed: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    """Return a broker form's ``configure_mqtt`` fields and error keys (``proposed``: url, CA)."""
    fields: dict[str, Any] = {}
    errors: dict[str, str] = {}
    try:
        fields[URL] = normalize_broker_url(str(user_input[URL]))
    except ValueError:
        errors[URL] = "invalid_broker_url"
    else:
        if url_unreachable_from_device(fields[URL]):
            errors[URL] = "broker_unreachable_from_device"
    for key, limit in BROKER_LIMITS.items():
        value = str(user_input.get(key) or "")
        if key == USERNAME:
            value = value.strip()
        if len(value) > limit:
            errors[key] = "too_long"
        elif value:
            fields[key] = value
    if CA_CERTIFICATE in proposed and fields.get(URL) == proposed.get(URL):
        fields[CA_CERTIFICATE] = proposed[CA_CERTIFICATE]
    return fields, errors


def topic_form_fields(form: Mapping[str, Any]) -> tuple[str, str | None, dict[str, str]]:
    """Return the topic form's topic, the device's address (None: none) and error keys."""
    topic = str(form[TOPIC]).strip()
    if error := topic_error(topic):
        return topic, None, {TOPIC: error}
    if not (address := str(form.get(HOST) or "").strip()):
        configure = form.get(CONFIGURE_DEVICE)  # that needs the device's address
        return topic, None, {HOST: "host_required_to_configure"} if configure else {}
    try:
        return topic, normalize_host(address), {}
    except ValueError:
        return topic, None, {HOST: "invalid_host"}


def without_password(form: Mapping[str, Any]) -> dict[str, Any]:
    """Return a form as given, to suggest again: never a password."""
    return {key: value for key, value in form.items() if key != PASSWORD}


def settings_body(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Return the partial ``PUT /api/v1/settings`` body for the given fields only."""
    system: dict[str, Any] = {}
    services: dict[str, Any] = {}
    if NAME in fields:
        system["name"] = fields[NAME]
    if POWER_SAVE in fields:
        system["power_save"] = fields[POWER_SAVE]
    if NTP_SERVER in fields:
        # One field for the user: a server means "use it", an empty text means "none".
        system["custom_ntp_server"] = fields[NTP_SERVER]
        system["use_custom_ntp_server"] = bool(fields[NTP_SERVER])
    if REPORT_INTERVAL in fields:
        services["report_interval"] = fields[REPORT_INTERVAL]
    if BROADCAST in fields:
        services["broadcast"] = fields[BROADCAST]
    body: dict[str, Any] = {}
    if system:
        body["system"] = system
    if services:
        body["services"] = services
    return body


# Switches the SD-card logging on; its interval and everything else stay as they are.
SD_LOGGING_ON: Final[dict[str, Any]] = {"services": {"sd": {"enable": True}}}


def mqtt_body(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Return the partial ``PUT /api/v1/mqtt/settings`` body for the given fields only."""
    body: dict[str, Any] = {
        key: fields[key] for key in (ENABLE, URL, USERNAME, PASSWORD, CLIENT_ID) if key in fields
    }
    publish = {key: fields[key] for key in (TOPIC, TEMPLATE) if key in fields}
    if publish:
        body["publish"] = publish
    if CA_CERTIFICATE in fields:
        # An empty certificate deletes the stored one (the device takes null for that).
        body["broker"] = {"certificate": fields[CA_CERTIFICATE] or None}
    return body


def unique_client_id(device_id: str) -> str:
    """Return an MQTT client id unique on the broker (the device's id plus a random tail)."""
    return f"whatwatt-{device_id[-6:].lower()}-{secrets.token_hex(3)}"


def provisioning_body(device_id: str, topic: str, broker: Mapping[str, Any]) -> dict[str, Any]:
    """Return the partial MQTT settings that point the device at a broker and topic.

    ``broker`` holds ``url`` and optionally ``username`` and ``password`` (the device's own
    broker user) and ``ca_certificate``; credentials not given are cleared on the device (a
    broker that allows anonymous clients). The client id is made unique, the template is the
    integration's own.
    """
    fields: dict[str, Any] = {
        USERNAME: "",
        PASSWORD: "",
        **broker,
        ENABLE: True,
        CLIENT_ID: unique_client_id(device_id),
        TOPIC: topic,
        TEMPLATE: INTEGRATION_TEMPLATE,
    }
    return mqtt_body(fields)
