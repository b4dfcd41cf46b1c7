"""Field clocks: freshness is judged by arrival, never by comparing the device's clock with ours.

Real sockets to the simulator on 127.0.0.1, frozen time. The simulator's clock faults model the
field: ``clock_offset`` (a device clock without NTP, behind or ahead), ``timezone`` switched
while the live stream is open (a daylight-saving change) and ``old_time_stamps`` (firmware before
1.10: local time with a trailing ``Z`` and nothing else). In every case the measurements stay
available while readings arrive, ``report_time`` shows the time the reading carries, and the
measurements go unavailable within the documented time once readings stop:

- REST: the report counter unchanged for max(3 intervals, 30 s) (1 s meter: 30 s);
- live: no event for max(3 x interval, 30 s) (30 s);
- MQTT with an address: REST stands in after 2 publish intervals (30 s: 60 s), and the REST
  readings follow the REST rule (3 x 30 s = 90 s) once the meter stops too.
"""

from __future__ import annotations

from datetime import datetime, timedelta
import json
from typing import TYPE_CHECKING, Any

from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import async_fire_mqtt_message

from simulator.state import DEFAULT_MQTT_TEMPLATE

from .conftest import FROZEN_TIME, advance
from .live_helpers import power_import, setup_live, tick, wait_for
from .mqtt_helpers import TOPIC, mqtt_entry, payload, sensor_state, setup_entry

if TYPE_CHECKING:
    from freezegun.api import FrozenDateTimeFactory
    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import MockConfigEntry

    from tests.plugins.simulator import SimulatorFactory

# Every test reads report_time, a sensor disabled by default.
pytestmark = pytest.mark.usefixtures("enable_all_entities")

MEASUREMENTS = ("power_import", "energy_import", "voltage_l1", "current_l1")
MQTT_INTERVAL = 30  # the device's MQTT publish interval (services.report_interval, s)
HOURS_3 = 3 * 3600


def _measurements(hass: HomeAssistant) -> dict[str, str | None]:
    return {key: sensor_state(hass, key) for key in MEASUREMENTS}


def assert_available(hass: HomeAssistant) -> None:
    """Every measurement exists and shows a value."""
    shown = _measurements(hass)
    assert all(value not in (None, STATE_UNAVAILABLE) for value in shown.values()), shown


def assert_unavailable(hass: HomeAssistant) -> None:
    """Every measurement is unavailable."""
    shown = _measurements(hass)
    assert set(shown.values()) == {STATE_UNAVAILABLE}, shown


def iso(moment: datetime) -> str:
    """Return a moment as a timestamp sensor shows it (UTC, ISO 8601)."""
    return dt_util.as_utc(moment).isoformat()


def _report_reads(sim: Any) -> int:
    return sum(r.path == "/api/v1/report" for r in sim.requests)


async def _rest_readings_then_silence(
    hass: HomeAssistant,
    sim: Any,
    freezer: FrozenDateTimeFactory,
    shift: timedelta,
) -> None:
    """Poll three new readings (available, values and time shown), then let the meter stop.

    ``shift`` is how far the time the device prints is from the real one.
    """
    for _ in range(3):
        decoded = dt_util.utcnow()
        report = await sim.emit_telegram()
        await advance(hass, freezer, 10)
        assert_available(hass)
        assert float(sensor_state(hass, "power_import")) == power_import(report)
        assert sensor_state(hass, "report_time") == iso(decoded + shift)
    # The meter stops: the counter stands still. 20 s later still fresh; after 31 s stale.
    await advance(hass, freezer, 10)
    await advance(hass, freezer, 10)
    assert_available(hass)
    await advance(hass, freezer, 11)
    assert_unavailable(hass)
    assert sensor_state(hass, "meter_status") == "ok"  # the device itself is fine
    # A new reading makes them available again.
    await sim.emit_telegram()
    await advance(hass, freezer, 10)
    assert_available(hass)


