"""The chaos of ``bench.chaos_soak``: seeded faults every 20-40 s, each waited out until healed.

Kinds (``KINDS``), what each does and to whom:

- ``reboot``: a device restarts (3-10 s off the network; an open live stream breaks off
  mid-event), any transport;
- ``unreachable``: a device is off the network for 30-90 s (HTTP refused, MQTT client gone);
- ``broker restart``: mosquitto stops for 3-8 s and starts again on its port: every MQTT entry;
- ``stream refused``: the live stream alone answers 503 for 20-60 s (REST still answers);
- ``wrong password``: the device refuses its password for 40-120 s, on a REST and on a live
  entry in turn (the two kinds of the rotation);
- ``reload``: the entry is reloaded; it counts from the request (its cause ends at once), and
  the entry is recovered at the first reading its re-added power sensor shows.

The order is a seeded shuffle of the kinds, round after round, so that every kind comes up about
as often; a fault takes only entries that are not under another fault or still recovering. An
entry is recovered at the first reading its power sensor shows after the fault ended; it is
released for the next fault then, or 150 s after the end.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
import json
import math
import random
import time
from typing import TYPE_CHECKING, Any, Final

from bench.fifty_meters import Meter, Worker

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

    from bench._harness import Broker

# kind → (worker fault or None, shortest and longest duration in seconds, transports it hits)
KINDS: Final[dict[str, tuple[str | None, float, float, tuple[str, ...]]]] = {
    "reboot": ("reboot", 3.0, 10.0, ("rest", "mqtt", "mqtt+host", "live")),
    "unreachable": ("offline", 30.0, 90.0, ("rest", "mqtt", "mqtt+host", "live")),
    "broker restart": (None, 3.0, 8.0, ("mqtt", "mqtt+host")),
    "stream refused": ("live_refused", 20.0, 60.0, ("live",)),
    "wrong password (REST)": ("wrong_password", 40.0, 120.0, ("rest",)),
    "wrong password (live)": ("wrong_password", 40.0, 120.0, ("live",)),
    "reload": (None, 0.0, 0.0, ("rest", "mqtt", "mqtt+host", "live")),
}
REMOVED: Final = "<removed>"  # noted when a power sensor's state goes (its entry unloads)
GAP: Final = (20.0, 40.0)  # seconds between the starts of two faults
RELEASE_AFTER: Final = 150.0  # an entry not recovered by then is free again (and counted)


@dataclass
class SoakMeter(Meter):
    """A device of the soak and its entry; ``transport`` tells MQTT-only from MQTT + address."""

    transport: str = ""
    worker: ChaosWorker | None = None


@dataclass
class Fault:
    """One fault played: what, to whom, when it began and ended (monotonic seconds)."""

    number: int
    kind: str
    targets: list[SoakMeter]
    seconds: float
    start: float = math.nan
    end: float = math.nan
    recovered: dict[str, float] = field(default_factory=dict)  # device id → first reading after
    error: str | None = None

    def recovery(self, meter: SoakMeter) -> float | None:
        """Return the seconds from the end to the meter's first reading after it (None: none)."""
        moment = self.recovered.get(meter.device_id)
        return None if moment is None else moment - self.end


class ChaosWorker(Worker):
    """A simulator worker that also plays faults, several at a time (answers matched by id)."""

    def __init__(self, name: str, sims: list[dict[str, Any]], log: Any) -> None:
        """Start the worker and read its answers (plain ones queue, fault ones go to the caller)."""
        super().__init__(name, sims, log)
        self._answers: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._next_id = 0
        self._reader = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        assert self.process.stdout is not None
        while line := await asyncio.to_thread(self.process.stdout.readline):
            answer: dict[str, Any] = json.loads(line)
            future = self._pending.pop(answer.get("id", -1), None)
            if future is not None:
                future.set_result(answer)
            else:
                self._answers.put_nowait(answer)

    async def ask(self, command: str | None, limit: float = 60.0) -> dict[str, Any]:
        """Send a plain command and wait for its answer."""
        if command is not None:
            self._send(command)
        return await asyncio.wait_for(self._answers.get(), limit)

    async def fault(self, kind: str, device_id: str, seconds: float) -> dict[str, Any]:
        """Play a fault on one device; return ``{"start", "end"}`` (or ``"error"``) when over."""
        self._next_id += 1
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[self._next_id] = future
        self._send({"id": self._next_id, "fault": kind, "device_id": device_id, "seconds": seconds})
        return await asyncio.wait_for(future, seconds + 60.0)

    async def close_reader(self) -> None:
        """Wait for the reader to end (after ``stop()``: the pipe is closed then)."""
        await asyncio.gather(self._reader, return_exceptions=True)


