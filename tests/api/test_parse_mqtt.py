"""parse_mqtt_payload: the integration's own template and the vendor's flat template."""

from __future__ import annotations

from datetime import UTC, datetime
import json

import pytest

from custom_components.whatwatt.api.errors import WhatwattInvalidResponseError
from custom_components.whatwatt.api.models import MEASUREMENT_KEYS
from custom_components.whatwatt.api.parse_mqtt import (
    VENDOR_KEYS,
    first_report,
    parse_mqtt_payload,
)
from custom_components.whatwatt.api.template import (
    INTEGRATION_TEMPLATE,
    MARKER_KEY,
    MARKER_VERSION,
    MAX_TEMPLATE_LENGTH,
    OWN_FIELDS,
    default_topic,
    is_integration_template,
)

from .helpers import FIXTURES

# What the device renders from INTEGRATION_TEMPLATE for the docs/device-api.md §8 reading
# (hand-written on purpose: an independent check of the template's keys).
OWN_RENDERED = (
    '{"wwha":1,"id":"A1B2C3D4E5F6","ts":"2026-01-15T08:12:40Z","t":1768464760,"ms":"OK","tr":2,'
    '"pi":1.204,"pi1":0.402,"pi2":0.391,"pi3":0.411,"po":0,"po1":0,"po2":0,"po3":0,'
    '"qi":0.12,"qo":0,"s":1.21,"pf":0.99,"u1":231.4,"u2":229.8,"u3":232,'
    '"i1":1.74,"i2":1.7,"i3":1.77,"ei":5120.456,"ei1":3010.1,"ei2":2110.356,'
    '"eo":812.004,"eo1":500,"eo2":312.004,"qei":950.2,"qeo":120.7,"mdi":7.8,"mdo":4.2}'
)


def test_template_is_valid_json_shape_and_short_enough() -> None:
    assert len(INTEGRATION_TEMPLATE) <= MAX_TEMPLATE_LENGTH
    assert "${sys.id}" in INTEGRATION_TEMPLATE
    assert '"${meter.date_time_utc}"' in INTEGRATION_TEMPLATE
    assert "${timestamp}" in INTEGRATION_TEMPLATE
    assert '"${meter.status}"' in INTEGRATION_TEMPLATE
    assert is_integration_template(INTEGRATION_TEMPLATE)
    assert not is_integration_template('{"P_In": ${1_7_0}}')
    assert not is_integration_template(None)
    # every measurement key is carried exactly once, keys are unique
    assert sorted(f.measurement for f in OWN_FIELDS) == sorted(MEASUREMENT_KEYS)
    assert len({f.key for f in OWN_FIELDS}) == len(OWN_FIELDS)
    # numbers bare: with every placeholder replaced by 0 / "x" the template is valid JSON
    filled = INTEGRATION_TEMPLATE
    for field in OWN_FIELDS:
        filled = filled.replace("${" + field.variable + "}", "0")
    for name in ("sys.id", "meter.date_time_utc", "meter.status"):
        filled = filled.replace("${" + name + "}", "x")
    filled = filled.replace("${timestamp}", "0").replace("${tariff}", "0")
    decoded = json.loads(filled)
    assert decoded[MARKER_KEY] == MARKER_VERSION
    assert default_topic("a1b2c3d4e5f6") == "whatwatt/A1B2C3D4E5F6"


def test_own_template_payload() -> None:
    report = parse_mqtt_payload(OWN_RENDERED)
    assert report.device_id == "A1B2C3D4E5F6"
    assert report.timestamp == datetime(2026, 1, 15, 8, 12, 40, tzinfo=UTC)
    assert report.tariff == 2
    assert report.meter is not None
    assert report.meter.status == "OK"
    assert set(report.values) == set(MEASUREMENT_KEYS)
    assert report.values["power_import"] == 1.204
    assert report.values["voltage_l3"] == 232.0
    assert report.values["max_demand_export"] == 4.2
    assert report.values["reactive_energy_import"] == 950.2
    assert report.rejected == ()


def test_own_template_missing_values_and_unix_time_fallback() -> None:
    payload = (
        '{"wwha":1,"id":"A1B2C3D4E5F6","ts":"","t":1768464760,"ms":"OK","tr":0,'
        '"pi":0.5,"pi1":null,"u1":null,"ei":10}'
    )
    report = parse_mqtt_payload(payload.encode())
    assert report.values == {"power_import": 0.5, "energy_import": 10.0}
    assert report.timestamp == datetime(2026, 1, 15, 8, 12, 40, tzinfo=UTC)
    assert report.tariff is None
    assert report.rejected == ()


def test_own_template_on_firmware_without_the_utc_variable() -> None:
    # the device leaves unknown placeholders verbatim; quoted ones stay valid JSON
    payload = '{"wwha":1,"id":"A1B2C3D4E5F6","ts":"${meter.date_time_utc}","t":1768464760,"pi":1}'
    report = parse_mqtt_payload(payload)
    assert report.timestamp == datetime(2026, 1, 15, 8, 12, 40, tzinfo=UTC)
    assert report.values == {"power_import": 1.0}


