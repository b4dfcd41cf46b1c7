"""Fixtures for the integration tests: a simulated device on 127.0.0.1 and a config entry for it."""

from __future__ import annotations

from datetime import timedelta
import logging
from typing import TYPE_CHECKING, Any
from unittest.mock import PropertyMock, patch

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_HOST, CONF_PASSWORD
from homeassistant.helpers import device_registry as dr
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.whatwatt.const import (
    CONF_SCAN_INTERVAL,
    CONF_TRANSPORT,
    DOMAIN,
    TRANSPORT_REST,
)

# Home Assistant's MQTT integration on a mocked client (mqtt_ready), for every test that asks for
# it; setup_entry sets init_integration's entry up.
from .mqtt_helpers import mqtt_ready, setup_entry  # noqa: F401

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable

    from freezegun.api import FrozenDateTimeFactory
    from homeassistant.core import HomeAssistant

DEVICE_ID = "A1B2C3D4E5F6"
# A Thursday morning in winter: tariff 2 on the simulated P1 meter.
FROZEN_TIME = "2026-01-15 08:12:40+00:00"


@pytest.fixture(autouse=True)
def auto_enable(enable_custom_integrations: None, socket_enabled: None) -> None:
    """Load custom integrations and allow sockets (to 127.0.0.1) in every test here."""


@pytest.fixture
def sim_options() -> dict[str, Any]:
    """Simulator configuration; override in a test module or with parametrize."""
    return {}


@pytest.fixture
async def sim(
    simulator_factory: Callable[..., Awaitable[Any]],
    sim_options: dict[str, Any],
    freezer: FrozenDateTimeFactory,
) -> Any:
    """Start a simulated device (time frozen) with one meter telegram already decoded."""
    freezer.move_to(FROZEN_TIME)
    options = {"auth": "none", "telegram_interval": 0, "seed": 7, **sim_options}
    device = await simulator_factory(**options)
    if device.state.meter_connected:
        await device.emit_telegram()
    return device


@pytest.fixture
async def plus_device(simulator_factory: Callable[..., Awaitable[Any]]) -> Any:
    """A Plus device (no password, real clock) with a 30 s publishing interval."""
    device = await simulator_factory(telegram_interval=0, seed=3, report_interval=30)
    await device.emit_telegram()
    return device


@pytest.fixture
def device_seed(request: pytest.FixtureRequest) -> int:
    """The simulator seed of ``device``: the test module's ``DEVICE_SEED``, else 1."""
    return getattr(request.module, "DEVICE_SEED", 1)


@pytest.fixture
async def device(simulator_factory: Callable[..., Awaitable[Any]], device_seed: int) -> Any:
    """An open (unprotected) Plus device with one reading, on the real clock."""
    sim = await simulator_factory(auth="none", telegram_interval=0, seed=device_seed)
    await sim.emit_telegram()
    return sim


def host_of(device: Any) -> str:
    """Return the host[:port] of a simulator."""
    return f"127.0.0.1:{device.port}"


@pytest.fixture
def mock_config_entry(sim: Any, sim_options: dict[str, Any]) -> MockConfigEntry:
    """Return a REST config entry pointing at the simulator (not yet added)."""
    data: dict[str, Any] = {CONF_HOST: host_of(sim), CONF_TRANSPORT: TRANSPORT_REST}
    if sim_options.get("password"):
        data[CONF_PASSWORD] = sim_options["password"]
    return MockConfigEntry(
        domain=DOMAIN,
        title="whatwatt Go D4E5F6",
        unique_id=DEVICE_ID,
        data=data,
        options={CONF_SCAN_INTERVAL: 10},
    )


@pytest.fixture
async def init_integration(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry
) -> MockConfigEntry:
    """Set up the integration against the simulator."""
    return await setup_entry(hass, mock_config_entry)


@pytest.fixture
async def live(hass: HomeAssistant, sim: Any) -> AsyncIterator[MockConfigEntry]:
    """Set up a live-stream entry on the simulator, its stream open; unloaded after the test
    (unless the test unloaded or removed it)."""
    from .live_helpers import setup_live  # live_helpers builds on this module

    entry = await setup_live(hass, sim)
    yield entry
    if entry.state is ConfigEntryState.LOADED:
        assert await hass.config_entries.async_unload(entry.entry_id)


@pytest.fixture
def enable_all_entities() -> Any:
    """Create every entity enabled, including those disabled by default."""
    with patch(
        "homeassistant.helpers.entity.Entity.entity_registry_enabled_default",
        new_callable=PropertyMock,
        return_value=True,
    ):
        yield


async def advance(hass: HomeAssistant, freezer: FrozenDateTimeFactory, seconds: float) -> None:
    """Move time on and wait until the refresh it triggers has finished."""
    freezer.tick(timedelta(seconds=seconds))
    async_fire_time_changed(hass, dt_util.utcnow())
    await hass.async_block_till_done(wait_background_tasks=True)


def device_of(hass: HomeAssistant, entry: MockConfigEntry) -> dr.DeviceEntry:
    """Return the one device of an entry (an API present in every supported line)."""
    devices = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    assert len(devices) == 1
    assert devices[0].identifiers == {(DOMAIN, DEVICE_ID)}
    return devices[0]


@pytest.fixture
def poll(
    hass: HomeAssistant, init_integration: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> Callable[..., Awaitable[None]]:
    """Set the integration up; return ``poll``: ``await poll()`` lets one scan interval pass.

    Time moves on 10 s (``poll(seconds)``: another step) and the refresh it triggers runs.
    """

    async def step(seconds: float = 10) -> None:
        await advance(hass, freezer, seconds)

    return step


@pytest.fixture
def info_log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """``caplog`` recording the integration's INFO lines too (outages and recoveries)."""
    caplog.set_level(logging.INFO, logger="custom_components.whatwatt")
    return caplog
