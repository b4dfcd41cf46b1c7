"""A process hosting simulated whatwatt Go devices for ``bench.fifty_meters`` and ``chaos_soak``.

Started as ``python -m bench._sim_worker``; talks JSON lines. The first line on stdin describes
the devices (``{"sims": [{"device_id", "kind": rest|mqtt|live, "interval", "profile",
"license", "password", "mqtt_url", "net_kw", "seed"}, ...]}``). The worker starts them (each on
its own free port), lets each decode one telegram, waits until the MQTT devices are connected to
the broker and answers ``{"ready": [{"device_id", "port"}, ...]}``. From then on every device
decodes a telegram every ``interval`` seconds (its own schedule, a random phase), which is
exactly what the device then delivers: an MQTT message (report interval 0: one per telegram),
a live-stream event (while a client is connected), or the report REST polls read.

Commands (one per line): ``pause`` (no more telegrams; answers ``{"paused": <monotonic>}``),
``report`` (answers what each device sent, see ``Meter.summary``), ``stop`` (stops the devices
and exits). A JSON object with an ``id`` is a fault to play on one device (``bench._sim_faults``):
it runs in a task of its own and is answered, with its ``id``, when it is over. Times are
``time.monotonic()``, which every process on the machine shares.
"""

from __future__ import annotations

from bench import _code  # isort: skip  # noqa: F401 - before the simulator

import asyncio
import contextlib
import json
import random
import sys
import time
from typing import Any

from bench import _sim_faults
from simulator import Simulator, SimulatorConfig


def _power(report: dict[str, Any] | None) -> float | None:
    try:
        return float(report["report"]["instantaneous_power"]["active"]["positive"]["total"])  # type: ignore[index]
    except (KeyError, TypeError, ValueError):
        return None


