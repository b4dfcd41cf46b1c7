"""Parsers for the device documents: system, settings, MQTT settings and action status."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from .errors import WhatwattInvalidResponseError
from .models import ActionStatus, MqttSettings, Settings, SystemInfo
from .parse_common import (
    as_bool,
    as_device_id,
    as_float,
    as_int,
    as_interval,
    as_text,
    as_uptime,
    dig,
    local_date_time,
    meter_info,
    obj_at,
    plain_text,
    require_object,
    wall_clock,
)

if TYPE_CHECKING:
    from datetime import tzinfo


# The device's health values: supply rails (V) and Wi-Fi signal (dBm); others are dropped.
SUPPLY_RANGE: Final = (0.0, 100.0)
RSSI_RANGE: Final = (-150, 50)


def _within[N: (int, float)](value: N | None, bounds: tuple[N, N]) -> N | None:
    """Return ``value`` when it lies within ``bounds``, else None."""
    return value if value is not None and bounds[0] <= value <= bounds[1] else None


def parse_system(data: Any, *, tz: tzinfo | None = None) -> SystemInfo:
    """Parse ``GET /api/v1/system`` (docs/device-api.md §7). ``device.id`` is required.

    ``device.last_reboot`` is the device's local date and time; it is read in ``tz`` (None → UTC)
    and returned in UTC.
    """
    root = require_object(data, "system document")
    device = obj_at(root, "device")
    device_id = as_device_id(device.get("id"))
    if device_id is None:
        raise WhatwattInvalidResponseError("system document has no device.id")
    plug = obj_at(device, "plug")
    uptime = as_uptime(device.get("time_since_boot"))
    if uptime is None:
        uptime = as_uptime(device.get("time_since_reboot"))
    last_reboot = obj_at(device, "last_reboot")
    mqtc = obj_at(root, "clouds", "mqtc")
    meter = obj_at(root, "meter")
    tariff = as_int(meter.get("tariff"))
    wifi = obj_at(root, "wifi")
    return SystemInfo(
        device_id=device_id,
        name=as_text(device.get("name")),
        model=as_text(device.get("model")),
        firmware=as_text(device.get("firmware")),
        build=as_text(device.get("build")),
        license=(lic.upper() if (lic := as_text(dig(device, "license", "type"))) else None),
        uptime=uptime,
        last_boot=local_date_time(last_reboot.get("date"), last_reboot.get("time"), tz),
        local_time=wall_clock(device.get("date"), device.get("time")),
        supply_voltage_usb=_within(as_float(plug.get("v_usb")), SUPPLY_RANGE),
        supply_voltage_mbus=_within(as_float(plug.get("v_mbus")), SUPPLY_RANGE),
        supply_voltage_p1=_within(as_float(plug.get("v_p1")), SUPPLY_RANGE),
        supply_voltage_scap=_within(as_float(plug.get("v_scap")), SUPPLY_RANGE),
        mqtt_enabled=as_bool(mqtc.get("enabled")),
        mqtt_connected=as_bool(mqtc.get("connected")),
        meter=meter_info(
            meter,
            vendor="manufacturer",
            serial="type",
            interval=meter.get("report_interval"),
            tariff=tariff if tariff in (1, 2) else None,
        ),
        wifi_rssi=_within(as_int(wifi.get("rssi")), RSSI_RANGE),
        wifi_signal=_within(as_int(wifi.get("signal")), (0, 100)),
        raw=root,
    )


def parse_settings(data: Any) -> Settings:
    """Parse ``/api/v1/settings`` (docs/device-api.md §11)."""
    root = require_object(data, "settings document")
    system = obj_at(root, "system")
    services = obj_at(root, "services")
    return Settings(
        name=plain_text(system.get("name")),
        host_name=plain_text(system.get("host_name")),
        protection=as_bool(system.get("protection")),
        password_len=as_int(system.get("password_len")),
        power_save=as_bool(system.get("power_save")),
        report_interval=(
            int(interval) if (interval := as_interval(services.get("report_interval"))) else None
        ),
        broadcast=as_bool(services.get("broadcast")),
        ntp_server=plain_text(system.get("custom_ntp_server")),
        use_custom_ntp_server=as_bool(system.get("use_custom_ntp_server")),
        raw=root,
    )


def parse_mqtt_settings(data: Any) -> MqttSettings:
    """Parse ``/api/v1/mqtt/settings`` (docs/device-api.md §12.1)."""
    root = require_object(data, "MQTT settings document")
    return MqttSettings(
        enable=as_bool(root.get("enable")),
        url=plain_text(root.get("url")),
        username=plain_text(root.get("username")),
        password_len=as_int(root.get("password_len")),
        client_id=plain_text(root.get("client_id")),
        topic=plain_text(dig(root, "publish", "topic")),
        template=plain_text(dig(root, "publish", "template")),
        skip_cn_check=as_bool(root.get("skip_cn_check")),
        ca_certificate=plain_text(dig(root, "broker", "certificate")),
        raw=root,
    )


def parse_action_status(data: Any) -> list[ActionStatus]:
    """Parse ``GET /api/v1/actions/status`` (a list of records); unusable records are dropped."""
    if not isinstance(data, list):
        raise WhatwattInvalidResponseError("action status is not a JSON array")
    result: list[ActionStatus] = []
    for record in data:
        if not isinstance(record, Mapping):
            continue
        action_id = plain_text(record.get("action_id"))
        status_id = as_int(record.get("id"))
        code = as_int(record.get("code"))
        if action_id is None or status_id is None or code is None:
            continue
        result.append(
            ActionStatus(
                action_id=action_id,
                status_id=status_id,
                code=code,
                exe_time=as_float(record.get("exe_time")),
            )
        )
    return result
