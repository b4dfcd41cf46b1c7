"""Building blocks shared by the parsers (one parser module per wire shape of the whatwatt Go).

Every parser is a pure function. Only a top-level problem (not a JSON object, not JSON, not UTF-8,
larger than ``MAX_PAYLOAD_BYTES``, or a system document without ``device.id``) raises
``WhatwattInvalidResponseError``. A single unusable field (wrong type, NaN/infinity, ``"null"``, an
unrendered ``${...}`` placeholder, a nested object where a number belongs) is dropped and its wire
key listed in ``Report.rejected``; the rest of the reading stays valid. A JSON ``null`` counts as
"absent", not as rejected. Unknown keys are ignored.

Ranges: every number that reaches a model is finite and within the physical range of its
quantity (``models.MEASUREMENT_RANGES``; outside it the value is dropped like an unusable one),
intervals are clamped to the device's 1..3600 s, uptimes beyond ``MAX_UPTIME`` are dropped,
and every time stamp lies between ``MIN_TIME`` and ``MAX_TIME`` (else it is absent). A device id
is 12 hexadecimal digits (upper-cased); anything else is no id.

Time zones: the device prints some times as local wall-clock time (the REST ``date_time`` with its
misleading trailing ``Z``, the live stream's ``Date``/``Time``, ``last_reboot``). Those are read in
the ``tz`` given by the caller (Home Assistant passes its configured zone); ``tz=None`` means UTC.
Every datetime returned is timezone-aware and converted to UTC.

This module holds number coercion, the lenient field readers, the time helpers, JSON decoding of
raw payloads and ``ValueCollector``, which gathers measurements and rejected wire keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, tzinfo
from functools import lru_cache
import json
import math
import re
from typing import Any, Final

from .errors import WhatwattInvalidResponseError
from .models import INTERVAL_RANGE, MAX_UPTIME, MEASUREMENT_RANGES, MeterInfo

# The largest payload a parser reads (an MQTT message, a live event, a REST reply's JSON).
MAX_PAYLOAD_BYTES: Final = 64 * 1024
# Time stamps outside these bounds are not the device's clock but garbage.
MIN_TIME: Final = datetime(1970, 1, 1, tzinfo=UTC)
MAX_TIME: Final = datetime(2200, 1, 1, tzinfo=UTC)
_DEVICE_ID_RE: Final = re.compile(r"[0-9A-F]{12}")

_NUMBER_RE: Final = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
# An unrendered placeholder standing bare (unquoted) as a JSON value: `:${x}` / `,${x}` / `[${x}`.
_BARE_PLACEHOLDER_RE: Final = re.compile(r"(?<=[:,\[])(\s*)(\$\{[^}\"\\]*\})")


# --- number coercion and field readers ------------------------------------------------------


# Integers up to this size convert to float exactly (larger ones take the careful path).
_EXACT_INT: Final = 2**53


class _RejectedValueError(ValueError):
    """A present value that cannot be used."""


def coerce_number(value: Any) -> float | None:
    """Return ``value`` as a finite float, or None for JSON null.

    Accepts int, float and numeric strings (``"231.4"``, ``" 5 "``, ``"1e3"``). Raises
    ``ValueError`` for bool, NaN/infinity, ``"null"``, ``""``, ``"${...}"``, other text, and
    nested objects or arrays.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise _RejectedValueError("boolean is not a number")
    if isinstance(value, int):
        try:
            result = float(value)
        except OverflowError as err:
            raise _RejectedValueError("integer out of range") from err
    elif isinstance(value, float):
        result = value
    elif isinstance(value, str):
        text = value.strip()
        if not _NUMBER_RE.fullmatch(text):
            raise _RejectedValueError(f"not a number: {value[:40]!r}")
        result = float(text)
    else:
        raise _RejectedValueError(f"unexpected {type(value).__name__}")
    if not math.isfinite(result):
        raise _RejectedValueError("not finite")
    return result


