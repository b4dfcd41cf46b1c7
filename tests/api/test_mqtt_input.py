"""MqttInputGuard: unreadable payloads, one warning per kind, rejected values from the last one."""

from __future__ import annotations

from functools import partial
import json
import logging
from typing import Any

import pytest

from custom_components.whatwatt.api.models import MeterInfo, Report
from custom_components.whatwatt.api.mqtt_input import MqttInputGuard
from custom_components.whatwatt.api.parse_common import MAX_PAYLOAD_BYTES

from .helpers import log_messages

LOGGER_NAME = "custom_components.whatwatt.api.mqtt_input"
TOPIC = "whatwatt/A1B2C3D4E5F6"
GOOD: dict[str, Any] = {
    "wwha": 1,
    "id": "A1B2C3D4E5F6",
    "ms": "OK",
    "tr": 2,
    "pi": 1.2,
    "ei": 5120.5,
    "u1": 231.4,
}
BAD_PAYLOADS: dict[str, bytes] = {
    "empty": b"  \n",
    "too_large": b'{"x":"' + b"a" * MAX_PAYLOAD_BYTES + b'"}',
    "not_utf8": b'{"wwha":1,"x":"\xff\xfe"}',
    "not_json": b'{"wwha":1,"pi":',
    "not_object": b"[1, 2]",
}


def _payload(**changes: Any) -> bytes:
    return json.dumps({**GOOD, **changes}).encode()


_warnings = partial(log_messages, logger=LOGGER_NAME, level=logging.WARNING)


@pytest.fixture
def guard(caplog: pytest.LogCaptureFixture) -> MqttInputGuard:
    caplog.set_level(logging.DEBUG, logger=LOGGER_NAME)
    return MqttInputGuard("Kitchen meter")


def _read(
    guard: MqttInputGuard, payload: bytes | bytearray | str, previous: Report | None = None
) -> Report:
    report = guard.parse(TOPIC, payload)
    assert report is not None
    return guard.accept(TOPIC, report, previous)


def test_good_payload_bytes_and_text(guard: MqttInputGuard, caplog: Any) -> None:
    from_bytes = _read(guard, _payload())
    from_text = _read(guard, _payload().decode())
    assert from_bytes == from_text
    assert from_bytes.values["energy_import"] == 5120.5
    assert from_bytes.tariff == 2
    assert from_bytes.device_id == "A1B2C3D4E5F6"
    assert _warnings(caplog) == []


def test_bytearray_payload(guard: MqttInputGuard) -> None:
    assert _read(guard, bytearray(_payload())).values["power_import"] == 1.2


@pytest.mark.parametrize("kind", list(BAD_PAYLOADS))
def test_unreadable_payload_is_none_and_warned_once(
    guard: MqttInputGuard, caplog: Any, kind: str
) -> None:
    for _ in range(3):
        assert guard.parse(TOPIC, BAD_PAYLOADS[kind]) is None
    warnings = _warnings(caplog)
    assert len(warnings) == 1, warnings
    assert "Kitchen meter" in warnings[0]
    assert TOPIC in warnings[0]


def test_empty_text_payload(guard: MqttInputGuard) -> None:
    assert guard.parse(TOPIC, "") is None
    assert "empty" in guard.warned


def test_each_kind_warned_once(guard: MqttInputGuard, caplog: Any) -> None:
    for _ in range(2):
        for payload in BAD_PAYLOADS.values():
            guard.parse(TOPIC, payload)
    # not_json and not_object are the same kind
    assert len(_warnings(caplog)) == 4
    reasons = " | ".join(_warnings(caplog))
    for text in ("empty", f"larger than {MAX_PAYLOAD_BYTES}", "UTF-8", "JSON object"):
        assert text in reasons


def test_good_message_rearms_warnings(guard: MqttInputGuard, caplog: Any) -> None:
    guard.parse(TOPIC, BAD_PAYLOADS["not_json"])
    guard.parse(TOPIC, BAD_PAYLOADS["not_json"])
    assert len(_warnings(caplog)) == 1
    _read(guard, _payload())
    assert guard.warned == set()
    assert any("again" in r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG)
    guard.parse(TOPIC, BAD_PAYLOADS["not_json"])
    assert len(_warnings(caplog)) == 2


