"""Property: every parser returns a model within the boundary's promise, or a ``WhatwattError``.

For any input (documents of the wire shapes with hostile leaves, junk of any shape, raw payloads
whole, cut, nested 100,000 deep or larger than 64 KiB, in any time zone) each public parser
either returns a model that ``model_checks`` accepts, or raises ``WhatwattError``: never another
exception. The examples of issue 19 run every time (``@example``). The number of examples is
the Hypothesis profile's (``tests/conftest.py``: 150, ``WHATWATT_HYPOTHESIS_EXAMPLES`` for more).
"""

from __future__ import annotations

from datetime import UTC, timedelta, timezone, tzinfo
import json
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from hypothesis import example, given, strategies as st

from custom_components.whatwatt.api import (
    WhatwattError,
    parse_action_status,
    parse_live_event,
    parse_mqtt_payload,
    parse_mqtt_settings,
    parse_report,
    parse_sdcard_listing,
    parse_settings,
    parse_system,
)
from custom_components.whatwatt.api.clock import DeviceZone
from custom_components.whatwatt.api.parse_common import load_json as decode_json

from .model_checks import (
    check_action_status,
    check_mqtt_settings,
    check_report,
    check_sd_files,
    check_settings,
    check_system,
)
from .wire_strategies import (
    ACTION_STATUS,
    LIVE_EVENT,
    MQTT_SETTINGS,
    OWN_MESSAGE,
    REPORT,
    SD_LISTING,
    SETTINGS,
    SYSTEM,
    VENDOR_MESSAGE,
    documents,
    payloads,
)

if TYPE_CHECKING:
    from collections.abc import Callable


def _device_zone(hours: float) -> DeviceZone:
    zone = DeviceZone()
    zone.offset = timedelta(hours=hours)
    return zone


ZONES = st.one_of(
    st.none(),
    st.just(UTC),
    st.sampled_from(("Pacific/Kiritimati", "Etc/GMT+12", "Europe/Zurich")).map(ZoneInfo),
    st.sampled_from((14, -14, -12, 5.75)).map(_device_zone),
    st.sampled_from((timedelta(hours=23, minutes=59), -timedelta(hours=23, minutes=59))).map(
        timezone
    ),
)


def _returns_a_model_or_whatwatt_error(
    parse: Callable[[], Any], check: Callable[[Any], None]
) -> None:
    try:
        result = parse()
    except WhatwattError:
        return
    check(result)


@given(data=documents(REPORT), tz=ZONES)
@example(data={"report": {"date_time_utc": "9999-12-31T23:59:59-01:00"}}, tz=None)
@example(data={"report": {"date_time_local": "0001-01-01T00:00:00+01:00"}}, tz=None)
@example(data={"report": {"date_time": "9999-12-31T23:59:59Z"}}, tz=ZoneInfo("Etc/GMT+12"))
@example(data={"report": {"interval": 1e7}, "system": {"time_since_boot": 1e15}}, tz=None)
@example(
    data={"report": {"interval": 1e300}, "system": {"date_time": "0001-01-01T00:00:00Z"}}, tz=None
)
@example(
    data={"report": {"instantaneous_power": {"active": {"positive": {"total": 1e306}}}}}, tz=None
)
def test_parse_report(data: Any, tz: tzinfo | None) -> None:
    """``parse_report``: the REST report."""
    _returns_a_model_or_whatwatt_error(lambda: parse_report(data, tz=tz), check_report)


@given(payload=payloads(LIVE_EVENT), tz=ZONES)
@example(payload='{"Date":"9999-12-31","Time":"23:59:59","P_In":1.2}', tz=None)
@example(payload='{"Date":"0001-01-01","Time":"00:00:00+01:00"}', tz=None)
@example(payload='{"Vol":[{"Bus":1,"DT":"9999-12-31T23:59:59","Cum":1}]}', tz=_device_zone(-14))
@example(payload='{"Uptime":1e308,"P_In":1e306,"P_Out":-1e308,"PF":NaN}', tz=None)
@example(payload="[" * 100_000 + "]" * 100_000, tz=None)
def test_parse_live_event(payload: str | bytes, tz: tzinfo | None) -> None:
    """``parse_live_event``: one live event's data."""
    _returns_a_model_or_whatwatt_error(lambda: parse_live_event(payload, tz=tz), check_report)


