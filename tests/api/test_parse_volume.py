"""Sub-meters (``Report.volumes``) from every wire shape: REST, live stream, MQTT templates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
import json
import re
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from custom_components.whatwatt.api.models import Volume
from custom_components.whatwatt.api.parse_common import ValueCollector
from custom_components.whatwatt.api.parse_live import parse_live_event
from custom_components.whatwatt.api.parse_mqtt import parse_mqtt_payload
from custom_components.whatwatt.api.parse_report import parse_report
from custom_components.whatwatt.api.parse_volume import (
    LIVE_VOLUME_KEYS,
    MAX_VOLUMES,
    REST_VOLUME_KEYS,
    capture_time,
    parse_volumes,
)
from custom_components.whatwatt.api.template import (
    INTEGRATION_TEMPLATE,
    KEY_VOLUMES,
    MAX_TEMPLATE_LENGTH,
    VOLUME_SLOTS,
    volume_slot,
)

from .helpers import FIXTURES, load

ZURICH = ZoneInfo("Europe/Zurich")
MINUS_5 = timezone(timedelta(hours=-5))
# The README's sub-meter: captured 09:00 local (Zurich, winter) = 08:00 UTC.
README_VOLUME = Volume(
    bus=1, meter_id="12345678", cumulative=321.5, captured=datetime(2026, 1, 15, 8, tzinfo=UTC)
)


def _own(volumes: str, **extra: Any) -> str:
    """Return an own-template payload (version 2) with this ``Vol`` array."""
    fields = {"wwha": 2, "id": "A1B2C3D4E5F6", "ms": "OK", "mi": "P1", "pi": 1.0, **extra}
    body = json.dumps(fields)[:-1]
    return f'{body}, "Vol": {volumes}}}'


def test_rest_report() -> None:
    report = parse_report(load("report_dlms_three.json"), tz=ZURICH)
    assert report.volumes == {1: README_VOLUME}
    assert report.rejected == ()


def test_rest_report_without_submeters_has_none() -> None:
    report = parse_report(load("report_p1_single.json"))
    assert report.volumes == {}  # REST can carry them: none there means none


def test_live_event() -> None:
    report = parse_live_event((FIXTURES / "live_event_three.json").read_bytes(), tz=ZURICH)
    assert report.volumes == {1: README_VOLUME}
    no_vol = parse_live_event('{"P_In": 1.0, "Date": "2026-01-15", "Time": "09:12:40"}')
    assert no_vol.volumes == {}


def test_own_template_slots() -> None:
    """Quoted values; empty slots ("null", verbatim placeholders) are no sub-meter, no error."""
    empty = volume_slot(3)  # the device leaves the placeholders of a missing slot verbatim
    payload = _own(
        "["
        '{"Bus":"1","M_ID":"12345678","DT":"2026-01-15T08:00:00Z","Cum":"321.5"},'
        '{"Bus":"2","M_ID":"","DT":"","Cum":"null"},'
        '{"Bus":"null","M_ID":"","DT":"","Cum":"null"},'
        f"{empty}]"
    )
    report = parse_mqtt_payload(payload)
    assert report.volumes == {1: README_VOLUME, 2: Volume(bus=2)}
    assert report.rejected == ()
    assert report.meter is not None
    assert report.meter.interface == "P1"


def test_payloads_without_the_fields_cannot_tell() -> None:
    """The vendor's template and the first own template carry no sub-meters: None, not {}."""
    assert parse_mqtt_payload((FIXTURES / "mqtt_vendor.json").read_bytes()).volumes is None
    assert parse_mqtt_payload('{"wwha":1,"id":"A1B2C3D4E5F6","pi":1}').volumes is None
    borrowed = '{"sys_id":"A1B2C3D4E5F6","Vol":[{"Bus":1,"M_ID":"9","Cum":2.5}]}'
    assert parse_mqtt_payload(borrowed).volumes == {1: Volume(bus=1, meter_id="9", cumulative=2.5)}


