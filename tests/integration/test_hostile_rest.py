"""A hostile device polled over REST (the simulator's ``hostile`` fault, issue 19).

Each test would fail against the parsers and client before the boundary was made to hold
(``api/`` of 32c1f4f): an extreme time stamp raised ``OverflowError`` in every poll (1), a reply
nested 100,000 deep raised ``RecursionError`` out of the client (2), a value that overflows once
scaled stopped the other sensors of the reading with a ``ValueError`` in the listener loop (3),
an absurd report interval froze (1e7 s) or broke (1e300 s) polling and an absurd uptime kept
the entry in set-up retry (4), a 64 MiB reply was read whole (7). Now: no traceback, the
unusable value alone is missing, polling goes on within the device's 1..3600 s, the entry loads,
the reply is refused after ``MAX_BODY_BYTES``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.const import CONF_HOST, STATE_UNAVAILABLE
from homeassistant.data_entry_flow import FlowResultType
import pytest

from custom_components.whatwatt.api.client import MAX_BODY_BYTES
from custom_components.whatwatt.api.models import INTERVAL_RANGE
from custom_components.whatwatt.const import DOMAIN, TRANSPORT_REST

from .conftest import advance, host_of
from .hostile_helpers import ENERGY, Readings, at, tracebacks, value, watts
from .mqtt_helpers import sensor_state

if TYPE_CHECKING:
    from freezegun.api import FrozenDateTimeFactory
    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import MockConfigEntry

pytestmark = pytest.mark.usefixtures("enable_all_entities")


@dataclass
class _Rest:
    """The polled device, its entry and the test's clock and log."""

    hass: HomeAssistant
    sim: Any
    entry: MockConfigEntry
    freezer: FrozenDateTimeFactory
    caplog: pytest.LogCaptureFixture
    readings: Readings | None = None

    async def set_up(self) -> None:
        self.entry.add_to_hass(self.hass)
        assert await self.hass.config_entries.async_setup(self.entry.entry_id)
        await self.hass.async_block_till_done()

    async def start(self) -> None:
        """Take the readings over, then set the entry up."""
        self.readings = Readings(self.sim)
        await self.set_up()

    async def poll(self, seconds: float = 10) -> dict[str, Any]:
        """Decode the next telegram, let ``seconds`` pass; return its report."""
        assert self.readings is not None
        report = await self.readings.emit()
        await advance(self.hass, self.freezer, seconds)
        return report

    async def recovers(self) -> None:
        """The fault ends: the next poll shows the reading's power."""
        self.sim.faults.hostile = None
        report = await self.poll()
        assert value(self.hass, "power_import") == watts(report)

    def report_reads(self) -> int:
        return sum(record.path == "/api/v1/report" for record in self.sim.requests)