def test_parse_alone_does_not_rearm(guard: MqttInputGuard, caplog: Any) -> None:
    """Only ``accept`` of a clean reading clears the warnings (parse has no verdict on values)."""
    guard.parse(TOPIC, BAD_PAYLOADS["empty"])
    assert guard.parse(TOPIC, _payload()) is not None
    guard.parse(TOPIC, BAD_PAYLOADS["empty"])
    assert len(_warnings(caplog)) == 1


def test_wrong_types_keep_previous_values(guard: MqttInputGuard, caplog: Any) -> None:
    previous = _read(guard, _payload())
    for _ in range(3):
        report = _read(guard, _payload(ei=5121.0, pi="abc", u1=[1], tr=7, ms=3), previous)
    assert report.values["energy_import"] == 5121.0  # the good value counts
    assert report.values["power_import"] == 1.2
    assert report.values["voltage_l1"] == 231.4
    assert report.tariff == 2
    assert report.meter == previous.meter
    assert set(report.rejected) == {"pi", "u1", "tr", "ms"}  # still reported as rejected
    warnings = _warnings(caplog)
    assert len(warnings) == 1, warnings
    for key in ("pi", "u1", "tr", "ms"):
        assert key in warnings[0]


def test_placeholders_are_their_own_kind(guard: MqttInputGuard, caplog: Any) -> None:
    previous = _read(guard, _payload())
    report = _read(guard, _payload(pi="${1_7_0}", u1="x"), previous)
    assert report.values["power_import"] == 1.2
    warnings = _warnings(caplog)
    assert len(warnings) == 2, warnings
    assert any("${...}" in w and "pi" in w for w in warnings)
    assert any("unusable" in w and "u1" in w for w in warnings)


def test_bare_placeholder_is_repaired_then_kept(guard: MqttInputGuard, caplog: Any) -> None:
    previous = _read(guard, _payload())
    raw = _payload().decode().replace('"pi": 1.2', '"pi": ${no_such}')
    assert "${no_such}" in raw
    report = _read(guard, raw, previous)
    assert report.values["power_import"] == 1.2
    assert len(_warnings(caplog)) == 1


def test_null_string_keeps_previous_without_warning(guard: MqttInputGuard, caplog: Any) -> None:
    previous = _read(guard, _payload())
    report = _read(guard, _payload(pi="null", tr="null", ms="null"), previous)
    assert report.values["power_import"] == 1.2
    assert report.tariff == 2
    assert report.meter == MeterInfo(status="OK", tariff=2)
    assert _warnings(caplog) == []


def test_null_only_counts_as_good_message(guard: MqttInputGuard, caplog: Any) -> None:
    guard.parse(TOPIC, BAD_PAYLOADS["empty"])
    _read(guard, _payload(pi="null"))
    guard.parse(TOPIC, BAD_PAYLOADS["empty"])
    assert len(_warnings(caplog)) == 2


def test_vendor_template_keys_are_filled_in(guard: MqttInputGuard) -> None:
    previous = _read(guard, json.dumps({"sys_id": "A1", "power_in": "1.5", "tariff": "1"}))
    report = _read(guard, json.dumps({"sys_id": "A1", "power_in": "null", "tariff": "x"}), previous)
    assert report.values["power_import"] == 1.5
    assert report.tariff == 1


def test_live_key_names_are_filled_in(guard: MqttInputGuard) -> None:
    previous = _read(guard, json.dumps({"E_In": 10.5, "tariff": 2}))
    report = _read(guard, json.dumps({"E_In": "bad", "tariff": 2}), previous)
    assert report.values["energy_import"] == 10.5
    assert report.rejected == ("E_In",)


def test_no_previous_leaves_report_alone(guard: MqttInputGuard) -> None:
    report = guard.parse(TOPIC, _payload(pi="abc"))
    assert report is not None
    assert guard.accept(TOPIC, report, None) is report
    assert "power_import" not in report.values


def test_clean_report_is_returned_as_is(guard: MqttInputGuard) -> None:
    previous = _read(guard, _payload())
    report = guard.parse(TOPIC, _payload(pi=2.0))
    assert report is not None
    assert guard.accept(TOPIC, report, previous) is report


def test_value_missing_in_previous_stays_missing(guard: MqttInputGuard) -> None:
    previous = _read(guard, json.dumps({"wwha": 1, "ei": 1.0}))
    report = _read(guard, _payload(pi="abc"), previous)
    assert "power_import" not in report.values
    assert report.values["energy_import"] == 5120.5
