"""Peak demand: window averages of the import register, the month's peaks, restarts, DST.

The simulated meter follows a demand profile (``simulator.meter.LoadSteps``); each test states
its own steps and computes the expected averages from them here (``_average``: a sum over
one-second slices of the steps), independently of the simulator's and the integration's
arithmetic. Readings come over REST, a telegram decoded right before each poll.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from homeassistant.const import Platform
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.whatwatt.const import CONF_DEMAND_PEAKS, CONF_DEMAND_WINDOW, DOMAIN
from simulator.meter import LoadSteps

from .conftest import DEVICE_ID

if TYPE_CHECKING:
    from freezegun.api import FrozenDateTimeFactory
    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import MockConfigEntry

ZONE = "Europe/Brussels"
BASE_KW = 0.6
Steps = list[tuple[datetime, float]]


def local(text: str) -> datetime:
    """Return a Brussels wall-clock time (``2026-01-15 09:15``) as UTC (the first of a pair)."""
    return datetime.fromisoformat(text).replace(tzinfo=dt_util.get_time_zone(ZONE)).astimezone(UTC)


def _average(steps: Steps, start: datetime, minutes: int) -> float:
    """Return the average power (W) of the steps over a window, from one-second slices."""
    total, power, index = 0.0, BASE_KW, 0
    ordered = sorted(steps)
    for second in range(minutes * 60):
        moment = start + timedelta(seconds=second)
        while index < len(ordered) and ordered[index][0] <= moment:
            power, index = ordered[index][1], index + 1
        total += power
    return total / (minutes * 60) * 1000


def value(hass: HomeAssistant, key: str) -> str:
    entity = er.async_get(hass).async_get_entity_id(Platform.SENSOR, DOMAIN, f"{DEVICE_ID}_{key}")
    assert entity is not None, key
    state = hass.states.get(entity)
    assert state is not None, key
    return state.state


def watts(hass: HomeAssistant, key: str) -> float:
    return float(value(hass, key))


async def tick(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, sim: Any, seconds: float
) -> None:
    """Move time on, decode a telegram then, and let the poll it triggers read it."""
    freezer.tick(timedelta(seconds=seconds))
    await sim.emit_telegram()
    async_fire_time_changed(hass, dt_util.utcnow())
    await hass.async_block_till_done(wait_background_tasks=True)


async def run_until(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, sim: Any, until: datetime, every: float
) -> None:
    """Poll every ``every`` seconds until ``until`` (a poll at ``until`` if on the grid)."""
    while dt_util.utcnow() + timedelta(seconds=every) <= until:
        await tick(hass, freezer, sim, every)


async def start(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    sim: Any,
    entry: MockConfigEntry,
    at: str,
    steps: Steps,
    **options: int,
) -> None:
    """Move to ``at`` (Brussels), let the meter follow ``steps`` and set the entry up."""
    await hass.config.async_set_time_zone(ZONE)
    freezer.move_to(local(at))
    sim.meter.load = LoadSteps(steps=steps, base_kw=BASE_KW)
    await sim.emit_telegram()
    entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(entry, options={**entry.options, **options})
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    # The device's system and settings are not what these tests follow: read them rarely.
    entry.runtime_data.device.update_interval = timedelta(hours=12)


async def restart(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Unload the entry and set it up again: a new runtime reads what the old one stored."""
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


async def test_window_so_far_and_projected(
    hass: HomeAssistant, sim: Any, freezer: FrozenDateTimeFactory, mock_config_entry: Any
) -> None:
    """15-minute windows: the boundary interpolated between readings 60 s apart (at :40)."""
    steps = [(local("2026-01-15 09:15:40"), 3.6), (local("2026-01-15 09:22:40"), 0.72)]
    await start(hass, freezer, sim, mock_config_entry, "2026-01-15 09:12:40", steps)
    assert value(hass, "demand_current") == "unknown"  # no reading before 09:00: incomplete
    assert value(hass, "demand_peak") == "unknown"

    window = local("2026-01-15 09:15")
    await run_until(hass, freezer, sim, local("2026-01-15 09:20:40"), 60)
    # 340 s into the window: 40 s at 0.6 kW, 300 s at 3.6 kW.
    so_far = (40 * 0.6 + 300 * 3.6) / 340 * 1000
    assert watts(hass, "demand_current") == pytest.approx(so_far, abs=1)
    # If 3.6 kW goes on to 09:30: the whole window at that power but for the first 40 s.
    projected = (40 * 0.6 + 860 * 3.6) / 900 * 1000
    assert watts(hass, "demand_projected") == pytest.approx(projected, abs=1)

    await run_until(hass, freezer, sim, local("2026-01-15 09:30:40"), 60)
    expected = _average(steps, window, 15)
    assert expected == pytest.approx((40 * 0.6 + 420 * 3.6 + 440 * 0.72) / 900 * 1000)
    assert watts(hass, "demand_peak") == pytest.approx(expected, abs=1)
    assert watts(hass, "demand_peak_12m") == pytest.approx(expected, abs=1)
    assert value(hass, "demand_peak_time") == window.isoformat()
    # The new window: 40 s at 0.72 kW so far, and projected at that power.
    assert watts(hass, "demand_current") == pytest.approx(720, abs=1)
    assert watts(hass, "demand_projected") == pytest.approx(720, abs=1)


