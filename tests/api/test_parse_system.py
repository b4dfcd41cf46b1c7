"""parse_system, parse_settings, parse_mqtt_settings, parse_action_status."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from custom_components.whatwatt.api.errors import WhatwattInvalidResponseError
from custom_components.whatwatt.api.models import ActionStatus, MeterInfo
from custom_components.whatwatt.api.parse_device import (
    parse_action_status,
    parse_mqtt_settings,
    parse_settings,
    parse_system,
)

from .helpers import FIXTURE_METER, assert_none, load


def test_system_document() -> None:
    info = parse_system(load("system.json"), tz=ZoneInfo("Europe/Zurich"))
    assert info.device_id == "A1B2C3D4E5F6"
    assert info.name == "Garage"
    assert info.model == "WW_Go_1.2"
    assert info.firmware == "1.10.3"
    assert info.build == "abc1234-65f0e1a2"
    assert info.license == "PLUS"
    assert info.is_licensed
    assert info.uptime == 86400.0
    assert info.last_boot == datetime(2026, 1, 14, 8, 12, 44, tzinfo=UTC)
    assert info.supply_voltage_usb == 0.0
    assert info.supply_voltage_mbus == 23.1
    assert info.supply_voltage_p1 == 0.4
    assert info.supply_voltage_scap == 4.92
    assert info.mqtt_enabled is True
    assert info.mqtt_connected is True
    assert info.meter == FIXTURE_METER
    assert info.wifi_rssi == -61
    assert info.wifi_signal == 78


def test_system_last_reboot_defaults_to_utc() -> None:
    info = parse_system(load("system.json"))
    assert info.last_boot == datetime(2026, 1, 14, 9, 12, 44, tzinfo=UTC)


def test_minimal_system_and_older_names() -> None:
    info = parse_system(
        {"device": {"id": "ecc9ff5c7f14", "time_since_reboot": 12, "license": {"type": "free"}}}
    )
    assert info.device_id == "ECC9FF5C7F14"
    assert info.uptime == 12.0
    assert info.license == "FREE"
    assert not info.is_licensed
    assert info.meter == MeterInfo()
    assert info.last_boot is None
    assert info.mqtt_enabled is None


def test_system_without_licence_block_counts_as_licensed() -> None:
    info = parse_system({"device": {"id": "A1B2C3D4E5F6"}})
    assert info.license is None
    assert info.is_licensed


def test_system_bad_fields_are_dropped() -> None:
    data = load("system.json")
    data["device"]["plug"] = {"v_usb": "x", "v_mbus": None, "v_p1": True, "v_scap": float("nan")}
    data["clouds"]["mqtc"] = {"enabled": "yes", "connected": 1}
    data["wifi"]["rssi"] = "strong"
    data["meter"]["tariff"] = 9
    data["device"]["last_reboot"] = {"date": "2026-02-30", "time": "25:00:00"}
    info = parse_system(data)
    assert_none(
        info,
        "supply_voltage_usb",
        "supply_voltage_mbus",
        "supply_voltage_p1",
        "supply_voltage_scap",
        "mqtt_enabled",
        "mqtt_connected",
        "wifi_rssi",
        "last_boot",
    )
    assert info.meter.tariff is None


@pytest.mark.parametrize(
    "data",
    [
        None,
        [],
        "x",
        {},
        {"device": {}},
        {"device": {"id": ""}},
        {"device": {"id": 5}},
        {"device": "A1B2C3D4E5F6"},
        {"device": {"id": "null"}},
    ],
)
def test_system_without_device_id_raises(data: Any) -> None:
    with pytest.raises(WhatwattInvalidResponseError):
        parse_system(data)


def test_settings() -> None:
    settings = parse_settings(load("settings.json"))
    assert settings.name == "Garage"
    assert settings.host_name == "whatwatt_C3D4E5"
    assert settings.protection is True
    assert settings.password_len == 8
    assert settings.power_save is False
    assert settings.report_interval == 30
    assert settings.broadcast is True
    assert settings.ntp_server == "pool.ntp.org"
    assert settings.use_custom_ntp_server is True
    assert settings.raw["services"]["modbus"]["port"] == 502


def test_settings_bad_types_dropped() -> None:
    settings = parse_settings(
        {
            "system": {"name": 5, "protection": "yes", "password_len": 1.5},
            "services": {"report_interval": "x", "broadcast": None},
        }
    )
    assert settings.name is None
    assert settings.protection is None
    assert settings.password_len is None
    assert settings.report_interval is None
    assert settings.broadcast is None
    empty = parse_settings({})
    assert empty.name is None


def test_mqtt_settings() -> None:
    mqtt = parse_mqtt_settings(load("mqtt_settings.json"))
    assert mqtt.enable is True
    assert mqtt.url == "mqtts://192.168.1.10:8883"
    assert mqtt.username == "ww"
    assert mqtt.password_len == 8
    assert mqtt.client_id == "whatwatt-C3D4E5"
    assert mqtt.topic == "home/energy/whatwatt"
    assert mqtt.template == '{"P_In": ${1_7_0}}'
    assert mqtt.skip_cn_check is False
    assert mqtt.ca_certificate is not None
    assert mqtt.ca_certificate.startswith("-----BEGIN CERTIFICATE-----")


def test_mqtt_settings_defaults_and_bad_types() -> None:
    mqtt = parse_mqtt_settings(
        {"enable": False, "url": "", "publish": {"topic": "", "template": ""}}
    )
    assert mqtt.enable is False
    assert mqtt.url == ""
    assert mqtt.topic == ""
    assert mqtt.template == ""
    assert mqtt.ca_certificate is None
    odd = parse_mqtt_settings({"enable": "1", "publish": "x", "broker": None, "password_len": "8"})
    assert odd.enable is None
    assert odd.topic is None
    assert odd.ca_certificate is None
    assert odd.password_len == 8


@pytest.mark.parametrize("parser", [parse_settings, parse_mqtt_settings])
@pytest.mark.parametrize("data", [None, [], "x", 1])
def test_settings_non_object_raises(parser: Any, data: Any) -> None:
    with pytest.raises(WhatwattInvalidResponseError):
        parser(data)


def test_action_status() -> None:
    records = parse_action_status(load("action_status.json"))
    assert records == [
        ActionStatus(action_id="boiler_on", status_id=57, code=200, exe_time=0.081),
        ActionStatus(action_id="boiler_on", status_id=58, code=-1, exe_time=0.0),
        ActionStatus(action_id="boiler_on", status_id=59, code=-17, exe_time=2.0),
    ]
    assert [r.running for r in records] == [False, True, False]


def test_action_status_drops_bad_records() -> None:
    records = parse_action_status(
        [
            {"action_id": "a", "id": 1, "code": 1},
            {"action_id": 5, "id": 2, "code": 1},
            {"action_id": "b", "id": "x", "code": 1},
            {"action_id": "c", "id": 3},
            "junk",
            None,
            {"action_id": "d", "id": 4, "code": 200, "exe_time": "fast"},
        ]
    )
    assert records == [
        ActionStatus(action_id="a", status_id=1, code=1, exe_time=None),
        ActionStatus(action_id="d", status_id=4, code=200, exe_time=None),
    ]


@pytest.mark.parametrize("data", [None, {}, "[]", 5])
def test_action_status_non_list_raises(data: Any) -> None:
    with pytest.raises(WhatwattInvalidResponseError):
        parse_action_status(data)
