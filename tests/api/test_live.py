"""LiveStream against the simulator: events, single-subscriber drops, idle, reboot, auth."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any

import aiohttp
import pytest

from custom_components.whatwatt.api import (
    LiveStream,
    Report,
    WhatwattClient,
    WhatwattConnectionError,
    WhatwattError,
    WhatwattLicenseError,
    WhatwattStreamBrokenError,
    WhatwattStreamClosedError,
    WhatwattTimeoutError,
    WhatwattUnavailableError,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator


class Consumer:
    """Runs ``stream.events()`` in a task; reports land in a queue, the final error too."""

    def __init__(self, stream: LiveStream) -> None:
        self.stream = stream
        self.reports: asyncio.Queue[Report] = asyncio.Queue()
        self.error: WhatwattError | None = None
        self.task = asyncio.create_task(self._run())

    def restart(self) -> None:
        """Open the stream again (the caller's reconnection policy)."""
        self.error = None
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        try:
            async for report in self.stream.events():
                self.reports.put_nowait(report)
        except WhatwattError as err:
            self.error = err

    async def next(self) -> Report:
        return await asyncio.wait_for(self.reports.get(), 5)

    async def finished(self) -> WhatwattError | None:
        await asyncio.wait_for(self.task, 5)
        return self.error

    async def stop(self) -> None:
        self.stream.close()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(self.task, 5)


@pytest.fixture
async def consumers() -> AsyncIterator[list[Consumer]]:
    started: list[Consumer] = []
    yield started
    for consumer in started:
        await consumer.stop()


async def _start(consumers: list[Consumer], client: WhatwattClient, **kw: Any) -> Consumer:
    consumer = Consumer(LiveStream(client, **kw))
    consumers.append(consumer)
    return consumer


async def test_events_arrive_one_per_telegram(simulator_factory, session, consumers) -> None:
    sim = await simulator_factory(profile="dlms-three", telegram_interval=0)
    client = WhatwattClient(session, sim.host)
    consumer = await _start(consumers, client)
    await sim.live.wait_clients(1)
    for _ in range(3):
        wire = await sim.emit_telegram()
        assert wire is not None
        report = await consumer.next()
        active = wire["report"]["instantaneous_power"]["active"]["positive"]
        assert report.values["power_import"] == pytest.approx(active["total"])
        assert report.values["power_import_l2"] == pytest.approx(active["l2"])
        assert report.values["voltage_l3"] == pytest.approx(wire["report"]["voltage"]["l3"])
        assert report.timestamp is not None
        assert report.uptime is not None
    assert consumer.stream.events_received == 3
    assert consumer.reports.empty()
    assert client.requests_sent == 1
    assert sim.live.connections_total == 1


async def test_second_client_drops_the_first(simulator_factory, session, consumers) -> None:
    sim = await simulator_factory(telegram_interval=0)
    first = await _start(consumers, WhatwattClient(session, sim.host))
    await sim.live.wait_clients(1)
    await sim.emit_telegram()
    await first.next()
    async with aiohttp.ClientSession() as other_session:
        second = await _start(consumers, WhatwattClient(other_session, sim.host))
        error = await first.finished()
        assert isinstance(error, WhatwattStreamClosedError)  # ended cleanly: a take-over
        await sim.live.wait_clients(1)
        await sim.emit_telegram()
        assert (await second.next()).values
        await second.stop()
    assert first.reports.empty()
    assert sim.live.connections_total == 2


async def test_reconnect_after_the_server_drops(simulator_factory, session, consumers) -> None:
    sim = await simulator_factory(
        auth="digest", password="pw", reboot_downtime=0.2, telegram_interval=0
    )
    client = WhatwattClient(session, sim.host, "pw")
    consumer = await _start(consumers, client, idle_timeout=5)
    await sim.live.wait_clients(1)
    await sim.emit_telegram()
    await consumer.next()
    reboot = asyncio.create_task(sim.reboot())
    broken = await consumer.finished()
    assert isinstance(broken, WhatwattConnectionError)
    assert not isinstance(broken, WhatwattStreamClosedError)  # broken, not closed: no take-over
    consumer.restart()  # the device is still down: refused
    error = await consumer.finished()
    assert isinstance(error, WhatwattConnectionError)
    assert "cannot connect" in str(error)
    await reboot
    consumer.restart()
    await sim.live.wait_clients(1)
    await sim.emit_telegram()
    assert "power_import" in (await consumer.next()).values
    assert sim.boots == 2
    assert consumer.stream.events_received == 2
    # the nonce died with the reboot: one 401 and a retry, then the stream again
    assert [r.status for r in sim.requests] == [401, 200, 401, 200]


async def test_idle_timeout(simulator_factory, session, consumers) -> None:
    sim = await simulator_factory(telegram_interval=0)
    consumer = await _start(consumers, WhatwattClient(session, sim.host), idle_timeout=0.3)
    error = await consumer.finished()
    assert isinstance(error, WhatwattTimeoutError)
    await sim.live.wait_clients(0)


async def test_malformed_events_are_skipped(simulator_factory, session, consumers) -> None:
    sim = await simulator_factory(telegram_interval=0)
    consumer = await _start(consumers, WhatwattClient(session, sim.host))
    await sim.live.wait_clients(1)
    sim.faults.malformed = True
    await sim.emit_telegram()
    sim.faults.malformed = False
    wire = await sim.emit_telegram()
    assert wire is not None
    report = await consumer.next()
    assert report.values["energy_import"] == pytest.approx(
        wire["report"]["energy"]["active"]["positive"]["total"]
    )
    assert consumer.stream.events_received == 1


async def test_live_works_on_a_free_licence(simulator_factory, session, consumers) -> None:
    sim = await simulator_factory(license="free", telegram_interval=0)
    client = WhatwattClient(session, sim.host)
    with pytest.raises(WhatwattLicenseError):
        await client.get_report()
    consumer = await _start(consumers, client)
    await sim.live.wait_clients(1)
    await sim.emit_telegram()
    assert "power_import" in (await consumer.next()).values


async def test_live_errors(simulator_factory, session, consumers) -> None:
    sim = await simulator_factory(telegram_interval=0)
    sim.faults.status_503 = True
    consumer = await _start(consumers, WhatwattClient(session, sim.host))
    assert isinstance(await consumer.finished(), WhatwattUnavailableError)
    sim.faults.status_503 = False
    sim.faults.refuse = True
    refused = await _start(consumers, WhatwattClient(session, sim.host))
    assert isinstance(await refused.finished(), WhatwattConnectionError)


async def test_cut_mid_event_is_a_broken_stream(simulator_factory, session, consumers) -> None:
    """A reboot while the device writes an event: broken off, in this package's words."""
    sim = await simulator_factory(telegram_interval=0)
    consumer = await _start(consumers, WhatwattClient(session, sim.host), idle_timeout=5)
    await sim.live.wait_clients(1)
    await sim.emit_telegram()
    await consumer.next()
    sim.live.cut_mid_event()
    broken = await consumer.finished()
    assert isinstance(broken, WhatwattStreamBrokenError)
    assert str(broken) == f"the live stream from {sim.host} broke off"
    assert isinstance(broken.__cause__, aiohttp.ClientPayloadError)  # kept for the debug log
    assert consumer.reports.empty()  # half an event is no reading