def as_text(value: Any) -> str | None:
    """Return a usable non-empty string (placeholders and ``"null"`` excluded), else None."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text or text == "null" or "${" in text:
        return None
    return text


def plain_text(value: Any) -> str | None:
    """Return a string as-is (empty allowed, settings keep user text), else None."""
    return value if isinstance(value, str) else None


def as_bool(value: Any) -> bool | None:
    """Return a JSON boolean, else None."""
    return value if isinstance(value, bool) else None


def as_int(value: Any) -> int | None:
    """Return an integral number as int (``5`` or ``5.0`` or ``"5"``), else None.

    Beyond 2**53 a number is not exact (and ``1e300`` would be 301 digits): None too.
    """
    try:
        number = coerce_number(value)
    except ValueError:
        return None
    if number is None or not number.is_integer() or abs(number) > _EXACT_INT:
        return None
    return int(number)


def as_float(value: Any) -> float | None:
    """Return a finite number, else None."""
    try:
        return coerce_number(value)
    except ValueError:
        return None


def dig(data: Any, *path: str) -> Any:
    """Walk nested objects; None when any step is missing or not an object."""
    for part in path:
        if not isinstance(data, Mapping):
            return None
        data = data.get(part)
    return data


def obj_at(data: Any, *path: str) -> Mapping[str, Any]:
    """Return the object at ``path`` or an empty mapping."""
    found = dig(data, *path)
    return found if isinstance(found, Mapping) else {}


def as_device_id(value: Any) -> str | None:
    """Return a device id (12 hexadecimal digits, upper-cased); None for anything else."""
    if not isinstance(value, str):
        return None
    return _known_device_id(value) if len(value) <= _ID_TEXT else _device_id(value)


def _device_id(text: str) -> str | None:
    text = text.strip().upper()
    return text if _DEVICE_ID_RE.fullmatch(text) else None


# Every reading of a device carries the same id: short texts are read once (a small cache).
_ID_TEXT: Final = 32
_known_device_id: Final = lru_cache(maxsize=64)(_device_id)


def as_interval(value: Any) -> float | None:
    """Return a report interval clamped to the device's range; None when absent or not > 0."""
    number = as_float(value)
    if number is None or number <= 0:
        return None
    low, high = INTERVAL_RANGE
    return min(max(number, low), high)


def as_uptime(value: Any, *, scale: float = 1.0) -> float | None:
    """Return an uptime in seconds (``value`` times ``scale``); None when absent or out of range."""
    number = as_float(value)
    if number is None:
        return None
    seconds = number * scale
    return seconds if 0 <= seconds <= MAX_UPTIME else None


def in_range(measurement: str, value: float) -> bool:
    """Return True when ``value`` lies in the physical range of ``measurement``."""
    low, high = MEASUREMENT_RANGES.get(measurement, (-math.inf, math.inf))
    return low <= value <= high


# --- time helpers ----------------------------------------------------------------------------


def parse_iso_time(value: Any, *, local_tz: tzinfo | None = None) -> datetime | None:
    """Parse an ISO-8601 time into an aware UTC datetime.

    With ``local_tz`` the text is local wall-clock time: a trailing ``Z`` (the device's quirk) is
    ignored and the time is placed in ``local_tz``. Without it, the text must carry an offset
    or ``Z``. Returns None for anything unusable.
    """
    text = as_text(value)
    if text is None:
        return None
    if local_tz is not None:
        text = text.removesuffix("Z").removesuffix("z")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if local_tz is not None:
        moment = moment.replace(tzinfo=local_tz)
    elif moment.tzinfo is None:
        return None
    return to_utc(moment)


def to_utc(moment: datetime) -> datetime | None:
    """Return an aware time in UTC, None outside ``MIN_TIME``..``MAX_TIME``."""
    try:
        moment = moment.astimezone(UTC)
    except (OverflowError, ValueError):  # beyond year 1..9999 once converted
        return None
    return moment if MIN_TIME <= moment < MAX_TIME else None


def wall_clock(date: Any, time: Any) -> datetime | None:
    """Combine ``YYYY-MM-DD`` and ``HH:MM:SS`` as printed (naive unless they carry an offset)."""
    date_text, time_text = as_text(date), as_text(time)
    if date_text is None or time_text is None:
        return None
    try:
        moment = datetime.fromisoformat(f"{date_text}T{time_text}")
    except ValueError:
        return None
    bounds = (MIN_TIME, MAX_TIME) if moment.tzinfo else (_naive(MIN_TIME), _naive(MAX_TIME))
    return moment if bounds[0] <= moment < bounds[1] else None


def _naive(moment: datetime) -> datetime:
    return moment.replace(tzinfo=None)


def local_date_time(date: Any, time: Any, tz: tzinfo | None) -> datetime | None:
    """Combine a local ``YYYY-MM-DD`` and ``HH:MM:SS`` into an aware UTC datetime."""
    moment = wall_clock(date, time)
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz or UTC)
    return to_utc(moment)


def unix_time(value: Any) -> datetime | None:
    """Convert UNIX seconds (number or numeric string) to an aware UTC datetime."""
    number = as_float(value)
    if number is None or number <= 0:
        return None
    try:
        return to_utc(datetime.fromtimestamp(number, UTC))
    except (OverflowError, OSError, ValueError):
        return None


# --- the value collector ---------------------------------------------------------------------


type RangedKeys = tuple[tuple[str, str, float, float], ...]


def ranged(keys: Mapping[str, str]) -> RangedKeys:
    """Return a wire table (wire key → measurement) with each measurement's range."""
    return tuple((wire, key, *MEASUREMENT_RANGES[key]) for wire, key in keys.items())