def _hour(day: int, start: str, end: str, kw: float, month: int = 1) -> Steps:
    """Return the steps of ``kw`` from ``start`` to ``end`` (Brussels) on a day of 2026."""
    first = local(f"2026-{month:02}-{day:02} {start}")
    return [(first, kw), (local(f"2026-{month:02}-{day:02} {end}"), BASE_KW)]


async def test_peaks_of_hourly_windows_over_days(
    hass: HomeAssistant, sim: Any, freezer: FrozenDateTimeFactory, mock_config_entry: Any
) -> None:
    """60-minute windows, N = 3 then N = 1, over three days and into a new month.

    Readings every 5 minutes at :02:40 and :07:40: every boundary is interpolated, with the
    power constant between the two readings around it (the steps are at :10 and :50).
    """
    steps = [
        *_hour(29, "07:10", "07:50", 6.0),  # day 1: 0.6 · 20 + 6.0 · 40 → 4.2 kW ...
        *_hour(29, "20:10", "20:50", 5.4),  # ... and 3.8 kW the same evening
        *_hour(30, "12:10", "12:50", 3.0),  # day 2: 2.2 kW
        *_hour(31, "19:10", "19:50", 5.1),  # day 3: 3.6 kW
        *_hour(1, "09:10", "09:50", 2.4, month=2),  # February: 1.8 kW
    ]
    hours = ("01-29 07:00", "01-29 20:00", "01-30 12:00", "01-31 19:00", "02-01 09:00")
    expected = {hour: _average(steps, local(f"2026-{hour}"), 60) for hour in hours}
    assert [round(w) for w in expected.values()] == [4200, 3800, 2200, 3600, 1800]
    options = {CONF_DEMAND_WINDOW: 60, CONF_DEMAND_PEAKS: 3}
    await start(hass, freezer, sim, mock_config_entry, "2026-01-29 00:02:40", steps, **options)
    await run_until(hass, freezer, sim, local("2026-01-29 23:57:40"), 300)
    # One day: its best window; the evening's is the second of the same day, not a peak.
    assert watts(hass, "demand_peak") == pytest.approx(expected["01-29 07:00"], abs=1)
    await run_until(hass, freezer, sim, local("2026-01-31 23:57:40"), 300)
    january = (expected["01-29 07:00"] + expected["01-30 12:00"] + expected["01-31 19:00"]) / 3
    assert watts(hass, "demand_peak") == pytest.approx(january, abs=1)
    assert value(hass, "demand_peak_time") == local("2026-01-29 07:00").isoformat()

    # N = 1, applied at once: the month's highest window.
    result = await hass.config_entries.options.async_init(mock_config_entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_DEMAND_WINDOW: "60", CONF_DEMAND_PEAKS: 1}
    )
    await hass.async_block_till_done()
    assert mock_config_entry.options[CONF_DEMAND_PEAKS] == 1
    january = expected["01-29 07:00"]
    assert watts(hass, "demand_peak") == pytest.approx(january, abs=1)

    # February: the month starts empty; the 12-month average takes both months.
    await run_until(hass, freezer, sim, local("2026-02-01 00:02:40"), 300)
    assert value(hass, "demand_peak") == "unknown"
    assert watts(hass, "demand_peak_12m") == pytest.approx(january, abs=1)
    await run_until(hass, freezer, sim, local("2026-02-01 10:02:40"), 300)
    february = expected["02-01 09:00"]
    assert watts(hass, "demand_peak") == pytest.approx(february, abs=1)
    assert watts(hass, "demand_peak_12m") == pytest.approx((january + february) / 2, abs=1)
    assert value(hass, "demand_peak_time") == local("2026-02-01 09:00").isoformat()
