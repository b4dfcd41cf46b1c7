"""Hypothesis strategies for the bytes a whatwatt Go (or anyone on its topic) may send.

Documents follow the wire shapes (REST report, system, settings, MQTT settings, action status,
SD listing, live event, both MQTT templates, SD rows) so that most examples reach deep into the
parsers, and every leaf may be hostile: huge and tiny floats, numbers that overflow once scaled,
``inf``/``nan`` as floats and as text, integers beyond any float, extreme ISO times (years 1 and
9999, offsets that push them over the edge), wrong types, placeholders, NUL bytes, deep nesting.
Any node may also be replaced by a JSON tree of the wrong shape.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
import itertools
import json
import math
from typing import Any

from hypothesis import strategies as st

from custom_components.whatwatt.api.parse_live import LIVE_KEYS
from custom_components.whatwatt.api.parse_mqtt import VENDOR_KEYS
from custom_components.whatwatt.api.parse_report import REPORT_PATHS
from custom_components.whatwatt.api.parse_sdcard import CSV_COLUMNS
from custom_components.whatwatt.api.template import MARKER_KEY, OWN_KEY_TO_MEASUREMENT

Strategy = st.SearchStrategy[Any]

HOSTILE_NUMBERS: tuple[Any, ...] = (
    1e306,
    -1e306,
    1e308,
    -1e308,
    1.7976931348623157e308,
    5e-324,
    -0.0,
    0,
    1,
    2,
    1e6,
    1e6 + 1,
    -1e6 - 1,
    1e7,
    1e9,
    1e9 + 1,
    1e12,
    1e12 + 1,
    1e15,
    1e300,
    2**53 + 1,
    2**64,
    10**400,
    -(10**400),
    math.inf,
    -math.inf,
    math.nan,
    "1e306",
    "1e308",
    "-1e308",
    "1e999",
    "inf",
    "-inf",
    "nan",
    "NaN",
    "Infinity",
    " 5 ",
    "3600",
    "0",
    "",
    "null",
    "${1_7_0}",
    "\x00",
    "1\x002",
    "1" * 400,
    True,
    False,
)
EXTREME_TIMES: tuple[str, ...] = (
    "9999-12-31T23:59:59-01:00",
    "0001-01-01T00:00:00+01:00",
    "9999-12-31T23:59:59Z",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59",
    "0001-01-01T00:00:00",
    "9999-12-31T23:59:59.999999-23:59",
    "0001-01-01T00:00:00+23:59",
    "1969-12-31T23:59:59Z",
    "1970-01-01T00:00:00+14:00",
    "2199-12-31T23:59:59+00:00",
    "2200-01-01T00:00:00Z",
    "2026-01-15T08:12:40Z",
    "2026-01-15T09:12:40+01:00",
    "2026-01-15T08:12:40",
    "2026-13-45T99:99:99Z",
    "2026-01-15T08:12:40\x00",
    "null",
    "${meter.date_time_utc}",
)
DATES: tuple[str, ...] = ("9999-12-31", "0001-01-01", "2026-01-15", "1969-12-31", "2200-01-01")
TIMES_OF_DAY: tuple[str, ...] = (
    "23:59:59",
    "00:00:00",
    "24:00:00",
    "08:12:40Z",
    "23:59:59-23:59",
    "00:00:00+23:59",
    "12:00:00+05:00",
)
HOSTILE_IDS: tuple[str, ...] = (
    "ECC9FF5C7F14",
    "ecc9ff5c7f14",
    " ECC9FF5C7F14 ",
    "x",
    "../../etc/passwd",
    "AB+CD#EF0123",
    "ECC9FF5C7F14\x00",
    "ECC9FF5C7F1",
    "ECC9FF5C7F145",
    "ÉCC9FF5C7F14",
)
HOSTILE_TEXT: tuple[str, ...] = ("", "null", "${meter.status}", "\x00", "OK", "\ud800", "x" * 300)

_offsets = st.timedeltas(
    min_value=-timedelta(hours=23, minutes=59), max_value=timedelta(hours=23, minutes=59)
)
_zones = st.one_of(st.none(), st.just(UTC), _offsets.map(timezone))
_any_datetime = st.datetimes(timezones=_zones)  # years 1 to 9999


def often(strategy: Strategy, rarely: Strategy) -> Strategy:
    """Return ``strategy`` four times in five, ``rarely`` else (an index draw, shrinks to 0)."""
    return st.integers(0, 4).flatmap(lambda pick: rarely if pick == 4 else strategy)


def nested_list(depth: int) -> list[Any]:
    """Return a list nested ``depth`` deep (no recursion, any depth)."""
    node: list[Any] = []
    for _ in range(depth):
        node = [node]
    return node


floats = st.floats(allow_nan=True, allow_infinity=True)
numbers = st.one_of(
    st.sampled_from(HOSTILE_NUMBERS),
    floats,
    st.integers(),
    floats.map(repr),
    st.floats(allow_nan=False, allow_infinity=False, width=32).map(str),
)
texts = st.one_of(st.sampled_from(HOSTILE_TEXT), st.text(max_size=40))
booleans = st.one_of(st.booleans(), st.sampled_from(("true", 1, 0, None)))
iso_times = st.one_of(
    st.sampled_from(EXTREME_TIMES),
    _any_datetime.map(datetime.isoformat),
    _any_datetime.map(lambda moment: moment.isoformat() + "Z"),
)
dates = st.one_of(st.sampled_from(DATES), st.dates().map(lambda day: day.isoformat()))
times_of_day = st.one_of(st.sampled_from(TIMES_OF_DAY), st.times(timezones=_zones).map(str))
device_ids = st.one_of(
    st.sampled_from(HOSTILE_IDS), st.text(alphabet="0123456789ABCDEFabcdef \x00", max_size=14)
)
unix_times = st.one_of(numbers, st.sampled_from((253402300799, 253402300800, -62135596801)))

json_leaves = st.one_of(st.none(), st.booleans(), numbers, texts)
json_trees = st.recursive(
    json_leaves,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
junk = st.one_of(json_trees, st.integers(1, 200).map(nested_list))


def shaped(template: Any) -> Strategy:
    """Return documents shaped like ``template`` (objects of optional keys, leaves as given).

    ``template`` is a dict (an object: every key optional), a list of one template (an array of
    such), or a strategy (a leaf). Any node may be junk instead, now and then.
    """
    if isinstance(template, st.SearchStrategy):
        return often(template, junk)
    if isinstance(template, list):
        return often(st.lists(shaped(template[0]), max_size=20), junk)
    optional = {key: shaped(value) for key, value in template.items()}
    return often(st.fixed_dictionaries({}, optional=optional), junk)


def _tree(paths: dict[tuple[str, ...], Any], leaf: Strategy) -> dict[str, Any]:
    """Return the nested template holding ``leaf`` at each path."""
    root: dict[str, Any] = {}
    for path in paths:
        node = root
        for step in path[:-1]:
            node = node.setdefault(step, {})
        node[path[-1]] = leaf
    return root


REST_VOLUME = {"bus": numbers, "meter_id": texts, "date_time": iso_times, "cumulative": numbers}
LIVE_VOLUME = {"Bus": numbers, "M_ID": texts, "DT": iso_times, "Cum": numbers}
_CLOCK = {"date_time": iso_times, "date_time_local": iso_times, "date_time_utc": iso_times}
REPORT = {
    "report": {
        **_tree(REPORT_PATHS, numbers),
        **_CLOCK,
        "id": numbers,
        "interval": numbers,
        "tariff": numbers,
        "volume": [REST_VOLUME],
    },
    "meter": dict.fromkeys(("status", "interface", "vendor", "model", "logical_name"), texts),
    "system": {**_CLOCK, "id": device_ids, "boot_id": texts, "time_since_boot": numbers},
}
LIVE_EVENT = {
    **dict.fromkeys(LIVE_KEYS, numbers),
    "T": numbers,
    "Uptime": numbers,
    "Date": dates,
    "Time": times_of_day,
    "Vol": [LIVE_VOLUME],
}
OWN_MESSAGE = {
    MARKER_KEY: st.just(2),
    "id": device_ids,
    "ts": iso_times,
    "t": unix_times,
    "ms": texts,
    "tr": numbers,
    "mi": texts,
    **dict.fromkeys(OWN_KEY_TO_MEASUREMENT, numbers),
    "Vol": [LIVE_VOLUME],
}
VENDOR_MESSAGE = {
    "sys_id": device_ids,
    "meter_id": texts,
    "time": st.one_of(unix_times, iso_times),
    "tariff": numbers,
    **dict.fromkeys(VENDOR_KEYS, numbers),
    **dict.fromkeys(("P_In", "E_In", "V_P1", "PF"), numbers),
    "Vol": [LIVE_VOLUME],
}
METER_BLOCK = {
    **dict.fromkeys(("status", "interface", "manufacturer", "type", "model", "id"), texts),
    "tariff": numbers,
    "report_interval": numbers,
}
SYSTEM = {
    "device": {
        **dict.fromkeys(("name", "model", "firmware", "build"), texts),
        "id": device_ids,
        "license": {"type": texts},
        "time_since_boot": numbers,
        "time_since_reboot": numbers,
        "date": dates,
        "time": times_of_day,
        "last_reboot": {"date": dates, "time": times_of_day},
        "plug": dict.fromkeys(("v_usb", "v_mbus", "v_p1", "v_scap"), numbers),
    },
    "clouds": {"mqtc": {"enabled": booleans, "connected": booleans}},
    "meter": METER_BLOCK,
    "wifi": {"rssi": numbers, "signal": numbers},
}
SETTINGS = {
    "system": {
        **dict.fromkeys(("name", "host_name", "custom_ntp_server"), texts),
        **dict.fromkeys(("protection", "power_save", "use_custom_ntp_server"), booleans),
        "password_len": numbers,
    },
    "services": {"report_interval": numbers, "broadcast": booleans},
}
MQTT_SETTINGS = {
    **dict.fromkeys(("url", "username", "client_id"), texts),
    "enable": booleans,
    "skip_cn_check": booleans,
    "password_len": numbers,
    "publish": {"topic": texts, "template": texts},
    "broker": {"certificate": texts},
}
ACTION_STATUS = [{"action_id": texts, "id": numbers, "code": numbers, "exe_time": numbers}]
SD_LISTING = {"path": texts, "files": [{"name": texts, "size": numbers, "type": texts}]}


def documents(template: Any) -> Strategy:
    """Return decoded JSON documents of a wire shape (mostly objects, sometimes junk)."""
    return shaped(template)


def _serialise(document: Any) -> str:
    return json.dumps(document, ensure_ascii=False)


def _encode(text: str) -> bytes:
    return text.encode("utf-8", errors="surrogatepass")


def _bare_placeholder(text: str) -> str:
    """Turn the first quoted value into a bare placeholder, as the device renders unknowns."""
    head, sep, tail = text.partition(':"')
    if not sep:
        return text
    _, quote, rest = tail.partition('"')
    return f"{head}:${{no_such}}{rest}" if quote else text


payload_texts = st.one_of(
    st.sampled_from(("", " ", "null", "[]", "{", '{"a":', "\ufeff{}")),
    st.integers(1, 120_000).map(lambda depth: "[" * depth + "]" * depth),
    st.integers(1, 40_000).map(lambda depth: '{"a":' * depth + "1" + "}" * depth),
    st.just('{"x":"' + "a" * (64 * 1024) + '"}'),
    st.text(max_size=60),
)


def payloads(template: Any) -> Strategy:
    """Return raw payloads (text or UTF-8 bytes) of a wire shape, whole or broken."""
    text = st.one_of(
        documents(template).map(_serialise),
        documents(template).map(_serialise).map(_bare_placeholder),
        payload_texts,
    )
    return st.one_of(
        text,
        text.map(_encode),
        st.binary(max_size=80),
        st.tuples(text.map(_encode), st.integers(0, 200)).map(lambda pair: pair[0][: pair[1]]),
    )


# -- SD-card rows ------------------------------------------------------------------------------

SD_COLUMNS: tuple[str, ...] = ("RID", "TIME", "TARIFF", "RP", "MID", "MSTAT", *CSV_COLUMNS)
csv_numbers = st.one_of(
    st.sampled_from(("", "1e306", "1e308", "-1e308", "inf", "nan", "1e999", "3600000", "1e300")),
    floats.map(repr),
    st.integers().map(str),
    st.text(alphabet="0123456789.-e", max_size=12),
)
csv_fields = st.one_of(
    csv_numbers,
    iso_times.map(lambda text: f'"{text}"'),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=12),
    st.sampled_from(('"unclosed', '""', '"a""b"', "\x00")),
    st.integers(4000, 6000).map(lambda size: "x" * size),
)


_good_times = st.datetimes(
    min_value=datetime(2026, 1, 15, 7),  # noqa: DTZ001 - Hypothesis takes naive bounds
    max_value=datetime(2026, 1, 15, 10),  # noqa: DTZ001
).map(lambda moment: f'"{moment:%Y-%m-%dT%H:%M:%S}Z"')
_sd_fields: dict[str, Strategy] = {
    "TIME": often(st.one_of(_good_times, iso_times.map(lambda text: f'"{text}"')), csv_fields),
    "MID": csv_fields,
    "MSTAT": csv_fields,
}
sd_rows = st.tuples(
    *(often(_sd_fields.get(column, csv_numbers), csv_fields) for column in SD_COLUMNS)
).map(",".join)
sd_files = st.lists(
    st.one_of(sd_rows, sd_rows, st.sampled_from(("", ",".join(SD_COLUMNS))), st.text(max_size=30)),
    max_size=12,
).map(
    lambda rows: ("\ufeff" + ",".join(SD_COLUMNS) + "\r\n" + "\r\n".join(rows)).encode(
        "utf-8", "surrogatepass"
    )
)


def chunkings(data_size: int) -> Strategy:
    """Return sorted cut points that split ``data_size`` bytes into chunks."""
    if data_size <= 1:
        return st.just([])
    return st.lists(st.integers(1, data_size - 1), max_size=24, unique=True).map(sorted)


def cut(data: bytes, points: list[int]) -> list[bytes]:
    """Return ``data`` cut at ``points``."""
    edges = [0, *points, len(data)]
    return [data[start:end] for start, end in itertools.pairwise(edges)]
