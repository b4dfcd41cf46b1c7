"""Settings resources: field rules, PUT-merge, POST-replace and the public (secret-free) view."""

from __future__ import annotations

from collections.abc import Callable, Mapping
import copy
from dataclasses import dataclass
import ipaddress
import re
from typing import Any

_HOST_LABEL = re.compile(r"^[A-Za-z0-9_]([A-Za-z0-9_-]{0,62}[A-Za-z0-9_])?$")
_HEX32 = re.compile(r"^[0-9A-Fa-f]{32}$")
_MQTT_URL = re.compile(r"^mqtts?://[^\s/:@]+(:\d{1,5})?/?$")


class SettingsError(ValueError):
    """A write broke a rule: the HTTP layer answers 400 with ``error``/``message``."""

    def __init__(self, key: str, message: str) -> None:
        """Keep the offending key and a readable reason."""
        self.key = key
        super().__init__(f"{key}: {message}")


@dataclass(frozen=True, slots=True)
class Field:
    """One leaf of a settings object.

    ``secret``: write-only, shown as ``<name>_len`` (or not at all when ``hide_len``).
    ``nullable``: ``null`` deletes the stored value (certificates, keys).
    """

    kind: str  # bool | int | number | str | choice
    default: Any
    minimum: float | None = None
    maximum: float | None = None
    max_len: int | None = None
    choices: tuple[str, ...] = ()
    secret: bool = False
    hide_len: bool = False
    nullable: bool = False
    check: Callable[[Any], bool] | None = None
    zero: Any = None  # POST-replace value when omitted (None → per kind)

    def empty(self) -> Any:
        """Return the value an omitted key takes on POST-replace."""
        if self.zero is not None:
            return self.zero
        if self.nullable:
            return None
        if self.minimum is not None and self.minimum > 0:
            return self.default  # 0 would break the documented range: use the default
        return {"bool": False, "int": 0, "number": 0, "str": ""}.get(self.kind, self.default)

    def validate(self, key: str, value: Any) -> Any:  # noqa: C901 - one branch per kind
        """Return the value to store or raise SettingsError."""
        if value is None:
            if self.nullable:
                return None
            raise SettingsError(key, "must not be null")
        if self.kind == "bool":
            if not isinstance(value, bool):
                raise SettingsError(key, "must be a boolean")
            return value
        if self.kind in ("int", "number"):
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise SettingsError(key, "must be a number")
            if self.kind == "int" and isinstance(value, float):
                if not value.is_integer():
                    raise SettingsError(key, "must be an integer")
                value = int(value)
            if self.minimum is not None and value < self.minimum:
                raise SettingsError(key, f"must be >= {self.minimum:g}")
            if self.maximum is not None and value > self.maximum:
                raise SettingsError(key, f"must be <= {self.maximum:g}")
            return value
        if not isinstance(value, str):
            raise SettingsError(key, "must be a string")
        if self.max_len is not None and len(value) > self.max_len:
            raise SettingsError(key, f"longer than {self.max_len} characters")
        if self.choices and value not in self.choices:
            raise SettingsError(key, f"must be one of {', '.join(self.choices)}")
        if self.check is not None and value and not self.check(value):
            raise SettingsError(key, "invalid value")
        return value


type Spec = Mapping[str, Field | Spec]


def valid_host_name(text: str) -> bool:
    """Return True for a single host-name label (underscores allowed, as the device does)."""
    return bool(_HOST_LABEL.match(text))


def valid_ntp_server(text: str) -> bool:
    """Return True for an IP address or a dotted host name."""
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return all(valid_host_name(part) for part in text.split("."))
    return True


def valid_mqtt_url(text: str) -> bool:
    """Return True for ``mqtt://host[:port]`` or ``mqtts://host[:port]``."""
    match = _MQTT_URL.match(text)
    if not match:
        return False
    port = match.group(1)
    return port is None or 1 <= int(port[1:]) <= 65535


def valid_hex_key(text: str) -> bool:
    """Return True for 32 hex digits (a DLMS key)."""
    return bool(_HEX32.match(text))


def _ntp_ok(text: str) -> bool:
    return valid_ntp_server(text)


SETTINGS_SPEC: Spec = {
    "system": {
        "name": Field("str", "", max_len=31),
        "host_name": Field("str", "", max_len=31, check=valid_host_name),
        "protection": Field("bool", False),
        "password": Field("str", "", max_len=31, secret=True),
        "power_save": Field("bool", False),
        "p1_wifi_boost": Field("bool", True),
        "use_dhcp_ntp_server": Field("bool", False),
        "custom_ntp_server": Field("str", "", max_len=127),
        "use_custom_ntp_server": Field("bool", False),
    },
    "services": {
        "cloud": {
            "what_watt": Field("bool", True),
            "solar_manager": Field("bool", False),
            "mystrom": Field("bool", True),
            "stromkonto": Field("bool", False),
        },
        "local": {"solar_manager": Field("bool", False)},
        "broadcast": Field("bool", True),
        "other_energy_provider": Field("bool", False),
        "report_interval": Field("int", 30, minimum=1, maximum=3600),
        "low_power_report": Field("bool", False),
        "log": Field("bool", False),
        "meter_proxy": Field("bool", False),
        "sd": {
            "enable": Field("bool", False),
            "frequency": Field("int", 15, minimum=1, maximum=1440),
            "recorder_mode": Field("bool", False),
        },
        "modbus": {
            "enable": Field("bool", False),
            "port": Field("int", 502, minimum=1, maximum=65535),
        },
        "berry": {
            "auto_run": Field("bool", False),
            "run_delay": Field("int", 300, minimum=60, maximum=86400),
        },
    },
}