@given(payload=st.one_of(payloads(OWN_MESSAGE), payloads(VENDOR_MESSAGE)), tz=ZONES)
@example(payload='{"sys_id":"ECC9FF5C7F14","time":"9999-12-31T23:59:59-01:00"}', tz=None)
@example(payload='{"sys_id":"ECC9FF5C7F14","reactive_power_in":"1e306"}', tz=None)
@example(payload='{"sys_id":"ECC9FF5C7F14","power_in":1e308,"power_out":-1e308}', tz=None)
@example(
    payload='{"wwha":2,"id":"ECC9FF5C7F14","ts":"0001-01-01T00:00:00+01:00","t":1e300}', tz=None
)
@example(payload=b'{"wwha":2,"id":"ECC9FF5C7F14\\u0000","pi":${x}}', tz=None)
def test_parse_mqtt_payload(payload: str | bytes, tz: tzinfo | None) -> None:
    """``parse_mqtt_payload``: both templates, whole or broken."""
    _returns_a_model_or_whatwatt_error(lambda: parse_mqtt_payload(payload, tz=tz), check_report)


@given(data=documents(SYSTEM), tz=ZONES)
@example(
    data={
        "device": {
            "id": "ECC9FF5C7F14",
            "time_since_boot": 1e15,
            "date": "9999-12-31",
            "time": "23:59:59",
            "last_reboot": {"date": "0001-01-01", "time": "00:00:00"},
        },
        "meter": {"report_interval": 1e300},
    },
    tz=ZoneInfo("Pacific/Kiritimati"),
)
@example(data={"device": {"id": "../../etc/passwd"}}, tz=None)
def test_parse_system(data: Any, tz: tzinfo | None) -> None:
    """``parse_system``: the system document (no valid id: an error, never a model)."""
    _returns_a_model_or_whatwatt_error(lambda: parse_system(data, tz=tz), check_system)


@given(data=documents(SETTINGS))
@example(data={"services": {"report_interval": 1e300}})
def test_parse_settings(data: Any) -> None:
    """``parse_settings``."""
    _returns_a_model_or_whatwatt_error(lambda: parse_settings(data), check_settings)


@given(data=documents(MQTT_SETTINGS))
def test_parse_mqtt_settings(data: Any) -> None:
    """``parse_mqtt_settings``."""
    _returns_a_model_or_whatwatt_error(lambda: parse_mqtt_settings(data), check_mqtt_settings)


@given(data=documents(ACTION_STATUS))
@example(data=[{"action_id": "a", "id": 1e308, "code": "nan", "exe_time": 1e999}])
def test_parse_action_status(data: Any) -> None:
    """``parse_action_status``: a list of records."""
    _returns_a_model_or_whatwatt_error(lambda: parse_action_status(data), check_action_status)


@given(data=documents(SD_LISTING))
@example(data={"files": [{"name": "20260115.CSV", "size": 1e308}, {"name": "\x00/"}]})
def test_parse_sdcard_listing(data: Any) -> None:
    """``parse_sdcard_listing``."""
    _returns_a_model_or_whatwatt_error(lambda: parse_sdcard_listing(data), check_sd_files)


@given(document=documents(REPORT), tz=ZONES)
def test_the_clients_report(document: Any, tz: tzinfo | None) -> None:
    """The client's path: the body decoded (``decode_json``), then parsed."""
    body = json.dumps(document).encode()
    _returns_a_model_or_whatwatt_error(lambda: parse_report(decode_json(body), tz=tz), check_report)
