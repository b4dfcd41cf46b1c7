"""Every way the live stream ends, in the integration's own words, logged once.

The words come from ``errors.live_error``; Home Assistant's coordinator logs them once per outage
("Error requesting ... data: <reason>", Home Assistant drops the final full stop), the stream
"is back" once. aiohttp's own text (a
``ClientPayloadError``, a ``TransferEncodingError``) never reaches a log line above debug.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from homeassistant.const import STATE_UNAVAILABLE
import pytest

from custom_components.whatwatt.api.errors import (
    WhatwattAuthError,
    WhatwattBusyError,
    WhatwattConnectionError,
    WhatwattInvalidResponseError,
    WhatwattLicenseError,
    WhatwattRequestError,
    WhatwattStreamBrokenError,
    WhatwattStreamClosedError,
    WhatwattTimeoutError,
    WhatwattUnavailableError,
)
from custom_components.whatwatt.errors import live_error

from .live_helpers import live_entry, setup_live, shows, state, tick, wait_connections, wait_for

if TYPE_CHECKING:
    from freezegun.api import FrozenDateTimeFactory
    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import MockConfigEntry

OURS = "custom_components.whatwatt"
AIOHTTP_WORDS = ("aiohttp", "ClientPayloadError", "TransferEncodingError", "Response payload")


def errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Return the messages of every log line at error level or above (any logger)."""
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