class Meter:
    """One simulated device and what it delivered."""

    def __init__(self, spec: dict[str, Any]) -> None:
        """Create (not start) the simulator described by ``spec``."""
        self.spec = spec
        self.kind: str = spec["kind"]
        self.interval = float(spec["interval"])
        mqtt = self.kind == "mqtt"
        self.sim = Simulator(
            SimulatorConfig(
                host="127.0.0.1",
                port=0,
                auth="digest" if spec.get("password") else "none",
                password=spec.get("password"),
                license=spec.get("license", "plus"),
                profile=spec.get("profile", "dlms-three"),
                device_id=spec["device_id"],
                mqtt_url=spec.get("mqtt_url") if mqtt else None,
                mqtt_topic=f"whatwatt/{spec['device_id']}" if mqtt else None,
                mqtt_template=spec.get("mqtt_template") if mqtt else None,
                report_interval=0,  # MQTT: publish on every telegram
                telegram_interval=0,  # the worker drives the telegrams
                seed=spec.get("seed"),
            )
        )
        self.sim.state.telegram_interval = self.interval
        self.sim.meter.net_kw = float(spec.get("net_kw", 4.0))
        self.produced = 0
        # MQTT / live: [monotonic, sequence, power kW] of every reading delivered.
        self.sent: list[list[float]] = []
        # REST: [monotonic, report id, power kW, index into sim.requests when it became current]
        self.marks: list[list[float]] = []
        self.errors = 0

    async def start(self) -> None:
        """Start the device and decode its first telegram."""
        await self.sim.start()
        await self.tick()

    def _live_subscribed(self) -> bool:
        live = self.sim.live
        return bool(getattr(live, "has_subscriber", live.clients > 0))

    async def tick(self) -> None:
        """Decode one telegram and note what the device delivers because of it."""
        sim = self.sim
        subscribed = self.kind == "live" and self._live_subscribed()
        published = sim.publisher.published if self.kind == "mqtt" and sim.publisher else 0
        requests = len(sim.requests)
        report = await sim.emit_telegram()
        now = time.monotonic()
        if report is None:
            return
        self.produced += 1
        report_id = float(report["report"]["id"])
        power = _power(report)
        if self.kind == "rest":
            self.marks.append([now, report_id, power if power is not None else -1.0, requests])
        elif self.kind == "live":
            if subscribed and power is not None:
                self.sent.append([now, report_id, power])
        elif sim.publisher is not None and sim.publisher.published > published:
            payload = json.loads(sim.publisher.last_payload)
            value = payload.get("pi", payload.get("power_in"))
            self.sent.append([now, float(sim.publisher.published), float(value)])

    def served(self) -> list[list[float]]:
        """REST: the readings some ``GET /api/v1/report`` answered with (in order)."""
        requests = self.sim.requests
        out = []
        for index, (moment, report_id, power, start) in enumerate(self.marks):
            end = self.marks[index + 1][3] if index + 1 < len(self.marks) else len(requests)
            if any(
                r.path == "/api/v1/report" and r.status == 200
                for r in requests[int(start) : int(end)]
            ):
                out.append([moment, report_id, power])
        return out

    def summary(self) -> dict[str, Any]:
        """Return what this device delivered."""
        reads = [r for r in self.sim.requests if r.path == "/api/v1/report"]
        return {
            "kind": self.kind,
            "interval": self.interval,
            "produced": self.produced,
            "sent": self.served() if self.kind == "rest" else self.sent,
            "report_requests": len(reads),
            "report_answers": sum(1 for r in reads if r.status == 200),
            "requests": len(self.sim.requests),
            "errors": self.errors,
        }

    async def run(self, paused: asyncio.Event) -> None:
        """Decode a telegram every ``interval`` seconds (random phase) until paused."""
        next_at = time.monotonic() + random.uniform(0, self.interval)
        while not paused.is_set():
            delay = next_at - time.monotonic()
            if delay > 0:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(delay):
                        await paused.wait()
                if paused.is_set():
                    return
            try:
                await self.tick()
            except Exception as err:  # noqa: BLE001 - count, tell, keep going
                self.errors += 1
                print(f"telegram of {self.spec['device_id']} failed: {err!r}", file=sys.stderr)
            next_at += self.interval
            next_at = max(next_at, time.monotonic())


def _send(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


async def _play(sims: dict[str, Simulator], command: dict[str, Any]) -> None:
    _send(await _sim_faults.play(sims, command))


async def main() -> None:
    """Serve the devices until ``stop``."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    spec = json.loads(await reader.readline())
    meters = [Meter(item) for item in spec["sims"]]
    await asyncio.gather(*(m.start() for m in meters))
    for meter in meters:
        if meter.kind == "mqtt" and meter.sim.publisher is not None:
            await meter.sim.publisher.wait_link(connected=True, limit=30)
    _send({"ready": [{"device_id": m.spec["device_id"], "port": m.sim.port} for m in meters]})
    paused = asyncio.Event()
    tasks = [loop.create_task(m.run(paused)) for m in meters]
    sims = {m.spec["device_id"]: m.sim for m in meters}
    faults: set[asyncio.Task[None]] = set()
    try:
        while line := (await reader.readline()).decode().strip():
            if line.startswith("{"):
                fault = loop.create_task(_play(sims, json.loads(line)))
                faults.add(fault)
                fault.add_done_callback(faults.discard)
            elif line == "pause":
                paused.set()
                await asyncio.gather(*tasks, return_exceptions=True)
                _send({"paused": time.monotonic()})
            elif line == "report":
                _send(
                    {
                        "cpu": time.process_time(),
                        "sims": {m.spec["device_id"]: m.summary() for m in meters},
                    }
                )
            elif line == "stop":
                break
    finally:
        paused.set()
        for fault in list(faults):
            fault.cancel()
        await asyncio.gather(*tasks, *faults, return_exceptions=True)
        await asyncio.gather(*(m.sim.stop() for m in meters), return_exceptions=True)


if __name__ == "__main__":
    asyncio.run(main())
