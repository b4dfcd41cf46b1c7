"""The live reader survives any exception: logged once with its traceback, then it reconnects.

An unexpected exception (a bug, a reading no parser foresaw) is injected into the live stream of
a real simulator on 127.0.0.1: in the event parser (``api.live.parse_live_event``), or in the
report callback (the energy-totals check every reading passes). The error is logged once with
its traceback (also when it repeats on the next connections), the measurements go unavailable
at once, the stream is opened again after the back-off (0.5-1 s, then 1-2 s, 2-4 s) and values
return; the entry stays loaded throughout.

Time is frozen, so ``asyncio`` timeouts never expire here: every wait is bounded in real time
by ``within`` (live_helpers: a thread timer), so that a reader that died fails the test instead
of hanging it.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
import pytest

import custom_components.whatwatt.api.live as live_module

from .helpers import Midpoint
from .live_helpers import setup_live, tick, wait_connections, wait_for, within
from .mqtt_helpers import sensor_state

if TYPE_CHECKING:
    from collections.abc import Callable

    from freezegun.api import FrozenDateTimeFactory
    from homeassistant.core import HomeAssistant

MEASUREMENTS = ("power_import", "energy_import", "voltage_l1")


class InjectedError(RuntimeError):
    """The injected unexpected error."""


class Raising:
    """Wrap ``original``: raise ``InjectedError`` on its first ``times`` calls; count calls."""

    def __init__(self, original: Callable[..., Any], times: int) -> None:
        self.original = original
        self.times = times
        self.calls = 0
        self.called = asyncio.Event()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        self.called.set()
        if self.calls <= self.times:
            raise InjectedError(f"injected failure {self.calls}")
        return self.original(*args, **kwargs)

    async def wait_calls(self, count: int) -> None:
        while self.calls < count:
            self.called.clear()
            await self.called.wait()


def _watts(report: dict[str, Any]) -> float:
    return round(report["report"]["instantaneous_power"]["active"]["positive"]["total"] * 1000, 3)


def _available(hass: HomeAssistant) -> bool:
    return all(sensor_state(hass, key) not in (None, STATE_UNAVAILABLE) for key in MEASUREMENTS)


def _unavailable(hass: HomeAssistant) -> bool:
    return all(sensor_state(hass, key) == STATE_UNAVAILABLE for key in MEASUREMENTS)


async def _emit(sim: Any, net_kw: float) -> dict[str, Any]:
    """Decode a telegram with this import power (a value not shown before)."""
    sim.meter.net_kw = net_kw
    report = await sim.emit_telegram()
    assert report is not None
    return report


async def _shows(hass: HomeAssistant, report: dict[str, Any]) -> None:
    expected = _watts(report)

    def current() -> bool:
        value = sensor_state(hass, "power_import")
        return _available(hass) and value is not None and float(value) == expected

    await within(wait_for(hass, current), f"power_import shows {expected} W")


async def _reconnected(sim: Any, total: int) -> None:
    await within(wait_connections(sim, total), f"live connection #{total}")
    await within(sim.live.wait_clients(1), "one open stream")


def _tracebacks(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """Return the log records that carry the injected error's traceback."""
    return [
        record
        for record in caplog.records
        if record.exc_info is not None and isinstance(record.exc_info[1], InjectedError)
    ]


def _mentions(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Return every log message that names the injected error."""
    return [
        record.getMessage()
        for record in caplog.records
        if "injected failure" in record.getMessage()
        or (record.exc_info is not None and isinstance(record.exc_info[1], InjectedError))
    ]


@pytest.mark.parametrize("times", [1, 3], ids=["once", "three_times"])
async def test_parser_error_logged_once_stream_reconnects(
    hass: HomeAssistant,
    sim: Any,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    times: int,
) -> None:
    """The parser raises on the next ``times`` events (one per connection): logged once with
    its traceback, unavailable at once, back after the back-off, entry loaded throughout."""
    sim.meter.rng = Midpoint()
    entry = await setup_live(hass, sim)
    await _shows(hass, await _emit(sim, 0.5))

    raising = Raising(live_module.parse_live_event, times)
    monkeypatch.setattr(live_module, "parse_live_event", raising)
    await _emit(sim, 0.6)
    await within(raising.wait_calls(1), "the parser was called")
    await within(wait_for(hass, lambda: _unavailable(hass)), "measurements unavailable")
    assert entry.state is ConfigEntryState.LOADED
    # Each failed attempt waits its back-off (at most 1, 2, 4 s) and reconnects; the next
    # event raises again until the injected failures are used up.
    for attempt in range(1, times):
        await tick(hass, freezer, 2 ** (attempt - 1))
        await _reconnected(sim, attempt + 1)
        await _emit(sim, 0.6 + attempt / 100)
        await within(raising.wait_calls(attempt + 1), f"the parser was called {attempt + 1}x")
        await hass.async_block_till_done()
        assert _unavailable(hass)
        assert entry.state is ConfigEntryState.LOADED
    await tick(hass, freezer, 2 ** (times - 1))
    await _reconnected(sim, times + 1)
    report = await _emit(sim, 0.9)
    await _shows(hass, report)
    assert raising.calls == times + 1
    assert (
        float(sensor_state(hass, "energy_import"))
        == (report["report"]["energy"]["active"]["positive"]["total"])
    )

    tracebacks = _tracebacks(caplog)
    assert len(tracebacks) == 1, _mentions(caplog)
    assert tracebacks[0].levelno == logging.ERROR
    assert tracebacks[0].name.startswith("custom_components.whatwatt")
    assert entry.state is ConfigEntryState.LOADED
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_report_callback_error_logged_once_stream_reconnects(
    hass: HomeAssistant,
    sim: Any,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The report callback raises once (the totals check of a reading): the same recovery.

    Not expressible against the code before the redesign (it had no totals check): skipped there.
    """
    totals = pytest.importorskip("custom_components.whatwatt.api.totals")
    sim.meter.rng = Midpoint()
    entry = await setup_live(hass, sim)
    await _shows(hass, await _emit(sim, 0.5))

    raising = Raising(totals.TotalsGuard.check, 1)
    monkeypatch.setattr(totals.TotalsGuard, "check", lambda guard, report: raising(guard, report))
    await _emit(sim, 0.6)
    await within(raising.wait_calls(1), "the totals check was called")
    await within(wait_for(hass, lambda: _unavailable(hass)), "measurements unavailable")
    await tick(hass, freezer, 1)
    await _reconnected(sim, 2)
    await _shows(hass, await _emit(sim, 0.7))
    assert len(_tracebacks(caplog)) == 1, _mentions(caplog)
    assert entry.state is ConfigEntryState.LOADED
    assert await hass.config_entries.async_unload(entry.entry_id)
