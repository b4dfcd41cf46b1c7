"""Bad input on an MQTT topic: read what is usable, warn once per kind, keep last good values.

Anyone can publish anything to a topic. A message that cannot be read at all (empty, too large,
not UTF-8, not a JSON object) is dropped; a message with some unusable values keeps its good
values and, for the bad ones, the last good value. Each kind of problem is logged once (a
warning) until a message without problems arrives; then the next problem is logged again.
A ``"null"`` string is the vendor template's way of saying "no value": it keeps the last value
but is no problem worth a warning.
"""

from __future__ import annotations

from dataclasses import replace
import logging
from typing import TYPE_CHECKING, Final

from .errors import WhatwattInvalidResponseError
from .parse_common import MAX_PAYLOAD_BYTES
from .parse_live import LIVE_KEYS
from .parse_mqtt import VENDOR_KEYS, parse_mqtt_payload
from .template import KEY_METER_STATUS, KEY_TARIFF, OWN_KEY_TO_MEASUREMENT

if TYPE_CHECKING:
    from .models import Report

_LOGGER = logging.getLogger(__name__)

# Wire key (any template) → measurement key.
WIRE_KEYS: Final[dict[str, str]] = {**LIVE_KEYS, **VENDOR_KEYS, **OWN_KEY_TO_MEASUREMENT}
TARIFF_KEYS: Final = frozenset({KEY_TARIFF, "tariff", "T"})

KIND_EMPTY: Final = "empty"
KIND_TOO_LARGE: Final = "too_large"
KIND_NOT_UTF8: Final = "not_utf8"
KIND_NOT_JSON: Final = "not_json"
KIND_PLACEHOLDER: Final = "placeholder"
KIND_WRONG_TYPE: Final = "wrong_type"
KIND_NULL: Final = "null"

_REASONS: Final = {
    KIND_EMPTY: "empty payload",
    KIND_TOO_LARGE: f"payload larger than {MAX_PAYLOAD_BYTES} bytes",
    KIND_NOT_UTF8: "payload is not UTF-8 text",
    KIND_NOT_JSON: "payload is not a JSON object",
    KIND_PLACEHOLDER: "unrendered template variables (${...}) in",
    KIND_WRONG_TYPE: "unusable values in",
}


def _value_kind(value: object) -> str:
    """Classify one rejected wire value: the vendor's ``"null"``, a placeholder, or wrong type."""
    if isinstance(value, str):
        text = value.strip()
        if text == "null":
            return KIND_NULL
        if "${" in text:
            return KIND_PLACEHOLDER
    return KIND_WRONG_TYPE


class MqttInputGuard:
    """Read MQTT payloads of one topic without letting bad input through or flood the log."""

    def __init__(self, name: str) -> None:
        """Name the source (entry title) for the log."""
        self.name = name
        self.warned: set[str] = set()

    def _warn(self, kind: str, topic: str, keys: list[str] | None = None) -> None:
        """Log one kind of problem, unless it was logged since the last good message."""
        if kind in self.warned:
            return
        self.warned.add(kind)
        detail = f"{_REASONS[kind]} {', '.join(keys)}" if keys else _REASONS[kind]
        _LOGGER.warning(
            "Ignoring bad MQTT input for %s on %s: %s (not logged again until a good message "
            "arrives)",
            self.name,
            topic,
            detail,
        )

    def parse(self, topic: str, payload: str | bytes | bytearray) -> Report | None:
        """Return the reading in a payload, or None (logged once per kind) when it has none."""
        raw = payload.encode("utf-8") if isinstance(payload, str) else payload
        if not raw or raw.isspace():
            self._warn(KIND_EMPTY, topic)
            return None
        if len(raw) > MAX_PAYLOAD_BYTES:
            self._warn(KIND_TOO_LARGE, topic)
            return None
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            self._warn(KIND_NOT_UTF8, topic)
            return None
        try:
            return parse_mqtt_payload(text)
        except WhatwattInvalidResponseError:
            self._warn(KIND_NOT_JSON, topic)
            return None

    def accept(self, topic: str, report: Report, previous: Report | None) -> Report:
        """Log the reading's unusable values and fill them in from the previous reading."""
        if not report.rejected and not self.warned:  # the usual case
            return report
        by_kind: dict[str, list[str]] = {}
        for key in report.rejected:
            by_kind.setdefault(_value_kind(report.raw.get(key)), []).append(key)
        for kind, keys in by_kind.items():
            if kind != KIND_NULL:
                self._warn(kind, topic, keys)
        if not by_kind.keys() - {KIND_NULL}:
            if self.warned:
                _LOGGER.debug("Good MQTT input for %s on %s again", self.name, topic)
            self.warned.clear()
        if not report.rejected or previous is None:
            return report
        return _keep_previous(report, previous)


def _keep_previous(report: Report, previous: Report) -> Report:
    """Return ``report`` with its rejected values replaced by those of ``previous``."""
    values = dict(report.values)
    tariff, meter = report.tariff, report.meter
    for key in report.rejected:
        measurement = WIRE_KEYS.get(key)
        if measurement is not None and measurement not in values:
            if (last := previous.values.get(measurement)) is not None:
                values[measurement] = last
        elif key in TARIFF_KEYS and tariff is None:
            tariff = previous.tariff
        elif key == KEY_METER_STATUS and (meter is None or meter.status is None):
            meter = previous.meter
    return replace(report, values=values, tariff=tariff, meter=meter)
