"""A hostile device on the live stream (the simulator's ``hostile`` fault, issue 19).

Each test would fail against ``api/`` before the boundary was made to hold: one event with an
extreme time raised ``OverflowError``, made every measurement unavailable and reconnected (1);
one with a value that overflows once scaled raised ``ValueError`` in the listener loop (3); an
infinite uptime (1e308 hours) passed as a restart once the next event came (4); an absurd meter
interval (1e7 s) stretched the idle watchdog to a year (4); and a line without end, an event
without its blank line or a trickle of bytes kept the stream open for ever, the first one
growing the parser's buffer without bound (7). Now: no traceback, the stream stays up and the
other values of the event count; the watchdog fires an idle timeout after the last *event* and
the stream is opened again; the parser never keeps more than ``MAX_EVENT_BYTES``.

Time is frozen: waits are bounded in real time (``within``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.helpers import device_registry as dr
import pytest

from custom_components.whatwatt.api.live import MAX_EVENT_BYTES
from custom_components.whatwatt.api.submeters import MAX_SUBMETERS
from simulator.hostile import ENDLESS_CHUNK, TRICKLE

from .hostile_helpers import (
    ENERGY,
    ParserSpy,
    Readings,
    at,
    tracebacks,
    value,
    watts,
)
from .live_helpers import setup_live, tick, wait_connections, wait_for, within
from .mqtt_helpers import sensor_state

if TYPE_CHECKING:
    from freezegun.api import FrozenDateTimeFactory
    from homeassistant.core import HomeAssistant

pytestmark = pytest.mark.usefixtures("enable_all_entities")


async def _shows(hass: HomeAssistant, key: str, expected: float) -> None:
    await within(wait_for(hass, lambda: value(hass, key) == expected), f"{key} = {expected}")


async def _reading(hass: HomeAssistant, readings: Readings) -> dict[str, Any]:
    """Emit a telegram and wait until its energy total is shown."""
    report = await readings.emit()
    await _shows(hass, "energy_import", at(report, ENERGY))
    return report


def _system_reads(sim: Any) -> int:
    return sum(record.path == "/api/v1/system" for record in sim.requests)


async def test_extreme_times(
    hass: HomeAssistant, sim: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """(1) ``Date``/``Time`` 9999-12-31 23:59:59, sub-meter times too: the values count, the
    stream stays."""
    readings = Readings(sim)
    entry = await setup_live(hass, sim)
    await _reading(hass, readings)
    sim.faults.hostile = ["extreme_times"]
    for _ in range(2):
        report = await _reading(hass, readings)
        assert value(hass, "power_import") == watts(report)
    assert sim.live.connections_total == 1
    assert not tracebacks(caplog)
    assert entry.state is ConfigEntryState.LOADED


async def test_overflowing_values(
    hass: HomeAssistant, sim: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """(3) 1e306 kW, -1e308 kW, NaN, infinity in an event: those entities alone are
    unavailable, the event's other values count, the stream stays."""
    readings = Readings(sim)
    entry = await setup_live(hass, sim)
    await _reading(hass, readings)
    assert value(hass, "power_net") is not None
    sim.faults.hostile = ["overflow"]
    report = await _reading(hass, readings)
    for key in ("power_import", "power_export", "power_net", "current_l1"):
        assert sensor_state(hass, key) == STATE_UNAVAILABLE, key
    assert value(hass, "voltage_l1") == at(report, ("voltage", "l1"))
    assert sim.live.connections_total == 1
    assert not tracebacks(caplog)
    sim.faults.hostile = None
    report = await _reading(hass, readings)
    assert value(hass, "power_import") == watts(report)
    assert entry.state is ConfigEntryState.LOADED