class Chaos:
    """Play seeded faults until a deadline; every fault is followed until its entries heal."""

    def __init__(
        self, hass: HomeAssistant, meters: list[SoakMeter], broker: Broker, seed: int
    ) -> None:
        """Prepare the schedule (``random.Random(seed)``)."""
        self.hass = hass
        self.meters = meters
        self.broker = broker
        self.rng = random.Random(seed)
        self.faults: list[Fault] = []
        self._busy: set[str] = set()
        self._rotation: list[str] = []

    async def run(self, duration: float, on_done: Any = None) -> list[Fault]:
        """Start a fault every 20-40 s for ``duration`` s; return once every one is over."""
        started = time.monotonic()
        tasks: list[asyncio.Task[None]] = []
        moment = started + self.rng.uniform(*GAP)
        while moment < started + duration:
            await asyncio.sleep(max(0.0, moment - time.monotonic()))
            fault = self._pick()
            if fault is not None:
                self.faults.append(fault)
                tasks.append(asyncio.get_running_loop().create_task(self._play(fault, on_done)))
            moment += self.rng.uniform(*GAP)
        await asyncio.gather(*tasks)
        return self.faults

    def _pick(self) -> Fault | None:
        """Return the next fault of the rotation that has free entries to hit (None: none)."""
        for _ in range(len(KINDS)):
            if not self._rotation:
                self._rotation = list(KINDS)
                self.rng.shuffle(self._rotation)
            kind = self._rotation.pop(0)
            _, shortest, longest, transports = KINDS[kind]
            free = [m for m in self.meters if m.transport in transports]
            if any(m.device_id in self._busy for m in free) and kind == "broker restart":
                continue
            free = [m for m in free if m.device_id not in self._busy]
            if not free:
                continue
            targets = free if kind == "broker restart" else [self.rng.choice(free)]
            self._busy.update(m.device_id for m in targets)
            seconds = round(self.rng.uniform(shortest, longest), 1)
            return Fault(len(self.faults) + 1, kind, targets, seconds)
        return None

    async def _play(self, fault: Fault, on_done: Any) -> None:
        try:
            await self._cause(fault)
        except Exception as err:  # noqa: BLE001 - a fault that failed is reported, not fatal
            fault.error = repr(err)
            fault.end = time.monotonic()
        await self._wait_recovered(fault)
        self._busy.difference_update(m.device_id for m in fault.targets)
        if on_done is not None:
            on_done(fault)

    async def _cause(self, fault: Fault) -> None:
        """Make the fault happen and end; note its start and end."""
        worker_fault = KINDS[fault.kind][0]
        target = fault.targets[0]
        fault.start = time.monotonic()
        if fault.kind == "broker restart":
            await asyncio.to_thread(self.broker.stop)
            await asyncio.sleep(fault.seconds)
            await asyncio.to_thread(self.broker.start)
        elif fault.kind == "reload":
            assert target.entry is not None
            await self.hass.config_entries.async_reload(target.entry.entry_id)
            fault.end = fault.start  # what follows the request is the integration's recovery
            return
        else:
            assert worker_fault is not None
            assert target.worker is not None
            answer = await target.worker.fault(worker_fault, target.device_id, fault.seconds)
            fault.error = answer.get("error")
            fault.start = answer.get("start", fault.start)
        fault.end = time.monotonic()

    async def _wait_recovered(self, fault: Fault) -> None:
        """Wait until each target shows a reading after the end (at most ``RELEASE_AFTER``)."""
        deadline = fault.end + RELEASE_AFTER
        waiting = list(fault.targets)
        while waiting and time.monotonic() < deadline:
            for meter in list(waiting):
                since = fault.end
                if fault.kind == "reload":  # the sensor of the reloaded entry, not the old one
                    since = next((t for t, v in meter.states if t > since and v == REMOVED), since)
                moment = first_reading_after(meter, since)
                if moment is not None:
                    fault.recovered[meter.device_id] = moment
                    waiting.remove(meter)
            if waiting:
                await asyncio.sleep(0.25)


def first_reading_after(meter: Meter, moment: float) -> float | None:
    """Return when the meter's power sensor first showed a number after ``moment`` (or None)."""
    for when, value in meter.states:
        if when > moment and _number(value):
            return when
    return None


def _number(value: str) -> bool:
    try:
        return math.isfinite(float(value))
    except ValueError:
        return False