class ValueCollector:
    """Collects measurements and the wire keys that had to be rejected."""

    def __init__(self) -> None:
        """Start with no values and nothing rejected."""
        self.values: dict[str, float] = {}
        self.rejected: list[str] = []

    def number(self, wire_key: str, value: Any) -> float | None:
        """Coerce one value; remember the key when present but unusable."""
        try:
            return coerce_number(value)
        except ValueError:
            self.rejected.append(wire_key)
            return None

    def measure(self, wire_key: str, measurement: str, value: Any) -> None:
        """Store one measurement (absent → skipped, unusable or out of range → rejected)."""
        number = self.number(wire_key, value)
        if number is None:
            return
        if in_range(measurement, number):
            self.values[measurement] = number
        else:
            self.rejected.append(wire_key)

    def measure_all(self, data: Mapping[str, Any], keys: RangedKeys) -> None:
        """Store the measurements of a wire table (``ranged``) found in ``data``.

        Runs for every reading: plain JSON numbers within their range are taken at once,
        anything else goes through ``measure``.
        """
        values, get = self.values, data.get
        for wire_key, measurement, low, high in keys:
            value: Any = get(wire_key)
            kind = value.__class__
            if kind is float and low <= value <= high:  # finite too: NaN and infinity fail it
                values[measurement] = value
            elif kind is int and -_EXACT_INT <= value <= _EXACT_INT and low <= value <= high:
                values[measurement] = float(value)
            elif value is not None:
                self.measure(wire_key, measurement, value)

    def tariff(self, wire_key: str, value: Any) -> int | None:
        """Return tariff 1 or 2; 0/absent → None; anything else rejected."""
        if value.__class__ is int and value in (1, 2):  # the usual case
            return int(value)
        number = self.number(wire_key, value)
        if number is None or number == 0:
            return None
        if number in (1, 2):
            return int(number)
        self.rejected.append(wire_key)
        return None

    def text(self, wire_key: str, value: Any) -> str | None:
        """Return usable text; a present but unusable value is rejected."""
        result = as_text(value)
        if result is None and value is not None and value != "":
            self.rejected.append(wire_key)
        return result


# --- decoding of raw payloads ---------------------------------------------------------------


def load_json(text: str | bytes) -> Any:
    """Decode JSON; ``WhatwattInvalidResponseError`` for anything else (too deep nesting too)."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as err:
        raise WhatwattInvalidResponseError("payload is not JSON") from err


def decode_object(payload: str | bytes, *, repair: bool = False) -> dict[str, Any]:
    """Decode a JSON object from text or UTF-8 bytes, enforcing the size limit.

    With ``repair`` an unrendered numeric placeholder left bare by the device (``"x":${y}``) is
    quoted and decoding retried once.
    """
    if isinstance(payload, bytes | bytearray | memoryview):
        raw = bytes(payload)
        if len(raw) > MAX_PAYLOAD_BYTES:
            raise WhatwattInvalidResponseError(f"payload larger than {MAX_PAYLOAD_BYTES} bytes")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as err:
            raise WhatwattInvalidResponseError("payload is not UTF-8") from err
    elif isinstance(payload, str):
        if len(payload) > MAX_PAYLOAD_BYTES:
            raise WhatwattInvalidResponseError(f"payload larger than {MAX_PAYLOAD_BYTES} bytes")
        text = payload
    else:
        raise WhatwattInvalidResponseError(f"payload is {type(payload).__name__}, not text")
    try:
        data = load_json(text)
    except WhatwattInvalidResponseError:
        if not repair:
            raise
        data = load_json(_BARE_PLACEHOLDER_RE.sub(r'\1"\2"', text))
    if not isinstance(data, dict):
        raise WhatwattInvalidResponseError("payload is not a JSON object")
    return data


def require_object(data: Any, what: str) -> Mapping[str, Any]:
    """Return ``data`` when it is a JSON object; raise ``WhatwattInvalidResponseError`` if not."""
    if not isinstance(data, Mapping):
        raise WhatwattInvalidResponseError(f"{what} is not a JSON object")
    return data


def meter_info(
    meter: Mapping[str, Any],
    *,
    vendor: str,
    serial: str,
    interval: Any,
    tariff: int | None,
) -> MeterInfo:
    """Return a meter block (report or system document: the key names of two fields differ)."""
    return MeterInfo(
        status=as_text(meter.get("status")),
        interface=as_text(meter.get("interface")),
        protocol=as_text(meter.get("protocol")),
        protocol_version=as_text(meter.get("protocol_version")),
        vendor=as_text(meter.get(vendor)),
        model=as_text(meter.get("model")),
        meter_id=as_text(meter.get("id")),
        serial=as_text(meter.get(serial)),
        report_interval=as_interval(interval),
        tariff=tariff,
    )