@pytest.fixture
def rest(
    hass: HomeAssistant,
    sim: Any,
    mock_config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> _Rest:
    return _Rest(hass, sim, mock_config_entry, freezer, caplog)


async def test_extreme_times(rest: _Rest) -> None:
    """(1) Times beyond year 9999 and before year 1: the reading counts, without its time."""
    hass, sim = rest.hass, rest.sim
    await rest.start()
    sim.faults.hostile = ["extreme_times"]
    for _ in range(2):
        report = await rest.poll()
        assert value(hass, "power_import") == watts(report)
        assert value(hass, "energy_import") == at(report, ENERGY)
    assert sensor_state(hass, "report_time") in (STATE_UNAVAILABLE, "unknown")
    await advance(hass, rest.freezer, 300)  # the device read: its clock and last reboot too
    assert rest.entry.runtime_data.device.last_update_success
    assert rest.entry.state is ConfigEntryState.LOADED
    assert not tracebacks(rest.caplog)
    await rest.recovers()
    assert sensor_state(hass, "report_time") == "2026-01-15T08:18:00+00:00"


async def test_nested_json(rest: _Rest) -> None:
    """(2) Answers and error bodies nested 100,000 deep: an invalid reply, then back."""
    hass, sim = rest.hass, rest.sim
    await rest.start()
    sim.faults.hostile = ["nested_json"]
    await rest.poll()
    assert sensor_state(hass, "power_import") == STATE_UNAVAILABLE
    sim.faults.status_503 = True  # the error body is nested too
    await advance(hass, rest.freezer, 10)
    assert sensor_state(hass, "power_import") == STATE_UNAVAILABLE
    assert not tracebacks(rest.caplog)
    sim.faults.clear()
    await rest.recovers()
    assert rest.entry.state is ConfigEntryState.LOADED


async def test_nested_json_in_the_flow(
    hass: HomeAssistant, sim: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """(2) The device answers the set-up with JSON nested 100,000 deep: not a whatwatt Go."""
    sim.faults.hostile = ["nested_json"]
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": TRANSPORT_REST}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: host_of(sim)}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "not_whatwatt_device"}
    assert not tracebacks(caplog)
    sim.faults.hostile = None
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: host_of(sim)}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_overflowing_values(rest: _Rest) -> None:
    """(3) 1e306 kW, -1e308 kW (net power 2e308), NaN, infinity: those entities alone are
    unavailable; every other entity of the same reading updates; then all are back."""
    hass = rest.hass
    await rest.start()
    before = await rest.poll()
    assert value(hass, "power_net") is not None
    rest.sim.faults.hostile = ["overflow"]
    for _ in range(2):
        report = await rest.poll()
        for key in ("power_import", "power_export", "power_net", "current_l1"):
            assert sensor_state(hass, key) == STATE_UNAVAILABLE, key
        assert value(hass, "energy_import") == at(report, ENERGY) > at(before, ENERGY)
        before = report
        assert value(hass, "voltage_l1") == at(report, ("voltage", "l1"))
        assert sensor_state(hass, "tariff") == "t2"
    assert not tracebacks(rest.caplog)
    await rest.recovers()
    assert value(hass, "power_net") is not None


async def test_overflowing_device_document(rest: _Rest) -> None:
    """(3) ``/system`` with a Wi-Fi RSSI of 1e300 (a whole number of 301 digits): the entry
    loads, the health entities show what can be shown, no traceback."""
    rest.sim.faults.hostile = ["overflow"]
    await rest.set_up()
    assert rest.entry.state is ConfigEntryState.LOADED
    assert sensor_state(rest.hass, "wifi_rssi") in (None, STATE_UNAVAILABLE, "unknown")
    assert not tracebacks(rest.caplog)


@pytest.mark.parametrize("interval", [1e7, 1e300])
async def test_absurd_interval(rest: _Rest, interval: float) -> None:
    """(4) A report interval of 1e7 or 1e300 s: polling goes on, at most an hour apart."""
    hass = rest.hass
    await rest.start()
    rest.sim.faults.hostile = {"kinds": ["absurd_interval"], "interval": interval}
    for _ in range(2):  # the interval a poll reads applies from the poll after it
        await rest.poll()
    measurements = rest.entry.runtime_data.measurements
    assert measurements.update_interval == timedelta(seconds=INTERVAL_RANGE[1])
    for _ in range(2):
        reads = rest.report_reads()
        report = await rest.poll(INTERVAL_RANGE[1])
        assert rest.report_reads() == reads + 1
        assert value(hass, "power_import") == watts(report)
    assert not tracebacks(rest.caplog)
    rest.sim.faults.hostile = None
    for _ in range(2):
        await advance(hass, rest.freezer, INTERVAL_RANGE[1])
    assert measurements.update_interval == timedelta(seconds=10)


@pytest.mark.parametrize("uptime", [1e15, 1e308])
async def test_absurd_uptime(rest: _Rest, uptime: float) -> None:
    """(4) An uptime of 1e15 or 1e308 s: the entry loads; its last boot is the device's own."""
    rest.sim.faults.hostile = {"kinds": ["absurd_uptime"], "uptime": uptime}
    await rest.set_up()
    assert rest.entry.state is ConfigEntryState.LOADED
    assert sensor_state(rest.hass, "last_boot") == "2026-01-15T08:12:40+00:00"
    rest.readings = Readings(rest.sim)
    report = await rest.poll()
    assert value(rest.hass, "power_import") == watts(report)
    assert not tracebacks(rest.caplog)


async def test_huge_reply_is_refused_unread(rest: _Rest) -> None:
    """(7) A 64 MiB reply (no Content-Length): refused after 1 MiB, not read to its end."""
    sim = rest.sim
    await rest.start()
    sim.faults.hostile = ["huge_body"]
    await rest.poll()
    assert sensor_state(rest.hass, "power_import") == STATE_UNAVAILABLE
    assert MAX_BODY_BYTES < sim.hostile_bytes_sent < sim.faults.hostile.body_bytes // 4
    assert not tracebacks(rest.caplog)
    await rest.recovers()
