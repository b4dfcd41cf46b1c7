"""Peak demand: window averages of the import register, the month's peaks, restarts, DST.

The simulated meter follows a demand profile (``simulator.meter.LoadSteps``); each test states
its own steps and computes the expected averages from them here (``_average``: a sum over
one-second slices of the steps), independently of the simulator's and the integration's
arithmetic. Readings come over REST, a telegram decoded right before each poll.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import itertools
from typing import TYPE_CHECKING, Any

from homeassistant.const import Platform
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.whatwatt.api.demand import Demand, window_start
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
    sim.meter.last_telegram = None  # the register starts here
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


async def test_restart_in_the_middle_of_a_window(
    hass: HomeAssistant, sim: Any, freezer: FrozenDateTimeFactory, mock_config_entry: Any
) -> None:
    """A short restart keeps the window; a long one makes the windows it spans incomplete."""
    steps = [
        (local("2026-01-15 09:20:40"), 2.4),
        (local("2026-01-15 09:36:00"), 7.2),  # while Home Assistant is down
        (local("2026-01-15 09:50:00"), BASE_KW),
    ]
    await start(hass, freezer, sim, mock_config_entry, "2026-01-15 09:12:40", steps)
    await run_until(hass, freezer, sim, local("2026-01-15 09:22:40"), 60)
    before = (watts(hass, "demand_current"), watts(hass, "demand_projected"))
    assert before[0] == pytest.approx((340 * 0.6 + 120 * 2.4) / 460 * 1000, abs=1)
    await restart(hass, mock_config_entry)
    assert (watts(hass, "demand_current"), watts(hass, "demand_projected")) == before

    # Down for two minutes: the window goes on, its average exact.
    assert await hass.config_entries.async_unload(mock_config_entry.entry_id)
    freezer.tick(timedelta(minutes=2))
    await sim.emit_telegram()
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    mock_config_entry.runtime_data.device.update_interval = timedelta(hours=12)
    await run_until(hass, freezer, sim, local("2026-01-15 09:35:40"), 60)
    peak = _average(steps, local("2026-01-15 09:15"), 15)
    assert peak == pytest.approx((340 * 0.6 + 560 * 2.4) / 900 * 1000)
    assert watts(hass, "demand_peak") == pytest.approx(peak, abs=1)

    # Down for 20 minutes with 7.2 kW meanwhile: no window it touched is a peak.
    assert await hass.config_entries.async_unload(mock_config_entry.entry_id)
    freezer.tick(timedelta(minutes=20))
    await sim.emit_telegram()
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert watts(hass, "demand_peak") == pytest.approx(peak, abs=1)  # restored
    mock_config_entry.runtime_data.device.update_interval = timedelta(hours=12)
    await run_until(hass, freezer, sim, local("2026-01-15 10:15:40"), 60)
    assert watts(hass, "demand_peak") == pytest.approx(peak, abs=1)
    assert value(hass, "demand_peak_time") == local("2026-01-15 09:15").isoformat()
    # The window from 10:00 is complete again: 0.6 kW all along.
    assert watts(hass, "demand_current") == pytest.approx(600, abs=1)


@pytest.mark.parametrize("register", [12.0, 9000.0], ids=["new meter", "jump"])
async def test_meter_exchange_makes_no_peak(
    hass: HomeAssistant,
    sim: Any,
    freezer: FrozenDateTimeFactory,
    mock_config_entry: Any,
    register: float,
) -> None:
    """A register that falls (or leaps) once the guard accepts it: that window is incomplete."""
    steps = [(local("2026-01-15 09:20:00"), 1.8), (local("2026-01-15 09:25:00"), BASE_KW)]
    await start(hass, freezer, sim, mock_config_entry, "2026-01-15 09:14:00", steps)
    await run_until(hass, freezer, sim, local("2026-01-15 09:37:00"), 60)
    peak = _average(steps, local("2026-01-15 09:15"), 15)
    assert peak == pytest.approx((600 * 0.6 + 300 * 1.8) / 900 * 1000)
    assert watts(hass, "demand_peak") == pytest.approx(peak, abs=1)
    sim.meter.energy_in = [register, 0.0]  # the meter is exchanged
    await run_until(hass, freezer, sim, local("2026-01-15 10:16:00"), 60)
    assert watts(hass, "demand_peak") == pytest.approx(peak, abs=1)
    assert value(hass, "demand_peak_time") == local("2026-01-15 09:15").isoformat()
    assert watts(hass, "demand_current") == pytest.approx(600, abs=1)  # counting again


async def test_daylight_saving_days(
    hass: HomeAssistant, sim: Any, freezer: FrozenDateTimeFactory, mock_config_entry: Any
) -> None:
    """Hourly windows on the 25-hour day (02:00 twice) and the 23-hour day (no 02:00), N = 2."""
    utc = datetime.fromisoformat
    steps = [
        (utc("2026-03-29 00:10+00:00"), 4.8),  # 01:10 CET ...
        (utc("2026-03-29 01:30+00:00"), BASE_KW),  # ... to 03:30 CEST
        (utc("2026-10-25 00:10+00:00"), 4.8),  # 02:10 to 02:50 CEST
        (utc("2026-10-25 00:50+00:00"), BASE_KW),
        (utc("2026-10-25 01:10+00:00"), 6.0),  # 02:10 to 02:50 CET
        (utc("2026-10-25 01:50+00:00"), BASE_KW),
        (utc("2026-10-25 23:10+00:00"), 3.0),  # 00:10 to 00:50 CET on the 26th
        (utc("2026-10-25 23:50+00:00"), BASE_KW),
    ]
    options = {CONF_DEMAND_WINDOW: 60, CONF_DEMAND_PEAKS: 2}
    await start(hass, freezer, sim, mock_config_entry, "2026-03-28 23:02:40", steps, **options)
    await run_until(hass, freezer, sim, local("2026-03-29 05:02:40"), 300)
    # 01:00 CET is followed by 03:00 CEST, one hour later.
    first = _average(steps, utc("2026-03-29 00:00+00:00"), 60)
    second = _average(steps, utc("2026-03-29 01:00+00:00"), 60)
    assert (round(first), round(second)) == (4100, 2700)
    assert watts(hass, "demand_peak") == pytest.approx(first, abs=1)  # one a day
    assert value(hass, "demand_peak_time") == "2026-03-29T00:00:00+00:00"
    march = first

    # October (a restart between: the summer is left out): 02:00 CEST, then 02:00 CET.
    assert await hass.config_entries.async_unload(mock_config_entry.entry_id)
    freezer.move_to(local("2026-10-24 23:02:40"))
    sim.meter.last_telegram = None  # the register stood still all summer
    await sim.emit_telegram()
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    mock_config_entry.runtime_data.device.update_interval = timedelta(hours=12)
    await run_until(hass, freezer, sim, utc("2026-10-25 22:57:40+00:00"), 300)
    summer, winter = (_average(steps, utc(f"2026-10-25 0{h}:00+00:00"), 60) for h in (0, 1))
    assert (round(summer), round(winter)) == (3400, 4200)
    assert watts(hass, "demand_peak") == pytest.approx(winter, abs=1)  # one a day: 25 hours
    assert value(hass, "demand_peak_time") == "2026-10-25T01:00:00+00:00"  # 02:00 CET
    await run_until(hass, freezer, sim, utc("2026-10-26 00:02:40+00:00"), 300)
    monday = _average(steps, utc("2026-10-25 23:00+00:00"), 60)
    assert round(monday) == 2200
    assert watts(hass, "demand_peak") == pytest.approx((winter + monday) / 2, abs=1)
    assert watts(hass, "demand_peak_12m") == pytest.approx(
        ((winter + monday) / 2 + march) / 2, abs=1
    )


@pytest.mark.parametrize(
    ("day", "minutes", "count"),
    [
        ("2026-03-29", 60, 23),
        ("2026-10-25", 60, 25),
        ("2026-03-29", 15, 92),
        ("2026-10-25", 15, 100),
    ],
)
def test_windows_of_a_daylight_saving_day(day: str, minutes: int, count: int) -> None:
    """A 23-hour day has 23 hourly windows, a 25-hour day 25, each as long as the next."""
    zone = dt_util.get_time_zone(ZONE)
    assert zone is not None
    begin, end = local(f"{day} 00:00"), local(f"{day} 00:00") + timedelta(days=1, hours=2)
    starts = set()
    moment = begin
    while moment < end:
        if (start := window_start(moment, minutes, zone)).astimezone(
            zone
        ).date().isoformat() == day:
            starts.add(start)
        moment += timedelta(minutes=5)
    ordered = sorted(starts)
    assert len(ordered) == count
    assert {b - a for a, b in itertools.pairwise(ordered)} == {timedelta(minutes=minutes)}


def test_demand_arithmetic_edges() -> None:
    """Readings out of order, absurd windows, a new window length, a damaged store."""
    t0 = datetime(2026, 1, 15, 8, 0, tzinfo=UTC)
    demand = Demand(window=15, peaks=2)
    for minute, register in ((-1, 100.0), (0, 100.1), (15, 100.6), (30, 700.0), (31, 700.1)):
        demand.add(t0 + timedelta(minutes=minute), register, None, UTC)
    demand.add(t0, 1.0, None, UTC)  # older than the last reading: ignored
    assert demand.peak() == pytest.approx(2.0)  # 0.5 kWh in 15 min; the 600 kWh leap is not
    assert demand.current() == pytest.approx(6.0)  # 0.1 kWh in the minute since 08:30
    assert demand.projected() == pytest.approx(6.0)  # the power of the last two readings
    stored = demand.as_dict()
    again = Demand(window=15, peaks=2)
    again.restore(stored)
    assert again.as_dict() == stored
    other = Demand(window=60)
    other.restore(stored)  # another length: the month's windows do not carry over
    assert (other.peak(), other.current(), other.peak_12m()) == (None, None, None)
    demand.configure(60, 2)
    assert (demand.peak(), demand.peak_12m()) == (None, None)
    broken = Demand()
    broken.restore({"last": ["not a time", 1], "days": {}})
    assert broken.as_dict() == Demand().as_dict()