def test_own_template_with_bare_unknown_placeholder_is_repaired() -> None:
    payload = '{"wwha":1,"id":"A1B2C3D4E5F6","pi":${1_7_0},"po": ${2_7_0} ,"ei":5}'
    report = parse_mqtt_payload(payload)
    assert report.values == {"energy_import": 5.0}
    assert set(report.rejected) == {"pi", "po"}
    assert report.device_id == "A1B2C3D4E5F6"


def test_own_template_unrendered_device_id() -> None:
    report = parse_mqtt_payload('{"wwha":1,"id":"${sys.id}","pi":1}')
    assert report.device_id is None


def test_vendor_template_example() -> None:
    report = parse_mqtt_payload((FIXTURES / "mqtt_vendor.json").read_bytes())
    assert report.device_id == "A1B2C3D4E5F6"
    assert report.timestamp == datetime(2025, 1, 20, 9, 20, tzinfo=UTC)
    assert report.values == {
        "power_import": 1.204,
        "power_export": 0.0,
        "energy_import": 5120.456,
        "energy_export": 812.004,
        "voltage_l1": 231.4,
        "current_l1": 1.74,
    }
    assert report.tariff == 2
    assert report.rejected == ("power_factor",)  # "null"
    assert report.meter is None  # meter_id ""


def test_vendor_template_full() -> None:
    report = parse_mqtt_payload((FIXTURES / "mqtt_vendor_full.json").read_text(encoding="utf-8"))
    assert set(report.values) == set(VENDOR_KEYS.values())
    assert report.values["apparent_power"] == 1.21
    assert report.values["reactive_power_import"] == 0.12
    assert report.values["energy_export_t2"] == 312.004
    assert report.values["voltage_l3"] == 232.0
    assert report.tariff == 1
    assert report.meter is not None
    assert report.meter.meter_id == "LGZ1234567890123"
    assert report.timestamp == datetime(2026, 1, 15, 8, 12, 40, tzinfo=UTC)
    assert report.rejected == ()


def test_vendor_all_null() -> None:
    payload = dict.fromkeys(VENDOR_KEYS, "null") | {
        "sys_id": "A1B2C3D4E5F6",
        "time": "null",
        "tariff": "0",
    }
    report = parse_mqtt_payload(json.dumps(payload))
    assert report.values == {}
    assert set(report.rejected) == set(VENDOR_KEYS)
    assert report.timestamp is None
    assert report.tariff is None


def test_vendor_bad_time_values() -> None:
    for time_value in ("-5", "0", "1e30", "soon", "", True, "nan"):
        report = parse_mqtt_payload(json.dumps({"sys_id": "A1B2C3D4E5F6", "time": time_value}))
        assert report.timestamp is None


def test_flat_template_with_live_stream_names() -> None:
    payload = (
        '{"sys_id":"A1B2C3D4E5F6","meter_status":"OK","time":"2026-01-15T08:12:40Z","tariff":1,'
        '"P_In":0.5,"P_Out":0,"V_P1":230.1,"E_In":12.5,"PF":null,"S":0.6}'
    )
    report = parse_mqtt_payload(payload)
    assert report.device_id == "A1B2C3D4E5F6"
    assert report.values == {
        "power_import": 0.5,
        "power_export": 0.0,
        "voltage_l1": 230.1,
        "energy_import": 12.5,
    }
    assert report.tariff == 1
    assert report.timestamp == datetime(2026, 1, 15, 8, 12, 40, tzinfo=UTC)


def test_unknown_object_is_an_empty_report() -> None:
    report = parse_mqtt_payload('{"hello": "world", "power": 5}')
    assert report.values == {}
    assert report.device_id is None
    assert report.rejected == ()


@pytest.mark.parametrize(
    "payload",
    [
        b"",
        b"\xc3\x28",
        b"[]",
        b"42",
        "not json at all",
        '{"pi": ${1_7_0}',  # broken beyond repair
        b"{" + b'"k":"' + b"v" * (1024 * 1024) + b'"}',
        "x" * (64 * 1024 + 1),
    ],
)
def test_bad_payloads_raise_typed_error(payload: str | bytes) -> None:
    with pytest.raises(WhatwattInvalidResponseError):
        parse_mqtt_payload(payload)


def test_bytearray_payload() -> None:
    report = parse_mqtt_payload(bytearray(b'{"sys_id":"a1b2c3d4e5f6","power_in":"1"}'))
    assert report.device_id == "A1B2C3D4E5F6"
    assert report.values == {"power_import": 1.0}


@pytest.mark.parametrize(
    ("payload", "device_id", "found"),
    [
        (b'{"sys_id": "A1B2C3D4E5F6"}', None, True),  # the set-up learns the id
        (b'{"power_in": "1.0"}', None, False),  # no id to learn
        (bytearray(b'{"sys_id": "A1B2C3D4E5F6"}'), "A1B2C3D4E5F6", True),
        (b'{"power_in": "1.0"}', "A1B2C3D4E5F6", True),  # no id: may be the device's
        (b'{"sys_id": "0000000000AA"}', "A1B2C3D4E5F6", False),  # another device
        (b"not json", None, False),
    ],
)
def test_first_report(payload: bytes | bytearray, device_id: str | None, found: bool) -> None:
    """A first message carries the known id or none; without a known id, it carries one."""
    assert (first_report(payload, device_id) is not None) is found
