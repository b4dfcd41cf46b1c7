"""Helpers of the hostile-device tests: bounded waits, tracebacks, readings, a parser spy."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN

from custom_components.whatwatt.api import live as live_module

from .helpers import Midpoint
from .mqtt_helpers import sensor_state

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    import pytest

POWER = ("instantaneous_power", "active", "positive", "total")
ENERGY = ("energy", "active", "positive", "total")


def tracebacks(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Return the log records that carry a traceback (an exception nobody handled)."""
    return [
        f"{record.name}: {record.getMessage()}"
        for record in caplog.records
        # What the person sees: the integration's and Home Assistant's own lines above debug
        # (2026.x adds a debug "Full error:" with the traceback of every failed update).
        if record.exc_info is not None
        and record.exc_info[0] is not None
        and record.levelno > logging.DEBUG
        and record.name.startswith(("custom_components.whatwatt", "homeassistant"))
    ]


def value(hass: HomeAssistant, key: str) -> float | None:
    """Return a sensor's number, None when it is unavailable, unknown or absent."""
    state = sensor_state(hass, key)
    if state in (None, STATE_UNAVAILABLE, STATE_UNKNOWN):
        return None
    return float(state)


def at(report: dict[str, Any], path: tuple[str, ...]) -> Any:
    """Return a value of a report JSON by its path below ``report``."""
    node: Any = report["report"]
    for step in path:
        node = node[step]
    return node


class Reading:
    """Telegrams with a distinct import power each (so every arrival can be told apart)."""

    def __init__(self, sim: Any) -> None:
        self.sim = sim
        self.count = 0
        sim.meter.rng = Midpoint()

    async def emit(self) -> dict[str, Any]:
        """Decode the next telegram (import power 500 W, 510 W, ...) and return its report."""
        self.sim.meter.net_kw = 0.5 + self.count * 0.01
        self.count += 1
        report = await self.sim.emit_telegram()
        assert report is not None
        return report


class Readings(Reading):
    """Telegrams as :class:`Reading`, each with its import energy up from the one before."""

    async def emit(self) -> dict[str, Any]:
        """Decode the next telegram (import power 500 W, 510 W, ...; import energy 0.1 kWh up
        from the one before); return its report."""
        self.sim.meter.energy_in = [value + 0.05 for value in self.sim.meter.energy_in]
        return await super().emit()


def watts(report: dict[str, Any]) -> float:
    """Return a telegram's import power as the entity shows it."""
    return round(at(report, POWER) * 1000, 3)


class ParserSpy(live_module.SseParser):
    """The live stream's parser, counting what it was fed and the most it ever kept."""

    fed = 0
    most_kept = 0
    instances = 0
    changed: asyncio.Event | None = None

    def __init__(self) -> None:
        super().__init__()
        ParserSpy.instances += 1

    def feed(self, chunk: bytes) -> list[live_module.SseEvent]:
        events = super().feed(chunk)
        kept = len(self._buffer) + sum(len(item) + 1 for item in self._data)
        ParserSpy.most_kept = max(ParserSpy.most_kept, kept)
        ParserSpy.fed += len(chunk)
        if ParserSpy.changed is not None:
            ParserSpy.changed.set()
        return events

    @classmethod
    def install(cls, monkeypatch: pytest.MonkeyPatch) -> type[ParserSpy]:
        """Make the live stream use this parser; start counting afresh."""
        cls.fed = cls.most_kept = cls.instances = 0
        cls.changed = asyncio.Event()
        monkeypatch.setattr(live_module, "SseParser", cls)
        return cls

    @classmethod
    async def wait_fed(cls, total: int) -> None:
        """Wait until the parsers were fed ``total`` bytes in all."""
        assert cls.changed is not None
        while cls.fed < total:
            cls.changed.clear()
            await cls.changed.wait()


def no_errors_logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Return the integration's and Home Assistant's error records (none expected)."""
    return [
        f"{record.name}: {record.getMessage()}"
        for record in caplog.records
        if record.levelno >= logging.ERROR
    ]
