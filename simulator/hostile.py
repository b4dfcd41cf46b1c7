"""A hostile device: answers that are well-formed on the wire but absurd, endless or huge.

Every byte a device sends is untrusted. The ``hostile`` fault (``faults.Faults``) arms a
``Hostile``: a set of kinds, each a way the bytes from outside go wrong, and three tunables. It
stays on until it is switched off (``None``). It only touches what goes out (the REST answers,
the live events, the MQTT messages): the stored report, the meter, the SD card and the settings
stay as they are, so switching it off gives the ordinary device back at once.

JSON form (``POST /_sim/faults``)::

    {"hostile": ["extreme_times", "overflow"]}
    {"hostile": {"kinds": ["absurd_interval"], "interval": 1e7}}
    {"hostile": {"kinds": ["huge_body"], "body_bytes": 8388608}}
    {"hostile": null}

Kinds:

- ``extreme_times``: every time printed is at the edge of the calendar. REST report and its
  ``system`` block: ``date_time_utc`` ``9999-12-31T23:59:59-01:00`` (beyond year 9999 in UTC),
  ``date_time_local`` ``0001-01-01T00:00:00+01:00`` (before year 1 in UTC), ``date_time``
  ``9999-12-31T23:59:59Z``; sub-meters' ``date_time`` ``9999-12-31T23:59:59``; ``/system``:
  ``device.date``/``time`` and ``meter.date``/``time`` 9999-12-31 23:59:59, ``last_reboot``
  0001-01-01 00:00:00; live ``Date``/``Time`` 9999-12-31 23:59:59 and 0001-01-01 00:00:00 in
  turn (one of them is beyond the calendar in UTC, whatever the zone), ``Vol[].DT`` as the REST
  sub-meters; MQTT: the template variables follow the report (``meter.date_time_utc``,
  ``timestamp`` ...).
- ``overflow``: values that overflow once scaled or summed, and non-finite ones: import power
  1e306 kW, export power -1e308 kW (their difference, the net power, is 2e308), reactive import
  power 1e306 kvar, power factor NaN, current L1 infinity (JSON ``NaN``/``Infinity`` on REST and
  live; MQTT renders non-finite numbers as ``null``, as the device does). Voltage and energy keep
  their measured values. ``/system``: Wi-Fi RSSI 1e300 and signal -1e300 (whole numbers of 301
  digits), USB supply voltage 1e308.
- ``nested_json``: every JSON answer under ``/api/`` (errors too, 401 excepted) is ``[`` nested
  100,000 deep; every live event and MQTT message 30,000 deep (they stay under 64 KiB).
- ``huge_body``: every JSON answer under ``/api/`` with status 200 is ``body_bytes`` long (64 MiB
  by default), a valid JSON object streamed in 64 KiB chunks without ``Content-Length``; the bytes
  the client took are counted in ``Simulator.hostile_bytes_sent``.
- ``endless_line``: the live stream sends 256 KiB of one line that never ends per telegram.
- ``no_blank_line``: live events lack the blank line that ends them (their data lines pile up).
- ``trickle``: the live stream sends a few bytes per telegram that never complete an event.
- ``stray_submeters``: every reading (REST report, live event, MQTT message) names
  ``STRAY_PER_READING`` sub-meters on buses never named before (10..249, then round again).
- ``absurd_interval``: the report's ``interval``, ``/system``'s ``meter.report_interval`` and
  ``/settings``' ``services.report_interval`` read ``interval`` (1e300 by default).
- ``absurd_uptime``: every uptime reads ``uptime`` (1e308 by default) in its own unit: seconds in
  ``time_since_boot`` (report and ``/system``), hours in the live ``Uptime``.
- ``long_sd_rows``: the rows the SD card's logging service writes while it is on are
  ``LONG_ROW_BYTES`` long (the meter model field padded), valid rows beyond any sane line.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
import math
from typing import TYPE_CHECKING, Any, Final

from aiohttp import web

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

KINDS: Final[tuple[str, ...]] = (
    "extreme_times",
    "overflow",
    "nested_json",
    "huge_body",
    "endless_line",
    "no_blank_line",
    "trickle",
    "stray_submeters",
    "absurd_interval",
    "absurd_uptime",
    "long_sd_rows",
)
# The times at the edge of the calendar.
LATE_UTC: Final = "9999-12-31T23:59:59-01:00"
EARLY_LOCAL: Final = "0001-01-01T00:00:00+01:00"
LATE_STAMP: Final = "9999-12-31T23:59:59Z"
LATE_WALL: Final = "9999-12-31T23:59:59"
LATE_DATE, LATE_TIME = "9999-12-31", "23:59:59"
EARLY_DATE, EARLY_TIME = "0001-01-01", "00:00:00"
# Report paths → the value ``overflow`` gives them.
OVERFLOW: Final[dict[tuple[str, ...], float]] = {
    ("instantaneous_power", "active", "positive", "total"): 1e306,
    ("instantaneous_power", "active", "negative", "total"): -1e308,
    ("instantaneous_power", "reactive", "positive", "total"): 1e306,
    ("power_factor",): math.nan,
    ("current", "l1"): math.inf,
}
REST_DEPTH: Final = 100_000
PUSH_DEPTH: Final = 30_000
DEFAULT_BODY_BYTES: Final = 64 * 1024 * 1024
BODY_CHUNK: Final = 64 * 1024
ENDLESS_CHUNK: Final = 256 * 1024
TRICKLE: Final = 'data: {"P_In":'
STRAY_PER_READING: Final = 4
FIRST_STRAY_BUS, STRAY_BUSES = 10, 240
DEFAULT_INTERVAL: Final = 1e300
DEFAULT_UPTIME: Final = 1e308
LONG_ROW_BYTES: Final = 5000
_LIVE_FRAMES: Final = ("nested_json", "endless_line", "no_blank_line", "trickle")


def nested(depth: int) -> str:
    """Return a JSON array nested ``depth`` deep (valid JSON no recursive decoder reads)."""
    return "[" * depth + "]" * depth


def _put(node: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    """Set ``value`` at ``path`` below ``node``, making the objects on the way."""
    *parents, leaf = path
    for step in parents:
        child = node.get(step)
        if not isinstance(child, dict):
            child = node[step] = {}
        node = child
    node[leaf] = value


def _stray_entries(sequence: int, when: str) -> list[dict[str, Any]]:
    """Return the sub-meter entries of the ``sequence``-th stray reading (buses never named)."""
    entries = []
    for index in range(STRAY_PER_READING):
        bus = FIRST_STRAY_BUS + (sequence * STRAY_PER_READING + index) % STRAY_BUSES
        entries.append(
            {"bus": bus, "meter_id": f"STRAY{bus:03d}", "date_time": when, "cumulative": 1.5}
        )
    return entries


@dataclass(frozen=True, slots=True)
class Hostile:
    """The kinds switched on and their tunables."""

    kinds: frozenset[str] = field(default_factory=frozenset)
    interval: float = DEFAULT_INTERVAL
    uptime: float = DEFAULT_UPTIME
    body_bytes: int = DEFAULT_BODY_BYTES

    def has(self, kind: str) -> bool:
        """Return True when ``kind`` is on."""
        return kind in self.kinds

    def as_dict(self) -> dict[str, Any]:
        """Return the JSON form."""
        return {
            "kinds": [kind for kind in KINDS if kind in self.kinds],
            "interval": self.interval,
            "uptime": self.uptime,
            "body_bytes": self.body_bytes,
        }

    # -- what the device answers -------------------------------------------------------

    def report(self, report_json: Mapping[str, Any], sequence: int = 0) -> dict[str, Any]:
        """Return a copy of a full report JSON as the hostile device sends it.

        ``sequence`` numbers the readings sent (the stray sub-meters' buses follow it).
        """
        out = copy.deepcopy(dict(report_json))
        body = out.setdefault("report", {})
        system = out.setdefault("system", {})
        if self.has("stray_submeters"):
            when = str(body.get("date_time") or "").removesuffix("Z")
            body["volume"] = [*(body.get("volume") or []), *_stray_entries(sequence, when)]
        if self.has("extreme_times"):
            for block in (body, system):
                _extreme_stamps(block)
            for entry in body.get("volume") or []:
                if isinstance(entry, dict):
                    entry["date_time"] = LATE_WALL
        if self.has("overflow"):
            for path, value in OVERFLOW.items():
                _put(body, path, value)
        if self.has("absurd_interval"):
            body["interval"] = self.interval
        if self.has("absurd_uptime"):
            system["time_since_boot"] = self.uptime
        return out

    def system(self, system_json: Mapping[str, Any]) -> dict[str, Any]:
        """Return a copy of ``GET /api/v1/system`` as the hostile device sends it."""
        out = copy.deepcopy(dict(system_json))
        device = out.setdefault("device", {})
        meter = out.setdefault("meter", {})
        if self.has("extreme_times"):
            device["date"], device["time"] = LATE_DATE, LATE_TIME
            meter["date"], meter["time"] = LATE_DATE, LATE_TIME
            device["last_reboot"] = {"date": EARLY_DATE, "time": EARLY_TIME}
        if self.has("overflow"):
            out["wifi"] = {**(out.get("wifi") or {}), "rssi": 1e300, "signal": -1e300}
            _put(device, ("plug", "v_usb"), 1e308)
        if self.has("absurd_interval"):
            meter["report_interval"] = self.interval
        if self.has("absurd_uptime"):
            device["time_since_boot"] = self.uptime
        return out

    def settings(self, settings_json: Mapping[str, Any]) -> dict[str, Any]:
        """Return a copy of ``GET /api/v1/settings`` as the hostile device sends it."""
        out = copy.deepcopy(dict(settings_json))
        if self.has("absurd_interval"):
            _put(out, ("services", "report_interval"), self.interval)
        return out

    def live_event(self, event: Mapping[str, Any], sequence: int = 0) -> dict[str, Any]:
        """Return a live event's payload with the hostile clock and uptime.

        Its values come from the (hostile) report it is made of: ``report`` first. The clock
        alternates between the last second of year 9999 (even ``sequence``) and the first of
        year 1 (odd): local times beyond the calendar in UTC west and east of Greenwich.
        """
        out = dict(event)
        if self.has("extreme_times"):
            late = sequence % 2 == 0
            out["Date"], out["Time"] = (LATE_DATE, LATE_TIME) if late else (EARLY_DATE, EARLY_TIME)
        if self.has("absurd_uptime"):
            out["Uptime"] = self.uptime
        return out

    def live_frame(self, data: str, newline: str = "\n") -> str | None:
        """Return the raw text the live stream sends instead of the event; None: the event.

        ``data`` is the event's JSON text.
        """
        if self.has("nested_json"):
            return f"event: live{newline}data: {nested(PUSH_DEPTH)}{newline}{newline}"
        if self.has("endless_line"):
            return "x" * ENDLESS_CHUNK
        if self.has("no_blank_line"):
            return f"event: live{newline}data: {data}{newline}"
        if self.has("trickle"):
            return TRICKLE
        return None

    def mqtt_payload(self, payload: bytes) -> bytes:
        """Return the MQTT message the hostile device publishes instead of ``payload``."""
        return nested(PUSH_DEPTH).encode() if self.has("nested_json") else payload

    def rest_body(self, status: int) -> bytes | None:
        """Return the body replacing a JSON answer's (None: the answer stands as it is)."""
        if self.has("nested_json") and status != 401:
            return nested(REST_DEPTH).encode()
        return None


def _extreme_stamps(block: dict[str, Any]) -> None:
    """Put the extreme times in a block's ``date_time`` trio (the stamps it prints)."""
    block["date_time"] = LATE_STAMP
    if "date_time_utc" in block:
        block["date_time_utc"] = LATE_UTC
    if "date_time_local" in block:
        block["date_time_local"] = EARLY_LOCAL


async def stream_huge_body(
    request: web.Request, size: int, sent: Callable[[int], None]
) -> web.StreamResponse:
    """Answer with a valid JSON object of ``size`` bytes in chunks, no ``Content-Length``.

    ``sent(n)`` is called for every chunk the connection took; a client that goes away ends it.
    """
    response = web.StreamResponse(
        headers={"Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store"}
    )
    response.enable_chunked_encoding()
    await response.prepare(request)
    head, tail = b'{"pad":"', b'"}'
    filler = b"x" * BODY_CHUNK
    left = max(size - len(head) - len(tail), 0)
    try:
        await response.write(head)
        sent(len(head))
        while left > 0:
            chunk = filler[: min(left, BODY_CHUNK)]
            await response.write(chunk)
            sent(len(chunk))
            left -= len(chunk)
        await response.write(tail)
        sent(len(tail))
        await response.write_eof()
    except (ConnectionError, RuntimeError):
        pass  # the client went away: what it refused is not sent
    return response


def parse_hostile(data: Any) -> Hostile | None:
    """Return the fault for its JSON form (None/false/empty: off); raise ValueError if bad."""
    if data is None or data is False:
        return None
    if isinstance(data, Hostile):
        return data if data.kinds else None
    if isinstance(data, str | list):
        data = {"kinds": data}
    if isinstance(data, dict):
        return _from_json(data)
    raise ValueError("hostile must be a list of kinds, an object or null")


def _from_json(data: dict[str, Any]) -> Hostile | None:
    unknown = set(data) - {"kinds", "interval", "uptime", "body_bytes"}
    if unknown:
        raise ValueError(f"hostile: unknown keys {sorted(unknown)}")
    hostile = Hostile(
        kinds=_kinds(data.get("kinds", [])),
        interval=_number(data.get("interval", DEFAULT_INTERVAL), "interval"),
        uptime=_number(data.get("uptime", DEFAULT_UPTIME), "uptime"),
        body_bytes=_size(data.get("body_bytes", DEFAULT_BODY_BYTES)),
    )
    return hostile if hostile.kinds else None


def _kinds(value: Any) -> frozenset[str]:
    if isinstance(value, str):
        value = [value]
    if isinstance(value, list) and all(kind in KINDS for kind in value):
        return frozenset(value)
    raise ValueError(f"hostile.kinds must be a list of {', '.join(KINDS)}")


def _number(value: Any, what: str) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    raise ValueError(f"hostile.{what} must be a number")


def _size(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= 2**31:
        return int(value)
    raise ValueError("hostile.body_bytes must be a whole number of bytes up to 2 GiB")