@pytest.mark.parametrize(
    ("entries", "volumes", "rejected"),
    [
        ("nope", {}, ["Vol"]),
        ([5, None], {}, ["Vol[0]"]),
        ([{"Bus": "x", "Cum": 1}], {}, ["Vol[0].Bus"]),
        ([{"Bus": 1.5, "Cum": 1}, {"Bus": -1, "Cum": 1}], {}, ["Vol[0].Bus", "Vol[1].Bus"]),
        ([{"Bus": True, "Cum": 1}], {}, ["Vol[0].Bus"]),
        ([{"Bus": 3, "Cum": {"x": 1}}], {3: Volume(bus=3)}, ["Vol[0].Cum"]),
        ([{"Bus": 3, "Cum": "abc", "DT": "soon"}], {3: Volume(bus=3)}, ["Vol[0].Cum"]),
        ([{"Bus": 1, "Cum": 1}, {"Bus": 1, "Cum": 2}], {1: Volume(bus=1, cumulative=2.0)}, []),
    ],
)
def test_unusable_entries(entries: Any, volumes: dict[int, Volume], rejected: list[str]) -> None:
    """A garbage bus drops its entry; a garbage counter keeps the sub-meter without a value."""
    collect = ValueCollector()
    found = parse_volumes(entries, LIVE_VOLUME_KEYS, tz=None, collect=collect, wire="Vol")
    assert found == volumes
    assert collect.rejected == rejected


def test_at_most_max_volumes_are_read() -> None:
    entries = [{"bus": n, "cumulative": n} for n in range(MAX_VOLUMES + 5)]
    found = parse_volumes(
        entries, REST_VOLUME_KEYS, tz=None, collect=ValueCollector(), wire="report.volume"
    )
    assert sorted(found) == list(range(MAX_VOLUMES))


@pytest.mark.parametrize(
    ("text", "tz", "expected"),
    [
        ("2026-01-15T09:00:00", ZURICH, datetime(2026, 1, 15, 8, tzinfo=UTC)),
        ("2026-01-15T09:00:00Z", ZURICH, datetime(2026, 1, 15, 8, tzinfo=UTC)),  # the Z quirk
        ("2026-07-15 09:00:00", ZURICH, datetime(2026, 7, 15, 7, tzinfo=UTC)),
        ("2026-01-15T09:00:00+02:00", ZURICH, datetime(2026, 1, 15, 7, tzinfo=UTC)),
        ("2026-01-15T08:00:00Z", UTC, datetime(2026, 1, 15, 8, tzinfo=UTC)),
        ("2026-01-15T09:00:00", None, datetime(2026, 1, 15, 9, tzinfo=UTC)),
        ("2026-01-15T09:00:00", MINUS_5, datetime(2026, 1, 15, 14, tzinfo=UTC)),
        ("", ZURICH, None),
        ("null", ZURICH, None),
        ("${vol[0].date_time}", ZURICH, None),
        ("yesterday", ZURICH, None),
        (1768464000, ZURICH, None),
    ],
)
def test_capture_time(text: Any, tz: Any, expected: datetime | None) -> None:
    assert capture_time(text, tz) == expected


def test_template_fits_four_submeters() -> None:
    """Four slots fit in the device's 1023 characters, a fifth would not."""
    assert VOLUME_SLOTS == 4
    assert len(INTEGRATION_TEMPLATE) <= MAX_TEMPLATE_LENGTH
    assert len(INTEGRATION_TEMPLATE) + len(volume_slot(4)) + 1 > MAX_TEMPLATE_LENGTH
    for index in range(VOLUME_SLOTS):
        assert volume_slot(index) in INTEGRATION_TEMPLATE
    assert f'"{KEY_VOLUMES}":[' in INTEGRATION_TEMPLATE
    assert '"mi":"${meter.interface}"' in INTEGRATION_TEMPLATE
    # Every sub-meter placeholder is quoted: valid JSON whatever the device renders.
    filled = re.sub(r"\$\{[^}]*\}", "0", INTEGRATION_TEMPLATE)
    assert len(json.loads(filled)[KEY_VOLUMES]) == VOLUME_SLOTS