async def test_absurd_uptime(
    hass: HomeAssistant, sim: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """(4) ``Uptime`` 1e308 hours: no uptime at all, so the next event is no restart."""
    readings = Readings(sim)
    await setup_live(hass, sim)
    await _reading(hass, readings)
    reads = _system_reads(sim)
    sim.faults.hostile = {"kinds": ["absurd_uptime"], "uptime": 1e308}
    await _reading(hass, readings)
    sim.faults.hostile = None
    await _reading(hass, readings)
    await hass.async_block_till_done()
    assert _system_reads(sim) == reads  # no device read: nothing restarted
    assert not tracebacks(caplog)


@pytest.mark.parametrize("interval", [1e7, 1e300])
async def test_absurd_meter_interval(
    hass: HomeAssistant,
    sim: Any,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
    interval: float,
) -> None:
    """(4) A meter interval of 1e7 or 1e300 s: the idle watchdog waits three hours at most."""
    sim.faults.hostile = {"kinds": ["absurd_interval"], "interval": interval}
    readings = Readings(sim)
    entry = await setup_live(hass, sim)
    await _reading(hass, readings)
    assert entry.runtime_data.source.idle_timeout == 3 * 3600
    await tick(hass, freezer, 3 * 3600 + 1)
    await within(wait_connections(sim, 2), "the stream reopened")
    await within(sim.live.wait_clients(1), "one open stream")
    await _reading(hass, readings)
    assert not tracebacks(caplog)


@pytest.mark.parametrize(
    ("kind", "per_telegram"),
    [("endless_line", ENDLESS_CHUNK), ("no_blank_line", None), ("trickle", len(TRICKLE))],
)
async def test_bytes_without_events(
    hass: HomeAssistant,
    sim: Any,
    freezer: FrozenDateTimeFactory,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    kind: str,
    per_telegram: int | None,
) -> None:
    """(7) Bytes keep coming, no event is ever complete: the watchdog fires 60 s after the
    last event and the stream is opened again; the parser keeps at most 64 KiB meanwhile."""
    spy = ParserSpy.install(monkeypatch)
    readings = Readings(sim)
    entry = await setup_live(hass, sim)
    assert entry.runtime_data.source.idle_timeout == 60
    await _reading(hass, readings)  # the last event: the watchdog counts from here
    sim.faults.hostile = [kind]
    for _ in range(4):
        await tick(hass, freezer, 14)
        fed = spy.fed
        await readings.emit()
        await within(spy.wait_fed(fed + (per_telegram or 1)), "the bytes reached the parser")
        assert sim.live.connections_total == 1
    await tick(hass, freezer, 5)  # 61 s after the last event, 5 s after the last bytes
    await within(wait_connections(sim, 2), "the stream reopened")
    assert spy.most_kept <= MAX_EVENT_BYTES + 1
    sim.faults.hostile = None
    await within(sim.live.wait_clients(1), "one open stream")
    report = await _reading(hass, readings)
    assert value(hass, "power_import") == watts(report)
    assert not tracebacks(caplog)
    assert entry.state is ConfigEntryState.LOADED


async def test_an_endless_line_is_not_kept(
    hass: HomeAssistant,
    sim: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """(7) 4 MiB of one line, fast (no watchdog needed): at most 64 KiB kept, then events."""
    spy = ParserSpy.install(monkeypatch)
    readings = Readings(sim)
    await setup_live(hass, sim)
    await _reading(hass, readings)
    sim.faults.hostile = ["endless_line"]
    for _ in range(16):
        fed = spy.fed
        await readings.emit()
        await within(spy.wait_fed(fed + ENDLESS_CHUNK), "the line reached the parser")
    assert spy.most_kept <= MAX_EVENT_BYTES + 1
    sim.faults.hostile = None
    sim.live.publish_raw("\n\n")  # the line ends at last
    report = await _reading(hass, readings)
    assert value(hass, "power_import") == watts(report)
    assert sim.live.connections_total == 1
    assert not tracebacks(caplog)


async def test_stray_submeters(hass: HomeAssistant, sim: Any) -> None:
    """(6) Every event names four buses never named before: sixteen sub-meters at most."""
    readings = Readings(sim)
    entry = await setup_live(hass, sim)
    sim.faults.hostile = ["stray_submeters"]
    for _ in range(8):
        await _reading(hass, readings)
    devices = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    submeters = [device for device in devices if device.via_device_id is not None]
    assert 0 < len(submeters) <= MAX_SUBMETERS