def aiohttp_words(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Return the lines above debug level (ours: from info on) that show aiohttp's words."""
    return [
        message
        for r in caplog.records
        if r.levelno >= logging.WARNING or (r.name == OURS and r.levelno >= logging.INFO)
        if any(word in (message := r.getMessage()) for word in AIOHTTP_WORDS)
    ]


@pytest.mark.parametrize(
    ("err", "key", "placeholders"),
    [
        (WhatwattStreamClosedError("x"), "live_closed", None),
        (WhatwattStreamBrokenError("x"), "live_broken", None),
        (WhatwattTimeoutError("x"), "timeout", None),
        (WhatwattConnectionError("cannot connect to h: aiohttp text"), "live_unreachable", None),
        (WhatwattAuthError("x"), "invalid_auth", None),
        (WhatwattLicenseError("x"), "live_not_offered", None),
        (WhatwattRequestError(404, "not_found"), "live_not_offered", None),
        (WhatwattBusyError("x"), "live_refused", None),
        (WhatwattUnavailableError("x"), "live_refused", None),
        (
            WhatwattRequestError(400, "bad", "no such stream"),
            "device_rejected",
            {"reason": "no such stream", "status": "400"},
        ),
        (WhatwattInvalidResponseError("not JSON"), "communication_error", {"error": "not JSON"}),
        (KeyError("P_In"), "communication_error", {"error": "unexpected error: KeyError('P_In')"}),
    ],
)
def test_every_end_has_its_words(
    err: Exception, key: str, placeholders: dict[str, str] | None
) -> None:
    """The classes of ends and the translation key each one is told with."""
    error = live_error(err)
    assert error.translation_key == key
    assert error.translation_placeholders == placeholders


async def _streaming(
    hass: HomeAssistant, sim: Any, caplog: pytest.LogCaptureFixture
) -> MockConfigEntry:
    """Log this integration's lines from INFO up, set up a live entry, show a first reading."""
    caplog.set_level(logging.INFO, logger=OURS)
    entry = await setup_live(hass, sim)
    await shows(hass, await sim.emit_telegram())
    return entry


async def test_reboot_mid_event(
    hass: HomeAssistant, sim: Any, freezer: FrozenDateTimeFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """The device restarts while it writes an event: "broke off", never aiohttp's words."""
    entry = await _streaming(hass, sim, caplog)
    sim.live.cut_mid_event()
    await sim.reboot(downtime=0)
    await wait_for(hass, lambda: state(hass, "power_import") == STATE_UNAVAILABLE)
    await tick(hass, freezer, 1)
    await wait_connections(sim, 2)
    await sim.live.wait_clients(1)
    await shows(hass, await sim.emit_telegram())
    lines = errors(caplog)
    assert len(lines) == 1, lines
    assert lines[0].endswith(
        "The live stream broke off: the device restarted or the network connection dropped"
    )
    assert aiohttp_words(caplog) == []
    assert caplog.text.count("is back") == 1
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_device_closes_the_stream(
    hass: HomeAssistant, sim: Any, freezer: FrozenDateTimeFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """A clean close by the device (what a take-over looks like): told once, then back."""
    entry = await setup_live(hass, sim)
    await shows(hass, await sim.emit_telegram())
    sim.live.drop()
    await wait_for(hass, lambda: state(hass, "power_import") == STATE_UNAVAILABLE)
    await tick(hass, freezer, 1)
    await wait_connections(sim, 2)
    await shows(hass, await sim.emit_telegram())
    assert [line.rsplit(": ", 1)[1] for line in errors(caplog)] == [
        "The device closed the live stream"
    ]
    assert await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.parametrize(
    ("status", "words"),
    [
        (503, "The device is busy and refused the live stream for now"),
        (404, "The device does not offer the live stream (HTTP 404)"),
        (400, "The device rejected the request (HTTP 400): live stream unavailable"),
    ],
)
async def test_stream_refused_with_a_status(
    hass: HomeAssistant,
    sim: Any,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    status: int,
    words: str,
) -> None:
    """The stream alone answers an HTTP error while REST works: told once, retried, opened."""
    sim.live.refuse_status = status
    entry = live_entry(sim)
    entry.add_to_hass(hass)
    failed = asyncio.Event()
    assert await hass.config_entries.async_setup(entry.entry_id)
    coordinator = entry.runtime_data.measurements
    set_error = coordinator.async_set_update_error

    def failing(err: Exception) -> None:
        set_error(err)
        failed.set()

    monkeypatch.setattr(coordinator, "async_set_update_error", failing)
    for seconds in (1, 2, 4):  # three refused attempts
        failed.clear()
        await tick(hass, freezer, seconds)
        async with asyncio.timeout(5):
            await failed.wait()
    assert [line.rsplit("data: ", 1)[1] for line in errors(caplog)] == [words]
    sim.live.refuse_status = None
    await tick(hass, freezer, 8)
    await sim.live.wait_clients(1)
    await shows(hass, await sim.emit_telegram())
    assert caplog.text.count("is back") == 1
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_quiet_stream_told_once_per_spell(
    hass: HomeAssistant, sim: Any, freezer: FrozenDateTimeFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """A stream without events is reopened every minute; that is said once until events flow."""
    entry = await _streaming(hass, sim, caplog)

    def quiet_lines() -> int:
        return sum("brought nothing for 60 s" in message for message in caplog.messages)

    for connections in (2, 3, 4):
        await tick(hass, freezer, 61)
        await wait_connections(sim, connections)
    assert quiet_lines() == 1
    await sim.live.wait_clients(1)
    await shows(hass, await sim.emit_telegram())
    await tick(hass, freezer, 61)
    await wait_connections(sim, 5)
    assert quiet_lines() == 2
    assert errors(caplog) == []
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_unreachable_after_the_end(
    hass: HomeAssistant, sim: Any, freezer: FrozenDateTimeFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """The device goes away: the end is told once; the refused tries after it are "cannot be
    reached" (kept as the measurements' error, not logged again)."""
    entry = await setup_live(hass, sim)
    await shows(hass, await sim.emit_telegram())
    coordinator = entry.runtime_data.measurements
    failed = asyncio.Event()
    set_error = coordinator.async_set_update_error

    def failing(err: Exception) -> None:
        set_error(err)
        failed.set()

    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(coordinator, "async_set_update_error", failing)
        sim.faults.refuse = True  # drops the stream and refuses the next tries
        async with asyncio.timeout(5):
            await failed.wait()
        failed.clear()
        await tick(hass, freezer, 1)
        async with asyncio.timeout(5):
            await failed.wait()
        assert str(coordinator.last_exception) == "The device cannot be reached"
        assert len(errors(caplog)) == 1
        assert aiohttp_words(caplog) == []
        sim.faults.refuse = False
        await sim.wait_up()
        await tick(hass, freezer, 2)
        await wait_connections(sim, 2)
        await shows(hass, await sim.emit_telegram())
        assert await hass.config_entries.async_unload(entry.entry_id)