@pytest.mark.parametrize(
    "sim_options",
    [
        {"clock_offset": -120},
        {"clock_offset": 120},
        {"clock_offset": -HOURS_3},
        {"clock_offset": HOURS_3},
    ],
    ids=["2min_behind", "2min_ahead", "3h_behind", "3h_ahead"],
)
async def test_rest_clock_offset(
    hass: HomeAssistant,
    sim: Any,
    sim_options: dict[str, Any],
    mock_config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A REST device whose clock is off: available while the counter moves, stale when not.

    ``report_time`` shows the reading's time as the device prints it (``date_time_utc``, on
    the device's clock): the real time shifted by the clock offset.
    """
    shift = timedelta(seconds=sim_options["clock_offset"])
    assert sim.state.report["report"]["date_time_utc"] == (
        (datetime.fromisoformat(FROZEN_TIME) + shift).strftime("%Y-%m-%dT%H:%M:%SZ")
    )
    await setup_entry(hass, mock_config_entry)
    assert_available(hass)
    assert sensor_state(hass, "report_time") == iso(datetime.fromisoformat(FROZEN_TIME) + shift)
    await _rest_readings_then_silence(hass, sim, freezer, shift)


@pytest.mark.parametrize(
    "sim_options",
    [{"timezone": "-05:00"}, {"timezone": "+09:00"}],
    ids=["west", "east"],
)
async def test_rest_old_firmware_zone(
    hass: HomeAssistant,
    sim: Any,
    mock_config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Old firmware prints local time with a ``Z`` only: read in the device's learnt offset."""
    sim.faults.old_time_stamps = True
    printed = sim.state.report_json()["report"]
    assert "date_time_utc" not in printed
    assert "date_time_local" not in printed
    assert printed["date_time"] != "2026-01-15T08:12:40Z"  # local time, not UTC
    await setup_entry(hass, mock_config_entry)
    assert_available(hass)
    assert sensor_state(hass, "report_time") == iso(datetime.fromisoformat(FROZEN_TIME))
    await _rest_readings_then_silence(hass, sim, freezer, timedelta(0))


@pytest.mark.parametrize(
    "sim_options",
    [{"timezone": "+01:00"}, {"timezone": "+01:00", "clock_offset": -120}],
    ids=["clock_right", "clock_2min_behind"],
)
async def test_live_dst_change_mid_stream(
    hass: HomeAssistant,
    sim: Any,
    sim_options: dict[str, Any],
    freezer: FrozenDateTimeFactory,
) -> None:
    """The device's offset goes from +01:00 to +02:00 while the stream is open (DST).

    Values stay available, and ``report_time`` shows the reading's UTC time before and after
    the change: the event's local time read in the offset learnt from the device's clock (the
    real time plus the clock's error; the offset itself is rounded to 15 minutes).
    """
    shift = timedelta(seconds=sim_options.get("clock_offset", 0))
    await setup_live(hass, sim)
    for zone in ("+01:00", "+01:00", "+02:00", "+02:00", "+02:00"):
        sim.faults.timezone = zone
        await tick(hass, freezer, 5)
        decoded = dt_util.utcnow()
        before = sensor_state(hass, "report_time")
        report = await sim.emit_telegram()
        await wait_for(hass, lambda before=before: sensor_state(hass, "report_time") != before)
        assert sensor_state(hass, "report_time") == iso(decoded + shift), zone
        assert abs(
            dt_util.parse_datetime(sensor_state(hass, "report_time")) - decoded
        ) <= timedelta(minutes=7, seconds=30)
        assert float(sensor_state(hass, "power_import")) == power_import(report)
        assert_available(hass)
    # The stream stops sending: available for 30 s after the last event, then not.
    await tick(hass, freezer, 29)
    assert_available(hass)
    await tick(hass, freezer, 2)
    assert_unavailable(hass)


@pytest.mark.parametrize("clock_offset", [-120, -HOURS_3], ids=["2min_behind", "3h_behind"])
async def test_mqtt_clock_behind_falls_back_to_rest(
    hass: HomeAssistant,
    mqtt_ready: Any,
    simulator_factory: SimulatorFactory,
    freezer: FrozenDateTimeFactory,
    clock_offset: int,
) -> None:
    """MQTT with an address, device clock behind: pushes keep it available; silent, REST stands in.

    The vendor template's ``time`` is the device clock's UNIX time. After 2 publish intervals
    without a message REST is read; when the meter stops too, the REST rule makes the
    measurements unavailable once the counter stood still for 3 intervals.
    """
    freezer.move_to(FROZEN_TIME)
    shift = timedelta(seconds=clock_offset)
    sim = await simulator_factory(
        auth="none",
        telegram_interval=0,
        seed=7,
        report_interval=MQTT_INTERVAL,
        clock_offset=clock_offset,
    )
    await sim.emit_telegram()
    entry = await setup_entry(hass, mqtt_entry(host=sim.host))
    for _ in range(3):
        await advance(hass, freezer, MQTT_INTERVAL)
        decoded = dt_util.utcnow()
        await sim.emit_telegram()
        message = payload(sim, DEFAULT_MQTT_TEMPLATE)
        async_fire_mqtt_message(hass, TOPIC, message)
        await hass.async_block_till_done()
        assert_available(hass)
        sent = json.loads(message)
        assert float(sensor_state(hass, "power_import")) == pytest.approx(
            float(sent["power_in"]) * 1000
        )
        assert float(sensor_state(hass, "energy_import")) == pytest.approx(float(sent["energy_in"]))
        assert sensor_state(hass, "report_time") == iso(decoded + shift)
    # No more messages; the meter goes on. No REST read before 2 intervals, one after.
    reads = _report_reads(sim)
    await advance(hass, freezer, 2 * MQTT_INTERVAL - 1)
    assert _report_reads(sim) == reads
    assert_available(hass)
    report = await sim.emit_telegram()
    await advance(hass, freezer, 2)
    assert _report_reads(sim) > reads
    assert_available(hass)
    assert float(sensor_state(hass, "power_import")) == power_import(report)
    # The meter stops too: the REST counter stands still; stale after 3 intervals (90 s).
    for _ in range(3):
        await advance(hass, freezer, MQTT_INTERVAL)
        assert_available(hass)
    await advance(hass, freezer, MQTT_INTERVAL)
    assert_unavailable(hass)
    assert await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.parametrize("sim_options", [{"timezone": "+01:00"}])
async def test_rest_old_firmware_dst_change(
    hass: HomeAssistant,
    sim: Any,
    mock_config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Old firmware on REST, +01:00 → +02:00: the next reading's time is read in +02:00.

    The zone learns from the report's own ``system.date_time`` too, not only from the system
    read (every 5 minutes): the first reading after the change is not an hour off.
    """
    sim.faults.old_time_stamps = True
    await setup_entry(hass, mock_config_entry)
    assert sensor_state(hass, "report_time") == iso(datetime.fromisoformat(FROZEN_TIME))
    sim.faults.timezone = "+02:00"
    decoded = dt_util.utcnow()
    await sim.emit_telegram()
    await advance(hass, freezer, 10)
    assert_available(hass)
    assert sensor_state(hass, "report_time") == iso(decoded)