MQTT_SPEC: Spec = {
    "enable": Field("bool", False),
    "url": Field("str", "", max_len=127, check=valid_mqtt_url),
    "username": Field("str", "", max_len=127),
    "password": Field("str", "", max_len=127, secret=True),
    "client_id": Field("str", "", max_len=63),
    "skip_cn_check": Field("bool", False),
    "publish": {
        "topic": Field("str", "", max_len=127),
        "template": Field("str", "", max_len=1023),
    },
    "broker": {"certificate": Field("str", None, max_len=4096, nullable=True)},
    "client": {
        "certificate": Field("str", None, max_len=4096, nullable=True),
        "key": Field("str", None, max_len=4096, nullable=True, secret=True),
        "key_password": Field("str", None, max_len=255, nullable=True, secret=True),
    },
}

METER_SPEC: Spec = {
    "baudrate": Field("int", 115200, minimum=300, maximum=115200),
    "parity": Field("str", "none", choices=("none", "odd", "even")),
    "stop_bits": Field("str", "1", choices=("1", "1.5", "2")),
    "buffer_size": Field("int", 64, minimum=1, maximum=128),
    "method": Field("str", "Passive Push", choices=("Passive Push",)),
    "encryption": Field("bool", False),
    "encryption_key": Field("str", "0" * 32, check=valid_hex_key, secret=True, hide_len=True),
    "authentication_key": Field("str", "0" * 32, check=valid_hex_key, secret=True, hide_len=True),
    "tx_invert": Field("bool", False),
    "rx_invert": Field("bool", False),
    "auto_baudrate": Field("bool", True),
    "if_type": Field(
        "str",
        "auto",
        choices=("auto", "p1", "mbus", "ttl", "mep", "irda", "uart", "p1_adapter", "ttl_push"),
    ),
    "protocol": Field(
        "str", "auto", choices=("auto", "dsmr", "hdlc", "kmp", "mep", "mbus", "mbtr")
    ),
    "if_mode": Field("str", "auto", choices=("auto", "push", "pull")),
    "conv_factor": Field("number", 1, minimum=0.001, maximum=1000),
    "time_offset": Field("int", 0, minimum=-(2**31), maximum=2**31 - 1),
    "sync_time_offset_with_ntp": Field("bool", False),
    "scalers_set": Field("str", "default", choices=("default", "custom", "lge570")),
}


def defaults(spec: Spec) -> dict[str, Any]:
    """Return the factory-default object of a spec."""
    return {k: (v.default if isinstance(v, Field) else defaults(v)) for k, v in spec.items()}


def empties(spec: Spec) -> dict[str, Any]:
    """Return the object POST-replace starts from (false/0/""/null)."""
    return {k: (v.empty() if isinstance(v, Field) else empties(v)) for k, v in spec.items()}


def merge(current: Mapping[str, Any], body: Any, spec: Spec, prefix: str = "") -> dict[str, Any]:
    """Return ``current`` with ``body`` merged in (PUT); unknown keys are ignored.

    Raises SettingsError for wrong types or out-of-range values; ``current`` is not changed.
    """
    if not isinstance(body, dict):
        raise SettingsError(prefix.rstrip(".") or "body", "must be an object")
    result = copy.deepcopy(dict(current))
    for key, value in body.items():
        rule = spec.get(key)
        name = prefix + key
        if rule is None:
            continue
        if isinstance(rule, Field):
            result[key] = rule.validate(name, value)
        else:
            result[key] = merge(result.get(key, {}), value, rule, name + ".")
    return result


def replace(body: Any, spec: Spec, base: Mapping[str, Any]) -> dict[str, Any]:
    """Return the object a POST-replace produces: ``body`` over ``base`` (empties or defaults)."""
    return merge(base, body, spec)


def public_view(full: Mapping[str, Any], spec: Spec) -> dict[str, Any]:
    """Return the GET view: secrets shown as ``<name>_len``, unset certificates left out."""
    out: dict[str, Any] = {}
    for key, rule in spec.items():
        value = full.get(key)
        if isinstance(rule, Field):
            if rule.secret:
                if rule.hide_len:
                    continue
                if rule.nullable and not value:
                    continue
                out[f"{key}_len"] = len(value) if isinstance(value, str) else 0
            elif value is not None:
                out[key] = value
        else:
            sub = public_view(value if isinstance(value, dict) else {}, rule)
            if sub or not _all_nullable(rule):
                out[key] = sub
    return out


def _all_nullable(spec: Spec) -> bool:
    return all(
        (rule.nullable if isinstance(rule, Field) else _all_nullable(rule))
        for rule in spec.values()
    )
